/* Nothing lost: the job registry under writers killed with SIGKILL at random
 * moments, two at a time. After every kill the registry must parse as a JSON
 * array holding every entry a writer reported saved; afterwards no
 * temporary file of a killed writer may be left behind.
 * (The dialogue file's kill loop is in test_chat.c.) */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"

#define WRITERS 2

static char dir[512], registry[600];

/* How many temporary files of the registry are in its folder. */
static int temp_files(void) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "job_ids.json.tmp-", 17) == 0) n++;
    if (d) closedir(d);
    return n;
}

/* A writer: saves ftjob-<round>-<writer>-<i> for i = 0, 1, ... and reports
 * each one saved with a byte on the pipe. */
static void writer(int round, int w, int fd, const char *key) {
    om_options o = OM_OPTIONS_INIT;
    o.data_dir = dir;
    o.no_dialogue_file = 1;
    om_model *m = th_model_opts(key, &o);
    for (int i = 0;; i++) {
        char id[64];
        snprintf(id, sizeof id, "ftjob-%d-%d-%d", round, w, i);
        if (om_save_job_id(m, id, "kill test", NULL) != OM_OK) {
            fprintf(stderr, "writer: %s\n", om_errmsg(m));
            _exit(3);
        }
        if (write(fd, "s", 1) != 1) _exit(4);
    }
}

static int has_id(json_t *arr, const char *id) {
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(arr, i), "id"));
        if (s && strcmp(s, id) == 0) return 1;
    }
    return 0;
}

static void registry_survives_sigkill(void) {
    const char *key = th_key("regkill");
    int rounds = getenv("OM_TEST_KILLS") ? atoi(getenv("OM_TEST_KILLS")) : 200;
    long reported_total = 0;
    int kills = 0;
    size_t entries = 0;
    int torn = 0; /* temporary files found right after a kill: writers killed mid-save */
    srand((unsigned)getpid());
    for (int r = 0; r < rounds; r++) {
        int fds[WRITERS][2];
        pid_t pids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            if (pipe(fds[w]) != 0) { CHECK(0, "pipe"); return; }
            pids[w] = fork();
            if (pids[w] == 0) {
                close(fds[w][0]);
                writer(r, w, fds[w][1], key);
            }
            close(fds[w][1]);
        }
        usleep((useconds_t)(1000 + rand() % 25000));
        for (int w = 0; w < WRITERS; w++) {
            /* the writers die at different moments */
            if (w > 0) usleep((useconds_t)(rand() % 3000));
            kill(pids[w], SIGKILL);
        }
        long reported[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            int st = 0;
            waitpid(pids[w], &st, 0);
            CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "round %d: writer %d ended otherwise (%d)", r, w, st);
            kills++;
            char b[4096];
            ssize_t n;
            reported[w] = 0;
            while ((n = read(fds[w][0], b, sizeof b)) > 0) reported[w] += n;
            close(fds[w][0]);
            reported_total += reported[w];
        }
        torn += temp_files();
        struct stat st;
        if (stat(registry, &st) != 0) {
            CHECK(reported[0] + reported[1] == 0, "round %d: no registry, but saves were reported", r);
            continue;
        }
        json_error_t err;
        json_t *arr = json_load_file(registry, 0, &err);
        CHECK(json_is_array(arr), "round %d: the registry does not parse: %s (line %d)", r, err.text, err.line);
        if (!json_is_array(arr)) { json_decref(arr); break; }
        for (int w = 0; w < WRITERS; w++) {
            for (long i = 0; i < reported[w]; i++) {
                char id[64];
                snprintf(id, sizeof id, "ftjob-%d-%d-%ld", r, w, i);
                if (!has_id(arr, id)) {
                    CHECK(0, "round %d: %s was reported saved but is missing", r, id);
                    break;
                }
            }
        }
        entries = json_array_size(arr);
        CHECK((st.st_mode & 0777) == 0600, "round %d: registry mode %o", r, st.st_mode & 0777);
        json_decref(arr);
    }
    printf("  %d kills in %d rounds, %ld saves reported, %zu entries on disk; %d times a writer died mid-save "
           "(its temporary file left)\n", kills, rounds, reported_total, entries, torn);
    CHECK(reported_total > 0, "no save completed");
    CHECK(entries >= (size_t)reported_total, "%zu entries for %ld reported saves", entries, reported_total);

    /* The next save clears what killed writers left behind. */
    om_options o = OM_OPTIONS_INIT;
    o.data_dir = dir;
    o.no_dialogue_file = 1;
    om_model *m = th_model_opts(key, &o);
    CHECK_STATUS(om_save_job_id(m, "ftjob-after", NULL, NULL), OM_OK, m);
    CHECK(temp_files() == 0, "%d temporary files remain after a save", temp_files());
    json_t *arr = json_load_file(registry, 0, NULL);
    CHECK(json_array_size(arr) == entries + 1, "%zu entries after one more save", json_array_size(arr));
    json_decref(arr);
    om_free(m);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    snprintf(dir, sizeof dir, "%s/durability-%ld", getenv("OM_TEST_DATA_DIR"), (long)getpid());
    mkdir(dir, 0700);
    snprintf(registry, sizeof registry, "%s/job_ids.json", dir);
    RUN(registry_survives_sigkill);
    return th_finish();
}
