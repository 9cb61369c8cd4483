/*
 * openaimodel.h - the C interface of libopenaimodel.
 *
 * libopenaimodel drives OpenAI's HTTP API (and compatible servers: llama.cpp,
 * Ollama, vLLM, ...) through one opaque handle: chat (plain and streamed),
 * image description, fine-tuning, models and locally defined assistants.
 *
 * This header is the contract. Every function below is implemented in Swift
 * against this very declaration, so the two cannot drift apart.
 *
 * Conventions (they hold for every function unless its comment says otherwise)
 * ---------------------------------------------------------------------------
 * Status:     fallible calls return an om_status; OM_OK (0) means success.
 *             On failure the calling thread's message for that handle is in
 *             om_errmsg(handle); creation failures are in om_last_error().
 * Strings:    every const char * argument is NUL-terminated UTF-8 and is only
 *             read during the call (the library keeps its own copies).
 *             Results come back through `char **out` parameters. They are
 *             allocated by the library and must be released with
 *             om_string_free(), never with free(). On failure *out is NULL.
 * JSON:       functions named "..._json" return UTF-8 JSON text.
 * Threads:    a handle may be used from several threads at once. Calls run in
 *             parallel: each takes its own connection from a pool owned by the
 *             handle, and the handle's shared state (dialogue, current
 *             assistant, current job) is updated under a lock. Handles are
 *             independent of each other. om_cancel() may be called from any
 *             thread while the handle lives. om_free() must not race with any
 *             other call on the same handle.
 *             The error state read by om_errmsg(), om_errcode(),
 *             om_errdetail(), om_last_request_id(), om_last_http_status()
 *             and om_last_response()
 *             is kept per calling thread: it describes the last call this
 *             thread made on this handle and stays valid until this thread's
 *             next call on it, om_free(), or the thread's end (when it is
 *             released).
 * Callbacks:  run on the thread that made the call, before the call returns,
 *             get the userdata pointer given with them, and stop the
 *             operation by returning non-zero (the call then returns
 *             OM_ECANCELLED). They must not call om_free() on the handle.
 * Unloading:  the library is never unloaded (it is marked NODELETE): after a
 *             dlclose() it stays mapped, since threads that called it run
 *             its clean-up when they end.
 */
#ifndef OPENAIMODEL_H
#define OPENAIMODEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define OM_VERSION_MAJOR 1
#define OM_VERSION_MINOR 0
#define OM_VERSION_PATCH 0
#define OM_VERSION "1.0.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH. */
#define OM_VERSION_NUMBER 10000

/* The library's version as a static string, e.g. "1.0.0". Never fails. */
const char *om_version(void);

/* The library's version as OM_VERSION_NUMBER computes it. Compare with the
 * macro to detect a header/library mismatch. Never fails. */
unsigned int om_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

typedef enum om_status {
    OM_OK = 0,
    OM_EINVAL = 1,        /* an argument or option is invalid (NULL, empty,
                             not UTF-8, out of range, unknown version) */
    OM_ENOMEM = 2,        /* out of memory */
    OM_EIO = 3,           /* a local file or system call failed */
    OM_ENOFILE = 4,       /* a named file or folder does not exist */
    OM_EDATA = 5,         /* input data rejected: unsupported image, malformed
                             CSV, training data that fails validation, a
                             corrupt registry or assistants file */
    OM_ENETWORK = 6,      /* could not connect, connection lost, TLS failure,
                             truncated response */
    OM_ETIMEDOUT = 7,     /* connect, total or idle timeout */
    OM_ECANCELLED = 8,    /* om_cancel() or a callback's non-zero return */
    OM_EPARSE = 9,        /* the server's answer could not be understood */
    OM_EUNSUPPORTED = 10, /* the server or this build does not support it */
    OM_EAPI = 11,         /* API error of another class: 400, 409, 422, other
                             4xx, an unexpected 3xx */
    OM_EAUTH = 12,        /* HTTP 401: missing or wrong API key */
    OM_EPERMISSION = 13,  /* HTTP 403 */
    OM_ENOTFOUND = 14,    /* HTTP 404 / 410, or a named local entry (assistant)
                             that does not exist */
    OM_ERATELIMIT = 15,   /* HTTP 429 (om_errdetail() tells a rate limit from
                             insufficient_quota) */
    OM_ESERVER = 16,      /* HTTP 5xx */
    OM_EINTERNAL = 17     /* a defect inside the library, caught before it
                             could reach the host; please report it */
} om_status;

/* A static, human-readable description of a status code ("invalid argument",
 * ...). Unknown codes give "unknown status". Never returns NULL. */
const char *om_status_str(om_status status);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

/* Log levels, for om_options.log_level and the log callback. */
#define OM_LOG_OFF (-1)
#define OM_LOG_DEFAULT 0 /* OPENAI_LOG=info|debug if set, else warnings */
#define OM_LOG_ERROR 1
#define OM_LOG_WARN 2
#define OM_LOG_INFO 3
#define OM_LOG_DEBUG 4

/* Receives each log line (no trailing newline). Secrets are already redacted.
 * Called on the thread that made the call. The message is only valid during
 * the callback. Without a callback, lines go to stderr. */
typedef void (*om_log_cb)(int level, const char *message, void *userdata);

/* Receives each piece of a streamed reply as it arrives: `delta` holds `len`
 * bytes of UTF-8 (never a split character) followed by a NUL. Return 0 to
 * continue, non-zero to stop the transfer (the call returns OM_ECANCELLED). */
typedef int (*om_stream_cb)(const char *delta, size_t len, void *userdata);

/* Progress of a long operation. `stage` is a static string ("convert",
 * "upload"); `done` and `total` are bytes (`total` is -1 when unknown).
 * Return non-zero to stop (the call returns OM_ECANCELLED). */
typedef int (*om_progress_cb)(const char *stage, long long done,
                              long long total, void *userdata);

/* Progress of a fine-tuning job followed by om_job_wait(): called with the
 * job's status ("validating_files", "queued", "running", "succeeded",
 * "failed", "cancelled") whenever it changes, and once per new event with
 * `event_json` set to the event object (otherwise NULL). Return non-zero to
 * stop waiting (om_job_wait returns OM_ECANCELLED; the job goes on). */
typedef int (*om_job_cb)(const char *status, const char *event_json,
                         void *userdata);

/* ------------------------------------------------------------------------ */
/* Options and handle                                                        */
/* ------------------------------------------------------------------------ */

typedef struct om_model om_model;

#define OM_OPTIONS_VERSION 1

/* Options for om_create(). Start from OM_OPTIONS_INIT: every field left zero
 * or NULL takes its default. Fields are only ever appended; `version` tells
 * the library which fields the caller's struct has. */
typedef struct om_options {
    unsigned int version;            /* OM_OPTIONS_VERSION */

    /* Connection. NULL = the environment variable, then the default. */
    const char *api_key;             /* OPENAI_API_KEY; may stay unset for
                                        servers that need no key */
    const char *base_url;            /* OPENAI_BASE_URL (empty = unset), else
                                        https://api.openai.com/v1; a URL with
                                        no path gets /v1 */
    const char *organization;        /* OPENAI_ORG_ID -> OpenAI-Organization */
    const char *project;             /* OPENAI_PROJECT_ID -> OpenAI-Project */
    const char *proxy;               /* explicit proxy URL; without it libcurl
                                        honours https_proxy / no_proxy, except
                                        for a loopback base URL (reached
                                        directly) */
    const char *ca_file;             /* extra CA bundle (PEM); verification
                                        itself can never be switched off */
    int allow_insecure_http;         /* non-zero: allow sending the key over
                                        plain http:// to a non-loopback host */

    /* Timeouts in milliseconds; 0 = default, negative = none. */
    long connect_timeout_ms;         /* default 5000 */
    long timeout_ms;                 /* whole request, default 600000 */
    long idle_timeout_ms;            /* no byte received for this long ends
                                        the transfer; default 60000 for
                                        streams, none for other requests */
    int max_retries;                 /* retries after the first try: 0 =
                                        default (2), negative = none */

    /* Model and conversation. */
    const char *model;               /* default "gpt-4o-mini" */
    const char *system_instruction;  /* default system message */
    const char *assistant_id;        /* made current on first use (no network
                                        call at creation) */
    const char *assistants_file;     /* JSON file defining assistants; default
                                        <data_dir>/assistants.json */
    int max_output_tokens;           /* om_ask limit, default 8000 */
    int image_max_output_tokens;     /* om_describe_image limit, default 800 */
    const char *image_detail;        /* "auto" (default), "low" or "high" */
    const char *token_limit_param;   /* "max_completion_tokens" (default) or
                                        "max_tokens"; a server that rejects
                                        the default is retried with the other
                                        and remembered */
    int send_history;                /* non-zero: om_ask sends the earlier
                                        turns of this handle's dialogue */

    /* Files. */
    const char *data_dir;            /* default $OPENAIMODEL_DATA_DIR, else
                                        $XDG_DATA_HOME/openaimodel, else
                                        ~/.local/share/openaimodel */
    const char *dialogue_file;       /* default <data_dir>/dialogue-<time>-
                                        <pid>-<n>.jsonl; an existing file is
                                        continued */
    int no_dialogue_file;            /* non-zero: keep the dialogue in memory
                                        only */
    const char *fine_tune_suffix;    /* suffix for fine-tuned model names,
                                        at most 64 characters (OM_EINVAL) */

    /* Logging. */
    om_log_cb log_cb;
    void *log_userdata;
    int log_level;                   /* OM_LOG_*; OM_LOG_DEFAULT reads
                                        OPENAI_LOG */
} om_options;

#define OM_OPTIONS_INIT { OM_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, \
    NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL, \
    NULL, 0, NULL, NULL, NULL, 0 }

/* Creates a handle. `options` may be NULL (all defaults). Makes no network
 * call. On success *out holds the handle, to be released with om_free().
 * Errors: OM_EINVAL (NULL out, unknown options version, bad URL, key over
 * plain HTTP to a remote host, bad option value), OM_ENOMEM. The message is
 * in om_last_error(). */
om_status om_create(const om_options *options, om_model **out);

/* Releases a handle and everything it owns. NULL is ignored. Strings
 * returned earlier through `char **out` stay valid (they belong to the
 * caller until om_string_free()). */
void om_free(om_model *model);

/* Releases a string returned by this library. NULL is ignored. */
void om_string_free(char *string);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* The message of the calling thread's last call on `model`: what failed and
 * why (for API errors: HTTP status, type, code, param, message and request
 * id; never the API key). "ok" after a successful call. NULL model gives a
 * static message. Owned by the handle. */
const char *om_errmsg(const om_model *model);

/* The status of the calling thread's last call on `model` (OM_OK after a
 * successful one; OM_EINVAL for a NULL model). */
om_status om_errcode(const om_model *model);

/* For the calling thread's last call on `model`, when it failed with an API
 * error: a JSON object {"status": 429, "type": ..., "code": ..., "param": ...,
 * "message": ..., "request_id": ..., "body": "<raw response body>"}; NULL
 * otherwise. Owned by the handle. */
const char *om_errdetail(const om_model *model);

/* The calling thread's last failure with no handle to carry it (om_create).
 * Thread-local, owned by the library, valid until the thread's next failing
 * om_create(). "ok" when there was none. */
const char *om_last_error(void);

/* The x-request-id of the last response the calling thread received on
 * `model` (successful or not), or NULL. Owned by the handle. */
const char *om_last_request_id(const om_model *model);

/* The HTTP status of that response, or 0 when there was none. */
int om_last_http_status(const om_model *model);

/* The body of the last successful response the calling thread's last call on
 * `model` received, as the server sent it, for what the call's result leaves
 * out: after om_ask() the whole chat completion (id, model, usage,
 * finish_reason, system_fingerprint, ...); after om_ask_stream() the last
 * JSON event of the stream (the library asks for usage with
 * stream_options.include_usage, so from OpenAI that is the chunk with
 * `usage`); after a call made of several
 * requests (om_train: the upload, then the job) the last one. NULL when that
 * call failed or sent no request. Owned by the handle, valid until this
 * thread's next call on it. */
const char *om_last_response(const om_model *model);

/* Stops every call in flight on `model` promptly (transfers, retry waits,
 * job polling); those calls return OM_ECANCELLED. Calls made afterwards run
 * normally. Safe from any thread and from callbacks. OM_EINVAL for NULL. */
om_status om_cancel(om_model *model);

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

/* The ids of the models the server lists (GET /models), as a JSON array of
 * strings. Errors: network and API classes, OM_EPARSE. */
om_status om_list_models(om_model *model, char **out_json);

/* ------------------------------------------------------------------------ */
/* Chat                                                                      */
/* ------------------------------------------------------------------------ */

/* Sends `message` (POST /chat/completions, temperature 0) and returns the
 * reply with surrounding white space trimmed. The system message is
 * `system_instruction` if not NULL, else the current assistant's
 * instructions (om_set_assistant), else the handle's system_instruction,
 * else none. `attempts` is the total number of tries
 * (0 or negative: max_retries + 1). On success the exchange (system, user,
 * assistant with its sentiment) is appended to the handle's dialogue.
 * Errors: OM_EINVAL (NULL or invalid UTF-8), network, timeout, cancel and
 * API classes, OM_EPARSE, OM_EIO (dialogue file). */
om_status om_ask(om_model *model, const char *message,
                 const char *system_instruction, int attempts,
                 char **out_reply);

/* As om_ask(), with the reply streamed: `on_delta` (may be NULL) receives
 * each piece as it arrives; *out_reply gets the whole reply. A try is
 * repeated only if it failed before any text was delivered. */
om_status om_ask_stream(om_model *model, const char *message,
                        const char *system_instruction, int attempts,
                        om_stream_cb on_delta, void *userdata,
                        char **out_reply);

/* The sentiment of `text`: "positive", "negative" or "neutral" (static
 * strings). Offline, no handle needed; NULL gives "neutral". */
const char *om_determine_sentiment(const char *text);

/* This handle's dialogue so far, as a JSON array of {"role", "content"}
 * entries (assistant entries also have "sentiment"). */
om_status om_dialogue(om_model *model, char **out_json);

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* Describes an image: `image` is a local path (PNG, JPEG, GIF or WebP,
 * recognised from its first bytes, streamed as a base64 data URI) or an
 * http(s):// URL (passed to the API as is). `prompt` defaults to "What's in
 * this image?". Returns JSON: the reply parsed as JSON (code fences and text
 * around it removed), or {"description": "<reply>"} when the reply is prose.
 * Errors: OM_ENOFILE, OM_EIO, OM_EDATA (empty, folder, unsupported type) -
 * all before any network traffic - then network and API classes. */
om_status om_describe_image(om_model *model, const char *image,
                            const char *prompt, const char *system_instruction,
                            char **out_json);

/* The same request, returning the reply text as is. */
om_status om_describe_image_text(om_model *model, const char *image,
                                 const char *prompt,
                                 const char *system_instruction,
                                 char **out_text);

/* ------------------------------------------------------------------------ */
/* Assistants                                                                */
/* ------------------------------------------------------------------------ */

/* The assistants defined in the assistants file, in file order, as a JSON
 * array of {"id", "name", "title", "description"}.
 * Errors: OM_ENOFILE, OM_EIO, OM_EDATA (malformed file). */
om_status om_list_assistants(om_model *model, char **out_json);

/* Makes an assistant current: from the assistants file if defined there (its
 * instructions become the default system instruction), else from the
 * server (GET /assistants/{id}, OpenAI-Beta: assistants=v2), taking its
 * instructions and model. A failed call leaves the current assistant as it
 * was. Errors: OM_EINVAL, OM_EDATA, OM_ENOTFOUND (neither defined locally nor
 * served), network and API classes. */
om_status om_set_assistant(om_model *model, const char *assistant_id);

/* ------------------------------------------------------------------------ */
/* Fine-tuning                                                               */
/* ------------------------------------------------------------------------ */

#define OM_TRAIN_OPTIONS_VERSION 1

/* Options for om_train_ex(). Exactly one of data, data_dir, data_file. */
typedef struct om_train_options {
    unsigned int version;      /* OM_TRAIN_OPTIONS_VERSION */
    const char *data;          /* CSV text */
    const char *data_dir;      /* folder: all its *.csv files, sorted */
    const char *data_file;     /* one CSV file */
    int positive;              /* label for text-only rows without a label
                                  column: non-zero "positive", 0 "negative" */
    const char *model;         /* base model; default the handle's */
    const char *suffix;        /* default the handle's fine_tune_suffix; at
                                  most 64 characters (else OM_EINVAL, with
                                  nothing converted or sent) */
    om_progress_cb progress;   /* "convert" and "upload" progress; may be NULL */
    void *userdata;
} om_train_options;

#define OM_TRAIN_OPTIONS_INIT { OM_TRAIN_OPTIONS_VERSION, NULL, NULL, NULL, 1, \
    NULL, NULL, NULL, NULL }

/* Builds a chat fine-tuning JSONL file from CSV training data (see the
 * README for the columns), validates it, uploads it (POST /files) and creates
 * a job (POST /fine_tuning/jobs). The job becomes the handle's current job;
 * its id is returned. Nothing is uploaded when validation fails.
 * Errors: OM_EINVAL (not exactly one source), OM_ENOFILE, OM_EIO, OM_EDATA
 * (malformed CSV or failed validation, naming file, line and column),
 * network and API classes. */
om_status om_train(om_model *model, const char *data, const char *data_dir,
                   const char *data_file, int positive, char **out_job_id);

/* om_train() with every option. */
om_status om_train_ex(om_model *model, const om_train_options *options,
                      char **out_job_id);

/* As om_train(), from the handle's dialogue: each user message with the
 * assistant reply that followed (and the system message sent with it) is
 * one example. */
om_status om_dynamic_train(om_model *model, char **out_job_id);

/* The id of the handle's current job (the last one created or followed), or
 * OM_ENOTFOUND when there is none. */
om_status om_current_job_id(om_model *model, char **out_job_id);

/* Appends {"id", "description", "created"} (epoch seconds) to the JSON array
 * in `filename` (NULL: "job_ids.json"; a relative name is inside the data
 * folder). Safe against crashes and concurrent writers (lock + rename).
 * `description` may be NULL. Errors: OM_EINVAL, OM_EIO, OM_EDATA (the file
 * exists but is not a JSON array: it is left untouched). */
om_status om_save_job_id(om_model *model, const char *job_id,
                         const char *description, const char *filename);

/* GET /fine_tuning/jobs/{id}: the job object. */
om_status om_job_get(om_model *model, const char *job_id, char **out_json);

/* GET /fine_tuning/jobs/{id}/events: the server's list object
 * {"data": [...], "has_more": ...}. `after` may be NULL; `limit` <= 0 is the
 * server's default. */
om_status om_job_events(om_model *model, const char *job_id,
                        const char *after, int limit, char **out_json);

/* POST /fine_tuning/jobs/{id}/cancel: the job object. */
om_status om_job_cancel(om_model *model, const char *job_id,
                        char **out_json);

/* GET /fine_tuning/jobs: the server's list object. */
om_status om_list_jobs(om_model *model, const char *after, int limit,
                       char **out_json);

/* Polls the job (with backoff) until it succeeds, fails or is cancelled,
 * calling `progress` (may be NULL) on each status change and new event, and
 * returns the final job object (whatever its final status: check "status").
 * `timeout_ms` <= 0 waits without limit.
 * Errors: OM_ETIMEDOUT, OM_ECANCELLED, network and API classes. */
om_status om_job_wait(om_model *model, const char *job_id, long timeout_ms,
                      om_job_cb progress, void *userdata, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* OPENAIMODEL_H */
