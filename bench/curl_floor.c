/*
 * curl_floor.c - the floor: a bare libcurl program doing the same HTTP
 * exchanges as libopenaimodel (same request bytes, same headers, one reused
 * easy handle with keep-alive), and nothing else: no JSON parsing, no retry
 * logic, no error classification. Run by bench/run.py; prints one JSON
 * object on stdout, like om_bench.
 *
 *   curl_floor chat    BASE N      N sequential POSTs after one warm-up
 *   curl_floor cold    BASE        one POST (the caller times the process)
 *   curl_floor stream  BASE        the streamed request; counts SSE events
 *   curl_floor image   BASE FILE   the image request, base64 made while sending
 *   curl_floor threads BASE T N    N POSTs on 1 thread, then N on each of T
 *                                  threads (one easy handle per thread)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* The exact bodies libopenaimodel sends for these calls. */
static const char CHAT_BODY[] =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"Say hello to the benchmark.\"}],\"temperature\":0,\"max_completion_tokens\":8000}";
static const char STREAM_BODY[] =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"Say hello to the benchmark.\"}],\"temperature\":0,\"max_completion_tokens\":8000,"
    "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
static const char IMAGE_PREFIX[] =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
    "\"text\":\"Describe this image as JSON.\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
    "\"data:image/png;base64,";
static const char IMAGE_SUFFIX[] =
    "\",\"detail\":\"auto\"}}]}],\"temperature\":0,\"max_completion_tokens\":800}";

/* The response body, kept like a client would keep it. */
struct sink { char *data; size_t len, cap; };

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    struct sink *s = ud;
    size_t len = size * n;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + len) cap *= 2;
        char *d = realloc(s->data, cap);
        if (!d) return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, len);
    s->len += len;
    return len;
}

/* A fresh idempotency key per request, as the library sends. */
static void key_header(char *out, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { perror("getrandom"); exit(1); }
    int k = snprintf(out, cap, "Idempotency-Key: om-");
    for (int i = 0; i < 16 && k + 2 < (int)cap; i++) {
        out[k++] = hex[r[i] >> 4];
        out[k++] = hex[r[i] & 15];
    }
    out[k] = '\0';
}

static struct curl_slist *headers(int stream) {
    char key[64];
    key_header(key, sizeof key);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Authorization: Bearer sk-bench");
    h = curl_slist_append(h, stream ? "Accept: text/event-stream" : "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, key);
    h = curl_slist_append(h, "Expect:");
    return h;
}

static char user_agent[128];

static void common(CURL *e, const char *url, struct curl_slist *h, struct sink *s) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
}

static void check(CURL *e, CURLcode rc) {
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "curl_floor: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
        exit(1);
    }
}

/* One chat POST on `e`: fresh headers (new idempotency key), body from memory. */
static void post_chat(CURL *e, const char *url, struct sink *s) {
    struct curl_slist *h = headers(0);
    s->len = 0;
    common(e, url, h, s);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, CHAT_BODY);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof CHAT_BODY - 1));
    check(e, curl_easy_perform(e));
    if (s->len == 0) { fprintf(stderr, "curl_floor: empty body\n"); exit(1); }
    curl_slist_free_all(h);
}

static char *url_for(const char *base) {
    size_t n = strlen(base) + 32;
    char *u = malloc(n);
    snprintf(u, n, "%s/chat/completions", base);
    return u;
}

static int chat(const char *base, long n) {
    char *url = url_for(base);
    CURL *e = curl_easy_init();
    struct sink s = {0};
    post_chat(e, url, &s);
    double t0 = now();
    for (long i = 0; i < n; i++) post_chat(e, url, &s);
    double t = now() - t0;
    printf("{\"seconds\": %.6f, \"count\": %ld}\n", t, n);
    curl_easy_cleanup(e);
    free(s.data);
    free(url);
    return 0;
}

static int cold(const char *base) {
    char *url = url_for(base);
    CURL *e = curl_easy_init();
    struct sink s = {0};
    post_chat(e, url, &s);
    printf("{\"count\": 1}\n");
    curl_easy_cleanup(e);
    free(s.data);
    free(url);
    return 0;
}

/* Stream: counts events (blank-line boundaries, across reads) and keeps no
 * body. */
struct events { long count; int nl; };

static size_t on_events(char *p, size_t size, size_t n, void *ud) {
    struct events *ev = ud;
    size_t len = size * n;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            if (ev->nl) ev->count++;
            ev->nl = 1;
        } else if (p[i] != '\r') {
            ev->nl = 0;
        }
    }
    return len;
}

static int stream(const char *base) {
    char *url = url_for(base);
    CURL *e = curl_easy_init();
    struct events ev = {0, 0};
    struct curl_slist *h = headers(1);
    double t0 = now();
    common(e, url, h, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_events);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &ev);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, STREAM_BODY);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof STREAM_BODY - 1));
    check(e, curl_easy_perform(e));
    double t = now() - t0;
    printf("{\"seconds\": %.6f, \"events\": %ld}\n", t, ev.count);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    free(url);
    return 0;
}

/* Image: prefix, the file's base64 produced block by block, suffix. */
struct image_body {
    int fd;
    int phase;            /* 0 prefix, 1 data, 2 suffix, 3 done */
    size_t off;
    unsigned char in[3 * 65536];
    char out[4 * 65536];
    size_t out_len, out_off;
    unsigned char carry[3];
    size_t carry_len;
};

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t encode(const unsigned char *in, size_t n, char *out, int last) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = B64[v & 63];
    }
    if (last && i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* Refills b->out with the next encoded block; 0 at the end of the file. */
static size_t refill(struct image_body *b) {
    memcpy(b->in, b->carry, b->carry_len);
    size_t have = b->carry_len;
    b->carry_len = 0;
    ssize_t r = read(b->fd, b->in + have, sizeof b->in - have);
    if (r < 0) return 0;
    have += (size_t)r;
    int last = r == 0;
    size_t whole = last ? have : have - have % 3;
    b->carry_len = have - whole;
    memcpy(b->carry, b->in + whole, b->carry_len);
    b->out_len = encode(b->in, whole, b->out, last);
    b->out_off = 0;
    return b->out_len;
}

static size_t copy_from(const char *src, size_t n, size_t *off, char *dst, size_t room) {
    size_t k = n - *off < room ? n - *off : room;
    memcpy(dst, src + *off, k);
    *off += k;
    return k;
}

static size_t on_read(char *dst, size_t size, size_t n, void *ud) {
    struct image_body *b = ud;
    size_t room = size * n, w = 0;
    while (w < room && b->phase < 3) {
        if (b->phase == 0) {
            w += copy_from(IMAGE_PREFIX, sizeof IMAGE_PREFIX - 1, &b->off, dst + w, room - w);
            if (b->off == sizeof IMAGE_PREFIX - 1) { b->phase = 1; b->off = 0; }
        } else if (b->phase == 1) {
            if (b->out_off == b->out_len && refill(b) == 0) { b->phase = 2; continue; }
            w += copy_from(b->out, b->out_len, &b->out_off, dst + w, room - w);
        } else {
            w += copy_from(IMAGE_SUFFIX, sizeof IMAGE_SUFFIX - 1, &b->off, dst + w, room - w);
            if (b->off == sizeof IMAGE_SUFFIX - 1) b->phase = 3;
        }
    }
    return w;
}

static int image(const char *base, const char *path) {
    char *url = url_for(base);
    CURL *e = curl_easy_init();
    struct sink s = {0};
    struct image_body *b = calloc(1, sizeof *b);
    double t0 = now();
    b->fd = open(path, O_RDONLY);
    struct stat st;
    if (b->fd < 0 || fstat(b->fd, &st) != 0) { perror(path); return 1; }
    curl_off_t size = (curl_off_t)(sizeof IMAGE_PREFIX - 1) + (st.st_size + 2) / 3 * 4
        + (curl_off_t)(sizeof IMAGE_SUFFIX - 1);
    struct curl_slist *h = headers(0);
    common(e, url, h, &s);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, size);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, b);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
    check(e, curl_easy_perform(e));
    double t = now() - t0;
    printf("{\"seconds\": %.6f, \"sent\": %lld}\n", t, (long long)size);
    close(b->fd);
    free(b);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    free(s.data);
    free(url);
    return 0;
}

static void *work(void *arg) {
    struct bench_worker *w = arg;
    const char *url = w->ctx;
    CURL *e = curl_easy_init();
    struct sink s = {0};
    post_chat(e, url, &s); /* this thread's connection: not timed */
    pthread_barrier_wait(w->ready);
    for (long i = 0; i < w->n; i++) post_chat(e, url, &s);
    curl_easy_cleanup(e);
    free(s.data);
    return NULL;
}

static int threads(const char *base, int t, long n) {
    char *url = url_for(base);
    int rc = bench_threads(url, t, n, work);
    free(url);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: curl_floor chat|cold|stream|image|threads BASE_URL ...\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(user_agent, sizeof user_agent, "libopenaimodel/1.0.0 libcurl/%s",
             curl_version_info(CURLVERSION_NOW)->version);
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "chat") == 0 && argc >= 4) return chat(base, atol(argv[3]));
    if (strcmp(mode, "cold") == 0) return cold(base);
    if (strcmp(mode, "stream") == 0) return stream(base);
    if (strcmp(mode, "image") == 0 && argc >= 4) return image(base, argv[3]);
    if (strcmp(mode, "threads") == 0 && argc >= 5) return threads(base, atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "curl_floor: bad arguments\n");
    return 2;
}
