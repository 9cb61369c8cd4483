/*
 * describe_image.c - asks a vision model what an image shows.
 *
 *     describe_image [-t] IMAGE [PROMPT]
 *
 * IMAGE is a local PNG, JPEG, GIF or WebP file (the type is read from its
 * first bytes; the file is streamed base64-encoded, never loaded whole) or
 * an http(s):// URL. PROMPT defaults to "What's in this image?".
 *
 * The library returns the reply as JSON: the model's JSON answer when it
 * gave one (code fences removed), else {"description": "<reply text>"}.
 * This program reads that JSON with jansson: a plain description is printed
 * as text, anything else indented. -t prints the reply text as it came
 * (om_describe_image_text, the original's describe_image_by_requests).
 *
 * Build: cc describe_image.c $(pkg-config --cflags --libs openaimodel jansson) -o describe_image
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openaimodel.h>

/* Prints the library's JSON result the way a person wants to read it. */
static int print_result(const char *text) {
    json_error_t error;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &error);
    if (!value) {
        fprintf(stderr, "describe_image: the result is not JSON (%s)\n", error.text);
        return 1;
    }
    json_t *description = json_object_get(value, "description");
    if (json_is_object(value) && json_object_size(value) == 1 && json_is_string(description)) {
        printf("%s\n", json_string_value(description)); /* prose */
    } else {
        char *pretty = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        printf("%s\n", pretty ? pretty : text);
        free(pretty); /* jansson's strings are freed with free() */
    }
    json_decref(value);
    return 0;
}

int main(int argc, char **argv) {
    int as_text = 0, opt;
    while ((opt = getopt(argc, argv, "t")) != -1) {
        if (opt == 't') {
            as_text = 1;
        } else {
            fprintf(stderr, "usage: %s [-t] IMAGE [PROMPT]\n", argv[0]);
            return 2;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        fprintf(stderr, "usage: %s [-t] IMAGE [PROMPT]\n", argv[0]);
        return 2;
    }
    const char *image = argv[optind];
    const char *prompt = optind + 1 < argc ? argv[optind + 1] : NULL; /* NULL: the default */

    om_options options = OM_OPTIONS_INIT;
    options.no_dialogue_file = 1;
    om_model *model = NULL;
    if (om_create(&options, &model) != OM_OK) {
        fprintf(stderr, "describe_image: %s\n", om_last_error());
        return 1;
    }

    /* A missing, empty or unsupported file fails here before any request
     * (OM_ENOFILE, OM_EDATA), so no tokens are spent on it. */
    char *out = NULL;
    om_status status = as_text ? om_describe_image_text(model, image, prompt, NULL, &out)
                               : om_describe_image(model, image, prompt, NULL, &out);
    int rc = 1;
    if (status == OM_OK) {
        if (as_text) {
            printf("%s\n", out);
            rc = 0;
        } else {
            rc = print_result(out);
        }
        om_string_free(out);
    } else {
        fprintf(stderr, "describe_image: %s: %s\n", om_status_str(status), om_errmsg(model));
    }
    om_free(model);
    return rc;
}
