/* Fine-tuning: CSV reading, conversion, validation, upload, jobs, the job
 * registry and following a job to its end. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <sys/resource.h>
#include "harness.h"

static char dir[400];

static void no_violations(const char *key) {
    CHECK(th_violations(key) == 0, "the server saw requests the API would reject");
}

static const char *write_text(const char *name, const char *text) {
    static char paths[16][512];
    static int n = 0;
    char *p = paths[n++ % 16];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* n rows of prompt,completion. Caller frees. */
static char *pairs_csv(int n, const char *extra_header, const char *extra_value) {
    size_t cap = 256 + (size_t)n * 200;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "prompt,completion%s\n", extra_header ? extra_header : "");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "What is %d + %d?,%d%s\n", i, i, 2 * i,
                                extra_value ? extra_value : "");
    return s;
}

/* The JSONL the server received for the last upload of a key. */
static char *uploaded(const char *key) {
    json_t *files = th_ctl(key, "files", NULL);
    const char *id = json_string_value(json_object_get(json_array_get(files, json_array_size(files) - 1), "id"));
    char what[256];
    snprintf(what, sizeof what, "files/%s", id ? id : "none");
    json_decref(files);
    return th_ctl_text(key, what);
}

static size_t count_char(const char *s, char c) {
    size_t n = 0;
    for (; s && *s; s++) n += *s == c;
    return n;
}

static void train_from_string(void) {
    const char *key = th_key("trainstr");
    om_model *m = th_model(key);
    char *csv = pairs_csv(12, NULL, NULL);
    char *job = NULL;
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 1, &job), OM_OK, m);
    CHECK(job && strncmp(job, "ftjob-", 6) == 0, "job id %s", job ? job : "(null)");
    char *cur = NULL;
    CHECK_STATUS(om_current_job_id(m, &cur), OM_OK, m);
    CHECK(cur && job && strcmp(cur, job) == 0, "current job");
    om_string_free(cur);

    json_t *log = th_requests(key);
    CHECK(json_array_size(log) == 2, "%zu requests", json_array_size(log));
    json_t *up = json_array_get(log, 0), *create = json_array_get(log, 1);
    CHECK(strcmp(json_string_value(json_object_get(up, "path")), "/v1/files") == 0, "upload path");
    json_t *mp = json_object_get(up, "multipart");
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(mp, "fields"), "purpose")), "fine-tune") == 0, "purpose");
    json_t *file = json_array_get(json_object_get(mp, "files"), 0);
    CHECK(json_integer_value(json_object_get(file, "line_count")) == 12, "lines %lld",
          (long long)json_integer_value(json_object_get(file, "line_count")));
    json_t *body = json_object_get(create, "json");
    CHECK(strcmp(json_string_value(json_object_get(body, "model")), "gpt-4o-mini") == 0, "model");
    CHECK(json_string_value(json_object_get(body, "training_file")) != NULL, "training_file");
    json_decref(log);

    char *jsonl = uploaded(key);
    CHECK(jsonl && strstr(jsonl, "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 3 + 3?\"},"
                                 "{\"role\":\"assistant\",\"content\":\"6\"}]}"), "content: %.300s", jsonl ? jsonl : "(null)");
    free(jsonl);
    free(csv);
    om_string_free(job);
    no_violations(key);
    om_free(m);
}

static void train_from_file_and_folder(void) {
    const char *key = th_key("trainfile");
    om_options o = OM_OPTIONS_INIT;
    o.system_instruction = "You add numbers.";
    o.fine_tune_suffix = "adder";
    om_model *m = th_model_opts(key, &o);
    char *csv = pairs_csv(10, ",System", ",Be exact.");
    const char *p = write_text("pairs.csv", csv);
    free(csv);
    char *job = NULL;
    CHECK_STATUS(om_train(m, NULL, NULL, p, 1, &job), OM_OK, m);
    om_string_free(job);
    char *jsonl = uploaded(key);
    CHECK(jsonl && strstr(jsonl, "{\"role\":\"system\",\"content\":\"Be exact.\"}"), "system column");
    free(jsonl);
    json_t *log = th_requests(key);
    json_t *body = json_object_get(json_array_get(log, 1), "json");
    CHECK(strcmp(json_string_value(json_object_get(body, "suffix")), "adder") == 0, "suffix");
    json_decref(log);

    /* A folder: every *.csv, sorted; other files ignored. */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/folder", dir);
    mkdir(sub, 0700);
    char *a = pairs_csv(6, NULL, NULL), *b = pairs_csv(5, NULL, NULL);
    char pa[600], pb[600], pc[600];
    snprintf(pa, sizeof pa, "folder/a.csv");
    snprintf(pb, sizeof pb, "folder/b.CSV");
    snprintf(pc, sizeof pc, "folder/notes.txt");
    write_text(pa, a);
    write_text(pb, b);
    write_text(pc, "ignored");
    free(a);
    free(b);
    CHECK_STATUS(om_train(m, NULL, sub, NULL, 1, &job), OM_OK, m);
    om_string_free(job);
    jsonl = uploaded(key);
    CHECK(count_char(jsonl, '\n') == 11, "%zu examples from the folder", count_char(jsonl, '\n'));
    CHECK(jsonl && strstr(jsonl, "You add numbers."), "handle instruction as system message");
    free(jsonl);
    no_violations(key);
    om_free(m);
}

static void exactly_one_source(void) {
    const char *key = th_key("onesource");
    om_model *m = th_model(key);
    char *job = (char *)0x1;
    CHECK_STATUS(om_train(m, NULL, NULL, NULL, 1, &job), OM_EINVAL, m);
    CHECK(job == NULL, "out not cleared");
    CHECK_STATUS(om_train(m, "a,b\n", dir, NULL, 1, &job), OM_EINVAL, m);
    CHECK(strstr(om_errmsg(m), "exactly one") != NULL, "message: %s", om_errmsg(m));
    CHECK_STATUS(om_train(m, NULL, NULL, "", 1, &job), OM_EINVAL, m);
    char missing[512];
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    CHECK_STATUS(om_train(m, NULL, NULL, missing, 1, &job), OM_ENOFILE, m);
    CHECK(strstr(om_errmsg(m), missing) != NULL, "path not named: %s", om_errmsg(m));
    CHECK_STATUS(om_train(m, NULL, missing, NULL, 1, &job), OM_ENOFILE, m);
    CHECK_STATUS(om_train(m, NULL, NULL, dir, 1, &job), OM_EDATA, m);
    CHECK_STATUS(om_train_ex(m, NULL, &job), OM_EINVAL, m);
    CHECK(th_request_count(key) == 0, "requests were sent");
    om_free(m);
}

static void labelled_rows(void) {
    const char *key = th_key("labelled");
    om_model *m = th_model(key);
    char csv[4096] = "Text\n";
    for (int i = 0; i < 10; i++) sprintf(csv + strlen(csv), "Review number %d\n", i);
    char *job = NULL;
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 0, &job), OM_OK, m);
    om_string_free(job);
    char *jsonl = uploaded(key);
    CHECK(jsonl && strstr(jsonl, "{\"role\":\"user\",\"content\":\"Review number 4\"},{\"role\":\"assistant\",\"content\":\"negative\"}"),
          "flag label: %.300s", jsonl ? jsonl : "(null)");
    CHECK(jsonl && strstr(jsonl, "\"role\":\"system\""), "no labelling task stated");
    free(jsonl);

    char csv2[4096] = "content,SENTIMENT\n";
    for (int i = 0; i < 10; i++) sprintf(csv2 + strlen(csv2), "Item %d,%s\n", i, i % 2 ? "happy" : "sad");
    CHECK_STATUS(om_train(m, csv2, NULL, NULL, 1, &job), OM_OK, m);
    om_string_free(job);
    jsonl = uploaded(key);
    CHECK(jsonl && strstr(jsonl, "\"content\":\"Item 3\"},{\"role\":\"assistant\",\"content\":\"happy\"}"), "label column");
    free(jsonl);
    no_violations(key);
    om_free(m);
}

static void csv_edge_cases(void) {
    const char *key = th_key("csvedge");
    om_model *m = th_model(key);
    /* BOM, CRLF, quotes, embedded commas, quotes and newlines. */
    char csv[8192] = "\xef\xbb\xbf" "Question,\"Answer\"\r\n";
    strcat(csv, "\"Say \"\"hi\"\", please\",\"hi, there\"\r\n");
    strcat(csv, "\"Two\nlines\",\"line one\r\nline two\"\r\n");
    strcat(csv, "Unicode \xc3\xa9\xe6\x97\xa5,\xf0\x9f\x8e\x89\r\n");
    for (int i = 0; i < 8; i++) sprintf(csv + strlen(csv), "q%d,a%d\r\n", i, i);
    char *job = NULL;
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 1, &job), OM_OK, m);
    om_string_free(job);
    char *jsonl = uploaded(key);
    CHECK(jsonl && strstr(jsonl, "\"content\":\"Say \\\"hi\\\", please\"},{\"role\":\"assistant\",\"content\":\"hi, there\"}"),
          "quotes: %.400s", jsonl ? jsonl : "(null)");
    CHECK(jsonl && strstr(jsonl, "\"content\":\"Two\\nlines\"},{\"role\":\"assistant\",\"content\":\"line one\\r\\nline two\"}"),
          "newlines in fields");
    CHECK(jsonl && strstr(jsonl, "\"content\":\"Unicode \xc3\xa9\xe6\x97\xa5\""), "unicode");
    CHECK(count_char(jsonl, '\n') == 11, "%zu examples", count_char(jsonl, '\n'));
    free(jsonl);
    no_violations(key);
    om_free(m);
}

static void validation_failures_send_nothing(void) {
    const char *key = th_key("invalid");
    om_model *m = th_model(key);
    char *nine = pairs_csv(9, NULL, NULL);
    char bad_empty[4096] = "prompt,completion\n";
    for (int i = 0; i < 12; i++) sprintf(bad_empty + strlen(bad_empty), "p%d,%s\n", i, i == 4 ? "" : "c");
    char bad_fields[4096] = "prompt,completion\n";
    for (int i = 0; i < 12; i++) sprintf(bad_fields + strlen(bad_fields), i == 7 ? "p%d,c,extra\n" : "p%d,c\n", i);
    char *unknown = pairs_csv(12, ",id", ",7");
    struct { const char *csv; const char *needle; } cases[] = {
        {"", "0 examples"},
        {"prompt,completion\n", "0 examples"},
        {nine, "9 examples"},
        {bad_empty, "CSV data:6: column 2 is empty"},
        {bad_fields, "CSV data:9"},
        {unknown, "unknown column 3 'id'"},
        {"prompt,completion\n\"unterminated,x\n", "CSV data:2"},
        {"prompt\nq\n", "without a completion"},
        {"name,age\nx,1\n", "unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *job = (char *)0x1;
        om_status s = om_train(m, cases[i].csv, NULL, NULL, 1, &job);
        CHECK(s == OM_EDATA, "case %zu: %s: %s", i, om_status_str(s), om_errmsg(m));
        CHECK(strstr(om_errmsg(m), cases[i].needle) != NULL, "case %zu: message: %s", i, om_errmsg(m));
        CHECK(job == NULL, "out set");
    }
    CHECK(th_request_count(key) == 0, "%zu requests were sent", th_request_count(key));
    free(nine);
    free(unknown);
    om_free(m);
}

/* A suffix longer than the API's 64 characters is refused before anything is
 * converted or sent, whether it comes with the call or from the handle's
 * options (then om_create refuses it); 64 characters, multi-byte ones
 * included, go through. */
static void suffix_too_long(void) {
    const char *key = th_key("suffix");
    om_model *m = th_model(key);
    char *csv = pairs_csv(12, NULL, NULL);
    char long_suffix[80], max_suffix[3 * 64 + 1] = "";
    memset(long_suffix, 'a', 65);
    long_suffix[65] = 0;
    for (int i = 0; i < 64; i++) strcat(max_suffix, i % 2 ? "\xc3\xa9" : "x");  /* 64 characters, 96 bytes */
    om_train_options t = OM_TRAIN_OPTIONS_INIT;
    t.data = csv;
    t.suffix = long_suffix;
    char *job = (char *)0x1;
    om_status s = om_train_ex(m, &t, &job);
    CHECK(s == OM_EINVAL, "65 characters: %s: %s", om_status_str(s), om_errmsg(m));
    CHECK(strstr(om_errmsg(m), "suffix has 65 characters") != NULL, "message: %s", om_errmsg(m));
    CHECK(job == NULL, "out set");
    CHECK(th_request_count(key) == 0, "%zu requests were sent", th_request_count(key));
    t.suffix = max_suffix;
    s = om_train_ex(m, &t, &job);
    CHECK(s == OM_OK, "64 characters: %s: %s", om_status_str(s), om_errmsg(m));
    om_string_free(job);
    json_t *log = th_requests(key);
    json_t *last = json_array_get(log, json_array_size(log) - 1);
    const char *sent = json_string_value(json_object_get(json_object_get(last, "json"), "suffix"));
    CHECK(sent && strcmp(sent, max_suffix) == 0, "suffix sent: %s", sent ? sent : "(none)");
    json_decref(log);
    om_free(m);

    om_options o = OM_OPTIONS_INIT;
    o.api_key = key;
    o.base_url = th_base();
    o.fine_tune_suffix = long_suffix;
    om_model *bad = (om_model *)0x1;
    s = om_create(&o, &bad);
    CHECK(s == OM_EINVAL && bad == NULL, "om_create with a 65-character fine_tune_suffix: %s", om_status_str(s));
    CHECK(strstr(om_last_error(), "fine_tune_suffix has 65 characters") != NULL, "%s", om_last_error());
    free(csv);
}

static int stages_seen = 0;
static int on_progress(const char *stage, long long done, long long total, void *ud) {
    (void)total;
    int stop_in = *(int *)ud;
    if (strcmp(stage, "convert") == 0) stages_seen |= 1;
    if (strcmp(stage, "upload") == 0) stages_seen |= 2;
    if (stop_in == 1 && strcmp(stage, "convert") == 0 && done > 0) return 1;
    return 0;
}

static void progress_and_temp_files(void) {
    const char *key = th_key("progress");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0700);
    setenv("TMPDIR", tmp, 1);
    om_model *m = th_model(key);
    char *csv = pairs_csv(20, NULL, NULL);
    om_train_options t = OM_TRAIN_OPTIONS_INIT;
    t.data = csv;
    t.progress = on_progress;
    int stop = 0;
    t.userdata = &stop;
    t.model = "gpt-4.1-mini";
    char *job = NULL;
    CHECK_STATUS(om_train_ex(m, &t, &job), OM_OK, m);
    om_string_free(job);
    CHECK(stages_seen == 3, "stages seen %d", stages_seen);
    json_t *log = th_requests(key);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(json_array_get(log, 1), "json"), "model")),
                 "gpt-4.1-mini") == 0, "model option");
    json_decref(log);
    stop = 1;
    CHECK_STATUS(om_train_ex(m, &t, &job), OM_ECANCELLED, m);
    CHECK(th_request_count(key) == 2, "upload after a stop");
    DIR *d = opendir(tmp);
    int leftovers = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) if (e->d_name[0] != '.') leftovers++;
    if (d) closedir(d);
    CHECK(leftovers == 0, "%d temporary files left behind", leftovers);
    unsetenv("TMPDIR");
    free(csv);
    om_free(m);
}

static void dynamic_training(void) {
    const char *key = th_key("dynamic");
    om_options o = OM_OPTIONS_INIT;
    o.system_instruction = "Be kind.";
    om_model *m = th_model_opts(key, &o);
    char *job = NULL;
    CHECK_STATUS(om_dynamic_train(m, &job), OM_EDATA, m);
    CHECK(strstr(om_errmsg(m), "0 examples") != NULL, "message: %s", om_errmsg(m));
    for (int i = 0; i < 10; i++) {
        char q[64], *reply = NULL;
        snprintf(q, sizeof q, "question %d", i);
        CHECK_STATUS(om_ask(m, q, NULL, 0, &reply), OM_OK, m);
        om_string_free(reply);
    }
    CHECK_STATUS(om_dynamic_train(m, &job), OM_OK, m);
    om_string_free(job);
    char *jsonl = uploaded(key);
    CHECK(count_char(jsonl, '\n') == 10, "%zu examples", count_char(jsonl, '\n'));
    CHECK(jsonl && strstr(jsonl, "{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\","
                                 "\"content\":\"question 3\"},{\"role\":\"assistant\",\"content\":\"You said: question 3\"}]}"),
          "example: %.300s", jsonl ? jsonl : "(null)");
    free(jsonl);
    no_violations(key);
    om_free(m);
}

static void registry(void) {
    const char *key = th_key("registry");
    char ddir[512];
    snprintf(ddir, sizeof ddir, "%s/registry", dir);
    om_options o = OM_OPTIONS_INIT;
    o.data_dir = ddir;
    om_model *m = th_model_opts(key, &o);
    CHECK_STATUS(om_save_job_id(m, "ftjob-1", "first", NULL), OM_OK, m);
    CHECK_STATUS(om_save_job_id(m, "ftjob-2", NULL, NULL), OM_OK, m);
    char path[600];
    snprintf(path, sizeof path, "%s/job_ids.json", ddir);
    json_t *j = json_load_file(path, 0, NULL);
    CHECK(json_array_size(j) == 2, "entries");
    json_t *e0 = json_array_get(j, 0);
    CHECK(strcmp(json_string_value(json_object_get(e0, "id")), "ftjob-1") == 0, "id");
    CHECK(strcmp(json_string_value(json_object_get(e0, "description")), "first") == 0, "description");
    CHECK(json_integer_value(json_object_get(e0, "created")) > 1700000000, "created");
    json_decref(j);
    CHECK_STATUS(om_save_job_id(m, NULL, "x", NULL), OM_EINVAL, m);
    CHECK_STATUS(om_save_job_id(m, "ftjob-3", "x", ""), OM_EINVAL, m);

    /* A corrupt registry is reported and left as it is. */
    const char *corrupt = "{\"not\": \"an array\"}";
    char cpath[600];
    snprintf(cpath, sizeof cpath, "%s/corrupt.json", ddir);
    FILE *f = fopen(cpath, "w");
    fputs(corrupt, f);
    fclose(f);
    CHECK_STATUS(om_save_job_id(m, "ftjob-4", "x", cpath), OM_EDATA, m);
    char buf[256] = {0};
    f = fopen(cpath, "r");
    CHECK(f && fread(buf, 1, sizeof buf - 1, f) > 0 && strcmp(buf, corrupt) == 0, "the corrupt file was changed");
    if (f) fclose(f);

    /* Two processes saving at once lose nothing. */
    char shared[600];
    snprintf(shared, sizeof shared, "%s/shared.json", ddir);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            om_model *mk = th_model_opts(key, &o);
            for (int i = 0; i < 50; i++) {
                char id[64];
                snprintf(id, sizeof id, "ftjob-p%d-%d", k, i);
                if (om_save_job_id(mk, id, "concurrent", shared) != OM_OK) _exit(1);
            }
            om_free(mk);
            _exit(0);
        }
    }
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        int st = 0;
        waitpid(kids[k], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
    }
    CHECK(ok, "a writer failed");
    j = json_load_file(shared, 0, NULL);
    CHECK(json_array_size(j) == 100, "%zu of 100 entries kept", json_array_size(j));
    json_decref(j);
    struct stat st;
    CHECK(stat(shared, &st) == 0 && (st.st_mode & 0777) == 0600, "registry mode %o", st.st_mode & 0777);
    om_free(m);
}

struct seen { char statuses[8][32]; int nstatus; int events; int stop_at_event; };

static int on_job(const char *status, const char *event, void *ud) {
    struct seen *s = (struct seen *)ud;
    if (!event) {
        if (s->nstatus < 8) snprintf(s->statuses[s->nstatus++], 32, "%s", status);
    } else {
        json_t *e = json_loads(event, 0, NULL);
        if (json_string_value(json_object_get(e, "message"))) s->events++;
        json_decref(e);
        if (s->stop_at_event && s->events >= s->stop_at_event) return 1;
    }
    return 0;
}

static void follow_jobs(void) {
    const char *key = th_key("follow");
    om_model *m = th_model(key);
    char *csv = pairs_csv(10, NULL, NULL);
    char *job = NULL;
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 1, &job), OM_OK, m);
    struct seen s;
    memset(&s, 0, sizeof s);
    char *final = NULL;
    CHECK_STATUS(om_job_wait(m, job, 60000, on_job, &s, &final), OM_OK, m);
    json_t *fj = json_loads(final ? final : "null", 0, NULL);
    CHECK(strcmp(json_string_value(json_object_get(fj, "status")), "succeeded") == 0, "final %s", final);
    CHECK(json_string_value(json_object_get(fj, "fine_tuned_model")) != NULL, "no fine-tuned model");
    json_decref(fj);
    om_string_free(final);
    CHECK(s.nstatus >= 2 && strcmp(s.statuses[s.nstatus - 1], "succeeded") == 0, "statuses");
    CHECK(s.events >= 3, "%d events", s.events);

    char *out = NULL;
    CHECK_STATUS(om_job_get(m, job, &out), OM_OK, m);
    CHECK(out && strstr(out, job), "job_get");
    om_string_free(out);
    CHECK_STATUS(om_job_events(m, job, NULL, 2, &out), OM_OK, m);
    json_t *ev = json_loads(out ? out : "null", 0, NULL);
    CHECK(json_array_size(json_object_get(ev, "data")) == 2, "events limit");
    CHECK(json_is_true(json_object_get(ev, "has_more")), "has_more");
    json_decref(ev);
    om_string_free(out);
    CHECK_STATUS(om_list_jobs(m, NULL, 10, &out), OM_OK, m);
    CHECK(out && strstr(out, job), "list_jobs");
    om_string_free(out);
    CHECK_STATUS(om_job_get(m, "ftjob-does-not-exist", &out), OM_ENOTFOUND, m);
    om_string_free(job);

    /* A job that fails. */
    char failing[4096] = "prompt,completion\n";
    for (int i = 0; i < 10; i++) sprintf(failing + strlen(failing), "%s %d,c\n", i == 3 ? "[[fail]]" : "q", i);
    CHECK_STATUS(om_train(m, failing, NULL, NULL, 1, &job), OM_OK, m);
    memset(&s, 0, sizeof s);
    CHECK_STATUS(om_job_wait(m, job, 60000, on_job, &s, &final), OM_OK, m);
    CHECK(final && strstr(final, "\"failed\""), "final %s", final ? final : "(null)");
    om_string_free(final);
    om_string_free(job);

    /* Cancel, and a callback that stops waiting. */
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 1, &job), OM_OK, m);
    memset(&s, 0, sizeof s);
    s.stop_at_event = 1;
    CHECK_STATUS(om_job_wait(m, job, 60000, on_job, &s, &final), OM_ECANCELLED, m);
    CHECK_STATUS(om_job_cancel(m, job, &out), OM_OK, m);
    CHECK(out && strstr(out, "\"cancelled\""), "cancel %s", out ? out : "(null)");
    om_string_free(out);
    CHECK_STATUS(om_job_wait(m, job, 60000, NULL, NULL, &final), OM_OK, m);
    CHECK(final && strstr(final, "\"cancelled\""), "final after cancel");
    om_string_free(final);
    om_string_free(job);
    free(csv);
    no_violations(key);
    om_free(m);
}

static void wait_times_out(void) {
    const char *key = th_key("waittimeout");
    th_config(key, "{\"job_steps\":1000}");
    om_model *m = th_model(key);
    char *csv = pairs_csv(10, NULL, NULL);
    char *job = NULL, *final = NULL;
    CHECK_STATUS(om_train(m, csv, NULL, NULL, 1, &job), OM_OK, m);
    double t0 = th_now();
    CHECK_STATUS(om_job_wait(m, job, 800, NULL, NULL, &final), OM_ETIMEDOUT, m);
    CHECK(th_now() - t0 < 5, "took %.2f s", th_now() - t0);
    om_string_free(job);
    free(csv);
    om_free(m);
}

/* A large CSV converts and uploads with memory that does not grow with it. */
static void large_csv_bounded_memory(void) {
    const char *key = th_key("largecsv");
    om_model *m = th_model(key);
    size_t mb = getenv("OM_TEST_LARGE_CSV_MB") ? (size_t)atoi(getenv("OM_TEST_LARGE_CSV_MB")) : 100;
    char path[600];
    snprintf(path, sizeof path, "%s/large.csv", dir);
    FILE *f = fopen(path, "wb");
    fputs("prompt,completion,system\n", f);
    size_t written = 0, rows = 0;
    while (written < mb * 1024 * 1024) {
        int n = fprintf(f, "\"Question %zu, with a comma and \"\"quotes\"\"\",Answer number %zu: "
                        "lorem ipsum dolor sit amet consectetur adipiscing elit,Be brief.\n", rows, rows);
        written += (size_t)n;
        rows++;
    }
    fclose(f);
    struct rusage after;
    double t0 = th_now();
    char *job = NULL;
    CHECK_STATUS(om_train(m, NULL, NULL, path, 1, &job), OM_OK, m);
    double dt = th_now() - t0;
    getrusage(RUSAGE_SELF, &after);
    long peak_mb = after.ru_maxrss / 1024;
    json_t *files = th_ctl(key, "files", NULL);
    json_int_t lines = json_integer_value(json_object_get(json_array_get(files, 0), "line_count"));
    CHECK(lines == (json_int_t)rows, "%lld lines uploaded for %zu rows", (long long)lines, rows);
    json_decref(files);
    printf("  %zu MB CSV, %zu rows: converted and uploaded in %.2f s, peak resident memory %ld MB\n",
           mb, rows, dt, peak_mb);
    /* (under a sanitizer, freed memory sits in quarantine: no bound then) */
    if (!getenv("OM_TEST_SANITIZE")) CHECK(peak_mb < 64, "peak resident memory %ld MB", peak_mb);
    om_string_free(job);
    unlink(path);
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(dir, sizeof dir, "%s/train-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    RUN(train_from_string);
    RUN(train_from_file_and_folder);
    RUN(exactly_one_source);
    RUN(labelled_rows);
    RUN(csv_edge_cases);
    RUN(validation_failures_send_nothing);
    RUN(suffix_too_long);
    RUN(progress_and_temp_files);
    RUN(dynamic_training);
    RUN(registry);
    RUN(follow_jobs);
    RUN(wait_times_out);
    RUN(large_csv_bounded_memory);
    return th_finish();
}
