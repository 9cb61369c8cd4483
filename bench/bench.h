/* bench.h - what the two C benchmark programs (om_bench.c on the library,
 * curl_floor.c on bare libcurl) share: the clock and the threads workload's
 * timing. Header only, with no libopenaimodel in it: the floor must not link
 * the library. */
#ifndef OM_BENCH_H
#define OM_BENCH_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread of the threads workload: `ctx` is what the program's requests
 * need (a handle, a URL); the thread makes one untimed request (its
 * connection), waits at `ready`, then makes `n` requests. */
struct bench_worker {
    void *ctx;
    long n;
    pthread_barrier_t *ready;
};

/* Runs `work` on `t` threads (1..64); returns the seconds from the moment
 * all are connected until the last one is done. */
static double bench_time_threads(void *ctx, int t, long n, void *(*work)(void *)) {
    pthread_t tids[64];
    struct bench_worker ws[64];
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, (unsigned)t + 1);
    for (int i = 0; i < t; i++) {
        ws[i] = (struct bench_worker){ctx, n, &ready};
        if (pthread_create(&tids[i], NULL, work, &ws[i]) != 0) {
            fprintf(stderr, "bench: pthread_create failed\n");
            exit(1);
        }
    }
    pthread_barrier_wait(&ready);
    double t0 = now();
    for (int i = 0; i < t; i++) pthread_join(tids[i], NULL);
    double el = now() - t0;
    pthread_barrier_destroy(&ready);
    return el;
}

/* The threads workload: n requests on one thread, then n on each of t;
 * prints the result line. 2 for a thread count out of range. */
static int bench_threads(void *ctx, int t, long n, void *(*work)(void *)) {
    if (t < 1 || t > 64) {
        fprintf(stderr, "bench: 1..64 threads\n");
        return 2;
    }
    double one = bench_time_threads(ctx, 1, n, work);
    double many = bench_time_threads(ctx, t, n, work);
    printf("{\"one_seconds\": %.6f, \"one_count\": %ld, \"many_seconds\": %.6f, \"many_count\": %ld, "
           "\"threads\": %d}\n", one, n, many, n * t, t);
    return 0;
}

#endif
