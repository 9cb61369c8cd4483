/* load_time.c - how long loading libopenaimodel takes in a fresh process.
 *
 *     load_time LIBRARY
 *
 * Prints "load_ms=<dlopen with RTLD_NOW + dlsym + om_version()>
 * create_ms=<first om_create(NULL) + om_free()>". A library can be loaded
 * only once per process (this one stays loaded after a dlclose()), so the caller
 * runs this several times and takes the median. */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
    double t0 = now_ms();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    const char *(*version)(void);
    int (*create)(const void *, void **);
    void (*destroy)(void *);
    void *s1 = dlsym(lib, "om_version"), *s2 = dlsym(lib, "om_create"), *s3 = dlsym(lib, "om_free");
    if (!s1 || !s2 || !s3) return 1;
    memcpy(&version, &s1, sizeof s1);
    memcpy(&create, &s2, sizeof s2);
    memcpy(&destroy, &s3, sizeof s3);
    const char *v = version();
    double t1 = now_ms();
    void *model = NULL;
    if (create(NULL, &model) != 0) return 1;
    destroy(model);
    double t2 = now_ms();
    printf("version=%s load_ms=%.3f create_ms=%.3f\n", v, t1 - t0, t2 - t1);
    return 0;
}
