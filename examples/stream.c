/*
 * stream.c - asks a question and prints the reply as it arrives.
 *
 *     stream [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...
 *
 * Ctrl-C stops the reply cleanly: the transfer is cancelled, what arrived
 * so far stays on the screen, the handle is freed and the program exits
 * with status 130. A second Ctrl-C ends the program at once.
 *
 * How: a signal handler may only call async-signal-safe functions, and
 * om_cancel() is not one. So SIGINT and SIGTERM are blocked in every thread
 * and one thread waits for them with sigwait(); being an ordinary thread, it
 * may call om_cancel(), which stops the call in flight on the main thread
 * (even while no data arrives, which a flag checked in the stream callback
 * could not do).
 *
 * Build: cc stream.c $(pkg-config --cflags --libs openaimodel) -pthread -o stream
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openaimodel.h>

struct watcher {
    sigset_t signals; /* the signals to wait for */
    om_model *model;  /* the handle whose calls a signal cancels */
    int caught;       /* the first signal received, 0 if none */
};

/* Waits for SIGINT or SIGTERM; the first cancels, the second exits. The main
 * thread reads `caught` after pthread_join(), which orders the accesses. */
static void *watch_signals(void *arg) {
    struct watcher *w = arg;
    int sig;
    if (sigwait(&w->signals, &sig) != 0) return NULL;
    w->caught = sig;
    om_cancel(w->model); /* the streaming call returns OM_ECANCELLED */
    if (sigwait(&w->signals, &sig) == 0) _exit(128 + sig);
    return NULL;
}

/* Receives each piece of the reply: `len` bytes of UTF-8, never a split
 * character. Returning non-zero would stop the transfer. */
static int print_delta(const char *delta, size_t len, void *userdata) {
    (void)userdata;
    fwrite(delta, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    om_options options = OM_OPTIONS_INIT;
    int opt;
    while ((opt = getopt(argc, argv, "s:m:")) != -1) {
        switch (opt) {
        case 's': options.system_instruction = optarg; break;
        case 'm': options.model = optarg; break;
        default: return usage(argv[0]);
        }
    }
    if (optind >= argc) return usage(argv[0]);

    size_t len = 1;
    for (int i = optind; i < argc; i++) len += strlen(argv[i]) + 1;
    char *question = malloc(len);
    if (!question) return 1;
    question[0] = '\0';
    for (int i = optind; i < argc; i++) {
        if (i > optind) strcat(question, " ");
        strcat(question, argv[i]);
    }
    options.no_dialogue_file = 1;

    /* Block the signals before any thread exists: threads inherit the mask,
     * so only the watcher ever receives them. */
    struct watcher w = {.caught = 0};
    sigemptyset(&w.signals);
    sigaddset(&w.signals, SIGINT);
    sigaddset(&w.signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &w.signals, NULL);

    if (om_create(&options, &w.model) != OM_OK) {
        fprintf(stderr, "stream: %s\n", om_last_error());
        free(question);
        return 1;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, watch_signals, &w) != 0) {
        fprintf(stderr, "stream: cannot start the signal thread\n");
        om_free(w.model);
        free(question);
        return 1;
    }

    /* The call returns when the reply is complete, fails, or is cancelled.
     * *reply gets the whole text (we printed it piece by piece already). */
    char *reply = NULL;
    om_status status = om_ask_stream(w.model, question, NULL, 0, print_delta, NULL, &reply);
    om_string_free(reply);

    /* Stop the watcher (sigwait is a cancellation point) before freeing the
     * handle it points to: om_free() must not race with om_cancel(). */
    pthread_cancel(thread);
    pthread_join(thread, NULL);

    int rc = 0;
    if (status == OM_OK) {
        putchar('\n');
    } else if (status == OM_ECANCELLED && w.caught) {
        fprintf(stderr, "\n[cancelled]\n");
        rc = 128 + w.caught;
    } else {
        fprintf(stderr, "\nstream: %s: %s\n", om_status_str(status), om_errmsg(w.model));
        rc = 1;
    }
    om_free(w.model);
    free(question);
    return rc;
}
