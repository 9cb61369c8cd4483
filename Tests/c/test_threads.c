/* Threads: eight threads share one handle, asking plainly and streamed,
 * listing models, reading the dialogue and switching assistants, while
 * another thread calls om_cancel over and over. Every call ends OM_OK or
 * OM_ECANCELLED, each thread's om_errcode matches what its own last call
 * returned, every successful exchange is in the dialogue exactly once, and
 * the handle works normally afterwards. `make sanitize` runs this under
 * ThreadSanitizer. */
#include <pthread.h>
#include <sys/stat.h>
#include "harness.h"

#define THREADS 8

static om_model *shared;
static int stop_cancelling = 0; /* read and written with __atomic builtins */
static int iterations = 24;

struct result {
    int ok, cancelled, other, mismatched, exchanges, streamed_bytes;
    char first_error[300];
};

static int on_delta(const char *d, size_t n, void *ud) {
    (void)d;
    ((struct result *)ud)->streamed_bytes += (int)n;
    return 0;
}

static void tally(struct result *r, om_status s, const char *what) {
    if (s == OM_OK) r->ok++;
    else if (s == OM_ECANCELLED) r->cancelled++;
    else {
        r->other++;
        if (!r->first_error[0])
            snprintf(r->first_error, sizeof r->first_error, "%s: %s: %s", what, om_status_str(s), om_errmsg(shared));
    }
    /* the error state is the calling thread's own */
    if (om_errcode(shared) != s) r->mismatched++;
}

static void *worker(void *arg) {
    struct result *r = (struct result *)arg;
    for (int i = 0; i < iterations; i++) {
        char *out = NULL;
        om_status s;
        char msg[64];
        snprintf(msg, sizeof msg, "thread %p question %d", (void *)r, i);
        switch (i % 6) {
        case 0:
        case 3:
            s = om_ask(shared, msg, NULL, 0, &out);
            if (s == OM_OK) r->exchanges++;
            tally(r, s, "om_ask");
            break;
        case 1:
        case 4:
            s = om_ask_stream(shared, msg, NULL, 0, on_delta, r, &out);
            if (s == OM_OK) r->exchanges++;
            tally(r, s, "om_ask_stream");
            break;
        case 2:
            s = om_list_models(shared, &out);
            tally(r, s, "om_list_models");
            break;
        default:
            s = om_set_assistant(shared, i % 2 ? "asst_a" : "asst_b");
            tally(r, s, "om_set_assistant");
            om_string_free(out);
            out = NULL;
            s = om_dialogue(shared, &out);
            tally(r, s, "om_dialogue");
            break;
        }
        if ((s == OM_OK) != (out != NULL) && i % 6 != 5) r->mismatched++;
        om_string_free(out);
    }
    return NULL;
}

static void *canceller(void *arg) {
    int *n = (int *)arg;
    unsigned seed = (unsigned)getpid();
    while (!__atomic_load_n(&stop_cancelling, __ATOMIC_ACQUIRE)) {
        usleep(40000 + (useconds_t)(rand_r(&seed) % 100000));
        if (om_cancel(shared) == OM_OK) (*n)++;
    }
    return NULL;
}

static void shared_handle_with_cancels(void) {
    const char *key = th_key("threads");
    char dir[600], file[700];
    snprintf(dir, sizeof dir, "%s/threads-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/assistants.json", dir);
    FILE *f = fopen(file, "w");
    fputs("{\"asst_a\": {\"instructions\": \"Be A.\"}, \"asst_b\": {\"instructions\": \"Be B.\"}}", f);
    fclose(f);
    /* a little latency so that cancels find calls in flight */
    th_config(key, "{\"latency\": 0.01, \"stream\": {\"chunk_chars\": 2, \"split_delay\": 0.001}}");
    om_options o = OM_OPTIONS_INIT;
    o.data_dir = dir;
    o.assistants_file = file;
    o.no_dialogue_file = 1;
    if (getenv("OM_TEST_THREAD_ITERATIONS")) iterations = atoi(getenv("OM_TEST_THREAD_ITERATIONS"));
    shared = th_model_opts(key, &o);

    pthread_t t[THREADS], c;
    struct result r[THREADS];
    memset(r, 0, sizeof r);
    int cancels = 0;
    pthread_create(&c, NULL, canceller, &cancels);
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, &r[i]);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    __atomic_store_n(&stop_cancelling, 1, __ATOMIC_RELEASE);
    pthread_join(c, NULL);

    struct result sum;
    memset(&sum, 0, sizeof sum);
    for (int i = 0; i < THREADS; i++) {
        sum.ok += r[i].ok;
        sum.cancelled += r[i].cancelled;
        sum.other += r[i].other;
        sum.mismatched += r[i].mismatched;
        sum.exchanges += r[i].exchanges;
        if (r[i].first_error[0]) fprintf(stderr, "  thread %d: %s\n", i, r[i].first_error);
    }
    printf("  %d calls ok, %d cancelled (%d om_cancel calls), %d exchanges\n", sum.ok, sum.cancelled, cancels,
           sum.exchanges);
    CHECK(sum.other == 0, "%d calls ended otherwise than ok or cancelled", sum.other);
    CHECK(sum.mismatched == 0, "%d calls whose om_errcode or out did not match the result", sum.mismatched);
    CHECK(sum.exchanges > 0 && sum.cancelled > 0 && cancels > 0, "nothing happened");

    /* every exchange in the dialogue exactly once: user + assistant each */
    char *d = NULL;
    CHECK_STATUS(om_dialogue(shared, &d), OM_OK, shared);
    json_t *j = json_loads(d ? d : "[]", 0, NULL);
    size_t users = 0, assistants = 0;
    for (size_t i = 0; i < json_array_size(j); i++) {
        const char *role = json_string_value(json_object_get(json_array_get(j, i), "role"));
        if (role && !strcmp(role, "user")) users++;
        if (role && !strcmp(role, "assistant")) assistants++;
    }
    CHECK(users == (size_t)sum.exchanges && assistants == (size_t)sum.exchanges,
          "%zu user and %zu assistant entries for %d exchanges", users, assistants, sum.exchanges);
    json_decref(j);
    om_string_free(d);

    /* and the handle works normally afterwards */
    char *out = NULL;
    CHECK_STATUS(om_ask(shared, "after the storm", NULL, 0, &out), OM_OK, shared);
    om_string_free(out);
    om_free(shared);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    RUN(shared_handle_with_cancels);
    return th_finish();
}
