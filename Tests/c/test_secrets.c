/* Secrets: with a recognisable API key, every call the library offers is
 * made (successes and failures, including servers that echo the key back),
 * logging at debug level both to a callback and (OPENAI_LOG=debug) to
 * stderr. The key must appear in no log line, no error message or detail,
 * and no file the library wrote: dialogue, job registry, temporary files
 * (TMPDIR points into the test's folder). Files holding conversation data
 * are created 0600 even under umask 0. TLS verification cannot be avoided:
 * a self-signed server is refused (once, not retried) until ca_file names
 * its certificate, and a certificate for another host name is refused even
 * then. */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"

static char KEY[128];    /* the recognisable key */
static char TOKEN[64];   /* its distinctive middle: no part of it may leak */
static char dir[512], tmpdir[600], dialogue[600], png[600];

/* ---- everything the library says ---- */

static char *said = NULL; /* log lines, messages, details */
static size_t said_len = 0, said_cap = 0, log_lines = 0;

static void keep(const char *s) {
    if (!s) return;
    size_t n = strlen(s);
    if (said_len + n + 2 > said_cap) {
        said_cap = (said_len + n + 2) * 2;
        said = realloc(said, said_cap);
    }
    memcpy(said + said_len, s, n);
    said_len += n;
    said[said_len++] = '\n';
    said[said_len] = 0;
}

static void on_log(int level, const char *message, void *ud) {
    (void)level; (void)ud;
    log_lines++;
    keep(message);
}

/* Keeps what the handle reports about its last call. */
static void keep_state(om_model *m) {
    keep(om_errmsg(m));
    keep(om_errdetail(m));
    keep(om_last_request_id(m));
    keep(om_last_response(m));
}

static om_model *handle(int to_stderr) {
    om_options o = OM_OPTIONS_INIT;
    o.base_url = th_base();
    o.api_key = KEY;
    o.data_dir = dir;
    o.dialogue_file = dialogue;
    o.assistants_file = "/nonexistent/assistants.json";
    o.max_retries = 1;
    o.idle_timeout_ms = 400;
    if (to_stderr) {
        o.log_level = OM_LOG_DEFAULT; /* OPENAI_LOG decides */
    } else {
        o.log_cb = on_log;
        o.log_level = OM_LOG_DEBUG;
    }
    om_model *m = NULL;
    if (om_create(&o, &m) != OM_OK) {
        fprintf(stderr, "om_create: %s\n", om_last_error());
        exit(2);
    }
    return m;
}

static int on_delta(const char *d, size_t n, void *ud) {
    (void)d; (void)n; (void)ud;
    return 0;
}

static int modes_ok = 1, temp_seen = 0;
static int on_progress(const char *stage, long long done, long long total, void *ud) {
    (void)done; (void)total; (void)ud;
    if (strcmp(stage, "upload") != 0) return 0;
    /* the training file exists now: its mode, and no key in it */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[900];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            temp_seen++;
            if ((st.st_mode & 0777) != 0600) modes_ok = 0;
        }
    }
    if (d) closedir(d);
    return 0;
}

/* Every call, with successes and failures; the server echoes the key. */
static void exercise(om_model *m) {
    char *out = NULL;
    char faults[1024];
    om_list_models(m, &out); keep_state(m); om_string_free(out); out = NULL;
    om_ask(m, "Hello, how are you?", NULL, 0, &out); keep_state(m); om_string_free(out); out = NULL;
    om_ask_stream(m, "Stream me something", "Be brief.", 0, on_delta, NULL, &out); keep_state(m);
    om_string_free(out); out = NULL;
    om_describe_image(m, png, "What is it?", NULL, &out); keep_state(m); om_string_free(out); out = NULL;
    om_train_options t = OM_TRAIN_OPTIONS_INIT;
    t.data = "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n";
    t.progress = on_progress;
    char *job = NULL;
    om_train_ex(m, &t, &job); keep_state(m);
    om_dynamic_train(m, &out); keep_state(m); om_string_free(out); out = NULL;
    if (job) {
        om_save_job_id(m, job, "a job", NULL); keep_state(m);
        om_job_get(m, job, &out); keep_state(m); om_string_free(out); out = NULL;
        om_job_events(m, job, NULL, 5, &out); keep_state(m); om_string_free(out); out = NULL;
        om_job_cancel(m, job, &out); keep_state(m); om_string_free(out); out = NULL;
        om_job_wait(m, job, 5000, NULL, NULL, &out); keep_state(m); om_string_free(out); out = NULL;
        om_string_free(job);
    }
    om_list_jobs(m, NULL, 5, &out); keep_state(m); om_string_free(out); out = NULL;
    om_set_assistant(m, "asst_remote"); keep_state(m);
    om_dialogue(m, &out); om_string_free(out); out = NULL;

    /* failures whose bodies, messages and headers carry the key */
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":401,\"body\":{\"error\":{\"message\":\"Incorrect API key provided: "
             "%s.\",\"type\":\"invalid_request_error\",\"param\":\"%s\",\"code\":\"invalid_api_key\"}}}]", KEY, KEY);
    th_faults(KEY, faults);
    om_list_models(m, &out); keep_state(m);
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":500,\"times\":2,\"headers\":{\"retry-after-ms\":\"5\"},"
             "\"error_message\":\"upstream rejected key %s\"}]", KEY);
    th_faults(KEY, faults);
    om_ask(m, "fail please", NULL, 0, &out); keep_state(m);
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":302,\"headers\":{\"location\":\"https://elsewhere.example/?k=%s\"}}]",
             KEY);
    th_faults(KEY, faults);
    om_list_jobs(m, NULL, 0, &out); keep_state(m);
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":200,\"body\":{\"error\":{\"message\":\"key %s is bad\","
             "\"type\":\"invalid_request_error\"}}}]", KEY);
    th_faults(KEY, faults);
    om_ask(m, "an error in a 200", NULL, 0, &out); keep_state(m);
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":400,\"raw\":true,\"content_type\":\"text/html\","
             "\"body\":\"<html>Bad key %s</html>\"}]", KEY);
    th_faults(KEY, faults);
    om_describe_image(m, png, NULL, NULL, &out); keep_state(m);
    snprintf(faults, sizeof faults, "{\"stream\":{\"error_after\":2,\"error_message\":\"key %s revoked\"}}", KEY);
    th_config(KEY, faults);
    om_ask_stream(m, "one two three four five", NULL, 0, on_delta, NULL, &out); keep_state(m);
    th_config(KEY, "{\"stream\":null}");
    th_faults(KEY, "[{\"kind\":\"stall\",\"seconds\":5}]");
    om_list_models(m, &out); keep_state(m);
    th_faults(KEY, "[{\"kind\":\"truncate\",\"times\":2}]");
    om_list_models(m, &out); keep_state(m);
    /* a successful completion that carries the key (om_last_response) */
    snprintf(faults, sizeof faults,
             "[{\"kind\":\"status\",\"status\":200,\"body\":{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
             "\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"%s\",\"choices\":[{\"index\":0,"
             "\"message\":{\"role\":\"assistant\",\"content\":\"fine\"},\"finish_reason\":\"stop\"}]}}]", KEY);
    th_faults(KEY, faults);
    om_string_free(out);
    out = NULL;
    CHECK(om_ask(m, "a success that echoes the key", NULL, 0, &out) == OM_OK && om_last_response(m) &&
          strstr(om_last_response(m), "chatcmpl-1"), "no om_last_response after a successful om_ask: %s",
          om_errmsg(m));
    keep_state(m);
    om_string_free(out);
}

/* Does any file under `path` contain `needle`? Names the first one. */
static int file_has(const char *path, const char *needle, char *found, size_t foundn) {
    DIR *d = opendir(path);
    if (!d) {
        FILE *f = fopen(path, "rb");
        if (!f) return 0;
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap + 1);
        size_t n;
        while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
            len += n;
            if (len == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
        }
        fclose(f);
        int hit = 0;
        size_t nl = strlen(needle);
        for (size_t i = 0; i + nl <= len && !hit; i++) hit = memcmp(buf + i, needle, nl) == 0;
        free(buf);
        if (hit) snprintf(found, foundn, "%s", path);
        return hit;
    }
    struct dirent *e;
    int hit = 0;
    while (!hit && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        hit = file_has(p, needle, found, foundn);
    }
    closedir(d);
    return hit;
}

static void key_never_written(void) {
    th_config(KEY, "{\"assistants\":{\"asst_remote\":{\"instructions\":\"Remote.\"}}}");
    /* 1: debug log to a callback */
    om_model *m = handle(0);
    exercise(m);
    om_free(m);

    /* 2: OPENAI_LOG=debug, lines to stderr (captured in a file) */
    char errpath[700];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    setenv("OPENAI_LOG", "debug", 1);
    m = handle(1);
    exercise(m);
    om_free(m);
    unsetenv("OPENAI_LOG");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    /* 3: failures without a handle */
    om_options o = OM_OPTIONS_INIT;
    o.api_key = KEY;
    o.base_url = "http://api.example.com/v1";
    om_model *h = NULL;
    om_create(&o, &h); keep(om_last_error());
    o.base_url = "http://127.0.0.1.example.com/v1";
    om_create(&o, &h); keep(om_last_error());

    struct stat st;
    CHECK(stat(errpath, &st) == 0 && st.st_size > 1000, "stderr got %lld bytes of log",
          (long long)st.st_size);
    CHECK(log_lines > 50, "only %zu log lines", log_lines);
    CHECK(strstr(said, "401") && strstr(said, "elsewhere.example") && strstr(said, "revoked"),
          "the failures did not happen as planned");
    CHECK(strstr(said, KEY) == NULL && strstr(said, TOKEN) == NULL, "the key is in a log line or message");
    if (strstr(said, TOKEN)) {
        const char *p = strstr(said, TOKEN);
        const char *start = p;
        while (start > said && start[-1] != '\n') start--;
        fprintf(stderr, "  leaked in: %.300s\n", start);
    }
    char found[1200] = "";
    /* the search does read what was written: the dialogue's replies are found */
    CHECK(file_has(dir, "Stream me something", found, sizeof found), "the file search finds nothing");
    CHECK(!file_has(getenv("OM_TEST_DATA_DIR"), TOKEN, found, sizeof found), "the key is in %s", found);
    CHECK(temp_seen >= 2, "the training file was seen %d times", temp_seen);
    printf("  %zu bytes said (%zu log lines), %lld bytes on stderr, nothing holds the key\n", said_len, log_lines,
           (long long)st.st_size);
}

static void files_are_private(void) {
    struct stat st;
    CHECK(stat(dialogue, &st) == 0 && (st.st_mode & 0777) == 0600, "dialogue mode %o", st.st_mode & 0777);
    char p[700];
    snprintf(p, sizeof p, "%s/job_ids.json", dir);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "registry mode %o", st.st_mode & 0777);
    snprintf(p, sizeof p, "%s/job_ids.json.lock", dir);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "registry lock mode %o", st.st_mode & 0777);
    CHECK(modes_ok, "a temporary training file was not 0600");
    /* folders the library makes */
    snprintf(p, sizeof p, "%s/made/by/library", dir);
    om_options o = OM_OPTIONS_INIT;
    o.base_url = th_base();
    o.api_key = KEY;
    o.data_dir = p;
    o.log_level = OM_LOG_OFF;
    om_model *m = NULL;
    CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
    char *reply = NULL;
    CHECK_STATUS(om_ask(m, "make my folder", NULL, 0, &reply), OM_OK, m);
    om_string_free(reply);
    CHECK_STATUS(om_save_job_id(m, "ftjob-private", NULL, NULL), OM_OK, m);
    om_free(m);
    const char *levels[] = {"made", "made/by", "made/by/library"};
    for (int i = 0; i < 3; i++) {
        char q[800];
        snprintf(q, sizeof q, "%s/%s", dir, levels[i]);
        CHECK(stat(q, &st) == 0 && (st.st_mode & 0777) == 0700, "%s mode %o", levels[i], st.st_mode & 0777);
    }
    DIR *d = opendir(p);
    struct dirent *e;
    int files = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char q[1200];
        snprintf(q, sizeof q, "%s/%s", p, e->d_name);
        files++;
        CHECK(stat(q, &st) == 0 && (st.st_mode & 0777) == 0600, "%s mode %o", e->d_name, st.st_mode & 0777);
    }
    if (d) closedir(d);
    CHECK(files >= 3, "%d files in the new data folder", files);
}

/* ---- TLS ---- */

static const char *TLS_SERVER =
    "import http.server, json, ssl, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = json.dumps({'object': 'list', 'data': [{'id': 'tls-model', 'object': 'model',\n"
    "                           'created': 0, 'owned_by': 'test'}]}).encode()\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Type', 'application/json')\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "class S(http.server.ThreadingHTTPServer):\n"
    "    def handle_error(self, request, client_address):\n"
    "        pass\n"
    "srv = S(('127.0.0.1', 0), H)\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
    "print('PORT', srv.server_address[1], flush=True)\n"
    "srv.serve_forever()\n";

struct tries { int n; };
static void count_tries(int level, const char *message, void *ud) {
    (void)level;
    if (strstr(message, "GET /models try ")) ((struct tries *)ud)->n++;
}

static om_status tls_list(const char *base, const char *ca, int *tries, char *msg, size_t msgn) {
    struct tries t = {0};
    om_options o = OM_OPTIONS_INIT;
    o.base_url = base;
    o.api_key = KEY;
    o.ca_file = ca;
    o.no_dialogue_file = 1;
    o.log_cb = count_tries;
    o.log_userdata = &t;
    o.log_level = OM_LOG_DEBUG;
    om_model *m = NULL;
    if (om_create(&o, &m) != OM_OK) {
        snprintf(msg, msgn, "%s", om_last_error());
        return OM_EINVAL;
    }
    char *out = NULL;
    om_status s = om_list_models(m, &out);
    snprintf(msg, msgn, "%s", s == OM_OK ? (out ? out : "") : om_errmsg(m));
    om_string_free(out);
    om_free(m);
    *tries = t.n;
    return s;
}

static void tls_verification(void) {
    char cert[700], key[700], script[700], cmd[3000];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(script, sizeof script, "%s/tls_server.py", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost >/dev/null 2>&1", key, cert);
    CHECK(system(cmd) == 0, "openssl could not make a certificate");
    FILE *f = fopen(script, "w");
    fputs(TLS_SERVER, f);
    fclose(f);
    int pipefd[2];
    if (pipe(pipefd) != 0) { CHECK(0, "pipe"); return; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp("python3", "python3", script, cert, key, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char line[64] = {0};
    size_t got = 0;
    while (got < sizeof line - 1) {
        ssize_t n = read(pipefd[0], line + got, 1);
        if (n <= 0 || line[got] == '\n') break;
        got++;
    }
    int port = 0;
    if (sscanf(line, "PORT %d", &port) != 1) {
        CHECK(0, "the TLS server did not start: [%s]", line);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return;
    }
    char byname[128], byip[128], msg[600];
    snprintf(byname, sizeof byname, "https://localhost:%d/v1", port);
    snprintf(byip, sizeof byip, "https://127.0.0.1:%d/v1", port);
    int tries = 0;

    /* an unknown issuer: refused once, not retried */
    om_status s = tls_list(byname, NULL, &tries, msg, sizeof msg);
    CHECK(s == OM_ENETWORK, "self-signed: %s: %s", om_status_str(s), msg);
    CHECK(strstr(msg, "TLS") && strstr(msg, "certificate"), "message: %s", msg);
    CHECK(tries == 1, "a certificate failure was tried %d times", tries);
    /* the certificate named by ca_file: accepted */
    s = tls_list(byname, cert, &tries, msg, sizeof msg);
    CHECK(s == OM_OK && strstr(msg, "tls-model"), "with ca_file: %s: %s", om_status_str(s), msg);
    /* a trusted certificate for another name: the host check refuses it */
    s = tls_list(byip, cert, &tries, msg, sizeof msg);
    CHECK(s == OM_ENETWORK, "host name mismatch: %s: %s", om_status_str(s), msg);
    CHECK(strstr(msg, "TLS") != NULL, "message: %s", msg);
    /* a CA file that is not there */
    char nothere[800];
    snprintf(nothere, sizeof nothere, "%s/no-such-ca.pem", dir);
    s = tls_list(byname, nothere, &tries, msg, sizeof msg);
    CHECK(s == OM_ENETWORK && tries == 1, "missing ca_file: %s after %d tries: %s", om_status_str(s), tries, msg);
    printf("  self-signed refused, accepted with ca_file, wrong host name refused\n");
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
}

static void plain_http_only_to_loopback(void) {
    const char *remote[] = {"http://api.example.com/v1", "http://127.0.0.1.example.com/v1",
                            "http://127.evil.example/v1", "http://api.localhost/v1", "http://10.1.2.3/v1"};
    for (size_t i = 0; i < sizeof remote / sizeof *remote; i++) {
        om_options o = OM_OPTIONS_INIT;
        o.api_key = KEY;
        o.base_url = remote[i];
        om_model *m = NULL;
        CHECK_STATUS(om_create(&o, &m), OM_EINVAL, (om_model *)NULL);
        CHECK(strstr(om_last_error(), "plain HTTP"), "%s: %s", remote[i], om_last_error());
        /* the same through the environment */
        setenv("OPENAI_BASE_URL", remote[i], 1);
        om_options e = OM_OPTIONS_INIT;
        e.api_key = KEY;
        CHECK_STATUS(om_create(&e, &m), OM_EINVAL, (om_model *)NULL);
        unsetenv("OPENAI_BASE_URL");
        o.allow_insecure_http = 1;
        CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
        om_free(m);
    }
    const char *local[] = {"http://localhost:9/v1", "http://127.0.0.1:9/v1", "http://127.1.2.3:9/v1",
                           "http://[::1]:9/v1"};
    for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
        om_options o = OM_OPTIONS_INIT;
        o.api_key = KEY;
        o.base_url = local[i];
        om_model *m = NULL;
        CHECK_STATUS(om_create(&o, &m), OM_OK, (om_model *)NULL);
        om_free(m);
    }
}

/* A bound, never listening port: connecting to it is refused. */
static int refused_port(void) {
    static int fd = -1, port = 0;
    if (fd >= 0) return port;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 9;
    port = ntohs(a.sin_port);
    return port;
}

/* A proxy from the environment would see plain-HTTP requests (and the key)
 * to a loopback server: the library goes there directly. An explicit proxy
 * option is obeyed. */
static void loopback_bypasses_environment_proxy(void) {
    const char *key = th_key("noproxy");
    om_model *m = th_model(key);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", refused_port());
    const char *vars[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (int i = 0; i < 4; i++) setenv(vars[i], proxy, 1);
    char *out = NULL;
    om_status s = om_list_models(m, &out);
    for (int i = 0; i < 4; i++) unsetenv(vars[i]);
    CHECK_STATUS(s, OM_OK, m);
    om_string_free(out);
    om_free(m);

    om_options o = OM_OPTIONS_INIT;
    o.proxy = proxy;
    o.max_retries = -1;
    m = th_model_opts(key, &o);
    CHECK_STATUS(om_list_models(m, &out), OM_ENETWORK, m);
    CHECK(strstr(om_errmsg(m), proxy + 7) != NULL || strstr(om_errmsg(m), "connect"), "message: %s", om_errmsg(m));
    om_free(m);
    CHECK(th_request_count(key) == 1, "%zu requests reached the server", th_request_count(key));
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    umask(0); /* the library must set private modes itself */
    snprintf(TOKEN, sizeof TOKEN, "S3cr3tT0k3n%08lx", (unsigned long)getpid() * 2654435761u % 0xffffffffu);
    snprintf(KEY, sizeof KEY, "sk-proj-%s-zz9", TOKEN);
    snprintf(dir, sizeof dir, "%s/secrets-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
    mkdir(tmpdir, 0700);
    setenv("TMPDIR", tmpdir, 1);
    snprintf(dialogue, sizeof dialogue, "%s/dialogue.jsonl", dir);
    snprintf(png, sizeof png, "%s/pixel.png", dir);
    th_write_pixel_png(png);
    RUN(key_never_written);
    RUN(files_are_private);
    RUN(tls_verification);
    RUN(plain_http_only_to_loopback);
    RUN(loopback_bypasses_environment_proxy);
    free(said);
    return th_finish();
}
