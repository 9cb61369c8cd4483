/* Bad input, table-driven: every exported function that takes pointers,
 * called with each pointer argument NULL, empty, invalid UTF-8, a 10 MB
 * string and, for paths, a missing path, the wrong kind of entry (a folder
 * for a file, a file for a folder), an unreadable one (mode 000), a FIFO and
 * a symlink loop; handles NULL, freed, and used after om_cancel (they work
 * normally); options structs of an unknown version. Each row states the
 * status and a part of the message; no call may crash or hang (a watchdog
 * fails the row that takes longer than a minute). */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"

/* ---- the values ---- */

enum value {
    V_VALID, V_NULL, V_EMPTY, V_BADUTF8, V_BIG, V_MISSING, V_WRONGTYPE, V_UNREADABLE, V_FIFO, V_LOOP,
    V_COUNT
};
static const char *VALUE_NAMES[V_COUNT] = {
    "valid", "NULL", "\"\"", "invalid UTF-8", "10 MB", "missing path", "wrong kind of entry",
    "unreadable (000)", "FIFO", "symlink loop",
};

static char g_dir[400];      /* the test's folder */
static char g_open[400];     /* a folder every user may write (for the unreadable rows) */
static char *g_big;          /* 10 MB of valid UTF-8 text */
static char g_job[128];      /* a job that exists (created at start) */
static char g_cancelled[128];/* a job already cancelled */
static char g_png[800], g_csv[800], g_csvdir[800], g_assistants[800];
static char p_missing[800], p_folder[800], p_file[800], p_unreadable[800], p_unreadable_dir[800], p_fifo[800],
    p_loop[800];

/* ---- the functions ---- */

enum fn {
    F_LIST_MODELS, F_ASK, F_ASK_STREAM, F_DIALOGUE, F_DESCRIBE, F_DESCRIBE_TEXT, F_LIST_ASSISTANTS,
    F_SET_ASSISTANT, F_TRAIN_DATA, F_TRAIN_DIR, F_TRAIN_FILE, F_TRAIN_EX, F_DYNAMIC_TRAIN, F_CURRENT_JOB,
    F_SAVE_JOB, F_JOB_GET, F_JOB_EVENTS, F_JOB_CANCEL, F_LIST_JOBS, F_JOB_WAIT,
    /* om_create's string options, each checked at creation */
    F_OPT_API_KEY, F_OPT_BASE_URL, F_OPT_MODEL, F_OPT_SYSTEM, F_OPT_ORG, F_OPT_PROXY, F_OPT_CA_FILE,
    F_OPT_ASSISTANT_ID, F_OPT_IMAGE_DETAIL, F_OPT_TOKEN_PARAM, F_OPT_DATA_DIR, F_OPT_SUFFIX,
    /* path options, checked where the file is used */
    F_OPT_DIALOGUE_FILE, F_OPT_ASSISTANTS_FILE,
    F_COUNT
};

struct fn_spec {
    const char *name;
    const char *args[3];   /* the string (pointer) arguments, in order */
    int has_out;
    int is_option;         /* the string goes into om_options; the call is om_create */
    om_status valid;       /* the outcome with valid arguments */
};

static const struct fn_spec FNS[F_COUNT] = {
    [F_LIST_MODELS] = {"om_list_models", {NULL}, 1, 0, OM_OK},
    [F_ASK] = {"om_ask", {"message", "system_instruction"}, 1, 0, OM_OK},
    [F_ASK_STREAM] = {"om_ask_stream", {"message", "system_instruction"}, 1, 0, OM_OK},
    [F_DIALOGUE] = {"om_dialogue", {NULL}, 1, 0, OM_OK},
    [F_DESCRIBE] = {"om_describe_image", {"image", "prompt", "system_instruction"}, 1, 0, OM_OK},
    [F_DESCRIBE_TEXT] = {"om_describe_image_text", {"image", "prompt", "system_instruction"}, 1, 0, OM_OK},
    [F_LIST_ASSISTANTS] = {"om_list_assistants", {NULL}, 1, 0, OM_OK},
    [F_SET_ASSISTANT] = {"om_set_assistant", {"assistant_id"}, 0, 0, OM_OK},
    [F_TRAIN_DATA] = {"om_train", {"data"}, 1, 0, OM_OK},
    [F_TRAIN_DIR] = {"om_train", {"data_dir"}, 1, 0, OM_OK},
    [F_TRAIN_FILE] = {"om_train", {"data_file"}, 1, 0, OM_OK},
    [F_TRAIN_EX] = {"om_train_ex", {"options.model", "options.suffix"}, 1, 0, OM_OK},
    [F_DYNAMIC_TRAIN] = {"om_dynamic_train", {NULL}, 1, 0, OM_EDATA},          /* an empty dialogue */
    [F_CURRENT_JOB] = {"om_current_job_id", {NULL}, 1, 0, OM_ENOTFOUND},       /* no job yet */
    [F_SAVE_JOB] = {"om_save_job_id", {"job_id", "description", "filename"}, 0, 0, OM_OK},
    [F_JOB_GET] = {"om_job_get", {"job_id"}, 1, 0, OM_OK},
    [F_JOB_EVENTS] = {"om_job_events", {"job_id", "after"}, 1, 0, OM_OK},
    [F_JOB_CANCEL] = {"om_job_cancel", {"job_id"}, 1, 0, OM_OK},               /* a fresh job each row */
    [F_LIST_JOBS] = {"om_list_jobs", {"after"}, 1, 0, OM_OK},
    [F_JOB_WAIT] = {"om_job_wait", {"job_id"}, 1, 0, OM_OK},                   /* a cancelled job */
    [F_OPT_API_KEY] = {"om_create", {"options.api_key"}, 1, 1, OM_OK},
    [F_OPT_BASE_URL] = {"om_create", {"options.base_url"}, 1, 1, OM_OK},
    [F_OPT_MODEL] = {"om_create", {"options.model"}, 1, 1, OM_OK},
    [F_OPT_SYSTEM] = {"om_create", {"options.system_instruction"}, 1, 1, OM_OK},
    [F_OPT_ORG] = {"om_create", {"options.organization"}, 1, 1, OM_OK},
    [F_OPT_PROXY] = {"om_create", {"options.proxy"}, 1, 1, OM_OK},
    [F_OPT_CA_FILE] = {"om_create", {"options.ca_file"}, 1, 1, OM_OK},
    [F_OPT_ASSISTANT_ID] = {"om_create", {"options.assistant_id"}, 1, 1, OM_OK},
    [F_OPT_IMAGE_DETAIL] = {"om_create", {"options.image_detail"}, 1, 1, OM_OK},
    [F_OPT_TOKEN_PARAM] = {"om_create", {"options.token_limit_param"}, 1, 1, OM_OK},
    [F_OPT_DATA_DIR] = {"om_create", {"options.data_dir"}, 1, 1, OM_OK},
    [F_OPT_SUFFIX] = {"om_create", {"options.fine_tune_suffix"}, 1, 1, OM_OK},
    [F_OPT_DIALOGUE_FILE] = {"om_create+om_ask", {"options.dialogue_file"}, 1, 1, OM_OK},
    [F_OPT_ASSISTANTS_FILE] = {"om_create+om_list_assistants", {"options.assistants_file"}, 1, 1, OM_OK},
};

/* ---- the table ---- */

#define A_HANDLE (-1)
#define A_OUT (-2)

struct row {
    int fn;
    int arg;           /* index into args, or A_HANDLE / A_OUT */
    int value;         /* V_* (for A_HANDLE: H_*) */
    om_status want;
    const char *needle;
};

enum { H_NULL = 100, H_FREED, H_CANCELLED };

/* String arguments: the outcome for each value. */
#define TEXT_REQUIRED(f, a, name, big, big_needle) \
    {f, a, V_NULL, OM_EINVAL, name " is NULL"}, {f, a, V_EMPTY, OM_EINVAL, name " is empty"}, \
    {f, a, V_BADUTF8, OM_EINVAL, "UTF-8"}, {f, a, V_BIG, big, big_needle}
#define TEXT_OPTIONAL(f, a, big, big_needle) \
    {f, a, V_NULL, OM_OK, NULL}, {f, a, V_BADUTF8, OM_EINVAL, "UTF-8"}, {f, a, V_BIG, big, big_needle}
#define FILE_PATH(f, a, what) \
    {f, a, V_MISSING, OM_ENOFILE, "no such file"}, {f, a, V_WRONGTYPE, OM_EDATA, "is a folder"}, \
    {f, a, V_UNREADABLE, OM_EIO, "ermission denied"}, {f, a, V_FIFO, OM_EDATA, "not a regular file"}, \
    {f, a, V_LOOP, OM_EIO, "symbolic links"}

static const struct row ROWS[] = {
    /* om_list_models */
    {F_LIST_MODELS, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    /* om_ask / om_ask_stream: a 10 MB message or system message is sent whole */
    TEXT_REQUIRED(F_ASK, 0, "message", OM_OK, NULL), TEXT_OPTIONAL(F_ASK, 1, OM_OK, NULL),
    {F_ASK, 1, V_EMPTY, OM_OK, NULL},
    {F_ASK, A_OUT, V_NULL, OM_EINVAL, "out_reply is NULL"},
    TEXT_REQUIRED(F_ASK_STREAM, 0, "message", OM_OK, NULL), TEXT_OPTIONAL(F_ASK_STREAM, 1, OM_OK, NULL),
    {F_ASK_STREAM, A_OUT, V_NULL, OM_EINVAL, "out_reply is NULL"},
    {F_DIALOGUE, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    /* images: the path is checked before any traffic */
    TEXT_REQUIRED(F_DESCRIBE, 0, "image", OM_EIO, "too long"), FILE_PATH(F_DESCRIBE, 0, "image"),
    TEXT_OPTIONAL(F_DESCRIBE, 1, OM_OK, NULL), TEXT_OPTIONAL(F_DESCRIBE, 2, OM_OK, NULL),
    {F_DESCRIBE, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_REQUIRED(F_DESCRIBE_TEXT, 0, "image", OM_EIO, "too long"), FILE_PATH(F_DESCRIBE_TEXT, 0, "image"),
    TEXT_OPTIONAL(F_DESCRIBE_TEXT, 1, OM_OK, NULL), TEXT_OPTIONAL(F_DESCRIBE_TEXT, 2, OM_OK, NULL),
    {F_DESCRIBE_TEXT, A_OUT, V_NULL, OM_EINVAL, "out_text is NULL"},
    /* assistants */
    {F_LIST_ASSISTANTS, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_REQUIRED(F_SET_ASSISTANT, 0, "assistant_id", OM_EINVAL, "too long"),
    /* fine-tuning: the three sources of om_train, each the only one given */
    {F_TRAIN_DATA, 0, V_NULL, OM_EINVAL, "no training data"}, {F_TRAIN_DATA, 0, V_EMPTY, OM_EDATA, "0 examples"},
    {F_TRAIN_DATA, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_TRAIN_DATA, 0, V_BIG, OM_EDATA, "column"},
    {F_TRAIN_DATA, A_OUT, V_NULL, OM_EINVAL, "out_job_id is NULL"},
    {F_TRAIN_DIR, 0, V_NULL, OM_EINVAL, "no training data"}, {F_TRAIN_DIR, 0, V_EMPTY, OM_EINVAL, "data_dir is empty"},
    {F_TRAIN_DIR, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_TRAIN_DIR, 0, V_BIG, OM_EIO, "too long"},
    {F_TRAIN_DIR, 0, V_MISSING, OM_ENOFILE, "no such file"}, {F_TRAIN_DIR, 0, V_WRONGTYPE, OM_EDATA, "not a folder"},
    {F_TRAIN_DIR, 0, V_UNREADABLE, OM_EIO, "ermission denied"}, {F_TRAIN_DIR, 0, V_FIFO, OM_EDATA, "not a folder"},
    {F_TRAIN_DIR, 0, V_LOOP, OM_EIO, "symbolic links"},
    {F_TRAIN_FILE, 0, V_NULL, OM_EINVAL, "no training data"},
    {F_TRAIN_FILE, 0, V_EMPTY, OM_EINVAL, "data_file is empty"}, {F_TRAIN_FILE, 0, V_BADUTF8, OM_EINVAL, "UTF-8"},
    {F_TRAIN_FILE, 0, V_BIG, OM_EIO, "too long"}, FILE_PATH(F_TRAIN_FILE, 0, "CSV file"),
    /* om_train_ex: options NULL or of an unknown version, and its strings */
    {F_TRAIN_EX, A_OUT, V_NULL, OM_EINVAL, "out_job_id is NULL"},
    {F_TRAIN_EX, 0, V_NULL, OM_OK, NULL}, {F_TRAIN_EX, 0, V_EMPTY, OM_OK, NULL},
    {F_TRAIN_EX, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_TRAIN_EX, 1, V_BADUTF8, OM_EINVAL, "UTF-8"},
    {F_TRAIN_EX, 1, V_BIG, OM_EINVAL, "suffix has 10485760 characters"},
    {F_DYNAMIC_TRAIN, A_OUT, V_NULL, OM_EINVAL, "out_job_id is NULL"},
    {F_CURRENT_JOB, A_OUT, V_NULL, OM_EINVAL, "out_job_id is NULL"},
    /* the job registry: a missing file (and folder) is created */
    TEXT_REQUIRED(F_SAVE_JOB, 0, "job_id", OM_OK, NULL), TEXT_OPTIONAL(F_SAVE_JOB, 1, OM_OK, NULL),
    {F_SAVE_JOB, 2, V_NULL, OM_OK, NULL}, {F_SAVE_JOB, 2, V_EMPTY, OM_EINVAL, "filename is empty"},
    {F_SAVE_JOB, 2, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_SAVE_JOB, 2, V_BIG, OM_EIO, "too long"},
    {F_SAVE_JOB, 2, V_MISSING, OM_OK, NULL}, {F_SAVE_JOB, 2, V_WRONGTYPE, OM_EDATA, "is a folder"},
    {F_SAVE_JOB, 2, V_UNREADABLE, OM_EIO, "ermission denied"}, {F_SAVE_JOB, 2, V_FIFO, OM_EDATA, "not a regular file"},
    {F_SAVE_JOB, 2, V_LOOP, OM_EIO, "symbolic links"},
    /* job calls: an id or cursor too long for a URL is refused before sending */
    TEXT_REQUIRED(F_JOB_GET, 0, "job_id", OM_EINVAL, "too long"),
    {F_JOB_GET, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_REQUIRED(F_JOB_EVENTS, 0, "job_id", OM_EINVAL, "too long"), TEXT_OPTIONAL(F_JOB_EVENTS, 1, OM_EINVAL, "too long"),
    {F_JOB_EVENTS, 1, V_EMPTY, OM_OK, NULL},
    {F_JOB_EVENTS, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_REQUIRED(F_JOB_CANCEL, 0, "job_id", OM_EINVAL, "too long"),
    {F_JOB_CANCEL, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_OPTIONAL(F_LIST_JOBS, 0, OM_EINVAL, "too long"), {F_LIST_JOBS, 0, V_EMPTY, OM_OK, NULL},
    {F_LIST_JOBS, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    TEXT_REQUIRED(F_JOB_WAIT, 0, "job_id", OM_EINVAL, "too long"),
    {F_JOB_WAIT, A_OUT, V_NULL, OM_EINVAL, "out_json is NULL"},
    /* om_create's options */
    {F_OPT_API_KEY, 0, V_NULL, OM_OK, NULL}, {F_OPT_API_KEY, 0, V_EMPTY, OM_EINVAL, "api_key is empty"},
    {F_OPT_API_KEY, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_API_KEY, 0, V_BIG, OM_EINVAL, "white space"},
    {F_OPT_BASE_URL, 0, V_NULL, OM_OK, NULL}, {F_OPT_BASE_URL, 0, V_EMPTY, OM_EINVAL, "base_url is empty"},
    {F_OPT_BASE_URL, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_BASE_URL, 0, V_BIG, OM_EINVAL, "no scheme"},
    {F_OPT_MODEL, 0, V_NULL, OM_OK, NULL}, {F_OPT_MODEL, 0, V_EMPTY, OM_EINVAL, "model is empty"},
    {F_OPT_MODEL, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_MODEL, 0, V_BIG, OM_OK, NULL},
    {F_OPT_SYSTEM, 0, V_NULL, OM_OK, NULL}, {F_OPT_SYSTEM, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_SYSTEM, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_SYSTEM, 0, V_BIG, OM_OK, NULL},
    {F_OPT_ORG, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_ORG, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_PROXY, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_PROXY, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_CA_FILE, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_CA_FILE, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_ASSISTANT_ID, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_ASSISTANT_ID, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_IMAGE_DETAIL, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_IMAGE_DETAIL, 0, V_EMPTY, OM_OK, NULL},
    {F_OPT_IMAGE_DETAIL, 0, V_BIG, OM_EINVAL, "image_detail"},
    {F_OPT_TOKEN_PARAM, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_TOKEN_PARAM, 0, V_BIG, OM_EINVAL, "token_limit_param"},
    {F_OPT_DATA_DIR, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_DATA_DIR, 0, V_MISSING, OM_OK, NULL},
    {F_OPT_SUFFIX, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_SUFFIX, 0, V_BIG, OM_EINVAL, "at most 64"},
    /* the dialogue file: a reply that cannot be saved is still kept in memory */
    {F_OPT_DIALOGUE_FILE, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, {F_OPT_DIALOGUE_FILE, 0, V_MISSING, OM_OK, NULL},
    {F_OPT_DIALOGUE_FILE, 0, V_WRONGTYPE, OM_EIO, "kept in memory"},
    {F_OPT_DIALOGUE_FILE, 0, V_UNREADABLE, OM_EIO, "kept in memory"},
    {F_OPT_DIALOGUE_FILE, 0, V_FIFO, OM_EIO, "kept in memory"},
    {F_OPT_DIALOGUE_FILE, 0, V_LOOP, OM_EIO, "kept in memory"},
    {F_OPT_ASSISTANTS_FILE, 0, V_BADUTF8, OM_EINVAL, "UTF-8"}, FILE_PATH(F_OPT_ASSISTANTS_FILE, 0, "assistants file"),
};
#define NROWS (sizeof ROWS / sizeof *ROWS)

/* ---- running a row ---- */

static char g_key[96]; /* one tenant for every row: the jobs live there */

static om_model *make_handle(const char *key, const char *subdir, int fn, const char *option, om_status *st) {
    char data[900];
    snprintf(data, sizeof data, "%s/%s", g_dir, subdir);
    om_options o = OM_OPTIONS_INIT;
    o.base_url = th_base();
    o.api_key = key;
    o.data_dir = data;
    o.assistants_file = g_assistants;
    o.log_level = OM_LOG_OFF;
    o.no_dialogue_file = 1;
    switch (fn) {
    case F_OPT_API_KEY: o.api_key = option; break;
    case F_OPT_BASE_URL: o.base_url = option; break;
    case F_OPT_MODEL: o.model = option; break;
    case F_OPT_SYSTEM: o.system_instruction = option; break;
    case F_OPT_ORG: o.organization = option; break;
    case F_OPT_PROXY: o.proxy = option; break;
    case F_OPT_CA_FILE: o.ca_file = option; break;
    case F_OPT_ASSISTANT_ID: o.assistant_id = option; break;
    case F_OPT_IMAGE_DETAIL: o.image_detail = option; break;
    case F_OPT_TOKEN_PARAM: o.token_limit_param = option; break;
    case F_OPT_DATA_DIR: o.data_dir = option; break;
    case F_OPT_SUFFIX: o.fine_tune_suffix = option; break;
    case F_OPT_DIALOGUE_FILE: o.dialogue_file = option; o.no_dialogue_file = 0; break;
    case F_OPT_ASSISTANTS_FILE: o.assistants_file = option; break;
    default: break;
    }
    om_model *m = NULL;
    om_status s = om_create(&o, &m);
    if (st) *st = s;
    return s == OM_OK ? m : NULL;
}

static const char *value_of(int v, int fn, int arg, char *tmp, size_t tmpn) {
    switch (v) {
    case V_NULL: return NULL;
    case V_EMPTY: return "";
    case V_BADUTF8: return "bad \xc3\x28 utf-8 \xff";
    case V_BIG: return g_big;
    case V_MISSING:
        if (fn == F_SAVE_JOB || fn == F_OPT_DIALOGUE_FILE || fn == F_OPT_DATA_DIR) {
            snprintf(tmp, tmpn, "%s/new-folder-%d-%d/file.json", g_dir, fn, arg);
            return tmp;
        }
        return p_missing;
    case V_WRONGTYPE: return fn == F_TRAIN_DIR ? p_file : p_folder;
    case V_UNREADABLE: return fn == F_TRAIN_DIR ? p_unreadable_dir : p_unreadable;
    case V_FIFO: return p_fifo;
    case V_LOOP: return p_loop;
    default: return NULL;
    }
}

static int on_delta(const char *d, size_t n, void *ud) {
    (void)d; (void)n; (void)ud;
    return 0;
}

static char g_current[256]; /* the row running, for the watchdog */

static void watchdog(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: a call hung for 60 s (watchdog): ";
    if (write(2, msg, sizeof msg - 1) < 0 || write(2, g_current, strlen(g_current)) < 0) _exit(3);
    _exit(3);
}

/* Runs one row; returns 1 when it matched. `print` names it on failure. */
static int run_row(size_t index, const struct row *r) {
    const struct fn_spec *f = &FNS[r->fn];
    snprintf(g_current, sizeof g_current, "row %zu: %s arg %d value %d\n", index, f->name, r->arg, r->value);
    char sub[64], tmp[900];
    const char *key = g_key;
    snprintf(sub, sizeof sub, "row-%zu", index);
    const char *args[3] = {NULL, NULL, NULL};
    /* valid defaults */
    switch (r->fn) {
    case F_ASK: case F_ASK_STREAM: args[0] = "hello there"; break;
    case F_DESCRIBE: case F_DESCRIBE_TEXT: args[0] = g_png; break;
    case F_SET_ASSISTANT: args[0] = "asst_local"; break;
    case F_TRAIN_DATA: args[0] = "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n"; break;
    case F_TRAIN_DIR: args[0] = g_csvdir; break;
    case F_TRAIN_FILE: args[0] = g_csv; break;
    case F_SAVE_JOB: args[0] = "ftjob-saved"; args[1] = "a description"; break;
    case F_JOB_GET: case F_JOB_EVENTS: args[0] = g_job; break;
    case F_JOB_WAIT: args[0] = g_cancelled; break;
    case F_OPT_API_KEY: args[0] = key; break;
    case F_OPT_BASE_URL: args[0] = th_base(); break;
    case F_OPT_DIALOGUE_FILE: snprintf(tmp, sizeof tmp, "%s/%s/dialogue.jsonl", g_dir, sub); args[0] = tmp; break;
    case F_OPT_ASSISTANTS_FILE: args[0] = g_assistants; break;
    default: break;
    }
    char vtmp[900];
    if (r->arg >= 0) args[r->arg] = value_of(r->value, r->fn, r->arg, vtmp, sizeof vtmp);
    char job[128] = "";
    if (r->fn == F_JOB_CANCEL) {
        /* a fresh job to cancel */
        om_model *s = make_handle(key, sub, -1, NULL, NULL);
        char *id = NULL;
        if (s && om_train(s, "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n", NULL, NULL,
                          1, &id) == OM_OK)
            snprintf(job, sizeof job, "%s", id);
        om_string_free(id);
        om_free(s);
        if (r->arg != 0) args[0] = job;
    }

    om_status got;
    const char *msg;
    char *out = NULL;
    char **outp = (r->arg == A_OUT) ? NULL : &out;
    om_model *m = NULL;
    alarm(60);
    if (f->is_option) {
        om_model *c = make_handle(key, sub, r->fn, args[0], &got);
        if (c && r->fn == F_OPT_DIALOGUE_FILE) got = om_ask(c, "save me", NULL, 0, &out);
        if (c && r->fn == F_OPT_ASSISTANTS_FILE) got = om_list_assistants(c, &out);
        msg = c ? om_errmsg(c) : om_last_error();
        CHECK(got == r->want, "%s(%s = %s): %s, wanted %s: %.300s", f->name, f->args[0], VALUE_NAMES[r->value],
              om_status_str(got), om_status_str(r->want), msg);
        if (r->needle) CHECK(strstr(msg, r->needle) != NULL, "%s(%s = %s): message lacks '%s': %.300s", f->name,
                             f->args[0], VALUE_NAMES[r->value], r->needle, msg);
        if (r->fn == F_OPT_DIALOGUE_FILE && c && got == OM_EIO) {
            /* the reply is not lost */
            char *d = NULL;
            CHECK(om_dialogue(c, &d) == OM_OK && d && strstr(d, "You said: save me"), "dialogue lost: %s",
                  d ? d : "(null)");
            om_string_free(d);
        }
        om_string_free(out);
        om_free(c);
        alarm(0);
        return 1;
    }

    m = make_handle(key, sub, r->fn, NULL, NULL);
    if (!m) {
        CHECK(0, "om_create failed: %s", om_last_error());
        alarm(0);
        return 0;
    }
    om_model *call_handle = m;
    if (r->arg == A_HANDLE) {
        if (r->value == H_NULL) call_handle = NULL;
        if (r->value == H_FREED) { om_free(m); m = NULL; }
        if (r->value == H_CANCELLED) {
            CHECK(om_cancel(m) == OM_OK, "om_cancel");
        }
    }
    om_train_options t = OM_TRAIN_OPTIONS_INIT;
    t.data = "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n";
    if (r->fn == F_TRAIN_EX) {
        t.model = args[0];
        t.suffix = args[1];
    }
    switch (r->fn) {
    case F_LIST_MODELS: got = om_list_models(call_handle, outp); break;
    case F_ASK: got = om_ask(call_handle, args[0], args[1], 0, outp); break;
    case F_ASK_STREAM: got = om_ask_stream(call_handle, args[0], args[1], 0, on_delta, NULL, outp); break;
    case F_DIALOGUE: got = om_dialogue(call_handle, outp); break;
    case F_DESCRIBE: got = om_describe_image(call_handle, args[0], args[1], args[2], outp); break;
    case F_DESCRIBE_TEXT: got = om_describe_image_text(call_handle, args[0], args[1], args[2], outp); break;
    case F_LIST_ASSISTANTS: got = om_list_assistants(call_handle, outp); break;
    case F_SET_ASSISTANT: got = om_set_assistant(call_handle, args[0]); break;
    case F_TRAIN_DATA: got = om_train(call_handle, args[0], NULL, NULL, 1, outp); break;
    case F_TRAIN_DIR: got = om_train(call_handle, NULL, args[0], NULL, 1, outp); break;
    case F_TRAIN_FILE: got = om_train(call_handle, NULL, NULL, args[0], 1, outp); break;
    case F_TRAIN_EX: got = om_train_ex(call_handle, &t, outp); break;
    case F_DYNAMIC_TRAIN: got = om_dynamic_train(call_handle, outp); break;
    case F_CURRENT_JOB: got = om_current_job_id(call_handle, outp); break;
    case F_SAVE_JOB: got = om_save_job_id(call_handle, args[0], args[1], args[2]); break;
    case F_JOB_GET: got = om_job_get(call_handle, args[0], outp); break;
    case F_JOB_EVENTS: got = om_job_events(call_handle, args[0], args[1], 0, outp); break;
    case F_JOB_CANCEL: got = om_job_cancel(call_handle, args[0], outp); break;
    case F_LIST_JOBS: got = om_list_jobs(call_handle, args[0], 0, outp); break;
    case F_JOB_WAIT: got = om_job_wait(call_handle, args[0], 20000, NULL, NULL, outp); break;
    default: got = OM_EINTERNAL; break;
    }
    alarm(0);
    msg = m && call_handle ? om_errmsg(m) : om_last_error();
    const char *argname = r->arg == A_HANDLE ? "model" : r->arg == A_OUT ? "out" : f->args[r->arg];
    const char *valname = r->arg == A_HANDLE ? (r->value == H_NULL ? "NULL" : r->value == H_FREED ? "freed"
                                                                                              : "after om_cancel")
                                             : VALUE_NAMES[r->value];
    int before = th_failures;
    CHECK(got == r->want, "%s(%s = %s): %s, wanted %s: %.300s", f->name, argname, valname, om_status_str(got),
          om_status_str(r->want), msg);
    if (r->needle) CHECK(strstr(msg, r->needle) != NULL, "%s(%s = %s): message lacks '%s': %.300s", f->name, argname,
                         valname, r->needle, msg);
    if (got != OM_OK) {
        CHECK(out == NULL, "%s(%s = %s): out set on failure", f->name, argname, valname);
        CHECK(msg && strlen(msg) > 5 && strcmp(msg, "ok") != 0, "%s(%s = %s): no message", f->name, argname,
              valname);
    } else if (f->has_out) {
        CHECK(out != NULL, "%s(%s = %s): no result", f->name, argname, valname);
    }
    if (m && call_handle) CHECK(om_errcode(m) == got, "%s: om_errcode %d, returned %d", f->name,
                                (int)om_errcode(m), (int)got);
    om_string_free(out);
    om_free(m);
    return th_failures == before;
}

/* ---- the rows of the table that go through every handle ---- */

static size_t g_handle_rows;

static void table(void) {
    int unreadable_in_child = geteuid() == 0;
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++) {
        if (ROWS[i].value == V_UNREADABLE && unreadable_in_child) continue;
        run_row(i, &ROWS[i]);
        n++;
    }
    /* every function taking a handle: NULL, freed, and after om_cancel */
    for (int fnum = 0; fnum < F_OPT_API_KEY; fnum++) {
        struct row hr[3] = {
            {fnum, A_HANDLE, H_NULL, OM_EINVAL, "NULL"},
            {fnum, A_HANDLE, H_FREED, OM_EINVAL, "not a live handle"},
            {fnum, A_HANDLE, H_CANCELLED, FNS[fnum].valid, NULL},
        };
        for (int k = 0; k < 3; k++) run_row(NROWS + (size_t)fnum * 3 + (size_t)k, &hr[k]);
        g_handle_rows += 3;
    }
    printf("  %zu rows here, %zu handle rows\n", n, g_handle_rows);
}

/* As root, mode 000 does not stop reading: the unreadable rows run in a
 * child that gives up root first. */
static void unreadable_paths(void) {
    if (geteuid() != 0) {
        printf("  (not root: the unreadable rows ran with the others)\n");
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
        /* the child's own folder for handles */
        snprintf(g_dir, sizeof g_dir, "%s", g_open);
        int rows = 0;
        for (size_t i = 0; i < NROWS; i++) {
            if (ROWS[i].value != V_UNREADABLE) continue;
            run_row(i, &ROWS[i]);
            rows++;
        }
        printf("  %d unreadable rows as uid 65534\n", rows);
        fflush(stdout);
        _exit(th_failures ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the unreadable rows failed (status %d)", st);
}

/* Functions that need no handle, and the error accessors on bad handles. */
static void handle_free_functions(void) {
    CHECK_STATUS(om_create(NULL, NULL), OM_EINVAL, (om_model *)NULL);
    CHECK(strstr(om_last_error(), "out is NULL"), "message: %s", om_last_error());
    om_model *m = NULL;
    om_options o = OM_OPTIONS_INIT;
    o.log_level = OM_LOG_OFF;
    unsigned versions[] = {0, 2, 99, 0xffffffffu};
    for (size_t i = 0; i < 4; i++) {
        o.version = versions[i];
        m = (om_model *)0x1;
        CHECK_STATUS(om_create(&o, &m), OM_EINVAL, (om_model *)NULL);
        CHECK(m == NULL, "out not cleared");
        CHECK(strstr(om_last_error(), "version"), "message: %s", om_last_error());
    }
    om_options bad = OM_OPTIONS_INIT;
    bad.log_level = OM_LOG_OFF;
    bad.max_retries = 101;
    CHECK_STATUS(om_create(&bad, &m), OM_EINVAL, (om_model *)NULL);
    bad.max_retries = 0;
    bad.max_output_tokens = -1;
    CHECK_STATUS(om_create(&bad, &m), OM_EINVAL, (om_model *)NULL);
    bad.max_output_tokens = 0;
    bad.image_max_output_tokens = -5;
    CHECK_STATUS(om_create(&bad, &m), OM_EINVAL, (om_model *)NULL);
    CHECK_STATUS(om_create(NULL, &m), OM_OK, (om_model *)NULL);
    om_free(m);

    /* om_train_ex: NULL options and unknown versions */
    m = th_model(th_key("trainex"));
    char *out = (char *)0x1;
    CHECK_STATUS(om_train_ex(m, NULL, &out), OM_EINVAL, m);
    CHECK(out == NULL && strstr(om_errmsg(m), "options is NULL"), "message: %s", om_errmsg(m));
    om_train_options t = OM_TRAIN_OPTIONS_INIT;
    t.data = "prompt,completion\na,b\n";
    for (size_t i = 0; i < 4; i++) {
        t.version = versions[i];
        CHECK_STATUS(om_train_ex(m, &t, &out), OM_EINVAL, m);
        CHECK(strstr(om_errmsg(m), "version"), "message: %s", om_errmsg(m));
    }
    t.version = OM_TRAIN_OPTIONS_VERSION;
    t.data_file = g_csv;
    CHECK_STATUS(om_train_ex(m, &t, &out), OM_EINVAL, m);
    CHECK(strstr(om_errmsg(m), "exactly one"), "message: %s", om_errmsg(m));
    om_free(m);

    /* the accessors never fail, whatever the handle */
    om_model *freed = th_model(th_key("freed"));
    om_free(freed);
    om_model *later = th_model(th_key("later")); /* a new handle must not take the freed one's place */
    om_model *handles[] = {NULL, freed, (om_model *)&o};
    for (size_t i = 0; i < 3; i++) {
        om_model *h = handles[i];
        CHECK(om_errmsg(h) != NULL && *om_errmsg(h), "om_errmsg");
        CHECK(om_errcode(h) == OM_EINVAL, "om_errcode %d", (int)om_errcode(h));
        CHECK(om_errdetail(h) == NULL, "om_errdetail");
        CHECK(om_last_request_id(h) == NULL, "om_last_request_id");
        CHECK(om_last_http_status(h) == 0, "om_last_http_status");
        CHECK(om_last_response(h) == NULL, "om_last_response");
        CHECK_STATUS(om_cancel(h), OM_EINVAL, (om_model *)NULL);
        char *j = (char *)0x1;
        CHECK_STATUS(om_list_models(h, &j), OM_EINVAL, (om_model *)NULL);
        CHECK(j == NULL, "out not cleared");
    }
    CHECK(strstr(om_errmsg(freed), "not a live handle"), "message: %s", om_errmsg(freed));
    om_free(freed); /* a second free is ignored */
    om_free((om_model *)&o);
    om_free(NULL);
    CHECK_STATUS(om_list_models(later, &out), OM_OK, later);
    om_string_free(out);
    om_free(later);
    om_string_free(NULL);

    const char *texts[] = {NULL, "", "bad \xc3\x28 \xff", g_big};
    for (size_t i = 0; i < 4; i++) {
        const char *s = om_determine_sentiment(texts[i]);
        CHECK(s && (!strcmp(s, "positive") || !strcmp(s, "negative") || !strcmp(s, "neutral")), "sentiment %zu", i);
    }
    CHECK(strcmp(om_status_str((om_status)-1), "unknown status") == 0, "status -1");
    CHECK(strcmp(om_status_str((om_status)1000000), "unknown status") == 0, "status 1000000");
    CHECK(om_version() && om_version_number() == OM_VERSION_NUMBER, "version");
}

static void make_paths(void) {
    snprintf(g_png, sizeof g_png, "%s/pixel.png", g_dir);
    th_write_pixel_png(g_png);
    const char *csv = "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n";
    snprintf(g_csvdir, sizeof g_csvdir, "%s/csvdir", g_dir);
    mkdir(g_csvdir, 0700);
    snprintf(g_csv, sizeof g_csv, "%s/csvdir/train.csv", g_dir);
    FILE *f = fopen(g_csv, "w");
    fputs(csv, f);
    fclose(f);
    snprintf(g_assistants, sizeof g_assistants, "%s/assistants.json", g_dir);
    f = fopen(g_assistants, "w");
    fputs("{\"asst_local\": {\"name\": \"local\", \"instructions\": \"Be local.\"}}\n", f);
    fclose(f);

    /* the bad paths live in a folder every user can enter */
    snprintf(g_open, sizeof g_open, "/tmp/om-badinput-%ld", (long)getpid());
    mkdir(g_open, 0777);
    chmod(g_open, 0777);
    snprintf(p_missing, sizeof p_missing, "%s/does/not/exist.png", g_open);
    snprintf(p_folder, sizeof p_folder, "%s/a-folder", g_open);
    mkdir(p_folder, 0777);
    snprintf(p_file, sizeof p_file, "%s/a-file.txt", g_open);
    f = fopen(p_file, "w");
    fputs("not a folder\n", f);
    fclose(f);
    snprintf(p_unreadable, sizeof p_unreadable, "%s/unreadable.png", g_open);
    th_write_pixel_png(p_unreadable);
    chmod(p_unreadable, 0);
    snprintf(p_unreadable_dir, sizeof p_unreadable_dir, "%s/unreadable-dir", g_open);
    mkdir(p_unreadable_dir, 0);
    chmod(p_unreadable_dir, 0);
    snprintf(p_fifo, sizeof p_fifo, "%s/a-fifo", g_open);
    mkfifo(p_fifo, 0666);
    snprintf(p_loop, sizeof p_loop, "%s/loop-a", g_open);
    char other[800];
    snprintf(other, sizeof other, "%s/loop-b", g_open);
    if (symlink(other, p_loop) != 0 || symlink(p_loop, other) != 0) perror("symlink");
}

static void remove_paths(void) {
    char cmd[700];
    chmod(p_unreadable_dir, 0700);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_open);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_open);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    signal(SIGALRM, watchdog);
    snprintf(g_dir, sizeof g_dir, "%s/badinput-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(g_dir, 0700);
    size_t n = 10u * 1024 * 1024;
    g_big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) g_big[i] = (i % 8 == 7) ? ' ' : (char)('a' + (i * 7) % 26);
    g_big[n] = 0;
    make_paths();

    /* the jobs the job rows use */
    snprintf(g_key, sizeof g_key, "sk-test-badinput-%ld", (long)getpid());
    om_model *s = th_model(g_key);
    char *id = NULL, *out = NULL;
    const char *csv = "prompt,completion\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\ni,9\nj,10\n";
    if (om_train(s, csv, NULL, NULL, 1, &id) != OM_OK) { fprintf(stderr, "set-up: %s\n", om_errmsg(s)); return 2; }
    snprintf(g_job, sizeof g_job, "%s", id);
    om_string_free(id);
    if (om_train(s, csv, NULL, NULL, 1, &id) != OM_OK) { fprintf(stderr, "set-up: %s\n", om_errmsg(s)); return 2; }
    snprintf(g_cancelled, sizeof g_cancelled, "%s", id);
    om_job_cancel(s, id, &out);
    om_string_free(out);
    om_string_free(id);
    om_free(s);

    RUN(table);
    RUN(unreadable_paths);
    RUN(handle_free_functions);
    remove_paths();
    free(g_big);
    return th_finish();
}
