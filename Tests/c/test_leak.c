/* Handles are cheap and leave nothing behind: 10,000 cycles of
 * om_create -> om_ask -> om_free against the test server keep the resident
 * size flat (measured from /proc/self/statm after a warm-up). */
#include "harness.h"

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

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    RUN(create_ask_free_cycles);
    RUN(stream_and_error_cycles);
    return th_finish();
}
