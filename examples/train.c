/*
 * train.c - fine-tunes a model on a CSV file, then follows the job to its
 * end with a progress bar on stderr.
 *
 *     train [-n] [-m BASE_MODEL] [-x SUFFIX] [-t TIMEOUT_SECONDS] [-W] CSV_FILE
 *
 *   -n   label text-only rows "negative" instead of "positive" (rows of a
 *        file with a label column keep their label)
 *   -m   base model (default: gpt-4o-mini)
 *   -x   suffix of the fine-tuned model's name
 *   -t   stop waiting after this many seconds (the job goes on)
 *   -W   do not wait: print the job id and exit
 *
 * The CSV has a header row naming its columns: prompt + completion (and an
 * optional system), or text (and an optional label); see the README. The
 * rows are converted to chat examples and validated before anything is
 * uploaded; a bad row is reported with its file, line and column.
 *
 * stdout gets the job id as soon as the job exists, then the fine-tuned
 * model's name when the job succeeds. Exit status: 0 when the job
 * succeeded (or was created, with -W), 1 otherwise. Ctrl-C stops waiting
 * but not the job: it runs on at the server.
 *
 * Fine-tuning on OpenAI costs money.
 *
 * Build: cc train.c $(pkg-config --cflags --libs openaimodel jansson) -o train
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openaimodel.h>

/* ---- the progress bar ---------------------------------------------------
 * On a terminal the bar of the current stage is redrawn in place, and a
 * finished stage keeps its line. Into a file or a pipe, a line is written
 * when the stage changes and when it ends, so logs stay readable. */

static int on_tty;
static int line_open; /* a bar is on the terminal, not yet ended by '\n' */
static char shown_label[32], shown_detail[128];

static void draw(const char *label, double fraction, const char *detail, int done) {
    enum { WIDTH = 30 };
    if (!detail) detail = "";
    int changed = strcmp(label, shown_label) != 0;
    if (!changed) {
        if (on_tty && !line_open) return; /* this stage's bar is finished */
        if (!on_tty && !(done && strcmp(detail, shown_detail) != 0)) return;
    }
    if (changed && line_open) fputc('\n', stderr);
    if (fraction < 0) fraction = 0;
    if (fraction > 1) fraction = 1;
    int filled = (int)(fraction * WIDTH + 0.5);
    char bar[WIDTH + 1];
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '.', (size_t)(WIDTH - filled));
    bar[WIDTH] = '\0';
    fprintf(stderr, "%s%-16s [%s] %3d%%  %-40.40s", on_tty ? "\r" : "", label, bar,
            (int)(fraction * 100 + 0.5), detail);
    if (on_tty && !done) {
        line_open = 1;
    } else {
        fputc('\n', stderr);
        line_open = 0;
    }
    fflush(stderr);
    snprintf(shown_label, sizeof shown_label, "%s", label);
    snprintf(shown_detail, sizeof shown_detail, "%s", detail);
}

/* Conversion and upload: `done` of `total` bytes (total -1 when unknown). */
static int on_transfer(const char *stage, long long done, long long total, void *userdata) {
    (void)userdata;
    char detail[64];
    snprintf(detail, sizeof detail, "%lld of %lld bytes", done, total);
    draw(stage, total > 0 ? (double)done / (double)total : 0, detail, total > 0 && done >= total);
    return 0; /* non-zero would stop the training call */
}

/* The job: each status change (event_json NULL), then each new event as a
 * JSON object such as {"message": "Step 10/100: training loss=0.52",
 * "data": {"step": 10, "total_steps": 100, ...}, ...}. */
struct job_progress {
    double fraction;
    char detail[128];
};

static double status_fraction(const char *status, double current) {
    if (strcmp(status, "validating_files") == 0) return 0.05;
    if (strcmp(status, "queued") == 0) return 0.10;
    if (strcmp(status, "running") == 0) return current > 0.15 ? current : 0.15;
    if (strcmp(status, "succeeded") == 0) return 1.0;
    return current; /* failed, cancelled: the bar stays where it was */
}

static int on_job(const char *status, const char *event_json, void *userdata) {
    struct job_progress *p = userdata;
    p->fraction = status_fraction(status, p->fraction);
    if (event_json) {
        json_t *event = json_loads(event_json, 0, NULL);
        const char *message = json_string_value(json_object_get(event, "message"));
        json_t *data = json_object_get(event, "data");
        long long step = json_integer_value(json_object_get(data, "step"));
        long long total = json_integer_value(json_object_get(data, "total_steps"));
        if (message) {
            int a, b;
            /* Older events carry the step only in the message. */
            if (total <= 0 && sscanf(message, "Step %d/%d", &a, &b) == 2) { step = a; total = b; }
            snprintf(p->detail, sizeof p->detail, "%s", message);
        }
        if (strcmp(status, "running") == 0 && total > 0 && step > 0)
            p->fraction = 0.15 + 0.80 * (double)step / (double)total;
        json_decref(event);
    } else {
        snprintf(p->detail, sizeof p->detail, "%s", status);
        if (status_fraction(status, -1) == 1.0 || strcmp(status, "failed") == 0 ||
            strcmp(status, "cancelled") == 0)
            return 0; /* the final state: main() draws it, with the last event */
    }
    draw(status, p->fraction, p->detail, 0);
    return 0; /* non-zero stops waiting (OM_ECANCELLED); the job goes on */
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [-n] [-m BASE_MODEL] [-x SUFFIX] [-t TIMEOUT_SECONDS] [-W] CSV_FILE\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    om_train_options train = OM_TRAIN_OPTIONS_INIT;
    long timeout_ms = 0; /* 0: wait without limit */
    int wait = 1, opt;
    while ((opt = getopt(argc, argv, "nm:x:t:W")) != -1) {
        switch (opt) {
        case 'n': train.positive = 0; break;
        case 'm': train.model = optarg; break;
        case 'x': train.suffix = optarg; break;
        case 't': timeout_ms = (long)(atof(optarg) * 1000); break;
        case 'W': wait = 0; break;
        default: return usage(argv[0]);
        }
    }
    if (optind + 1 != argc) return usage(argv[0]);
    train.data_file = argv[optind];
    train.progress = on_transfer;
    on_tty = isatty(STDERR_FILENO);

    om_options options = OM_OPTIONS_INIT;
    options.no_dialogue_file = 1;
    om_model *model = NULL;
    if (om_create(&options, &model) != OM_OK) {
        fprintf(stderr, "train: %s\n", om_last_error());
        return 1;
    }

    /* Convert + validate + upload + create the job. */
    char *job_id = NULL;
    om_status status = om_train_ex(model, &train, &job_id);
    if (line_open) fputc('\n', stderr);
    line_open = 0;
    if (status != OM_OK) {
        fprintf(stderr, "train: %s: %s\n", om_status_str(status), om_errmsg(model));
        om_free(model);
        return 1;
    }
    printf("%s\n", job_id);
    fflush(stdout);
    if (!wait) {
        om_string_free(job_id);
        om_free(model);
        return 0;
    }

    /* Poll the job (with backoff) until it ends; the result is the final job
     * object, whatever its status. */
    struct job_progress progress = {0, ""};
    char *job_json = NULL;
    status = om_job_wait(model, job_id, timeout_ms, on_job, &progress, &job_json);
    int rc = 1;
    if (status == OM_OK) {
        json_t *job = json_loads(job_json, 0, NULL);
        const char *final = json_string_value(json_object_get(job, "status"));
        const char *tuned = json_string_value(json_object_get(job, "fine_tuned_model"));
        draw(final ? final : "?", status_fraction(final ? final : "?", progress.fraction), progress.detail, 1);
        if (final && strcmp(final, "succeeded") == 0 && tuned) {
            printf("%s\n", tuned);
            rc = 0;
        } else {
            json_t *error = json_object_get(job, "error");
            const char *why = json_string_value(json_object_get(error, "message"));
            fprintf(stderr, "train: job %s ended '%s'%s%s\n", job_id, final ? final : "?",
                    why ? ": " : "", why ? why : "");
        }
        json_decref(job);
        om_string_free(job_json);
    } else {
        if (line_open) fputc('\n', stderr);
        fprintf(stderr, "train: %s: %s\n(the job %s goes on at the server)\n", om_status_str(status),
                om_errmsg(model), job_id);
    }
    om_string_free(job_id);
    om_free(model);
    return rc;
}
