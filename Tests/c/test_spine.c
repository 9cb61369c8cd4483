/* The spine: handle life cycle, options, om_list_models, errors, retries and
 * transport faults, against the test server. */
#include <pthread.h>
#include "harness.h"

static void no_violations(const char *key) {
    CHECK(th_violations(key) == 0, "the server saw requests the API would reject");
}

static void create_defaults(void) {
    om_model *m = NULL;
    om_status s = om_create(NULL, &m);
    CHECK_STATUS(s, OM_OK, (om_model *)NULL);
    CHECK(m != NULL, "no handle");
    CHECK(strcmp(om_errmsg(m), "ok") == 0, "errmsg before any call: %s", om_errmsg(m));
    CHECK(om_errcode(m) == OM_OK, "errcode");
    CHECK(om_last_request_id(m) == NULL, "request id before any call");
    CHECK(om_last_http_status(m) == 0, "http status before any call");
    om_free(m);
    om_free(NULL);
}

static void create_bad_arguments(void) {
    CHECK_STATUS(om_create(NULL, NULL), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "out is NULL") != NULL, "message: %s", om_last_error());

    om_model *m = (om_model *)0x1;
    om_options o = OM_OPTIONS_INIT;
    o.version = 0;
    CHECK_STATUS(om_create(&o, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(m == NULL, "out not cleared on failure");
    CHECK(strstr(om_last_error(), "OM_OPTIONS_INIT") != NULL, "message: %s", om_last_error());

    o.version = 99;
    CHECK_STATUS(om_create(&o, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "99") != NULL, "message: %s", om_last_error());

    om_options e = OM_OPTIONS_INIT;
    e.base_url = "";
    CHECK_STATUS(om_create(&e, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "base_url is empty") != NULL, "message: %s", om_last_error());

    om_options f = OM_OPTIONS_INIT;
    f.base_url = "ftp://example.com/v1";
    CHECK_STATUS(om_create(&f, &m), OM_EINVAL, (om_model *)NULL);

    om_options g = OM_OPTIONS_INIT;
    g.image_detail = "ultra";
    CHECK_STATUS(om_create(&g, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "image_detail") != NULL, "message: %s", om_last_error());

    om_options u = OM_OPTIONS_INIT;
    u.model = "\xff\xfe";
    CHECK_STATUS(om_create(&u, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "UTF-8") != NULL, "message: %s", om_last_error());
}

static void plain_http_refused_for_remote_hosts(void) {
    om_model *m = NULL;
    om_options o = OM_OPTIONS_INIT;
    o.base_url = "http://api.example.com/v1";
    o.api_key = "sk-test-plain-http-secret-0001";
    CHECK_STATUS(om_create(&o, &m), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "plain HTTP") != NULL, "message: %s", om_last_error());
    CHECK(strstr(om_last_error(), o.api_key) == NULL, "the key leaked into the message");
    o.allow_insecure_http = 1;
    CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
    om_free(m);
    o.allow_insecure_http = 0;
    o.base_url = "http://localhost:9/v1";
    CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
    om_free(m);
}

static void list_models(void) {
    const char *key = th_key("models");
    om_model *m = th_model(key);
    char *out = (char *)0x1;
    om_status s = om_list_models(m, &out);
    CHECK_STATUS(s, OM_OK, m);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(json_is_array(j), "not an array: %s", out ? out : "(null)");
    int found = 0;
    for (size_t i = 0; i < json_array_size(j); i++) {
        const char *id = json_string_value(json_array_get(j, i));
        CHECK(id != NULL, "element %zu is not a string", i);
        if (id && strcmp(id, "gpt-4o-mini") == 0) found = 1;
    }
    CHECK(found, "gpt-4o-mini missing from %s", out);
    json_decref(j);
    om_string_free(out);
    CHECK(om_last_http_status(m) == 200, "http status %d", om_last_http_status(m));
    const char *rid = om_last_request_id(m);
    CHECK(rid && strncmp(rid, "req_", 4) == 0, "request id %s", rid ? rid : "(null)");

    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 1, "%zu requests", json_array_size(log));
    json_t *r = json_array_get(log, 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "path")), "/v1/models") == 0, "path");
    json_t *h = json_object_get(r, "headers");
    const char *ua = json_string_value(json_object_get(h, "user-agent"));
    CHECK(ua && strncmp(ua, "libopenaimodel/", 15) == 0, "user agent %s", ua ? ua : "(null)");
    CHECK(json_object_get(h, "authorization") != NULL, "no Authorization header");
    CHECK(json_object_get(h, "idempotency-key") == NULL, "GET carries an Idempotency-Key");
    json_decref(log);
    no_violations(key);
    om_free(m);
}

static void connection_reused(void) {
    const char *key = th_key("keepalive");
    om_model *m = th_model(key);
    for (int i = 0; i < 3; i++) {
        char *out = NULL;
        CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
        om_string_free(out);
    }
    json_t *log = th_requests(key);
    json_int_t p0 = json_integer_value(json_object_get(json_array_get(log, 0), "remote_port"));
    CHECK(json_array_size(log) == 3 && p0 > 0, "no client port in the server's log");
    for (size_t i = 1; i < json_array_size(log); i++) {
        json_int_t pi = json_integer_value(json_object_get(json_array_get(log, i), "remote_port"));
        CHECK(p0 == pi, "request %zu came on a new connection (port %lld, then %lld)", i, (long long)p0, (long long)pi);
    }
    json_decref(log);
    om_free(m);
}

static void org_and_project_headers(void) {
    const char *key = th_key("orgproj");
    om_options o = OM_OPTIONS_INIT;
    o.organization = "org-test";
    o.project = "proj_test";
    om_model *m = th_model_opts(key, &o);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);
    json_t *log = th_requests(key);
    json_t *h = json_object_get(json_array_get(log, 0), "headers");
    const char *org = json_string_value(json_object_get(h, "openai-organization"));
    const char *proj = json_string_value(json_object_get(h, "openai-project"));
    CHECK(org && strcmp(org, "org-test") == 0, "organization header %s", org ? org : "(null)");
    CHECK(proj && strcmp(proj, "proj_test") == 0, "project header %s", proj ? proj : "(null)");
    json_decref(log);
    om_free(m);
}

static void null_arguments(void) {
    char *out = (char *)0x1;
    CHECK_STATUS(om_list_models(NULL, &out), OM_EINVAL, (om_model *)NULL);
    CHECK(out == NULL, "out not cleared");
    CHECK(strstr(om_last_error(), "NULL") != NULL, "message: %s", om_last_error());
    om_model *m = th_model(th_key("nulls"));
    CHECK_STATUS(om_list_models(m, NULL), OM_EINVAL, m);
    CHECK(strstr(om_errmsg(m), "out_json is NULL") != NULL, "message: %s", om_errmsg(m));
    CHECK(om_errcode(m) == OM_EINVAL, "errcode");
    CHECK_STATUS(om_cancel(NULL), OM_EINVAL, m);
    CHECK(om_errmsg(NULL) != NULL, "errmsg(NULL) is NULL");
    CHECK(om_errdetail(NULL) == NULL, "errdetail(NULL)");
    CHECK(om_last_request_id(NULL) == NULL, "request id (NULL)");
    CHECK(om_last_http_status(NULL) == 0, "http status (NULL)");
    om_string_free(NULL);
    om_free(m);
    /* A freed handle is refused, not dereferenced. */
    CHECK_STATUS(om_list_models(m, &out), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "not a live handle") != NULL, "message: %s", om_last_error());
}

static void status_strings(void) {
    for (int s = 0; s <= OM_EINTERNAL; s++) {
        const char *t = om_status_str((om_status)s);
        CHECK(t && *t && strcmp(t, "unknown status") != 0, "no text for %d", s);
    }
    CHECK(strcmp(om_status_str((om_status)1234), "unknown status") == 0, "unknown code");
    CHECK(strcmp(om_version(), OM_VERSION) == 0, "version %s", om_version());
    CHECK(om_version_number() == OM_VERSION_NUMBER, "version number");
}

static void auth_error(void) {
    const char *key = "sk-invalid-c-test-key-0123456789abcdef";
    om_model *m = th_model(key);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_EAUTH, m);
    CHECK(out == NULL, "out set on failure");
    CHECK(om_last_http_status(m) == 401, "http %d", om_last_http_status(m));
    CHECK(strstr(om_errmsg(m), "401") != NULL, "message: %s", om_errmsg(m));
    CHECK(strstr(om_errmsg(m), key) == NULL, "the key is in the message");
    const char *d = om_errdetail(m);
    json_t *j = d ? json_loads(d, 0, NULL) : NULL;
    CHECK(j && json_integer_value(json_object_get(j, "status")) == 401, "detail %s", d ? d : "(null)");
    const char *rid = json_string_value(json_object_get(j, "request_id"));
    CHECK(rid && om_last_request_id(m) && strcmp(rid, om_last_request_id(m)) == 0, "request id in detail");
    CHECK(json_string_value(json_object_get(j, "code")) != NULL, "code in detail");
    json_decref(j);
    CHECK(th_request_count(key) == 1, "401 was retried");
    om_free(m);
}

static void retry_500_then_success(void) {
    const char *key = th_key("retry500");
    th_faults(key, "[{\"kind\":\"status\",\"status\":500,\"times\":2,"
                   "\"headers\":{\"retry-after-ms\":\"10\"}}]");
    om_model *m = th_model(key);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);
    CHECK(th_request_count(key) == 3, "%zu requests", th_request_count(key));
    om_free(m);
}

static void retries_exhausted(void) {
    const char *key = th_key("exhausted");
    th_faults(key, "[{\"kind\":\"status\",\"status\":503,\"times\":5,"
                   "\"headers\":{\"retry-after-ms\":\"10\"}}]");
    om_options o = OM_OPTIONS_INIT;
    o.max_retries = 1;
    om_model *m = th_model_opts(key, &o);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_ESERVER, m);
    CHECK(th_request_count(key) == 2, "%zu requests", th_request_count(key));
    CHECK(om_last_http_status(m) == 503, "http %d", om_last_http_status(m));
    CHECK(om_last_request_id(m) != NULL, "no request id on the error");
    om_free(m);

    const char *key2 = th_key("noretry");
    th_faults(key2, "[{\"kind\":\"status\",\"status\":500,\"times\":5}]");
    om_options n = OM_OPTIONS_INIT;
    n.max_retries = -1;
    m = th_model_opts(key2, &n);
    CHECK_STATUS(om_list_models(m, &out), OM_ESERVER, m);
    CHECK(th_request_count(key2) == 1, "%zu requests", th_request_count(key2));
    om_free(m);
}

static void retry_after_ms_obeyed(void) {
    const char *key = th_key("retryafterms");
    th_faults(key, "[{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after-ms\":\"1500\"}}]");
    om_model *m = th_model(key);
    char *out = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    double dt = th_now() - t0;
    CHECK(dt >= 1.4, "waited only %.3f s", dt);
    om_string_free(out);
    om_free(m);
}

static void retry_after_seconds_obeyed(void) {
    const char *key = th_key("retryafter");
    th_faults(key, "[{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"1.2\"}}]");
    om_model *m = th_model(key);
    char *out = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    CHECK(th_now() - t0 >= 1.1, "waited only %.3f s", th_now() - t0);
    om_string_free(out);
    om_free(m);
}

static void should_retry_header(void) {
    const char *key = th_key("shouldretryfalse");
    th_faults(key, "[{\"kind\":\"status\",\"status\":500,\"times\":3,\"headers\":{\"x-should-retry\":\"false\"}}]");
    om_model *m = th_model(key);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_ESERVER, m);
    CHECK(th_request_count(key) == 1, "%zu requests", th_request_count(key));
    om_free(m);

    const char *key2 = th_key("shouldretrytrue");
    th_faults(key2, "[{\"kind\":\"status\",\"status\":400,\"headers\":{\"x-should-retry\":\"true\",\"retry-after-ms\":\"5\"}}]");
    m = th_model(key2);
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);
    CHECK(th_request_count(key2) == 2, "%zu requests", th_request_count(key2));
    om_free(m);
}

static void insufficient_quota_not_retried(void) {
    const char *key = th_key("quota");
    th_faults(key, "[{\"kind\":\"status\",\"status\":429,\"times\":3,\"error_type\":\"insufficient_quota\","
                   "\"error_code\":\"insufficient_quota\"}]");
    om_model *m = th_model(key);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_ERATELIMIT, m);
    CHECK(th_request_count(key) == 1, "%zu requests", th_request_count(key));
    const char *d = om_errdetail(m);
    CHECK(d && strstr(d, "insufficient_quota"), "detail %s", d ? d : "(null)");
    om_free(m);
}

static void transport_faults_retried(void) {
    const char *kinds[] = {"reset", "reset_request", "reset_response", "truncate"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        char name[64], faults[200];
        snprintf(name, sizeof name, "fault-%s", kinds[i]);
        const char *key = th_key(name);
        snprintf(faults, sizeof faults, "[{\"kind\":\"%s\"}]", kinds[i]);
        th_faults(key, faults);
        om_model *m = th_model(key);
        char *out = NULL;
        om_status s = om_list_models(m, &out);
        CHECK(s == OM_OK, "%s: status %s: %s", kinds[i], om_status_str(s), om_errmsg(m));
        CHECK(th_request_count(key) == 2, "%s: %zu requests", kinds[i], th_request_count(key));
        om_string_free(out);
        om_free(m);

        /* Every try failing: a network error naming what happened. */
        const char *key2 = th_key(name);
        snprintf(faults, sizeof faults, "[{\"kind\":\"%s\",\"times\":10}]", kinds[i]);
        th_faults(key2, faults);
        om_options o = OM_OPTIONS_INIT;
        o.max_retries = 1;
        m = th_model_opts(key2, &o);
        s = om_list_models(m, &out);
        CHECK(s == OM_ENETWORK, "%s: status %s: %s", kinds[i], om_status_str(s), om_errmsg(m));
        CHECK(out == NULL, "out set");
        CHECK(th_request_count(key2) == 2, "%s: %zu requests", kinds[i], th_request_count(key2));
        om_free(m);
    }
}

static void bad_bodies(void) {
    struct { const char *fault; om_status want; const char *needle; } cases[] = {
        {"[{\"kind\":\"status\",\"status\":200,\"raw\":true,\"body\":\"{not json\"}]", OM_EPARSE, "not valid JSON"},
        {"[{\"kind\":\"status\",\"status\":200,\"body\":{\"object\":\"list\",\"items\":[]}}]", OM_EPARSE, "data"},
        {"[{\"kind\":\"status\",\"status\":502,\"times\":9,\"raw\":true,\"content_type\":\"text/html\","
         "\"headers\":{\"retry-after-ms\":\"5\"},\"body\":\"<html><body>Bad gateway</body></html>\"}]",
         OM_ESERVER, "non-JSON"},
        {"[{\"kind\":\"status\",\"status\":307,\"headers\":{\"location\":\"https://elsewhere.example/v1/models\"}}]",
         OM_EAPI, "elsewhere.example"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *key = th_key("badbody");
        th_faults(key, cases[i].fault);
        om_model *m = th_model(key);
        char *out = NULL;
        om_status s = om_list_models(m, &out);
        CHECK(s == cases[i].want, "case %zu: %s: %s", i, om_status_str(s), om_errmsg(m));
        CHECK(strstr(om_errmsg(m), cases[i].needle) != NULL, "case %zu message: %s", i, om_errmsg(m));
        CHECK(out == NULL, "out set");
        om_free(m);
    }
}

static void connection_refused(void) {
    om_options o = OM_OPTIONS_INIT;
    o.base_url = "http://127.0.0.1:9/v1";
    o.max_retries = 1;
    om_model *m = th_model_opts("sk-test-refused", &o);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_ENETWORK, m);
    CHECK(strstr(om_errmsg(m), "connect") != NULL, "message: %s", om_errmsg(m));
    CHECK(om_last_http_status(m) == 0, "http status");
    om_free(m);
}

static void stall_times_out(void) {
    const char *key = th_key("stall");
    th_faults(key, "[{\"kind\":\"stall\",\"seconds\":5,\"times\":3}]");
    om_options o = OM_OPTIONS_INIT;
    o.idle_timeout_ms = 400;
    o.max_retries = -1;
    om_model *m = th_model_opts(key, &o);
    char *out = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_list_models(m, &out), OM_ETIMEDOUT, m);
    CHECK(th_now() - t0 < 4.0, "took %.2f s", th_now() - t0);
    CHECK(strstr(om_errmsg(m), "idle") != NULL, "message: %s", om_errmsg(m));
    om_free(m);

    const char *key2 = th_key("total");
    th_faults(key2, "[{\"kind\":\"stall\",\"seconds\":5,\"times\":3}]");
    om_options t = OM_OPTIONS_INIT;
    t.timeout_ms = 500;
    t.max_retries = -1;
    m = th_model_opts(key2, &t);
    CHECK_STATUS(om_list_models(m, &out), OM_ETIMEDOUT, m);
    om_free(m);
}

static void slow_but_live_response(void) {
    const char *key = th_key("slow");
    th_faults(key, "[{\"kind\":\"slow\",\"chunks\":6,\"interval\":0.25}]");
    om_options o = OM_OPTIONS_INIT;
    o.idle_timeout_ms = 700;  /* each gap is 0.25 s: never idle that long */
    om_model *m = th_model_opts(key, &o);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    CHECK(out && strstr(out, "gpt-4o-mini"), "body %s", out ? out : "(null)");
    om_string_free(out);
    om_free(m);
}

struct cancel_arg { om_model *m; double delay; };

static void *cancel_later(void *p) {
    struct cancel_arg *a = (struct cancel_arg *)p;
    usleep((useconds_t)(a->delay * 1e6));
    om_cancel(a->m);
    return NULL;
}

static void cancel_from_another_thread(void) {
    const char *key = th_key("cancel");
    th_faults(key, "[{\"kind\":\"stall\",\"seconds\":10}]");
    om_model *m = th_model(key);
    struct cancel_arg a = {m, 0.3};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &a);
    char *out = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_list_models(m, &out), OM_ECANCELLED, m);
    double dt = th_now() - t0;
    CHECK(dt < 2.0, "cancel took %.2f s", dt);
    pthread_join(t, NULL);
    /* The handle works normally afterwards. */
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);

    /* Cancel also ends a wait between retries. */
    const char *key2 = th_key("cancelwait");
    om_model *m2 = th_model(key2);
    th_faults(key2, "[{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"60\"}}]");
    th_faults(key2, "[{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after\":\"60\"}}]");
    struct cancel_arg b = {m2, 0.3};
    pthread_create(&t, NULL, cancel_later, &b);
    t0 = th_now();
    /* retry-after 60 is within the 120 s the library obeys */
    CHECK_STATUS(om_list_models(m2, &out), OM_ECANCELLED, m2);
    CHECK(th_now() - t0 < 2.0, "cancel took %.2f s", th_now() - t0);
    pthread_join(t, NULL);
    om_free(m2);
    om_free(m);
}

struct share_arg { om_model *m; int ok; };

static void *list_many(void *p) {
    struct share_arg *a = (struct share_arg *)p;
    for (int i = 0; i < 20; i++) {
        char *out = NULL;
        if (om_list_models(a->m, &out) == OM_OK && out) a->ok++;
        om_string_free(out);
    }
    return NULL;
}

static void threads_share_a_handle(void) {
    const char *key = th_key("threads");
    om_model *m = th_model(key);
    pthread_t t[4];
    struct share_arg a[4];
    for (int i = 0; i < 4; i++) { a[i].m = m; a[i].ok = 0; pthread_create(&t[i], NULL, list_many, &a[i]); }
    int ok = 0;
    for (int i = 0; i < 4; i++) { pthread_join(t[i], NULL); ok += a[i].ok; }
    CHECK(ok == 80, "%d of 80 calls succeeded", ok);
    CHECK(th_request_count(key) == 80, "%zu requests", th_request_count(key));
    om_free(m);
}

static void env_configuration(void) {
    const char *key = th_key("env");
    setenv("OPENAI_API_KEY", key, 1);
    setenv("OPENAI_BASE_URL", th_base(), 1);
    om_model *m = NULL;
    om_options o = OM_OPTIONS_INIT;
    o.log_level = OM_LOG_OFF;
    CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);
    CHECK(th_request_count(key) == 1, "request not sent with the environment's key");
    om_free(m);
    /* An empty OPENAI_BASE_URL means unset. */
    setenv("OPENAI_BASE_URL", "", 1);
    CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
    om_free(m);
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
}

static int log_lines = 0, log_key_seen = 0;
static const char *log_secret = NULL;
static void count_log(int level, const char *msg, void *ud) {
    (void)level; (void)ud;
    log_lines++;
    if (log_secret && strstr(msg, log_secret)) log_key_seen = 1;
}

static void logging_redacts_key(void) {
    const char *key = "sk-test-c-logging-secret-ABCDEFGHIJKLMNOP";
    th_faults(key, "[{\"kind\":\"status\",\"status\":500,\"headers\":{\"retry-after-ms\":\"5\"}}]");
    om_options o = OM_OPTIONS_INIT;
    o.log_cb = count_log;
    o.log_level = OM_LOG_DEBUG;
    log_secret = key;
    om_model *m = th_model_opts(key, &o);
    char *out = NULL;
    CHECK_STATUS(om_list_models(m, &out), OM_OK, m);
    om_string_free(out);
    CHECK(log_lines >= 3, "%d log lines", log_lines);
    CHECK(!log_key_seen, "the API key appeared in a log line");
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    RUN(create_defaults);
    RUN(create_bad_arguments);
    RUN(plain_http_refused_for_remote_hosts);
    RUN(status_strings);
    RUN(list_models);
    RUN(connection_reused);
    RUN(org_and_project_headers);
    RUN(null_arguments);
    RUN(auth_error);
    RUN(retry_500_then_success);
    RUN(retries_exhausted);
    RUN(retry_after_ms_obeyed);
    RUN(retry_after_seconds_obeyed);
    RUN(should_retry_header);
    RUN(insufficient_quota_not_retried);
    RUN(transport_faults_retried);
    RUN(bad_bodies);
    RUN(connection_refused);
    RUN(stall_times_out);
    RUN(slow_but_live_response);
    RUN(cancel_from_another_thread);
    RUN(threads_share_a_handle);
    RUN(env_configuration);
    RUN(logging_redacts_key);
    return th_finish();
}
