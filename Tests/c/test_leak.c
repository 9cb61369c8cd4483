/* Handles are cheap and leave nothing behind: 10,000 cycles of
 * om_create -> om_ask -> om_free against the test server keep the resident
 * size flat (measured from /proc/self/statm after a warm-up); so do many
 * short-lived threads calling one handle. */
#include "harness.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cycle(const char *key, int i) {
    om_options o = OM_OPTIONS_INIT;
    o.no_dialogue_file = 1;
    o.system_instruction = "Be brief.";
    om_model *m = th_model_opts(key, &o);
    char msg[64], *reply = NULL;
    snprintf(msg, sizeof msg, "cycle %d", i);
    om_status s = om_ask(m, msg, NULL, 0, &reply);
    int ok = s == OM_OK && reply && strstr(reply, msg) != NULL;
    if (!ok) fprintf(stderr, "cycle %d: %s: %s\n", i, om_status_str(s), om_errmsg(m));
    om_string_free(reply);
    om_free(m);
    return ok;
}

static void create_ask_free_cycles(void) {
    const char *key = th_key("leak");
    int cycles = getenv("OM_TEST_LEAK_CYCLES") ? atoi(getenv("OM_TEST_LEAK_CYCLES")) : 10000;
    int warm = 500, failed = 0;
    for (int i = 0; i < warm; i++) failed += !cycle(key, i);
    long before = rss_kib();
    double t0 = th_now();
    long peak = before;
    for (int i = 0; i < cycles; i++) {
        failed += !cycle(key, warm + i);
        if (i % 1000 == 999) {
            long now = rss_kib();
            if (now > peak) peak = now;
        }
    }
    double dt = th_now() - t0;
    long after = rss_kib();
    long growth = after - before;
    printf("  %d cycles in %.1f s (%.0f/s): resident %ld KiB after warm-up, %ld KiB after (peak %ld), "
           "growth %ld KiB\n", cycles, dt, cycles / dt, before, after, peak, growth);
    CHECK(failed == 0, "%d cycles failed", failed);
    /* Under a sanitizer freed memory sits in quarantine: LeakSanitizer at
     * exit judges leaks there, not the resident size. */
    if (!getenv("OM_TEST_SANITIZE"))
        CHECK(growth < 3 * 1024, "resident size grew by %ld KiB over %d cycles", growth, cycles);
}

/* The same with a streamed reply and an error on every other call. */
static void stream_and_error_cycles(void) {
    const char *key = th_key("leakstream");
    int cycles = getenv("OM_TEST_LEAK_CYCLES") ? atoi(getenv("OM_TEST_LEAK_CYCLES")) / 5 : 2000;
    long before = 0;
    int failed = 0;
    for (int i = 0; i < cycles + 200; i++) {
        if (i == 200) before = rss_kib();
        if (i % 2) th_faults(key, "[{\"kind\":\"status\",\"status\":400}]");
        om_options o = OM_OPTIONS_INIT;
        o.no_dialogue_file = 1;
        om_model *m = th_model_opts(key, &o);
        char *reply = NULL;
        om_status s = om_ask_stream(m, "stream this reply please", NULL, 0, NULL, NULL, &reply);
        if (s != (i % 2 ? OM_EAPI : OM_OK)) failed++;
        if (i % 2 && !om_errdetail(m)) failed++;
        om_string_free(reply);
        om_free(m);
    }
    long growth = rss_kib() - before;
    printf("  %d streamed cycles, half failing: growth %ld KiB\n", cycles, growth);
    CHECK(failed == 0, "%d cycles went wrong", failed);
    if (!getenv("OM_TEST_SANITIZE"))
        CHECK(growth < 2 * 1024, "resident size grew by %ld KiB over %d cycles", growth, cycles);
}

/* One long-lived handle, many short-lived threads: each thread's error state
 * on the handle goes when the thread ends, so thread churn (a host's thread
 * pool replacing its workers, a thread per request) does not grow the
 * handle. Each thread fails a call without network (invalid UTF-8), so it
 * has an error message to keep, and reads it back.
 *
 * glibc gives a thread started and joined in a loop the same cached stack,
 * and with it the same pthread_t, every time; here each thread gets its own
 * stack from one large reservation, as threads of a busy host end up with,
 * so every thread is a new pthread_t to the library. */
enum { CHURN_STACK = 256 * 1024 };

static void *churn_thread(void *arg) {
    om_model *m = arg;
    char *reply = NULL;
    om_status s = om_ask(m, "\xff not UTF-8", NULL, 0, &reply);
    const char *msg = om_errmsg(m);
    return (void *)(intptr_t)(s == OM_EINVAL && msg && strstr(msg, "UTF-8") != NULL);
}

/* Runs `threads` threads one after another, thread i on slice `first + i`
 * of `region`; the slice's pages are given back after the join. Returns how
 * many saw their error. */
static int churn(om_model *m, char *region, int first, int threads) {
    int ok = 0;
    for (int i = 0; i < threads; i++) {
        char *stack = region + (size_t)(first + i) * CHURN_STACK;
        pthread_attr_t a;
        pthread_t t;
        void *r = NULL;
        pthread_attr_init(&a);
        pthread_attr_setstack(&a, stack, CHURN_STACK);
        int rc = pthread_create(&t, &a, churn_thread, m);
        pthread_attr_destroy(&a);
        if (rc != 0) return -1;
        pthread_join(t, &r);
        madvise(stack, CHURN_STACK, MADV_DONTNEED);
        ok += (int)(intptr_t)r;
    }
    return ok;
}

static void thread_churn(void) {
    om_options o = OM_OPTIONS_INIT;
    o.no_dialogue_file = 1;
    om_model *m = th_model_opts(th_key("churn"), &o);
    int threads = getenv("OM_TEST_LEAK_CYCLES") ? atoi(getenv("OM_TEST_LEAK_CYCLES")) * 3 : 30000;
    int warm = 500;
    size_t size = (size_t)(warm + threads) * CHURN_STACK;
    char *region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(region != MAP_FAILED, "cannot reserve %zu bytes for the threads' stacks", size);
    if (region == MAP_FAILED) return;
    int warm_ok = churn(m, region, 0, warm);
    long before = rss_kib();
    double t0 = th_now();
    int ok = churn(m, region, warm, threads);
    double dt = th_now() - t0;
    long growth = rss_kib() - before;
    printf("  %d threads, each with its own stack and one call on one handle, in %.1f s: growth %ld KiB\n",
           threads, dt, growth);
    CHECK(warm_ok == warm && ok == threads, "%d + %d of %d threads saw OM_EINVAL and its message", warm_ok, ok,
          warm + threads);
    if (!getenv("OM_TEST_SANITIZE"))
        CHECK(growth < 1024, "resident size grew by %ld KiB over %d threads", growth, threads);
    om_free(m);
    munmap(region, size);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    RUN(create_ask_free_cycles);
    RUN(stream_and_error_cycles);
    RUN(thread_churn);
    return th_finish();
}
