/* Image description: MIME sniffing, streamed bodies in bounded memory, reply
 * JSON extraction, and bad inputs refused before any network traffic. */
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "harness.h"

static char dir[400];

static void no_violations(const char *key) {
    CHECK(th_violations(key) == 0, "the server saw requests the API would reject");
}

static const char *write_file(const char *name, const unsigned char *head, size_t headlen, size_t total) {
    static char paths[16][512];
    static int n = 0;
    char *p = paths[n++ % 16];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(head, 1, headlen, f);
    unsigned char buf[65536];
    size_t left = total > headlen ? total - headlen : 0;
    unsigned x = 12345;
    while (left) {
        size_t k = left < sizeof buf ? left : sizeof buf;
        for (size_t i = 0; i < k; i++) { x = x * 1103515245u + 12345u; buf[i] = (unsigned char)(x >> 16); }
        fwrite(buf, 1, k, f);
        left -= k;
    }
    fclose(f);
    return p;
}

/* Headers of small images: enough for the type and the size. */
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                    0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x12, 0x16, 0xf1, 0x4d};
static const unsigned char JPEG[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
static const unsigned char GIF[] = {'G', 'I', 'F', '8', '9', 'a', 4, 0, 3, 0, 0, 0, 0};
static const unsigned char WEBP[] = {'R', 'I', 'F', 'F', 0x24, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X',
                                     10, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 8, 0, 0};

static json_t *describe(om_model *m, const char *path, om_status want) {
    char *out = NULL;
    om_status s = om_describe_image(m, path, NULL, NULL, &out);
    CHECK(s == want, "%s: %s: %s", path, om_status_str(s), om_errmsg(m));
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    om_string_free(out);
    return j;
}

static json_t *last_image(const char *key) {
    json_t *log = th_requests(key);
    json_t *r = json_array_get(log, json_array_size(log) - 1);
    json_t *img = json_array_get(json_object_get(r, "images"), 0);
    json_incref(img);
    json_decref(log);
    return img;
}

static void each_type_labelled(void) {
    struct { const char *name; const unsigned char *head; size_t len; const char *type, *mime; } t[] = {
        {"a.png", PNG, sizeof PNG, "png", "image/png"},
        {"b.jpeg", JPEG, sizeof JPEG, "jpeg", "image/jpeg"},
        {"c.gif", GIF, sizeof GIF, "gif", "image/gif"},
        {"d.webp", WEBP, sizeof WEBP, "webp", "image/webp"},
        {"png-named.jpg", PNG, sizeof PNG, "png", "image/png"},
        {"no-extension", GIF, sizeof GIF, "gif", "image/gif"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        const char *key = th_key("types");
        om_model *m = th_model(key);
        const char *p = write_file(t[i].name, t[i].head, t[i].len, 1000);
        json_t *j = describe(m, p, OM_OK);
        const char *fmt = json_string_value(json_object_get(j, "format"));
        CHECK(fmt && strcmp(fmt, t[i].type) == 0, "%s: the server decoded %s", t[i].name, fmt ? fmt : "(null)");
        CHECK(json_integer_value(json_object_get(j, "bytes")) == 1000, "%s: size", t[i].name);
        json_decref(j);
        json_t *img = last_image(key);
        CHECK(img && strcmp(json_string_value(json_object_get(img, "mime")), t[i].mime) == 0,
              "%s: labelled %s", t[i].name, img ? json_string_value(json_object_get(img, "mime")) : "(none)");
        json_decref(img);
        no_violations(key);
        om_free(m);
    }
}

static void request_shape(void) {
    const char *key = th_key("shape");
    om_options o = OM_OPTIONS_INIT;
    o.image_detail = "high";
    om_model *m = th_model_opts(key, &o);
    const char *p = write_file("shape.png", PNG, sizeof PNG, 200);
    json_decref(describe(m, p, OM_OK));
    json_t *log = th_requests(key);
    json_t *b = json_object_get(json_array_get(log, 0), "json");
    CHECK(json_integer_value(json_object_get(b, "max_completion_tokens")) == 800, "token limit");
    json_t *content = json_object_get(json_array_get(json_object_get(b, "messages"), 0), "content");
    json_t *text = json_array_get(content, 0), *image = json_array_get(content, 1);
    CHECK(strcmp(json_string_value(json_object_get(text, "text")), "What's in this image?") == 0, "default prompt");
    CHECK(strcmp(json_string_value(json_object_get(image, "type")), "image_url") == 0, "part type");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(image, "image_url"), "detail")), "high") == 0, "detail");
    json_decref(log);

    /* A URL is passed as the image URL, not downloaded. */
    char *out = NULL;
    CHECK_STATUS(om_describe_image_text(m, "https://example.com/cat.png", "Describe it.", NULL, &out), OM_OK, m);
    om_string_free(out);
    log = th_requests(key);
    b = json_object_get(json_array_get(log, 1), "json");
    content = json_object_get(json_array_get(json_object_get(b, "messages"), 0), "content");
    const char *url = json_string_value(json_object_get(json_object_get(json_array_get(content, 1), "image_url"), "url"));
    CHECK(url && strcmp(url, "https://example.com/cat.png") == 0, "url %s", url ? url : "(null)");
    json_decref(log);
    no_violations(key);
    om_free(m);
}

static void reply_shapes(void) {
    const char *key = th_key("replies");
    th_config(key, "{\"replies\":[\"{\\\"animal\\\": \\\"cat\\\"}\","
                   "\"Here you go:\\n```json\\n{\\\"animal\\\": \\\"dog\\\", \\\"n\\\": 2}\\n```\\nAnything else?\","
                   "\"A small red square on a white background.\","
                   "\"[{\\\"object\\\": \\\"cup\\\"}, {\\\"object\\\": \\\"saucer\\\"}]\","
                   "\"  The JSON is {\\\"k\\\": [1, 2]} as asked.  \"]}");
    om_model *m = th_model(key);
    const char *p = write_file("r.png", PNG, sizeof PNG, 100);
    json_t *j = describe(m, p, OM_OK);
    CHECK(j && strcmp(json_string_value(json_object_get(j, "animal")), "cat") == 0, "plain JSON");
    json_decref(j);
    j = describe(m, p, OM_OK);
    CHECK(j && strcmp(json_string_value(json_object_get(j, "animal")), "dog") == 0 &&
          json_integer_value(json_object_get(j, "n")) == 2, "fenced JSON");
    json_decref(j);
    j = describe(m, p, OM_OK);
    const char *d = json_string_value(json_object_get(j, "description"));
    CHECK(d && strcmp(d, "A small red square on a white background.") == 0, "prose kept as description");
    json_decref(j);
    j = describe(m, p, OM_OK);
    CHECK(json_is_array(j) && json_array_size(j) == 2, "array reply");
    json_decref(j);
    j = describe(m, p, OM_OK);
    CHECK(j && json_array_size(json_object_get(j, "k")) == 2, "JSON inside text");
    json_decref(j);

    th_config(key, "{\"replies\":[\"  as is \\n\"]}");
    char *out = NULL;
    CHECK_STATUS(om_describe_image_text(m, p, NULL, NULL, &out), OM_OK, m);
    CHECK(out && strcmp(out, "  as is \n") == 0, "text variant changed the reply: [%s]", out ? out : "(null)");
    om_string_free(out);
    om_free(m);
}

static void bad_inputs_send_nothing(void) {
    const char *key = th_key("badimg");
    om_model *m = th_model(key);
    char missing[512], folder[512], fifo[512], loop[512], empty[512];
    snprintf(missing, sizeof missing, "%s/missing.png", dir);
    snprintf(folder, sizeof folder, "%s/folder.png", dir);
    mkdir(folder, 0700);
    snprintf(fifo, sizeof fifo, "%s/fifo.png", dir);
    mkfifo(fifo, 0600);
    snprintf(loop, sizeof loop, "%s/loop.png", dir);
    symlink(loop, loop);
    snprintf(empty, sizeof empty, "%s/empty.png", dir);
    fclose(fopen(empty, "wb"));
    const unsigned char html[] = "<html><body>not an image</body></html>";
    const char *text = write_file("fake.png", html, sizeof html - 1, sizeof html - 1);
    struct { const char *path; om_status want; const char *needle; } cases[] = {
        {missing, OM_ENOFILE, "no such file"},
        {folder, OM_EDATA, "folder"},
        {fifo, OM_EDATA, "not a regular file"},
        {loop, OM_EIO, "symbolic links"},
        {empty, OM_EDATA, "empty"},
        {text, OM_EDATA, "not a PNG, JPEG, GIF or WebP"},
        {"", OM_EINVAL, "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = (char *)0x1;
        om_status s = om_describe_image(m, cases[i].path, NULL, NULL, &out);
        CHECK(s == cases[i].want, "%s: %s (%s)", cases[i].path, om_status_str(s), om_errmsg(m));
        CHECK(strstr(om_errmsg(m), cases[i].needle) != NULL, "%s: message %s", cases[i].path, om_errmsg(m));
        if (*cases[i].path) CHECK(strstr(om_errmsg(m), cases[i].path) != NULL, "path not named: %s", om_errmsg(m));
        CHECK(out == NULL, "out set");
    }
    char *out = NULL;
    CHECK_STATUS(om_describe_image(m, NULL, NULL, NULL, &out), OM_EINVAL, m);
    CHECK_STATUS(om_describe_image(m, missing, "\xff", NULL, &out), OM_EINVAL, m);
    if (geteuid() != 0) {
        const char *locked = write_file("locked.png", PNG, sizeof PNG, 100);
        chmod(locked, 0);
        CHECK_STATUS(om_describe_image(m, locked, NULL, NULL, &out), OM_EIO, m);
    }
    CHECK(th_request_count(key) == 0, "%zu requests were sent", th_request_count(key));
    om_free(m);
}

static void retry_resends_whole_body(void) {
    const char *key = th_key("imgretry");
    th_faults(key, "[{\"kind\":\"status\",\"status\":500,\"path\":\"/v1/chat/completions\","
                   "\"headers\":{\"retry-after-ms\":\"5\"}}]");
    om_model *m = th_model(key);
    const char *p = write_file("retry.png", PNG, sizeof PNG, 3 * 1024 * 1024 + 7);
    json_t *j = describe(m, p, OM_OK);
    CHECK(json_integer_value(json_object_get(j, "bytes")) == 3 * 1024 * 1024 + 7, "size after retry");
    json_decref(j);
    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 2, "%zu requests", json_array_size(log));
    const char *h0 = json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(log, 0), "images"), 0), "sha256"));
    const char *h1 = json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(log, 1), "images"), 0), "sha256"));
    CHECK(h0 && h1 && strcmp(h0, h1) == 0, "the retry sent different image bytes");
    json_decref(log);
    om_free(m);
}

static void large_image_bounded_memory(void) {
    const char *key = th_key("large");
    om_model *m = th_model(key);
    size_t mb = getenv("OM_TEST_LARGE_MB") ? (size_t)atoi(getenv("OM_TEST_LARGE_MB")) : 200;
    const char *p = write_file("large.png", PNG, sizeof PNG, mb * 1024 * 1024);
    char cmd[600], want[65] = {0};
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", p);
    FILE *f = popen(cmd, "r");
    CHECK(f && fscanf(f, "%64s", want) == 1, "sha256sum");
    if (f) pclose(f);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    double t0 = th_now();
    json_t *j = describe(m, p, OM_OK);
    double dt = th_now() - t0;
    getrusage(RUSAGE_SELF, &after);
    CHECK(json_integer_value(json_object_get(j, "bytes")) == (json_int_t)(mb * 1024 * 1024), "size");
    const char *got = json_string_value(json_object_get(j, "sha256"));
    CHECK(got && strcmp(got, want) == 0, "content hash %s, want %s", got ? got : "(null)", want);
    long peak_mb = after.ru_maxrss / 1024;
    printf("  %zu MB image: %.2f s, peak resident memory of this process %ld MB\n", mb, dt, peak_mb);
    CHECK(peak_mb < 100, "peak resident memory %ld MB for a %zu MB image", peak_mb, mb);
    json_decref(j);
    unlink(p);
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(dir, sizeof dir, "%s/vision-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    RUN(each_type_labelled);
    RUN(request_shape);
    RUN(reply_shapes);
    RUN(bad_inputs_send_nothing);
    RUN(retry_resends_whole_body);
    RUN(large_image_bounded_memory);
    return th_finish();
}
