/*
 * om_bench.c - the benchmark workloads done by a C program through
 * libopenaimodel. Run by bench/run.py; prints one JSON object on stdout.
 *
 *   om_bench chat    BASE N [--dialogue DIR]  N sequential om_ask calls after one warm-up
 *   om_bench cold    BASE                     create a handle and get one reply
 *   om_bench stream  BASE                     one om_ask_stream over the canned event stream
 *   om_bench image   BASE FILE                om_describe_image of a local file
 *   om_bench train   BASE CSV                 om_train from a CSV file
 *   om_bench threads BASE T N                 N asks on 1 thread, then N asks on each of T
 *                                             threads sharing the handle
 *
 * Times are taken inside the process around the work itself (monotonic
 * clock); process start, load and exit are in "cold" only, which the
 * caller times from outside.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "openaimodel.h"

#define MESSAGE "Say hello to the benchmark."
#define IMAGE_PROMPT "Describe this image as JSON."

static void die(om_model *m, const char *what, om_status st) {
    fprintf(stderr, "om_bench: %s failed: %s (%s)\n", what, om_status_str(st),
            m ? om_errmsg(m) : om_last_error());
    exit(1);
}

static om_model *make(const char *base, const char *dialogue_dir) {
    om_options o = OM_OPTIONS_INIT;
    o.base_url = base;
    o.api_key = "sk-bench";
    o.model = "gpt-4o-mini";
    if (dialogue_dir) {
        o.data_dir = dialogue_dir;    /* the default: a dialogue file saved after every ask */
    } else {
        o.no_dialogue_file = 1;       /* like the SDK, which saves nothing */
    }
    om_model *m = NULL;
    om_status st = om_create(&o, &m);
    if (st != OM_OK) die(NULL, "om_create", st);
    return m;
}

static void ask_once(om_model *m) {
    char *reply = NULL;
    om_status st = om_ask(m, MESSAGE, NULL, 0, &reply);
    if (st != OM_OK) die(m, "om_ask", st);
    if (reply == NULL || reply[0] == '\0') die(m, "om_ask (empty reply)", OM_EPARSE);
    om_string_free(reply);
}

static int chat(const char *base, long n, const char *dialogue_dir) {
    om_model *m = make(base, dialogue_dir);
    ask_once(m); /* connection set up: not timed */
    double t0 = now();
    for (long i = 0; i < n; i++) ask_once(m);
    double t = now() - t0;
    printf("{\"seconds\": %.6f, \"count\": %ld}\n", t, n);
    om_free(m);
    return 0;
}

static int cold(const char *base) {
    om_model *m = make(base, NULL);
    ask_once(m);
    printf("{\"count\": 1}\n");
    om_free(m);
    return 0;
}

struct stream_state { long deltas; size_t bytes; };

static int on_delta(const char *delta, size_t len, void *ud) {
    struct stream_state *s = ud;
    (void)delta;
    s->deltas++;
    s->bytes += len;
    return 0;
}

static int stream(const char *base) {
    om_model *m = make(base, NULL);
    struct stream_state s = {0, 0};
    char *reply = NULL;
    double t0 = now();
    om_status st = om_ask_stream(m, MESSAGE, NULL, 0, on_delta, &s, &reply);
    double t = now() - t0;
    if (st != OM_OK) die(m, "om_ask_stream", st);
    printf("{\"seconds\": %.6f, \"deltas\": %ld, \"bytes\": %zu, \"reply_bytes\": %zu}\n",
           t, s.deltas, s.bytes, strlen(reply));
    om_string_free(reply);
    om_free(m);
    return 0;
}

static int image(const char *base, const char *path) {
    om_model *m = make(base, NULL);
    char *out = NULL;
    double t0 = now();
    om_status st = om_describe_image(m, path, IMAGE_PROMPT, NULL, &out);
    double t = now() - t0;
    if (st != OM_OK) die(m, "om_describe_image", st);
    printf("{\"seconds\": %.6f, \"reply_bytes\": %zu}\n", t, strlen(out));
    om_string_free(out);
    om_free(m);
    return 0;
}

static int train(const char *base, const char *csv) {
    om_model *m = make(base, NULL);
    char *job = NULL;
    double t0 = now();
    om_status st = om_train(m, NULL, NULL, csv, 1, &job);
    double t = now() - t0;
    if (st != OM_OK) die(m, "om_train", st);
    printf("{\"seconds\": %.6f, \"job\": \"%s\"}\n", t, job);
    om_string_free(job);
    om_free(m);
    return 0;
}

static void *work(void *arg) {
    struct bench_worker *w = arg;
    ask_once(w->ctx); /* this thread's connection: not timed */
    pthread_barrier_wait(w->ready);
    for (long i = 0; i < w->n; i++) ask_once(w->ctx);
    return NULL;
}

static int threads(const char *base, int t, long n) {
    om_model *m = make(base, NULL);
    int rc = bench_threads(m, t, n, work);
    om_free(m);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: om_bench chat|cold|stream|image|train|threads BASE_URL ...\n");
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "chat") == 0 && argc >= 4) {
        const char *dir = (argc >= 6 && strcmp(argv[4], "--dialogue") == 0) ? argv[5] : NULL;
        return chat(base, atol(argv[3]), dir);
    }
    if (strcmp(mode, "cold") == 0) return cold(base);
    if (strcmp(mode, "stream") == 0) return stream(base);
    if (strcmp(mode, "image") == 0 && argc >= 4) return image(base, argv[3]);
    if (strcmp(mode, "train") == 0 && argc >= 4) return train(base, argv[3]);
    if (strcmp(mode, "threads") == 0 && argc >= 5) return threads(base, atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "om_bench: bad arguments\n");
    return 2;
}
