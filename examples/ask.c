/*
 * ask.c - asks one question and prints the reply.
 *
 *     ask [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...
 *
 * The words of QUESTION are joined with spaces. The server and the key come
 * from the environment: OPENAI_API_KEY, and OPENAI_BASE_URL for a server
 * other than OpenAI's (llama.cpp, Ollama, vLLM, the project's test server).
 *
 * Build: cc ask.c $(pkg-config --cflags --libs openaimodel) -o ask
 * (this example needs nothing but the library).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openaimodel.h>

int main(int argc, char **argv) {
    om_options options = OM_OPTIONS_INIT; /* every field not set: its default */
    int opt;
    while ((opt = getopt(argc, argv, "s:m:h")) != -1) {
        switch (opt) {
        case 's': options.system_instruction = optarg; break;
        case 'm': options.model = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: %s [-s SYSTEM_INSTRUCTION] [-m MODEL] QUESTION...\n", argv[0]);
        return 2;
    }

    /* The question: the remaining arguments joined by spaces. */
    size_t len = 1;
    for (int i = optind; i < argc; i++) len += strlen(argv[i]) + 1;
    char *question = malloc(len);
    if (!question) return 1;
    question[0] = '\0';
    for (int i = optind; i < argc; i++) {
        if (i > optind) strcat(question, " ");
        strcat(question, argv[i]);
    }

    /* One question needs no saved dialogue: keep it in memory only. */
    options.no_dialogue_file = 1;

    /* Creating the handle makes no network call; it only checks the options.
     * Its failures are reported by om_last_error(). */
    om_model *model = NULL;
    om_status status = om_create(&options, &model);
    if (status != OM_OK) {
        fprintf(stderr, "ask: %s\n", om_last_error());
        free(question);
        return 1;
    }

    /* attempts = 0: the library's default (retries with backoff on
     * connection errors, 429 and 5xx). The reply is ours to free with
     * om_string_free(). */
    char *reply = NULL;
    status = om_ask(model, question, NULL, 0, &reply);
    if (status == OM_OK) {
        printf("%s\n", reply);
        om_string_free(reply);
    } else {
        /* om_errmsg() says what failed: for API errors the HTTP status,
         * the error's type, code and message, and the request id. */
        fprintf(stderr, "ask: %s: %s\n", om_status_str(status), om_errmsg(model));
    }

    om_free(model);
    free(question);
    return status == OM_OK ? 0 : 1;
}
