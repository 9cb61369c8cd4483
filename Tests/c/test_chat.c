/* Chat: om_ask, om_ask_stream, system instructions, retries, the token-limit
 * parameter, the saved dialogue, cancel and sentiment. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"

static void no_violations(const char *key) {
    CHECK(th_violations(key) == 0, "the server saw requests the API would reject");
}

/* The JSON body of the n-th request the server logged for key. */
static json_t *body_of(const char *key, size_t n) {
    json_t *log = th_requests(key);
    json_t *b = json_object_get(json_array_get(log, n), "json");
    json_incref(b);
    json_decref(log);
    return b;
}

static const char *msg_field(json_t *body, size_t i, const char *field) {
    return json_string_value(json_object_get(json_array_get(json_object_get(body, "messages"), i), field));
}

static void ask_basic(void) {
    const char *key = th_key("ask");
    om_model *m = th_model(key);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "What is 2 + 2?", NULL, 0, &reply), OM_OK, m);
    CHECK(reply && strcmp(reply, "You said: What is 2 + 2?") == 0, "reply %s", reply ? reply : "(null)");
    om_string_free(reply);
    json_t *b = body_of(key, 0);
    CHECK(strcmp(json_string_value(json_object_get(b, "model")), "gpt-4o-mini") == 0, "model");
    CHECK(json_number_value(json_object_get(b, "temperature")) == 0.0 &&
          json_object_get(b, "temperature") != NULL, "temperature");
    CHECK(json_integer_value(json_object_get(b, "max_completion_tokens")) == 8000, "token limit");
    CHECK(json_object_get(b, "max_tokens") == NULL, "both token limits sent");
    CHECK(json_array_size(json_object_get(b, "messages")) == 1, "messages");
    CHECK(strcmp(msg_field(b, 0, "role"), "user") == 0, "role");
    json_decref(b);
    CHECK(om_last_http_status(m) == 200, "http status");
    CHECK(om_last_request_id(m) != NULL, "request id");
    no_violations(key);
    om_free(m);
}

/* om_last_response: the raw completion after om_ask (with what the reply
 * text leaves out: usage, id, finish_reason), the last chunk (its usage)
 * after om_ask_stream, NULL before any call and after a failed one. */
static void last_response(void) {
    const char *key = th_key("lastresponse");
    om_options o = OM_OPTIONS_INIT;
    o.no_dialogue_file = 1;
    om_model *m = th_model_opts(key, &o);
    CHECK(om_last_response(m) == NULL, "a response before any call");
    CHECK(om_last_response(NULL) == NULL, "NULL handle");
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "count my tokens", NULL, 0, &reply), OM_OK, m);
    json_error_t err;
    const char *raw = om_last_response(m);
    json_t *c = raw ? json_loads(raw, 0, &err) : NULL;
    CHECK(c && strcmp(json_string_value(json_object_get(c, "object")), "chat.completion") == 0, "completion: %s",
          raw ? raw : "(null)");
    json_t *choice = json_array_get(json_object_get(c, "choices"), 0);
    const char *content = json_string_value(json_object_get(json_object_get(choice, "message"), "content"));
    CHECK(content && reply && strstr(content, reply), "content %s, reply %s", content ? content : "(null)",
          reply ? reply : "(null)");
    CHECK(json_string_value(json_object_get(choice, "finish_reason")) != NULL, "finish_reason");
    CHECK(json_integer_value(json_object_get(json_object_get(c, "usage"), "total_tokens")) > 0, "usage");
    CHECK(json_string_value(json_object_get(c, "id")) != NULL, "id");
    CHECK(om_last_response(m) == raw, "a second read made another copy");
    json_decref(c);
    om_string_free(reply);

    CHECK_STATUS(om_ask_stream(m, "stream it", NULL, 0, NULL, NULL, &reply), OM_OK, m);
    raw = om_last_response(m);
    c = raw ? json_loads(raw, 0, &err) : NULL;
    CHECK(c && strcmp(json_string_value(json_object_get(c, "object")), "chat.completion.chunk") == 0, "chunk: %s",
          raw ? raw : "(null)");
    /* the library asks for usage (stream_options.include_usage): the last
     * chunk carries it */
    CHECK(json_integer_value(json_object_get(json_object_get(c, "usage"), "total_tokens")) > 0, "the last chunk: %s",
          raw ? raw : "(null)");
    json_decref(c);
    om_string_free(reply);

    th_faults(key, "[{\"kind\":\"status\",\"status\":400}]");
    CHECK_STATUS(om_ask(m, "refused", NULL, 1, &reply), OM_EAPI, m);
    CHECK(om_last_response(m) == NULL, "a response after a failed call");
    CHECK(om_errdetail(m) != NULL, "the failure's body is in om_errdetail");
    om_free(m);
}

static void system_instruction_precedence(void) {
    const char *key = th_key("system");
    om_options o = OM_OPTIONS_INIT;
    o.system_instruction = "You are a helpful assistant.";
    om_model *m = th_model_opts(key, &o);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "one", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK_STATUS(om_ask(m, "two", "Answer in French.", 0, &reply), OM_OK, m);
    om_string_free(reply);
    json_t *b0 = body_of(key, 0), *b1 = body_of(key, 1);
    CHECK(strcmp(msg_field(b0, 0, "role"), "system") == 0, "no system message");
    CHECK(strcmp(msg_field(b0, 0, "content"), "You are a helpful assistant.") == 0, "handle instruction");
    CHECK(strcmp(msg_field(b1, 0, "content"), "Answer in French.") == 0, "argument did not win");
    CHECK(json_array_size(json_object_get(b1, "messages")) == 2, "messages");
    json_decref(b0);
    json_decref(b1);
    no_violations(key);
    om_free(m);
}

static void reply_trimmed_and_text_exact(void) {
    const char *key = th_key("exact");
    th_config(key, "{\"replies\":[\"  \\n padded reply\\t \\n\"]}");
    om_model *m = th_model(key);
    const char *text = "Quotes \" and \\ backslashes, 'single', a tab\there,\nnew lines,\r\n"
                       "and UTF-8: h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89 {\"json\": true}";
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, text, NULL, 0, &reply), OM_OK, m);
    CHECK(reply && strcmp(reply, "padded reply") == 0, "reply [%s]", reply ? reply : "(null)");
    om_string_free(reply);
    json_t *b = body_of(key, 0);
    const char *sent = msg_field(b, 0, "content");
    CHECK(sent && strcmp(sent, text) == 0, "text changed on the way: [%s]", sent ? sent : "(null)");
    json_decref(b);
    no_violations(key);
    om_free(m);
}

static void bad_messages(void) {
    const char *key = th_key("badmsg");
    om_model *m = th_model(key);
    char *reply = (char *)0x1;
    CHECK_STATUS(om_ask(m, NULL, NULL, 0, &reply), OM_EINVAL, m);
    CHECK(reply == NULL, "out not cleared");
    CHECK(strstr(om_errmsg(m), "message is NULL") != NULL, "message: %s", om_errmsg(m));
    CHECK_STATUS(om_ask(m, "", NULL, 0, &reply), OM_EINVAL, m);
    CHECK_STATUS(om_ask(m, "bad \xc3\x28 utf8", NULL, 0, &reply), OM_EINVAL, m);
    CHECK(strstr(om_errmsg(m), "UTF-8") != NULL, "message: %s", om_errmsg(m));
    CHECK_STATUS(om_ask(m, "ok", "\xff", 0, &reply), OM_EINVAL, m);
    CHECK_STATUS(om_ask(m, "ok", NULL, 0, NULL), OM_EINVAL, m);
    CHECK_STATUS(om_ask(NULL, "ok", NULL, 0, &reply), OM_EINVAL, (om_model *)NULL);
    CHECK_STATUS(om_ask_stream(m, NULL, NULL, 0, NULL, NULL, &reply), OM_EINVAL, m);
    CHECK(th_request_count(key) == 0, "a request was sent");
    om_free(m);
}

static void ten_megabyte_message(void) {
    const char *key = th_key("big");
    om_model *m = th_model(key);
    size_t n = 10u * 1024 * 1024;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + (i * 7) % 26);
    big[n] = 0;
    char *reply = NULL;
    /* The server answers "You said: <message>": the whole message came back. */
    CHECK_STATUS(om_ask(m, big, NULL, 0, &reply), OM_OK, m);
    CHECK(reply && strlen(reply) == n + 10 && strncmp(reply, "You said: ", 10) == 0 && memcmp(reply + 10, big, n) == 0,
          "the message was not sent whole (reply of %zu bytes)", reply ? strlen(reply) : 0);
    om_string_free(reply);
    json_t *log = th_requests(key);
    json_t *r = json_array_get(log, 0);
    CHECK(json_integer_value(json_object_get(r, "body_size")) > (json_int_t)n, "body %lld bytes",
          (long long)json_integer_value(json_object_get(r, "body_size")));
    json_decref(log);
    free(big);
    om_free(m);
}

static void retries_and_idempotency(void) {
    const char *key = th_key("chatretry");
    th_faults(key, "[{\"kind\":\"status\",\"status\":500,\"times\":2,\"headers\":{\"retry-after-ms\":\"10\"}}]");
    om_model *m = th_model(key);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 3, &reply), OM_OK, m);
    om_string_free(reply);
    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 3, "%zu requests", json_array_size(log));
    const char *k0 = json_string_value(json_object_get(json_object_get(json_array_get(log, 0), "headers"), "idempotency-key"));
    CHECK(k0 != NULL, "no Idempotency-Key on a POST");
    for (size_t i = 1; i < json_array_size(log); i++) {
        const char *ki = json_string_value(json_object_get(json_object_get(json_array_get(log, i), "headers"), "idempotency-key"));
        CHECK(k0 && ki && strcmp(k0, ki) == 0, "retry %zu has another Idempotency-Key", i);
    }

    /* attempts = 2 against three 500s: the API error class, status and id. */
    const char *key2 = th_key("chatexhaust");
    th_faults(key2, "[{\"kind\":\"status\",\"status\":500,\"times\":3,\"headers\":{\"retry-after-ms\":\"10\"}}]");
    om_model *m2 = th_model(key2);
    CHECK_STATUS(om_ask(m2, "hi", NULL, 2, &reply), OM_ESERVER, m2);
    CHECK(th_request_count(key2) == 2, "%zu requests", th_request_count(key2));
    CHECK(om_last_http_status(m2) == 500, "status");
    const char *d = om_errdetail(m2);
    CHECK(d && om_last_request_id(m2) && strstr(d, om_last_request_id(m2)), "request id in detail");
    /* A second exchange uses a new key. */
    CHECK_STATUS(om_ask(m, "again", NULL, 1, &reply), OM_OK, m);
    om_string_free(reply);
    json_t *log2 = th_requests(key);
    const char *k3 = json_string_value(json_object_get(json_object_get(json_array_get(log2, 3), "headers"), "idempotency-key"));
    CHECK(k3 && k0 && strcmp(k3, k0) != 0, "a new exchange reused the Idempotency-Key");
    json_decref(log2);
    json_decref(log); /* k0 points into it */
    om_free(m2);
    om_free(m);
}

/* A host that forks after using the library (a pre-fork server, Python's
 * multiprocessing): parent and child each send a POST as their next one, and
 * the keys differ - a shared key would make the API answer the second with
 * the first one's response. */
static void idempotency_keys_differ_across_fork(void) {
    const char *key = th_key("chatfork");
    om_model *m = th_model(key);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "before the fork", NULL, 1, &reply), OM_OK, m);
    om_string_free(reply);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        om_model *c = th_model(key);
        char *r = NULL;
        om_status s = om_ask(c, "from the child", NULL, 1, &r);
        om_string_free(r);
        _exit(s == OM_OK ? 0 : 1);
    }
    CHECK(pid > 0, "fork failed");
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's om_ask failed");
    CHECK_STATUS(om_ask(m, "from the parent", NULL, 1, &reply), OM_OK, m);
    om_string_free(reply);
    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 3, "%zu requests", json_array_size(log));
    const char *keys[3] = {0};
    for (size_t i = 0; i < 3 && i < json_array_size(log); i++)
        keys[i] = json_string_value(json_object_get(json_object_get(json_array_get(log, i), "headers"),
                                                    "idempotency-key"));
    CHECK(keys[1] && keys[2] && strcmp(keys[1], keys[2]) != 0, "parent and child sent the same Idempotency-Key %s",
          keys[1] ? keys[1] : "(none)");
    CHECK(keys[0] && keys[1] && strcmp(keys[0], keys[1]) != 0 && strcmp(keys[0], keys[2]) != 0, "a key repeated");
    json_decref(log);
    om_free(m);
}

static void rate_limit_wait(void) {
    const char *key = th_key("chat429");
    th_faults(key, "[{\"kind\":\"status\",\"status\":429,\"headers\":{\"retry-after-ms\":\"1200\"}}]");
    om_model *m = th_model(key);
    char *reply = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_ask(m, "hi", NULL, 3, &reply), OM_OK, m);
    CHECK(th_now() - t0 >= 1.1, "waited %.2f s", th_now() - t0);
    om_string_free(reply);
    om_free(m);
}

static void token_param_fallback(void) {
    const char *key = th_key("tokparam");
    th_config(key, "{\"reject_param\":\"max_completion_tokens\"}");
    om_model *m = th_model(key);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK_STATUS(om_ask(m, "hi again", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 3, "%zu requests (want 2 for the first ask, 1 for the second)", json_array_size(log));
    json_t *b2 = json_object_get(json_array_get(log, 2), "json");
    CHECK(json_integer_value(json_object_get(b2, "max_tokens")) == 8000, "max_tokens not used");
    CHECK(json_object_get(b2, "max_completion_tokens") == NULL, "max_completion_tokens still sent");
    json_decref(log);

    const char *key2 = th_key("tokparamopt");
    om_options o = OM_OPTIONS_INIT;
    o.token_limit_param = "max_tokens";
    o.max_output_tokens = 123;
    om_model *m2 = th_model_opts(key2, &o);
    CHECK_STATUS(om_ask(m2, "hi", NULL, 0, &reply), OM_OK, m2);
    om_string_free(reply);
    json_t *b = body_of(key2, 0);
    CHECK(json_integer_value(json_object_get(b, "max_tokens")) == 123, "max_tokens option");
    json_decref(b);
    om_free(m2);
    om_free(m);
}

static size_t count_lines(const char *path, int *all_parse) {
    FILE *f = fopen(path, "rb");
    *all_parse = 1;
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break; /* a torn last line is allowed */
        json_t *j = json_loads(line, 0, NULL);
        if (!j) *all_parse = 0;
        json_decref(j);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

static void dialogue_saved(void) {
    const char *key = th_key("dialogue");
    char path[512];
    snprintf(path, sizeof path, "%s/chat-dialogue-%ld.jsonl", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    om_options o = OM_OPTIONS_INIT;
    o.system_instruction = "Be brief.";
    o.dialogue_file = path;
    th_config(key, "{\"replies\":[\"This is great, I love it!\",\"That is terrible.\"]}");
    om_model *m = th_model_opts(key, &o);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "first", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK_STATUS(om_ask(m, "second", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    char *dj = NULL;
    CHECK_STATUS(om_dialogue(m, &dj), OM_OK, m);
    json_t *d = json_loads(dj ? dj : "null", 0, NULL);
    CHECK(json_array_size(d) == 6, "%zu entries: %s", json_array_size(d), dj);
    const char *roles[] = {"system", "user", "assistant", "system", "user", "assistant"};
    for (size_t i = 0; i < 6 && i < json_array_size(d); i++) {
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(d, i), "role")), roles[i]) == 0, "role %zu", i);
    }
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(d, 2), "sentiment")), "positive") == 0, "sentiment 1");
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(d, 5), "sentiment")), "negative") == 0, "sentiment 2");
    json_decref(d);
    om_string_free(dj);
    struct stat st;
    CHECK(stat(path, &st) == 0, "no dialogue file at %s", path);
    CHECK((st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
    int ok;
    CHECK(count_lines(path, &ok) == 6 && ok, "file lines");
    om_free(m);

    /* A new handle on the same file continues it, and with send_history the
     * earlier turns go to the server. */
    o.send_history = 1;
    om_model *m2 = th_model_opts(key, &o);
    CHECK_STATUS(om_ask(m2, "third", NULL, 0, &reply), OM_OK, m2);
    om_string_free(reply);
    json_t *b = body_of(key, 2);
    size_t nm = json_array_size(json_object_get(b, "messages"));
    CHECK(nm == 6, "%zu messages with history (system + 4 earlier turns + user)", nm);
    CHECK(strcmp(msg_field(b, 1, "content"), "first") == 0, "history order");
    json_decref(b);
    CHECK(count_lines(path, &ok) == 9 && ok, "file lines after the third exchange");
    om_free(m2);
}

static void dialogue_in_memory_only(void) {
    const char *key = th_key("nofile");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/memonly-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    om_options o = OM_OPTIONS_INIT;
    o.no_dialogue_file = 1;
    o.data_dir = dir;
    om_model *m = th_model_opts(key, &o);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    struct stat st;
    CHECK(stat(dir, &st) != 0, "a data folder was created");
    char *dj = NULL;
    CHECK_STATUS(om_dialogue(m, &dj), OM_OK, m);
    CHECK(dj && strstr(dj, "\"hi\""), "dialogue %s", dj ? dj : "(null)");
    om_string_free(dj);
    om_free(m);
}

static void dialogue_unwritable(void) {
    const char *key = th_key("unwritable");
    om_options o = OM_OPTIONS_INIT;
    o.dialogue_file = "/proc/version/dialogue.jsonl";
    om_model *m = th_model_opts(key, &o);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "keep me", NULL, 0, &reply), OM_EIO, m);
    CHECK(strstr(om_errmsg(m), "kept in memory") != NULL, "message: %s", om_errmsg(m));
    char *dj = NULL;
    CHECK_STATUS(om_dialogue(m, &dj), OM_OK, m);
    CHECK(dj && strstr(dj, "You said: keep me"), "the reply was lost: %s", dj ? dj : "(null)");
    om_string_free(dj);
    om_free(m);
}

/* ---- streaming ---- */

struct collect { char buf[65536]; size_t len; int calls; int stop_after; int bad_utf8; };

static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++) if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static int on_delta(const char *d, size_t n, void *ud) {
    struct collect *c = (struct collect *)ud;
    if (d[n] != 0) c->bad_utf8 = 1;
    if (!valid_utf8((const unsigned char *)d, n)) c->bad_utf8 = 1;
    if (c->len + n < sizeof c->buf) { memcpy(c->buf + c->len, d, n); c->len += n; c->buf[c->len] = 0; }
    c->calls++;
    return c->stop_after && c->calls >= c->stop_after;
}

static void stream_basic(void) {
    const char *key = th_key("stream");
    th_config(key, "{\"replies\":[\"one two three four five six seven eight nine ten\"],\"stream\":{\"chunk_chars\":3}}");
    om_model *m = th_model(key);
    struct collect c = {{0}, 0, 0, 0, 0};
    char *reply = NULL;
    CHECK_STATUS(om_ask_stream(m, "count", NULL, 0, on_delta, &c, &reply), OM_OK, m);
    CHECK(c.calls >= 10, "%d deltas", c.calls);
    CHECK(strcmp(c.buf, "one two three four five six seven eight nine ten") == 0, "joined [%s]", c.buf);
    CHECK(reply && strcmp(reply, c.buf) == 0, "reply [%s]", reply ? reply : "(null)");
    CHECK(!c.bad_utf8, "a delta was not NUL-terminated UTF-8");
    om_string_free(reply);
    json_t *b = body_of(key, 0);
    CHECK(json_is_true(json_object_get(b, "stream")), "stream flag");
    json_decref(b);
    char *dj = NULL;
    om_dialogue(m, &dj);
    CHECK(dj && strstr(dj, "nine ten"), "streamed reply not saved: %s", dj ? dj : "(null)");
    om_string_free(dj);
    no_violations(key);
    om_free(m);
}

static void stream_split_everywhere(void) {
    const char *endings[] = {"\\n", "\\r", "\\r\\n"};
    const char *text = "h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 done";
    for (int e = 0; e < 3; e++) {
        const char *key = th_key("split");
        char cfg[512];
        snprintf(cfg, sizeof cfg, "{\"replies\":[\"%s\"],\"stream\":{\"chunk_chars\":1,\"split_bytes\":%d,"
                 "\"split_delay\":0,\"line_ending\":\"%s\"}}", text, e + 1, endings[e]);
        th_config(key, cfg);
        om_model *m = th_model(key);
        struct collect c = {{0}, 0, 0, 0, 0};
        char *reply = NULL;
        CHECK_STATUS(om_ask_stream(m, "x", NULL, 0, on_delta, &c, &reply), OM_OK, m);
        CHECK(strcmp(c.buf, text) == 0, "ending %d: joined [%s]", e, c.buf);
        CHECK(!c.bad_utf8, "ending %d: a delta split a character", e);
        om_string_free(reply);
        om_free(m);
    }
}

static void stream_errors(void) {
    const char *styles[] = {"event", "data"};
    for (int i = 0; i < 2; i++) {
        const char *key = th_key("streamerr");
        char cfg[256];
        snprintf(cfg, sizeof cfg, "{\"stream\":{\"error_after\":3,\"error_style\":\"%s\"}}", styles[i]);
        th_config(key, cfg);
        om_model *m = th_model(key);
        struct collect c = {{0}, 0, 0, 0, 0};
        char *reply = NULL;
        om_status s = om_ask_stream(m, "a b c d e f g h", NULL, 0, on_delta, &c, &reply);
        CHECK(s != OM_OK && s != OM_ECANCELLED, "%s: status %s", styles[i], om_status_str(s));
        CHECK(strstr(om_errmsg(m), "stream") != NULL, "%s: message %s", styles[i], om_errmsg(m));
        CHECK(reply == NULL, "reply set");
        CHECK(th_request_count(key) == 1, "retried after text was delivered");
        om_free(m);
    }
}

static void stream_stopped_by_callback(void) {
    const char *key = th_key("streamstop");
    th_config(key, "{\"stream\":{\"events\":1000,\"event_text\":\"x\"}}");
    om_model *m = th_model(key);
    struct collect c = {{0}, 0, 0, 5, 0};
    char *reply = NULL;
    CHECK_STATUS(om_ask_stream(m, "go", NULL, 0, on_delta, &c, &reply), OM_ECANCELLED, m);
    CHECK(c.calls == 5, "%d calls after asking to stop", c.calls);
    CHECK(th_request_count(key) == 1, "retried");
    om_free(m);
}

static void stream_stall_idle_timeout(void) {
    const char *key = th_key("streamstall");
    th_config(key, "{\"stream\":{\"stall_after\":2,\"stall_seconds\":10}}");
    om_options o = OM_OPTIONS_INIT;
    o.idle_timeout_ms = 500;
    om_model *m = th_model_opts(key, &o);
    struct collect c = {{0}, 0, 0, 0, 0};
    char *reply = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_ask_stream(m, "a b c d e f", NULL, 0, on_delta, &c, &reply), OM_ETIMEDOUT, m);
    CHECK(th_now() - t0 < 5, "took %.2f s", th_now() - t0);
    CHECK(c.calls >= 1, "no delta before the stall");
    om_free(m);
}

struct canceller { om_model *m; };
static void *cancel_soon(void *p) {
    usleep(300000);
    om_cancel(((struct canceller *)p)->m);
    return NULL;
}

static void stream_cancel_from_thread(void) {
    const char *key = th_key("streamcancel");
    th_config(key, "{\"stream\":{\"stall_after\":1,\"stall_seconds\":10}}");
    om_model *m = th_model(key);
    struct canceller a = {m};
    pthread_t t;
    pthread_create(&t, NULL, cancel_soon, &a);
    struct collect c = {{0}, 0, 0, 0, 0};
    char *reply = NULL;
    double t0 = th_now();
    CHECK_STATUS(om_ask_stream(m, "a b c", NULL, 0, on_delta, &c, &reply), OM_ECANCELLED, m);
    CHECK(th_now() - t0 < 2, "cancel took %.2f s", th_now() - t0);
    pthread_join(t, NULL);

    /* and a plain om_ask */
    th_faults(key, "[{\"kind\":\"stall\",\"seconds\":10}]");
    pthread_create(&t, NULL, cancel_soon, &a);
    t0 = th_now();
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_ECANCELLED, m);
    CHECK(th_now() - t0 < 2, "cancel took %.2f s", th_now() - t0);
    pthread_join(t, NULL);
    CHECK_STATUS(om_ask(m, "after cancel", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    om_free(m);
}

static void sentiment(void) {
    struct { const char *t, *want; } cases[] = {
        {"I love this, it is wonderful", "positive"}, {"This is awful and I hate it", "negative"},
        {"badge", "neutral"}, {"goodbye", "neutral"}, {"not good", "negative"}, {"", "neutral"},
        {"The meeting is at noon.", "neutral"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = om_determine_sentiment(cases[i].t);
        CHECK(strcmp(got, cases[i].want) == 0, "'%s': %s, wanted %s", cases[i].t, got, cases[i].want);
    }
    CHECK(strcmp(om_determine_sentiment(NULL), "neutral") == 0, "NULL");
    CHECK(om_determine_sentiment("\xff\xfe bad") != NULL, "invalid UTF-8");
}

/* A child asks in a loop and reports each saved exchange; the parent kills
 * it at random moments. Every complete line must parse, and no exchange
 * that was reported saved may be missing. */
static void dialogue_survives_sigkill(void) {
    const char *key = th_key("sigkill");
    char path[512];
    snprintf(path, sizeof path, "%s/killed-%ld.jsonl", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    int kills = getenv("OM_TEST_KILLS") ? atoi(getenv("OM_TEST_KILLS")) : 200;
    long reported = 0;
    srand((unsigned)getpid());
    for (int k = 0; k < kills; k++) {
        int fds[2];
        if (pipe(fds) != 0) { CHECK(0, "pipe"); return; }
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            om_options o = OM_OPTIONS_INIT;
            o.dialogue_file = path;
            o.system_instruction = "Kill test.";
            om_model *m = th_model_opts(key, &o);
            for (;;) {
                char *reply = NULL;
                if (om_ask(m, "an exchange that must not be lost", NULL, 0, &reply) == OM_OK) {
                    if (write(fds[1], "s", 1) != 1) _exit(3);
                }
                om_string_free(reply);
            }
        }
        close(fds[1]);
        usleep((useconds_t)(2000 + rand() % 30000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char b[4096];
        ssize_t n;
        while ((n = read(fds[0], b, sizeof b)) > 0) reported += n;
        close(fds[0]);
        int ok;
        size_t lines = count_lines(path, &ok);
        CHECK(ok, "kill %d: a complete line does not parse", k);
        CHECK(lines >= (size_t)reported * 3, "kill %d: %zu lines but %ld exchanges reported saved", k, lines, reported);
        if (!ok) break;
    }
    /* The library reads the file back: all complete entries. */
    om_options o = OM_OPTIONS_INIT;
    o.dialogue_file = path;
    om_model *m = th_model_opts(key, &o);
    char *dj = NULL;
    CHECK_STATUS(om_dialogue(m, &dj), OM_OK, m);
    json_t *d = json_loads(dj ? dj : "null", 0, NULL);
    int ok;
    size_t lines = count_lines(path, &ok);
    CHECK(json_array_size(d) == lines, "read back %zu of %zu entries", json_array_size(d), lines);
    CHECK(reported > 0, "no exchange completed in %d runs", kills);
    printf("  %d kills, %ld exchanges reported saved, %zu entries on disk\n", kills, reported, lines);
    json_decref(d);
    om_string_free(dj);
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    RUN(ask_basic);
    RUN(last_response);
    RUN(system_instruction_precedence);
    RUN(reply_trimmed_and_text_exact);
    RUN(bad_messages);
    RUN(ten_megabyte_message);
    RUN(retries_and_idempotency);
    RUN(rate_limit_wait);
    RUN(token_param_fallback);
    RUN(dialogue_saved);
    RUN(dialogue_in_memory_only);
    RUN(dialogue_unwritable);
    RUN(stream_basic);
    RUN(stream_split_everywhere);
    RUN(stream_errors);
    RUN(stream_stopped_by_callback);
    RUN(stream_stall_idle_timeout);
    RUN(stream_cancel_from_thread);
    RUN(idempotency_keys_differ_across_fork);
    RUN(sentiment);
    RUN(dialogue_survives_sigkill);
    return th_finish();
}
