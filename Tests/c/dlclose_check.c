/* A host that loads the library with dlopen and closes it with dlclose
 * while one of its threads that called the library is still running: the
 * thread ends after the dlclose, and the library's per-thread state (its
 * error messages, the handles that keep state for the thread) is cleaned up
 * by the library's code then. The library is marked never to be unloaded,
 * so that code is still there. Run by test_c.py: dlclose_check LIBRARY. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "openaimodel.h"

typedef om_status (*create_fn)(const om_options *, om_model **);
typedef om_status (*ask_fn)(om_model *, const char *, const char *, int, char **);
typedef const char *(*errmsg_fn)(om_model *);
typedef void (*free_fn)(om_model *);

static void *lib;
static om_model *model;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static void wait_for(int s) {
    pthread_mutex_lock(&mu);
    while (stage < s) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void go(int s) {
    pthread_mutex_lock(&mu);
    stage = s;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg) {
    (void)arg;
    char *reply = NULL;
    om_model *bad = NULL;
    om_options o = OM_OPTIONS_INIT;
    o.version = 999;  /* a failed om_create: the thread's handle-less message */
    om_status s1 = ((create_fn)dlsym(lib, "om_create"))(&o, &bad);
    om_status s2 = ((ask_fn)dlsym(lib, "om_ask"))(model, "\xff", NULL, 0, &reply);
    printf("worker: om_create with a bad version: %d; om_ask with invalid UTF-8: %d (%s)\n", (int)s1, (int)s2,
           ((errmsg_fn)dlsym(lib, "om_errmsg"))(model));
    fflush(stdout);
    go(1);
    wait_for(2);
    return NULL;  /* the thread's destructors run now, after the dlclose */
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    om_options o = OM_OPTIONS_INIT;
    o.api_key = "sk-dlclose";
    o.no_dialogue_file = 1;
    if (((create_fn)dlsym(lib, "om_create"))(&o, &model) != OM_OK) return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) return 1;
    wait_for(1);
    ((free_fn)dlsym(lib, "om_free"))(model);
    printf("dlclose: %d\n", dlclose(lib));
    fflush(stdout);
    go(2);
    pthread_join(t, NULL);
    printf("the thread ended cleanly after the dlclose\n");
    return 0;
}
