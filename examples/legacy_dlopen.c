/*
 * legacy_dlopen.c - uses libopenaimodel the way an old tool loads a plug-in:
 * with dlopen() and dlsym() at run time, with no header and no link to the
 * library at build time.
 *
 *     legacy_dlopen [QUESTION]          (default: "Hello, how are you?")
 *
 * The library is looked up as $OPENAIMODEL_LIBRARY if set, else by its
 * soname "libopenaimodel.so.1" on the usual search path (LD_LIBRARY_PATH,
 * /etc/ld.so.conf). The key and the server come from OPENAI_API_KEY and
 * OPENAI_BASE_URL: om_create(NULL, ...) takes every option from the
 * environment, so the tool needs no knowledge of the om_options layout.
 *
 * What such a tool must know about the C ABI, written out below:
 *   - om_status is a C enum: an int; 0 is success;
 *   - a handle is an opaque pointer;
 *   - strings returned through `char **` belong to the caller and are freed
 *     with om_string_free(), never free();
 *   - the library is never unloaded: a dlclose() leaves it mapped.
 *
 * Build: cc legacy_dlopen.c -ldl -o legacy_dlopen     (no -I, no -lopenaimodel)
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few entry points used, declared by hand from the documentation. */
typedef const char *(*version_fn)(void);
typedef unsigned int (*version_number_fn)(void);
typedef int (*create_fn)(const void *options, void **out_model);
typedef void (*free_fn)(void *model);
typedef int (*ask_fn)(void *model, const char *message, const char *system_instruction, int attempts,
                      char **out_reply);
typedef const char *(*errmsg_fn)(const void *model);
typedef const char *(*last_error_fn)(void);
typedef const char *(*sentiment_fn)(const char *text);
typedef void (*string_free_fn)(char *string);

/* dlsym() returns void *; copying it into a function pointer with memcpy is
 * the portable way (a cast between the two is not valid ISO C). */
static int load(void *lib, const char *name, void *fn, size_t size) {
    void *symbol = dlsym(lib, name);
    if (!symbol) {
        fprintf(stderr, "legacy_dlopen: %s is missing: %s\n", name, dlerror());
        return 0;
    }
    memcpy(fn, &symbol, size);
    return 1;
}
#define LOAD(lib, name, var) load(lib, name, &(var), sizeof(var))

int main(int argc, char **argv) {
    const char *question = argc > 1 ? argv[1] : "Hello, how are you?";
    const char *path = getenv("OPENAIMODEL_LIBRARY");
    if (!path || !*path) path = "libopenaimodel.so.1";

    /* RTLD_LOCAL keeps the library's symbols out of the global namespace. */
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "legacy_dlopen: cannot load %s: %s\n", path, dlerror());
        return 1;
    }

    version_fn om_version;
    version_number_fn om_version_number;
    create_fn om_create;
    free_fn om_free;
    ask_fn om_ask;
    errmsg_fn om_errmsg;
    last_error_fn om_last_error;
    sentiment_fn om_determine_sentiment;
    string_free_fn om_string_free;
    if (!LOAD(lib, "om_version", om_version) || !LOAD(lib, "om_version_number", om_version_number) ||
        !LOAD(lib, "om_create", om_create) || !LOAD(lib, "om_free", om_free) ||
        !LOAD(lib, "om_ask", om_ask) || !LOAD(lib, "om_errmsg", om_errmsg) ||
        !LOAD(lib, "om_last_error", om_last_error) ||
        !LOAD(lib, "om_determine_sentiment", om_determine_sentiment) ||
        !LOAD(lib, "om_string_free", om_string_free))
        return 1;

    /* The ABI this program was written for: major version 1. */
    unsigned int version = om_version_number();
    if (version / 10000 != 1) {
        fprintf(stderr, "legacy_dlopen: %s is version %s; this tool needs 1.x\n", path, om_version());
        return 1;
    }
    printf("loaded %s (libopenaimodel %s)\n", path, om_version());

    void *model = NULL;
    if (om_create(NULL, &model) != 0) { /* NULL options: all from the environment */
        fprintf(stderr, "legacy_dlopen: %s\n", om_last_error());
        return 1;
    }
    char *reply = NULL;
    int status = om_ask(model, question, NULL, 0, &reply);
    if (status == 0) {
        printf("reply: %s\nsentiment: %s\n", reply, om_determine_sentiment(reply));
        om_string_free(reply);
    } else {
        fprintf(stderr, "legacy_dlopen: error %d: %s\n", status, om_errmsg(model));
    }
    om_free(model);
    /* No dlclose(lib): it would not unload the library (it is marked
     * NODELETE, for the threads that called it); the process exit releases
     * it. */
    return status == 0 ? 0 : 1;
}
