/* Assistants: the local file (the original's shape), the server's
 * GET /assistants/{id}, and a server that retired that API. */
#include <sys/stat.h>
#include "harness.h"

static char dir[400];
static char file[512];

static const char *ASSISTANTS =
    "{\n"
    "  \"asst_writer\": {\n"
    "    \"name\": \"writer\", \"title\": \"Copy writer\", \"description\": \"Writes product copy\",\n"
    "    \"instructions\": {\n"
    "      \"10\": {\"name\": \"last\", \"text\": \"Sign with -- W.\"},\n"
    "      \"2\": {\"name\": \"second\", \"text\": \"Keep it short.\"},\n"
    "      \"1\": {\"name\": \"first\", \"text\": \"You write product copy.\"}\n"
    "    }\n"
    "  },\n"
    "  \"asst_critic\": {\n"
    "    \"name\": \"critic\", \"title\": \"Critic\", \"description\": \"Reviews text\",\n"
    "    \"instructions\": {\"1\": {\"name\": \"only\", \"text\": \"\", \"file\": \"critic.txt\"}}\n"
    "  }\n"
    "}\n";

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static om_model *model_with_file(const char *key, const char *assistants, const char *assistant_id,
                                 const char *instruction) {
    om_options o = OM_OPTIONS_INIT;
    o.assistants_file = assistants;
    o.assistant_id = assistant_id;
    o.system_instruction = instruction;
    return th_model_opts(key, &o);
}

static const char *system_sent(const char *key, size_t n) {
    static char buf[1024];
    json_t *log = th_requests(key);
    json_t *msgs = json_object_get(json_object_get(json_array_get(log, n), "json"), "messages");
    json_t *first = json_array_get(msgs, 0);
    const char *role = json_string_value(json_object_get(first, "role"));
    snprintf(buf, sizeof buf, "%s", role && strcmp(role, "system") == 0
             ? json_string_value(json_object_get(first, "content")) : "(none)");
    json_decref(log);
    return buf;
}

static void list_in_file_order(void) {
    const char *key = th_key("list");
    om_model *m = model_with_file(key, file, NULL, NULL);
    char *out = NULL;
    CHECK_STATUS(om_list_assistants(m, &out), OM_OK, m);
    json_t *j = json_loads(out ? out : "null", 0, NULL);
    CHECK(json_array_size(j) == 2, "%s", out);
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
    CHECK(strcmp(json_string_value(json_object_get(a, "id")), "asst_writer") == 0, "order");
    CHECK(strcmp(json_string_value(json_object_get(a, "name")), "writer") == 0, "name");
    CHECK(strcmp(json_string_value(json_object_get(a, "title")), "Copy writer") == 0, "title");
    CHECK(strcmp(json_string_value(json_object_get(a, "description")), "Writes product copy") == 0, "description");
    CHECK(strcmp(json_string_value(json_object_get(b, "name")), "critic") == 0, "second");
    json_decref(j);
    om_string_free(out);
    CHECK(th_request_count(key) == 0, "listing used the network");
    om_free(m);
}

static void missing_or_malformed_file(void) {
    char missing[512], bad[512], shape[512];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(shape, sizeof shape, "%s/shape.json", dir);
    write_file(bad, "{\"asst_1\": {\"name\": \"x\",");
    write_file(shape, "[\"asst_1\"]");
    char *out = NULL;
    om_model *m = model_with_file(th_key("missing"), missing, NULL, NULL);
    CHECK_STATUS(om_list_assistants(m, &out), OM_ENOFILE, m);
    CHECK(strstr(om_errmsg(m), missing) != NULL, "path not named: %s", om_errmsg(m));
    om_free(m);
    m = model_with_file(th_key("bad"), bad, NULL, NULL);
    CHECK_STATUS(om_list_assistants(m, &out), OM_EDATA, m);
    CHECK(strstr(om_errmsg(m), bad) != NULL, "path not named: %s", om_errmsg(m));
    CHECK_STATUS(om_set_assistant(m, "asst_1"), OM_EDATA, m);
    om_free(m);
    m = model_with_file(th_key("shape"), shape, NULL, NULL);
    CHECK_STATUS(om_list_assistants(m, &out), OM_EDATA, m);
    CHECK_STATUS(om_set_assistant(m, NULL), OM_EINVAL, m);
    CHECK_STATUS(om_set_assistant(m, ""), OM_EINVAL, m);
    om_free(m);
}

static void local_assistant_instructions(void) {
    const char *key = th_key("local");
    /* The server also serves this id, with other instructions: local wins. */
    th_config(key, "{\"assistants\":{\"asst_writer\":{\"instructions\":\"SERVER VERSION\",\"model\":\"gpt-4o\"}}}");
    om_model *m = model_with_file(key, file, NULL, "Handle instruction.");
    CHECK_STATUS(om_set_assistant(m, "asst_writer"), OM_OK, m);
    CHECK(th_request_count(key) == 0, "the server was asked for a locally defined assistant");
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    const char *sys = system_sent(key, 0);
    CHECK(strcmp(sys, "You write product copy.\n\nKeep it short.\n\nSign with -- W.") == 0, "system [%s]", sys);
    /* The argument still wins. */
    CHECK_STATUS(om_ask(m, "hi", "Argument.", 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK(strcmp(system_sent(key, 1), "Argument.") == 0, "argument precedence");
    /* Instructions from a file named by the entry. */
    CHECK_STATUS(om_set_assistant(m, "asst_critic"), OM_OK, m);
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK(strcmp(system_sent(key, 2), "Be harsh but fair.\n") == 0, "file instruction [%s]", system_sent(key, 2));
    /* Images use it too. */
    om_free(m);
}

static void server_assistant(void) {
    const char *key = th_key("served");
    th_config(key, "{\"assistants\":{\"asst_remote\":{\"instructions\":\"You are remote.\",\"model\":\"gpt-4o\","
                   "\"name\":\"remote\"}}}");
    om_model *m = model_with_file(key, file, NULL, NULL);
    CHECK_STATUS(om_set_assistant(m, "asst_remote"), OM_OK, m);
    json_t *log = th_requests(key);
    json_t *r = json_array_get(log, 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "path")), "/v1/assistants/asst_remote") == 0, "path");
    const char *beta = json_string_value(json_object_get(json_object_get(r, "headers"), "openai-beta"));
    CHECK(beta && strcmp(beta, "assistants=v2") == 0, "OpenAI-Beta header %s", beta ? beta : "(none)");
    json_decref(log);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK(strcmp(system_sent(key, 1), "You are remote.") == 0, "server instructions");
    log = th_requests(key);
    const char *model = json_string_value(json_object_get(json_object_get(json_array_get(log, 1), "json"), "model"));
    CHECK(model && strcmp(model, "gpt-4o") == 0, "the assistant's model was not used: %s", model ? model : "(null)");
    json_decref(log);
    CHECK(th_violations(key) == 0, "violations");
    om_free(m);
}

static void retired_server(void) {
    int statuses[] = {404, 410};
    for (int i = 0; i < 2; i++) {
        const char *key = th_key("retired");
        char cfg[128];
        snprintf(cfg, sizeof cfg, "{\"assistants_retired\":true,\"retired_status\":%d}", statuses[i]);
        th_config(key, cfg);
        om_model *m = model_with_file(key, file, NULL, NULL);
        CHECK_STATUS(om_set_assistant(m, "asst_writer"), OM_OK, m);
        CHECK_STATUS(om_set_assistant(m, "asst_gone"), OM_ENOTFOUND, m);
        const char *msg = om_errmsg(m);
        CHECK(strstr(msg, "asst_gone") && strstr(msg, "neither defined locally nor served") && strstr(msg, file)
              && strstr(msg, "2026-08-26"), "message: %s", msg);
        /* The current assistant is unchanged. */
        char *reply = NULL;
        CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
        om_string_free(reply);
        json_t *log = th_requests(key);
        size_t n = json_array_size(log);
        json_decref(log);
        CHECK(strncmp(system_sent(key, n - 1), "You write product copy.", 23) == 0, "assistant changed");
        om_free(m);
    }
}

static void lazy_assistant_from_options(void) {
    const char *key = th_key("lazy");
    th_config(key, "{\"assistants\":{\"asst_remote\":{\"instructions\":\"Lazy remote.\"}}}");
    om_model *m = model_with_file(key, file, "asst_remote", "Handle.");
    CHECK(th_request_count(key) == 0, "om_create used the network");
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK(th_request_count(key) == 2, "%zu requests", th_request_count(key));
    CHECK(strcmp(system_sent(key, 1), "Lazy remote.") == 0, "system [%s]", system_sent(key, 1));
    CHECK_STATUS(om_ask(m, "again", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK(th_request_count(key) == 3, "the assistant was fetched again");
    om_free(m);

    /* A named assistant that exists nowhere makes the call fail clearly. */
    const char *key2 = th_key("lazymissing");
    th_config(key2, "{\"assistants_retired\":true}");
    m = model_with_file(key2, file, "asst_nowhere", NULL);
    CHECK_STATUS(om_ask(m, "hi", NULL, 0, &reply), OM_ENOTFOUND, m);
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(dir, sizeof dir, "%s/assistants-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/assistants.json", dir);
    write_file(file, ASSISTANTS);
    char critic[512];
    snprintf(critic, sizeof critic, "%s/critic.txt", dir);
    write_file(critic, "Be harsh but fair.\n");
    RUN(list_in_file_order);
    RUN(missing_or_malformed_file);
    RUN(local_assistant_instructions);
    RUN(server_assistant);
    RUN(retired_server);
    RUN(lazy_assistant_from_options);
    return th_finish();
}
