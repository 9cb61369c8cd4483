/*
 * harness.h - shared pieces of the C test programs.
 *
 * The programs run against the project's test server (Tests/server), whose
 * address arrives in OM_TEST_ROOT (http://127.0.0.1:PORT). Each test case
 * uses its own API key: the server keeps faults, settings and its request
 * log per key, so cases do not see each other. The control API is driven
 * with libcurl and read with jansson, as any C program would.
 */
#ifndef OM_TEST_HARNESS_H
#define OM_TEST_HARNESS_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "openaimodel.h"

static int th_failures = 0;
static int th_checks = 0;
static const char *th_case = "";

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        th_checks++;                                                       \
        if (!(cond)) {                                                     \
            th_failures++;                                                 \
            fprintf(stderr, "FAIL %s (%s:%d): %s: ", th_case, __FILE__,    \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* Evaluates `got` once (it is usually the call under test). */
#define CHECK_STATUS(got, want, model)                                     \
    do {                                                                   \
        om_status th_got_ = (got);                                         \
        CHECK(th_got_ == (want), "status %d (%s), wanted %d (%s); errmsg: %s", \
              (int)th_got_, om_status_str(th_got_), (int)(want),           \
              om_status_str(want), (model) ? om_errmsg(model) : om_last_error()); \
    } while (0)

static inline const char *th_root(void) {
    const char *r = getenv("OM_TEST_ROOT");
    if (!r || !*r) {
        fprintf(stderr, "OM_TEST_ROOT is not set: run through pytest (Tests/c/test_c.py)\n");
        exit(2);
    }
    return r;
}

/* The base URL of the API on the test server. */
static inline const char *th_base(void) {
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/v1", th_root());
    return buf;
}

/* A fresh API key naming the case; the server scopes everything by it. */
static inline const char *th_key(const char *name) {
    static char bufs[8][160];
    static int n = 0;
    char *b = bufs[n++ % 8];
    snprintf(b, 160, "sk-test-c-%s-%ld-%d", name, (long)getpid(), n);
    return b;
}

static inline double th_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- control API ---- */

typedef struct { char *data; size_t len; } th_buf;

static inline size_t th_collect(char *p, size_t s, size_t n, void *ud) {
    th_buf *b = (th_buf *)ud;
    char *nd = realloc(b->data, b->len + s * n + 1);
    if (!nd) return 0;
    b->data = nd;
    memcpy(b->data + b->len, p, s * n);
    b->len += s * n;
    b->data[b->len] = 0;
    return s * n;
}

/* GET or POST (when body != NULL) to /_control/<key>/<what>; the answer
 * parsed as JSON (caller json_decref's it), NULL on failure. */
static inline json_t *th_ctl(const char *key, const char *what, const char *body) {
    CURL *c = curl_easy_init();
    th_buf b = {NULL, 0};
    char url[512];
    char *ek = curl_easy_escape(c, key, 0);
    snprintf(url, sizeof url, "%s/_control/%s/%s", th_root(), ek, what);
    curl_free(ek);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, th_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    struct curl_slist *h = NULL;
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_t *j = NULL;
    if (rc == CURLE_OK && code == 200 && b.data) j = json_loads(b.data, JSON_DECODE_ANY, NULL);
    if (!j) fprintf(stderr, "control %s failed: curl %d, HTTP %ld, %s\n", what, (int)rc, code, b.data ? b.data : "");
    free(b.data);
    return j;
}

/* GET /_control/<key>/<what> as text (caller frees), NULL on failure. */
static inline char *th_ctl_text(const char *key, const char *what) {
    CURL *c = curl_easy_init();
    th_buf b = {NULL, 0};
    char url[512];
    char *ek = curl_easy_escape(c, key, 0);
    snprintf(url, sizeof url, "%s/_control/%s/%s", th_root(), ek, what);
    curl_free(ek);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, th_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || code != 200) { free(b.data); return NULL; }
    if (!b.data) b.data = calloc(1, 1);
    return b.data;
}

/* Queues faults for a key: `faults` is the JSON array text. */
static inline void th_faults(const char *key, const char *faults) {
    char *body = malloc(strlen(faults) + 32);
    sprintf(body, "{\"faults\":%s}", faults);
    json_t *j = th_ctl(key, "faults", body);
    free(body);
    json_decref(j);
}

static inline void th_config(const char *key, const char *config) {
    json_decref(th_ctl(key, "config", config));
}

/* The server's log of requests for a key (a JSON array). */
static inline json_t *th_requests(const char *key) {
    json_t *j = th_ctl(key, "requests", NULL);
    return j ? j : json_array();
}

static inline size_t th_request_count(const char *key) {
    json_t *j = th_requests(key);
    size_t n = json_array_size(j);
    json_decref(j);
    return n;
}

/* Number of spec violations the server recorded for a key (printed). */
static inline size_t th_violations(const char *key) {
    json_t *j = th_ctl(key, "violations", NULL);
    size_t n = json_array_size(j);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(j, i));
        fprintf(stderr, "violation [%s]: %s\n", key, s ? s : "?");
    }
    json_decref(j);
    return n;
}

/* A handle on the test server with the given key and defaults for tests. */
static inline om_model *th_model_opts(const char *key, om_options *o) {
    om_options local = OM_OPTIONS_INIT;
    if (!o) o = &local;
    if (!o->base_url) o->base_url = th_base();
    o->api_key = key;
    if (!o->data_dir) o->data_dir = getenv("OM_TEST_DATA_DIR");
    if (!o->log_level) o->log_level = OM_LOG_OFF;
    om_model *m = NULL;
    om_status s = om_create(o, &m);
    if (s != OM_OK) {
        fprintf(stderr, "om_create failed: %s: %s\n", om_status_str(s), om_last_error());
        exit(2);
    }
    return m;
}

static inline om_model *th_model(const char *key) { return th_model_opts(key, NULL); }

/* Runs a case: sets its name, runs it, and checks the server recorded no
 * spec violation for its key. */
#define RUN(fn)                                                            \
    do {                                                                   \
        th_case = #fn;                                                     \
        int before = th_failures;                                          \
        double t0 = th_now();                                              \
        fn();                                                              \
        printf("%s %s (%.2f s)\n", th_failures == before ? "ok" : "FAILED", \
               #fn, th_now() - t0);                                        \
        fflush(stdout);                                                    \
    } while (0)

/* Writes a real 3x2 PNG at `path`. */
static inline void th_write_pixel_png(const char *path) {
    static const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x12, 0x16, 0xf1, 0x4d, 0x00,
        0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x07, 0x41, 0x0c, 0x70,
        0x16, 0x00, 0x41, 0x00, 0x06, 0x19, 0x3c, 0x45, 0x41, 0x96, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
        0x44, 0xae, 0x42, 0x60, 0x82};
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(png, 1, sizeof png, f) != sizeof png) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static inline int th_finish(void) {
    printf("%d checks, %d failed\n", th_checks, th_failures);
    return th_failures ? 1 : 0;
}

#endif
