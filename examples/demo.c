/*
 * demo.c - the original OpenAIModel's main(), in C, step by step.
 *
 *     demo [EXAMPLES_DATA_FOLDER]        (default: examples/data)
 *
 * 1. create the model with the system instruction "You are a helpful
 *    assistant." and the assistants file of the data folder
 * 2. print the server's models
 * 3. print the assistants defined in the assistants file
 * 4. ask "Hello, how are you?" and print the reply with its sentiment and
 *    the tokens it cost (om_last_response)
 * 5. dynamic training: fine-tune on the dialogue so far. Fine-tuning needs at
 *    least 10 examples, so a few more short questions are asked first
 * 6. train from the CSV file of the data folder
 * 7. save the ids of the jobs in the job registry (job_ids.json)
 * 8. describe the example image
 *
 * Every step prints what it did; a failed step prints why and the demo goes
 * on with the next. The exit status is 0 only when every step succeeded.
 *
 * Environment: OPENAI_API_KEY and OPENAI_BASE_URL as for every program using
 * the library. `make demo` (scripts/demo.sh) starts the project's local test
 * server when neither is set, and says so with OM_DEMO_LOCAL_SERVER=1. On a
 * real API, fine-tuning costs money: steps 5-7 run only with OM_DEMO_TRAIN=1.
 * The dialogue and the job registry go to $OPENAIMODEL_DATA_DIR, or else to a
 * new temporary folder (printed), never to the home folder.
 *
 * Results come back as JSON text; they are read with jansson, as any C
 * program would.
 *
 * Build: cc demo.c $(pkg-config --cflags --libs openaimodel jansson) -o demo
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openaimodel.h>

#define SYSTEM_INSTRUCTION "You are a helpful assistant."

/* Questions asked before dynamic training, so that the dialogue holds the
 * 10 exchanges that fine-tuning needs. Short, so they cost little. */
static const char *const more_questions[] = {
    "What is the capital of France?",
    "Name one primary colour.",
    "How many days are there in a week?",
    "What is twelve times twelve?",
    "Which planet is known as the red planet?",
    "What do bees make?",
    "How do you say 'thank you' in Spanish?",
    "At what temperature in Celsius does water boil at sea level?",
    "Give me one synonym for 'happy'.",
    "What is the largest ocean on Earth?",
};
#define MIN_EXCHANGES 10

/* ---- step bookkeeping ---------------------------------------------------- */

static int steps, failed, skipped;

static void step(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("\n[%d] ", ++steps);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* Prints an indented line of a step's output. */
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("    ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* Reports a failed library call with the library's explanation. */
static void fail(om_model *model, om_status status, const char *what) {
    failed++;
    printf("    FAILED: %s: %s: %s\n", what, om_status_str(status),
           model ? om_errmsg(model) : om_last_error());
    fflush(stdout);
}

static void skip(const char *why) {
    skipped++;
    say("skipped: %s", why);
}

/* Parses a JSON result of the library; NULL (and a failed step) if it is not
 * JSON, which would be a library defect. */
static json_t *parse(const char *text, const char *what) {
    json_error_t error;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &error);
    if (!value) {
        failed++;
        say("FAILED: %s is not JSON: %s", what, error.text);
    }
    return value;
}

/* Prints a list of strings as indented lines of at most ~76 columns. */
static void print_wrapped(const char *const *items, size_t n) {
    char line[80] = "";
    for (size_t i = 0; i < n; i++) {
        if (line[0] && strlen(line) + strlen(items[i]) + 2 > 72) {
            say("%s", line);
            line[0] = '\0';
        }
        if (line[0]) strcat(line, ", ");
        if (strlen(items[i]) > 70) {
            say("%s", items[i]);
            continue;
        }
        strcat(line, items[i]);
    }
    if (line[0]) say("%s", line);
}

/* "dir/name", allocated (the caller frees it). */
static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) {
        perror("demo");
        exit(1);
    }
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- the steps ----------------------------------------------------------- */

static void show_models(om_model *model) {
    step("list the models");
    char *json = NULL;
    om_status status = om_list_models(model, &json);
    if (status != OM_OK) {
        fail(model, status, "om_list_models");
        return;
    }
    json_t *ids = parse(json, "the model list"); /* a JSON array of ids */
    om_string_free(json);
    if (!ids) return;
    size_t n = json_array_size(ids);
    say("the server offers %zu:", n);
    const char **names = calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++) names[i] = json_string_value(json_array_get(ids, i));
    print_wrapped(names, n);
    free(names);
    json_decref(ids);
}

static void show_assistants(om_model *model, const char *file) {
    step("list the assistants of %s", file);
    char *json = NULL;
    om_status status = om_list_assistants(model, &json);
    if (status != OM_OK) {
        fail(model, status, "om_list_assistants");
        return;
    }
    json_t *list = parse(json, "the assistant list"); /* [{"id", "name", "title", "description"}] */
    om_string_free(json);
    if (!list) return;
    say("%zu defined:", json_array_size(list));
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *title = json_string_value(json_object_get(a, "title"));
        say("%s - %s (%s)", name ? name : "(no name)", title ? title : "",
            json_string_value(json_object_get(a, "id")));
    }
    json_decref(list);
}

/* The tokens the last answer cost, from the completion om_last_response()
 * keeps (om_ask returns only the text). A server may send no usage. */
static void show_usage(om_model *model) {
    const char *raw = om_last_response(model);
    json_t *completion = raw ? json_loads(raw, 0, NULL) : NULL;
    json_t *usage = json_object_get(completion, "usage");
    if (json_is_object(usage))
        say("tokens:    %" JSON_INTEGER_FORMAT " prompt + %" JSON_INTEGER_FORMAT " completion = %"
            JSON_INTEGER_FORMAT, json_integer_value(json_object_get(usage, "prompt_tokens")),
            json_integer_value(json_object_get(usage, "completion_tokens")),
            json_integer_value(json_object_get(usage, "total_tokens")));
    else
        say("tokens:    (the server sent no usage)");
    json_decref(completion);
}

/* Asks one question and prints it with the reply and the reply's sentiment. */
static int ask(om_model *model, const char *question) {
    say("you:       %s", question);
    char *reply = NULL;
    om_status status = om_ask(model, question, NULL, 3, &reply); /* 3 tries at most */
    if (status != OM_OK) {
        fail(model, status, "om_ask");
        return 0;
    }
    say("assistant: %s", reply);
    say("sentiment: %s", om_determine_sentiment(reply));
    om_string_free(reply);
    return 1;
}

/* The number of complete exchanges (a user message answered) so far. */
static int exchanges(om_model *model) {
    char *json = NULL;
    if (om_dialogue(model, &json) != OM_OK) return -1;
    json_t *entries = json_loads(json, 0, NULL);
    om_string_free(json);
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *role = json_string_value(json_object_get(e, "role"));
        if (role && strcmp(role, "assistant") == 0) n++;
    }
    json_decref(entries);
    return n;
}

static char *dynamic_training(om_model *model) {
    int have = exchanges(model);
    int need = MIN_EXCHANGES - (have < 0 ? 0 : have);
    step("dynamic training on the dialogue (it holds %d exchange%s; fine-tuning needs %d)",
         have, have == 1 ? "" : "s", MIN_EXCHANGES);
    if (need > 0) say("asking %d more question%s first:", need, need == 1 ? "" : "s");
    size_t n = sizeof more_questions / sizeof more_questions[0];
    for (size_t i = 0; need > 0 && i < n; i++) {
        if (ask(model, more_questions[i])) need--;
    }
    char *job = NULL;
    om_status status = om_dynamic_train(model, &job);
    if (status != OM_OK) {
        fail(model, status, "om_dynamic_train");
        return NULL;
    }
    say("uploaded %d exchanges; fine-tuning job %s created", exchanges(model), job);
    return job;
}

static char *csv_training(om_model *model, const char *csv) {
    step("train from %s", csv);
    char *job = NULL;
    om_status status = om_train(model, NULL, NULL, csv, 1, &job);
    if (status != OM_OK) {
        fail(model, status, "om_train");
        return NULL;
    }
    say("converted, validated and uploaded; fine-tuning job %s created", job);
    return job;
}

static void save_jobs(om_model *model, const char *dir, char *const jobs[], const char *const what[], int n) {
    step("save the job ids in the job registry");
    int saved = 0;
    for (int i = 0; i < n; i++) {
        if (!jobs[i]) continue;
        om_status status = om_save_job_id(model, jobs[i], what[i], NULL); /* NULL: job_ids.json */
        if (status != OM_OK) {
            fail(model, status, "om_save_job_id");
            return;
        }
        saved++;
    }
    if (saved == 0) {
        failed++;
        say("FAILED: no job was created, so there is no id to save");
        return;
    }
    /* Read the registry back: a JSON array of {"id", "description", "created"}. */
    char *path = path_join(dir, "job_ids.json");
    json_error_t error;
    json_t *registry = json_load_file(path, 0, &error);
    if (!json_is_array(registry)) {
        failed++;
        say("FAILED: cannot read %s back: %s", path, error.text);
        json_decref(registry);
        free(path);
        return;
    }
    say("saved %d id%s in %s, which now lists %zu job%s:", saved, saved == 1 ? "" : "s", path,
        json_array_size(registry), json_array_size(registry) == 1 ? "" : "s");
    size_t i;
    json_t *entry;
    json_array_foreach(registry, i, entry) {
        say("%s  created %lld  %s", json_string_value(json_object_get(entry, "id")),
            (long long)json_integer_value(json_object_get(entry, "created")),
            json_string_value(json_object_get(entry, "description")));
    }
    json_decref(registry);
    free(path);
}

static void describe(om_model *model, const char *image) {
    step("describe the image %s", image);
    char *json = NULL;
    om_status status = om_describe_image(model, image, NULL, NULL, &json);
    if (status != OM_OK) {
        fail(model, status, "om_describe_image");
        return;
    }
    json_t *value = parse(json, "the description");
    om_string_free(json);
    if (!value) return;
    json_t *text = json_object_get(value, "description");
    if (json_object_size(value) == 1 && json_is_string(text)) {
        say("%s", json_string_value(text)); /* the model answered in prose */
    } else {
        char *pretty = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        for (char *line = strtok(pretty, "\n"); line; line = strtok(NULL, "\n")) say("%s", line);
        free(pretty);
    }
    json_decref(value);
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "examples/data";
    const char *key = getenv("OPENAI_API_KEY");
    const char *base = getenv("OPENAI_BASE_URL");
    int local = getenv("OM_DEMO_LOCAL_SERVER") && strcmp(getenv("OM_DEMO_LOCAL_SERVER"), "1") == 0;
    const char *opt_in = getenv("OM_DEMO_TRAIN");
    int train = local || (opt_in && strcmp(opt_in, "1") == 0);
    if (base && !*base) base = NULL;

    /* The first line says which server this talks to. */
    if (local) {
        printf("demo: OPENAI_API_KEY is not set, so this runs against the project's local "
               "OpenAI-compatible test server at %s (its replies are canned, its image descriptions are "
               "the image's metadata and its fine-tuning is simulated)\n", base);
    } else if (key && *key) {
        printf("demo: using %s with the key from OPENAI_API_KEY\n", base ? base : "https://api.openai.com/v1");
    } else if (base) {
        printf("demo: using %s without an API key\n", base);
    } else {
        printf("demo: OPENAI_API_KEY is not set. Set it (and OPENAI_BASE_URL for another server), "
               "or run `make demo`, which starts the project's local test server.\n");
        return 2;
    }

    /* Where the dialogue and the job registry go. */
    char *dir;
    const char *env_dir = getenv("OPENAIMODEL_DATA_DIR");
    if (env_dir && *env_dir) {
        dir = strdup(env_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        dir = path_join(tmp && *tmp ? tmp : "/tmp", "openaimodel-demo-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("demo: cannot create a temporary data folder");
            return 1;
        }
    }
    printf("demo: data folder %s (the dialogue and job_ids.json are written there)\n", dir);

    char *assistants = path_join(data, "assistants.json");
    char *csv = path_join(data, "training.csv");
    char *image = path_join(data, "example.jpg");

    /* 1. The model: nothing touches the network yet. */
    om_options options = OM_OPTIONS_INIT;
    options.system_instruction = SYSTEM_INSTRUCTION;
    options.assistants_file = assistants;
    options.data_dir = dir;
    om_model *model = NULL;
    om_status status = om_create(&options, &model);
    step("create the model (libopenaimodel %s, system instruction \"%s\")", om_version(), SYSTEM_INSTRUCTION);
    if (status != OM_OK) {
        fail(NULL, status, "om_create");
        printf("\ndemo: cannot go on without a model\n");
        free(dir), free(assistants), free(csv), free(image);
        return 1;
    }
    say("ok: model gpt-4o-mini, assistants from %s", assistants);

    show_models(model);                                                   /* 2 */
    show_assistants(model, assistants);                                   /* 3 */

    step("ask \"Hello, how are you?\"");                                  /* 4 */
    if (ask(model, "Hello, how are you?")) show_usage(model);

    char *jobs[2] = {NULL, NULL};
    const char *what[2] = {"dynamic training on the demo's dialogue", "training from training.csv"};
    if (train) {
        jobs[0] = dynamic_training(model);                                /* 5 */
        jobs[1] = csv_training(model, csv);                               /* 6 */
        save_jobs(model, dir, jobs, what, 2);                             /* 7 */
    } else {
        const char *why = "fine-tuning costs money on a real API; set OM_DEMO_TRAIN=1 to create the jobs";
        step("dynamic training on the dialogue");
        skip(why);
        step("train from %s", csv);
        skip(why);
        step("save the job ids in the job registry");
        skip("no job was created");
    }

    describe(model, image);                                               /* 8 */

    om_string_free(jobs[0]);
    om_string_free(jobs[1]);
    om_free(model);
    free(dir), free(assistants), free(csv), free(image);

    printf("\ndemo: %d steps, %d failed, %d skipped\n", steps, failed, skipped);
    return failed ? 1 : 0;
}
