/*
 * peak.c - runs a command and reports its peak resident memory and wall time:
 *
 *   peak OUTFILE COMMAND [ARG...]
 *
 * writes "<peak RSS in KiB> <wall seconds> <exit status>" to OUTFILE.
 *
 * Why a launcher: a child's ru_maxrss (wait4, getrusage) includes the
 * resident size of the process it was forked from, kept across exec. Forked
 * straight from bench/run.py, every side would show at least run.py's own
 * size. Forked from this small program, the bias is its ~1 MB, the same for
 * every side.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: peak OUTFILE COMMAND [ARG...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) { perror("wait4"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = fopen(argv[1], "w");
    if (!f) { perror(argv[1]); return 2; }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(f, "%ld %.9f %d\n", ru.ru_maxrss,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, code);
    fclose(f);
    return code;
}
