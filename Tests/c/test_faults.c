/* The fault matrix: every network call of the library against every fault
 * the test server can inject, each case asserting the exact status, the
 * number of tries (from the server's request log and from the library's own
 * debug log), what the message names and how long the call took.
 *
 * Expected outcomes (the rules the rows below encode):
 *   - connection refused, reset before or during the answer, a truncated
 *     body: retried with backoff; once all tries fail, OM_ENETWORK;
 *   - a stream is repeated only while no text reached the callback: a stream
 *     cut after some deltas is OM_ENETWORK after one try;
 *   - 408/409/429/5xx: retried (obeying retry-after-ms, retry-after seconds
 *     or HTTP date up to 120 s, else backoff), x-should-retry overrides both
 *     ways, insufficient_quota is never retried; when tries run out the
 *     status class of the last answer (OM_ERATELIMIT, OM_ESERVER, OM_EAPI);
 *   - 3xx is not followed: OM_EAPI naming the Location (or "unexpected
 *     redirect");
 *   - 200 with a body that is not JSON, is empty, is HTML or an event
 *     stream where JSON was expected, or is JSON of the wrong shape:
 *     OM_EPARSE, not retried; an event stream that ends without [DONE]:
 *     OM_ENETWORK;
 *   - no byte for idle_timeout_ms: OM_ETIMEDOUT, not retried; a slow answer
 *     whose pieces keep coming succeeds;
 *   - a POST whose first try was carried out before the connection broke
 *     (reset_response, truncate) is sent again; the job-cancel retry then
 *     meets the server's 400 for a job already cancelled (OM_EAPI);
 *   - a request on a reused keep-alive connection that breaks before any
 *     byte of the answer is re-sent once by libcurl itself, on a fresh
 *     connection, outside the library's retry budget (the server counts it,
 *     the library's log does not).
 *
 * Cases run in parallel on worker threads: each has its own API key (so
 * its own faults and request log on the server) and its own handle. */
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "harness.h"

enum {
    OP_MODELS, OP_ASK, OP_STREAM, OP_IMAGE, OP_UPLOAD, OP_JOBCREATE, OP_JOBGET, OP_EVENTS,
    OP_JOBCANCEL, OP_LISTJOBS, OP_JOBWAIT, OP_ASSISTANT, OP_COUNT
};

/* The request a fault targets, and that the tries are counted on. */
static const struct op {
    const char *name;
    const char *method;
    const char *path;   /* below /v1; %s = the job id */
    int needs_job;      /* 1: a job made first; 2: and cancelled */
} OPS[OP_COUNT] = {
    [OP_MODELS] = {"list_models", "GET", "/models", 0},
    [OP_ASK] = {"ask", "POST", "/chat/completions", 0},
    [OP_STREAM] = {"ask_stream", "POST", "/chat/completions", 0},
    [OP_IMAGE] = {"describe_image", "POST", "/chat/completions", 0},
    [OP_UPLOAD] = {"train(upload)", "POST", "/files", 0},
    [OP_JOBCREATE] = {"train(job)", "POST", "/fine_tuning/jobs", 0},
    [OP_JOBGET] = {"job_get", "GET", "/fine_tuning/jobs/%s", 1},
    [OP_EVENTS] = {"job_events", "GET", "/fine_tuning/jobs/%s/events", 1},
    [OP_JOBCANCEL] = {"job_cancel", "POST", "/fine_tuning/jobs/%s/cancel", 1},
    [OP_LISTJOBS] = {"list_jobs", "GET", "/fine_tuning/jobs", 0},
    [OP_JOBWAIT] = {"job_wait", "GET", "/fine_tuning/jobs/%s", 2},
    [OP_ASSISTANT] = {"set_assistant", "GET", "/assistants/asst_remote", 0},
};

#define RETRY_DATE "@DATE+2@" /* replaced by an HTTP date 2 s ahead */
#define SSE_CHUNK "data: {\\\"id\\\":\\\"c1\\\",\\\"object\\\":\\\"chat.completion.chunk\\\",\\\"created\\\":1," \
                  "\\\"model\\\":\\\"gpt-4o-mini\\\",\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":" \
                  "{\\\"content\\\":\\\"partial\\\"},\\\"finish_reason\\\":null}]}\\n\\n"

struct row {
    const char *name;
    const char *fault;     /* one fault object without path/method; NULL: none */
    om_status want;
    int tries;             /* requests for the target, all tries */
    const char *needle;    /* in om_errmsg (NULL: not checked) */
    double min_s, max_s;   /* bounds on the call's duration (0: none) */
    long idle_ms;          /* handle option */
    int max_retries;       /* handle option (0: default 2) */
    int refused;           /* the base URL is a port nobody listens on */
};

static const struct row ROWS[] = {
    {"refused", NULL, OM_ENETWORK, 2, "connect", 0, 5, 0, 1, 1},
    {"reset_request_once", "{\"kind\":\"reset_request\"}", OM_OK, 2, NULL, 0.3, 5, 0, 0, 0},
    {"reset_once", "{\"kind\":\"reset\"}", OM_OK, 2, NULL, 0.3, 5, 0, 0, 0},
    {"reset_response_once", "{\"kind\":\"reset_response\"}", OM_OK, 2, NULL, 0.3, 5, 0, 0, 0},
    {"truncate_once", "{\"kind\":\"truncate\"}", OM_OK, 2, NULL, 0.3, 5, 0, 0, 0},
    {"reset_always", "{\"kind\":\"reset\",\"times\":-1}", OM_ENETWORK, 3, NULL, 0.9, 6, 0, 0, 0},
    {"reset_response_always", "{\"kind\":\"reset_response\",\"times\":-1}", OM_ENETWORK, 3, NULL, 0.9, 6, 0, 0, 0},
    {"truncate_always", "{\"kind\":\"truncate\",\"times\":-1}", OM_ENETWORK, 3, "cut short", 0.9, 6, 0, 0, 0},
    {"malformed_json", "{\"kind\":\"status\",\"status\":200,\"raw\":true,\"body\":\"{not json\"}",
     OM_EPARSE, 1, "not valid JSON", 0, 3, 0, 0, 0},
    {"empty_200", "{\"kind\":\"status\",\"status\":200,\"raw\":true,\"body\":\"\"}", OM_EPARSE, 1, NULL, 0, 3, 0, 0, 0},
    {"wrong_shape", "{\"kind\":\"status\",\"status\":200,\"body\":{\"unexpected\":[1,2,3]}}", OM_EPARSE, 1, NULL, 0, 3, 0, 0, 0},
    {"html_200", "{\"kind\":\"status\",\"status\":200,\"raw\":true,\"content_type\":\"text/html\","
     "\"body\":\"<html><body><h1>Welcome to nginx!</h1></body></html>\"}", OM_EPARSE, 1, NULL, 0, 3, 0, 0, 0},
    {"sse_instead_of_json", "{\"kind\":\"status\",\"status\":200,\"raw\":true,\"content_type\":\"text/event-stream\","
     "\"body\":\"data: {not json\\n\\n\"}", OM_EPARSE, 1, NULL, 0, 3, 0, 0, 0},
    {"sse_without_done", "{\"kind\":\"status\",\"status\":200,\"raw\":true,\"content_type\":\"text/event-stream\","
     "\"body\":\"" SSE_CHUNK "\"}", OM_EPARSE, 1, NULL, 0, 3, 0, 0, 0},
    {"html_502_always", "{\"kind\":\"status\",\"status\":502,\"times\":-1,\"raw\":true,\"content_type\":\"text/html\","
     "\"headers\":{\"retry-after-ms\":\"5\"},\"body\":\"<html><body>502 Bad Gateway</body></html>\"}",
     OM_ESERVER, 3, "non-JSON", 0, 3, 0, 0, 0},
    {"429_retry_after_ms", "{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after-ms\":\"300\"}}",
     OM_OK, 2, NULL, 0.29, 3, 0, 0, 0},
    {"429_retry_after_seconds", "{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"0.4\"}}",
     OM_OK, 2, NULL, 0.39, 3, 0, 0, 0},
    {"429_retry_after_date", "{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"" RETRY_DATE "\"}}",
     OM_OK, 2, NULL, 0.9, 4, 0, 0, 0},
    {"429_retry_after_too_long", "{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"3600\"}}",
     OM_OK, 2, NULL, 0.3, 3, 0, 0, 0},
    {"429_always", "{\"kind\":\"status\",\"status\":429,\"times\":-1,\"headers\":{\"retry-after-ms\":\"10\"}}",
     OM_ERATELIMIT, 3, "429", 0, 3, 0, 0, 0},
    {"429_insufficient_quota", "{\"kind\":\"status\",\"status\":429,\"times\":-1,\"error_type\":\"insufficient_quota\","
     "\"error_code\":\"insufficient_quota\"}", OM_ERATELIMIT, 1, "insufficient_quota", 0, 3, 0, 0, 0},
    {"5xx_short_burst", "{\"kind\":\"status\",\"status\":503,\"times\":2,\"headers\":{\"retry-after-ms\":\"10\"}}",
     OM_OK, 3, NULL, 0, 3, 0, 0, 0},
    {"5xx_backoff_once", "{\"kind\":\"status\",\"status\":500}", OM_OK, 2, NULL, 0.3, 3, 0, 0, 0},
    {"5xx_long_burst", "{\"kind\":\"status\",\"status\":500,\"times\":-1,\"headers\":{\"retry-after-ms\":\"10\"}}",
     OM_ESERVER, 3, "500", 0, 3, 0, 0, 0},
    {"5xx_longer_than_5_retries", "{\"kind\":\"status\",\"status\":503,\"times\":7,\"headers\":{\"retry-after-ms\":\"5\"}}",
     OM_ESERVER, 6, "503", 0, 3, 0, 5, 0},
    {"should_retry_false", "{\"kind\":\"status\",\"status\":500,\"times\":-1,\"headers\":{\"x-should-retry\":\"false\"}}",
     OM_ESERVER, 1, NULL, 0, 3, 0, 0, 0},
    {"should_retry_true", "{\"kind\":\"status\",\"status\":400,\"headers\":{\"x-should-retry\":\"true\","
     "\"retry-after-ms\":\"10\"}}", OM_OK, 2, NULL, 0, 3, 0, 0, 0},
    {"400_not_retried", "{\"kind\":\"status\",\"status\":400,\"times\":-1}", OM_EAPI, 1, "400", 0, 3, 0, 0, 0},
    {"409_retried", "{\"kind\":\"status\",\"status\":409,\"times\":-1,\"headers\":{\"retry-after-ms\":\"10\"}}",
     OM_EAPI, 3, "409", 0, 3, 0, 0, 0},
    {"401", "{\"kind\":\"status\",\"status\":401,\"times\":-1}", OM_EAUTH, 1, "401", 0, 3, 0, 0, 0},
    {"404", "{\"kind\":\"status\",\"status\":404,\"times\":-1}", OM_ENOTFOUND, 1, "404", 0, 3, 0, 0, 0},
    {"stall_idle_timeout", "{\"kind\":\"stall\",\"seconds\":10,\"times\":-1}", OM_ETIMEDOUT, 1, "idle", 0.25, 3, 300, 0, 0},
    {"slow_but_live", "{\"kind\":\"slow\",\"chunks\":5,\"interval\":0.15}", OM_OK, 1, NULL, 0.45, 5, 400, 0, 0},
    {"redirect_302", "{\"kind\":\"status\",\"status\":302,\"times\":-1,"
     "\"headers\":{\"location\":\"https://elsewhere.example/v1/moved\"}}", OM_EAPI, 1, "elsewhere.example", 0, 3, 0, 0, 0},
    {"redirect_308_no_location", "{\"kind\":\"status\",\"status\":308,\"times\":-1}", OM_EAPI, 1, "redirect", 0, 3, 0, 0, 0},
};
#define NROWS (sizeof ROWS / sizeof *ROWS)

/* Where an operation's outcome differs from its row's, and why. */
static const struct exception {
    const char *row;
    int op;
    om_status want;
    int tries;         /* the library's tries */
    int server_tries;  /* requests the server saw, when not the same */
    const char *needle;
    const char *why;
} EXCEPTIONS[] = {
    {"truncate_once", OP_STREAM, OM_ENETWORK, 1, -1, "cut short",
     "half the event stream arrived: text reached the callback, so the stream is not repeated"},
    {"truncate_always", OP_STREAM, OM_ENETWORK, 1, -1, "cut short", "as above"},
    {"sse_without_done", OP_STREAM, OM_ENETWORK, 1, -1, "ended before",
     "a stream that stops without [DONE] or a finish reason is incomplete, not unparseable"},
    {"refused", OP_JOBCREATE, OM_ENETWORK, 0, -1, "connect",
     "the upload before the job fails first: the job is never requested"},
    {"reset_response_once", OP_JOBCANCEL, OM_EAPI, 2, -1, "already",
     "the first try cancelled the job before the answer broke; the retry is refused by the server"},
    {"truncate_once", OP_JOBCANCEL, OM_EAPI, 2, -1, "already", "as above"},
    /* The job request follows the upload on the same kept-alive connection.
     * When a reused connection breaks before any byte of the answer, libcurl
     * sends the request once more on a fresh connection by itself (the
     * server may have closed an idle connection): the same request with the
     * same Idempotency-Key, not a try of the library's budget. */
    {"reset_request_once", OP_JOBCREATE, OM_OK, 1, 2, NULL,
     "the reused connection broke before the answer: libcurl re-sent on a fresh one"},
    {"reset_once", OP_JOBCREATE, OM_OK, 1, 2, NULL, "as above"},
    {"reset_always", OP_JOBCREATE, OM_ENETWORK, 3, 4, NULL,
     "as above on the first try; the later tries start on fresh connections"},
};

/* ---- cases ---- */

struct kase {
    int op;
    size_t row;
    char key[128];
    om_status got;
    om_status errcode;
    int out_set;
    int tries_server;
    int tries_logged;
    int violations;
    double secs;
    char msg[700];
    char setup_error[200];
};

struct logcount {
    char prefix[300];
    int tries;
};

static void count_tries(int level, const char *message, void *ud) {
    (void)level;
    struct logcount *c = (struct logcount *)ud;
    size_t n = strlen(c->prefix);
    if (strncmp(message, c->prefix, n) == 0) c->tries++;
}

static char g_base[256], g_refused_base[256], g_dir[512], g_png[600];
static const char *CSV = "prompt,completion\n"
                         "one,1\ntwo,2\nthree,3\nfour,4\nfive,5\nsix,6\nseven,7\neight,8\nnine,9\nten,10\n";

static om_model *new_model(struct kase *k, struct logcount *lc, int for_setup) {
    const struct row *r = &ROWS[k->row];
    om_options o = OM_OPTIONS_INIT;
    o.api_key = k->key;
    o.base_url = (r->refused && !for_setup) ? g_refused_base : g_base;
    o.data_dir = g_dir;
    o.no_dialogue_file = 1;
    o.assistants_file = "/nonexistent/assistants.json";
    if (!for_setup) {
        o.max_retries = r->max_retries;
        o.idle_timeout_ms = r->idle_ms;
        o.log_cb = count_tries;
        o.log_userdata = lc;
        o.log_level = OM_LOG_DEBUG;
    } else {
        o.log_level = OM_LOG_OFF;
    }
    om_model *m = NULL;
    if (om_create(&o, &m) != OM_OK) return NULL;
    return m;
}

static int on_delta(const char *d, size_t n, void *ud) {
    (void)d;
    *(size_t *)ud += n;
    return 0;
}

/* The fault text with its path, method and any date filled in. */
static char *fault_json(const struct row *r, const char *method, const char *path) {
    const char *f = r->fault;
    char date[64] = "";
    const char *at = strstr(f, RETRY_DATE);
    if (at) {
        time_t t = time(NULL) + 2;
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tmv);
    }
    size_t cap = strlen(f) + strlen(path) + 128;
    char *out = malloc(cap);
    if (at) {
        snprintf(out, cap, "[{\"path\":\"%s\",\"method\":\"%s\",%.*s%s%s]", path, method,
                 (int)(at - f - 1), f + 1, date, at + strlen(RETRY_DATE));
    } else {
        snprintf(out, cap, "[{\"path\":\"%s\",\"method\":\"%s\",%s]", path, method, f + 1);
    }
    return out;
}

static void run_case(struct kase *k) {
    const struct op *op = &OPS[k->op];
    const struct row *r = &ROWS[k->row];
    struct logcount lc;
    memset(&lc, 0, sizeof lc);

    /* Set-up without faults: a job for the job calls, the served assistant. */
    char job[128] = "ftjob-none";
    if (op->needs_job) {
        om_model *s = new_model(k, NULL, 1);
        char *id = NULL;
        if (!s || om_train(s, CSV, NULL, NULL, 1, &id) != OM_OK) {
            snprintf(k->setup_error, sizeof k->setup_error, "set-up train failed: %s", s ? om_errmsg(s) : "no handle");
        } else {
            snprintf(job, sizeof job, "%s", id);
            if (op->needs_job == 2) {
                char *c = NULL;
                if (om_job_cancel(s, id, &c) != OM_OK)
                    snprintf(k->setup_error, sizeof k->setup_error, "set-up cancel failed: %s", om_errmsg(s));
                om_string_free(c);
            }
        }
        om_string_free(id);
        om_free(s);
        if (k->setup_error[0]) return;
    }
    if (k->op == OP_ASSISTANT)
        th_config(k->key, "{\"assistants\":{\"asst_remote\":{\"name\":\"Remote\",\"instructions\":\"Be remote.\"}}}");

    char rel[256], path[300];
    snprintf(rel, sizeof rel, op->path, job);
    snprintf(path, sizeof path, "/v1%s", rel);
    snprintf(lc.prefix, sizeof lc.prefix, "%s %s try ", op->method, rel);
    if (r->fault) {
        char *f = fault_json(r, op->method, path);
        th_faults(k->key, f);
        free(f);
    }

    om_model *m = new_model(k, &lc, 0);
    if (!m) {
        snprintf(k->setup_error, sizeof k->setup_error, "om_create: %s", om_last_error());
        return;
    }
    char *out = NULL;
    size_t streamed = 0;
    double t0 = th_now();
    switch (k->op) {
    case OP_MODELS: k->got = om_list_models(m, &out); break;
    case OP_ASK: k->got = om_ask(m, "a question for the fault matrix, long enough to stream in words", NULL, 0, &out); break;
    case OP_STREAM:
        k->got = om_ask_stream(m, "a question for the fault matrix, long enough to stream in words", NULL, 0,
                               on_delta, &streamed, &out);
        break;
    case OP_IMAGE: k->got = om_describe_image(m, g_png, NULL, NULL, &out); break;
    case OP_UPLOAD:
    case OP_JOBCREATE: k->got = om_train(m, CSV, NULL, NULL, 1, &out); break;
    case OP_JOBGET: k->got = om_job_get(m, job, &out); break;
    case OP_EVENTS: k->got = om_job_events(m, job, NULL, 0, &out); break;
    case OP_JOBCANCEL: k->got = om_job_cancel(m, job, &out); break;
    case OP_LISTJOBS: k->got = om_list_jobs(m, NULL, 0, &out); break;
    case OP_JOBWAIT: k->got = om_job_wait(m, job, 20000, NULL, NULL, &out); break;
    case OP_ASSISTANT: k->got = om_set_assistant(m, "asst_remote"); out = k->got == OM_OK ? malloc(1) : NULL; break;
    }
    k->secs = th_now() - t0;
    k->errcode = om_errcode(m);
    k->out_set = out != NULL;
    snprintf(k->msg, sizeof k->msg, "%s", om_errmsg(m));
    if (k->op == OP_ASSISTANT) free(out); else om_string_free(out);
    om_free(m);
    k->tries_logged = lc.tries;

    json_t *log = th_requests(k->key);
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (strcmp(json_string_value(json_object_get(e, "method")), op->method) == 0 &&
            strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            k->tries_server++;
    }
    json_decref(log);
    json_t *v = th_ctl(k->key, "violations", NULL);
    k->violations = (int)json_array_size(v);
    json_decref(v);
}

static struct kase *g_cases;
static size_t g_ncases, g_next;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_lock);
        size_t i = g_next++;
        pthread_mutex_unlock(&g_lock);
        if (i >= g_ncases) return NULL;
        run_case(&g_cases[i]);
    }
}

/* The expected status, tries (the library's and the server's), message part
 * and shortest duration. */
static void expectation(const struct kase *k, om_status *want, int *tries, int *server_tries, const char **needle,
                        double *min_s) {
    const struct row *r = &ROWS[k->row];
    *want = r->want;
    *tries = *server_tries = r->tries;
    *needle = r->needle;
    *min_s = r->min_s;
    for (size_t i = 0; i < sizeof EXCEPTIONS / sizeof *EXCEPTIONS; i++) {
        if (EXCEPTIONS[i].op == k->op && strcmp(EXCEPTIONS[i].row, r->name) == 0) {
            *want = EXCEPTIONS[i].want;
            *tries = EXCEPTIONS[i].tries;
            *server_tries = EXCEPTIONS[i].server_tries >= 0 ? EXCEPTIONS[i].server_tries : EXCEPTIONS[i].tries;
            *needle = EXCEPTIONS[i].needle;
            *min_s = 0;
        }
    }
}

static void fault_matrix(void) {
    g_ncases = NROWS * OP_COUNT;
    g_cases = calloc(g_ncases, sizeof *g_cases);
    for (size_t r = 0; r < NROWS; r++) {
        for (int o = 0; o < OP_COUNT; o++) {
            struct kase *k = &g_cases[r * OP_COUNT + (size_t)o];
            k->op = o;
            k->row = r;
            snprintf(k->key, sizeof k->key, "sk-test-faults-%d-%zu-%ld", o, r, (long)getpid());
        }
    }
    int nthreads = getenv("OM_TEST_FAULT_THREADS") ? atoi(getenv("OM_TEST_FAULT_THREADS")) : 8;
    if (nthreads < 1) nthreads = 1;
    pthread_t t[64];
    if (nthreads > 64) nthreads = 64;
    for (int i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);

    /* The grid: one line per fault, one column per call ('.' = as expected). */
    printf("  %-26s", "fault \\ call");
    for (int o = 0; o < OP_COUNT; o++) printf(" %c", 'a' + o);
    printf("\n");
    for (size_t r = 0; r < NROWS; r++) {
        printf("  %-26s", ROWS[r].name);
        for (int o = 0; o < OP_COUNT; o++) {
            struct kase *k = &g_cases[r * OP_COUNT + (size_t)o];
            om_status want;
            int tries, server_tries;
            const char *needle;
            double min_s;
            expectation(k, &want, &tries, &server_tries, &needle, &min_s);
            th_case = ROWS[r].name;
            int before = th_failures;
            CHECK(!k->setup_error[0], "%s: %s", OPS[o].name, k->setup_error);
            if (!k->setup_error[0]) {
                CHECK(k->got == want, "%s: status %s, wanted %s: %s", OPS[o].name, om_status_str(k->got),
                      om_status_str(want), k->msg);
                CHECK(k->errcode == k->got, "%s: om_errcode %d differs from the result %d", OPS[o].name,
                      (int)k->errcode, (int)k->got);
                CHECK(k->out_set == (k->got == OM_OK), "%s: out %s on %s", OPS[o].name,
                      k->out_set ? "set" : "NULL", om_status_str(k->got));
                if (k->got != OM_OK) CHECK(strlen(k->msg) > 10 && strcmp(k->msg, "ok") != 0,
                                          "%s: no message: %s", OPS[o].name, k->msg);
                if (needle) CHECK(strstr(k->msg, needle) != NULL, "%s: message lacks '%s': %s", OPS[o].name,
                                  needle, k->msg);
                CHECK(k->tries_logged == tries, "%s: the library logged %d tries, wanted %d (%s)", OPS[o].name,
                      k->tries_logged, tries, k->msg);
                if (!ROWS[r].refused)
                    CHECK(k->tries_server == server_tries, "%s: the server saw %d tries, wanted %d (%s)",
                          OPS[o].name, k->tries_server, server_tries, k->msg);
                CHECK(k->secs >= min_s, "%s: took %.3f s, at least %.2f s expected", OPS[o].name,
                      k->secs, min_s);
                if (ROWS[r].max_s > 0)
                    CHECK(k->secs <= ROWS[r].max_s, "%s: took %.3f s, at most %.2f s expected", OPS[o].name,
                          k->secs, ROWS[r].max_s);
                CHECK(k->violations == 0, "%s: %d spec violations", OPS[o].name, k->violations);
            }
            printf(" %c", th_failures == before ? '.' : 'X');
        }
        printf("\n");
    }
    printf("  calls:");
    for (int o = 0; o < OP_COUNT; o++) printf(" %c=%s", 'a' + o, OPS[o].name);
    printf("\n  %zu cases\n", g_ncases);
    th_case = "fault_matrix";
    free(g_cases);
}

/* A port on 127.0.0.1 that is bound but not listening: connecting to it is
 * refused, and nobody else can take it while the test runs. */
static int refused_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "cannot bind a port\n");
        exit(2);
    }
    return ntohs(a.sin_port);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(g_base, sizeof g_base, "%s", th_base());
    snprintf(g_refused_base, sizeof g_refused_base, "http://127.0.0.1:%d/v1", refused_port());
    snprintf(g_dir, sizeof g_dir, "%s/faults-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(g_dir, 0700);
    snprintf(g_png, sizeof g_png, "%s/pixel.png", g_dir);
    th_write_pixel_png(g_png);
    RUN(fault_matrix);
    return th_finish();
}
