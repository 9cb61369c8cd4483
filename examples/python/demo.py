#!/usr/bin/env python3
"""The original OpenAIModel's main(), with the binding (the Python twin of
demo.c): the same eight steps, each printing what it did.

    python3 examples/python/demo.py [EXAMPLES_DATA_FOLDER]     (default: examples/data)

`make demo-python` runs it against the local test server when neither
OPENAI_API_KEY nor OPENAI_BASE_URL is set. On a real API, fine-tuning costs
money: steps 5-7 run only with OM_DEMO_TRAIN=1. The dialogue and the job
registry go to $OPENAIMODEL_DATA_DIR, or else to a new temporary folder.
Exit status 0 only when every step succeeded.
"""
import json
import os
import pathlib
import sys
import tempfile
import textwrap

try:
    from openaimodel import OpenAIModel, OpenAIModelError, library_version
except ImportError:  # not installed: use the checkout's binding
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
    from openaimodel import OpenAIModel, OpenAIModelError, library_version

SYSTEM_INSTRUCTION = "You are a helpful assistant."
MORE_QUESTIONS = [
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
]
MIN_EXCHANGES = 10


class Steps:
    def __init__(self):
        self.count = self.failed = self.skipped = 0

    def start(self, title):
        self.count += 1
        print(f"\n[{self.count}] {title}", flush=True)

    @staticmethod
    def say(text):
        print(f"    {text}", flush=True)

    def fail(self, what, error):
        self.failed += 1
        self.say(f"FAILED: {what}: {type(error).__name__}: {error}")

    def skip(self, why):
        self.skipped += 1
        self.say(f"skipped: {why}")


def main() -> int:
    data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "examples/data")
    key = os.environ.get("OPENAI_API_KEY")
    base = os.environ.get("OPENAI_BASE_URL") or None
    local = os.environ.get("OM_DEMO_LOCAL_SERVER") == "1"
    train = local or os.environ.get("OM_DEMO_TRAIN") == "1"

    if local:
        print("demo: OPENAI_API_KEY is not set, so this runs against the project's local OpenAI-compatible "
              f"test server at {base} (its replies are canned, its image descriptions are the image's "
              "metadata and its fine-tuning is simulated)")
    elif key:
        print(f"demo: using {base or 'https://api.openai.com/v1'} with the key from OPENAI_API_KEY")
    elif base:
        print(f"demo: using {base} without an API key")
    else:
        print("demo: OPENAI_API_KEY is not set. Set it (and OPENAI_BASE_URL for another server), "
              "or run `make demo-python`, which starts the project's local test server.")
        return 2

    data_dir = os.environ.get("OPENAIMODEL_DATA_DIR") or tempfile.mkdtemp(prefix="openaimodel-demo-")
    print(f"demo: data folder {data_dir} (the dialogue and job_ids.json are written there)")
    assistants = data / "assistants.json"
    steps = Steps()
    say = steps.say

    steps.start(f'create the model (libopenaimodel {library_version}, system instruction "{SYSTEM_INSTRUCTION}")')
    try:
        model = OpenAIModel(system_instruction=SYSTEM_INSTRUCTION, assistants_file=str(assistants),
                            data_dir=data_dir)
    except OpenAIModelError as e:
        steps.fail("OpenAIModel()", e)
        print("\ndemo: cannot go on without a model")
        return 1
    say(f"ok: model {model.model_name}, assistants from {assistants}")

    with model:
        steps.start("list the models")
        try:
            models = model.list_models
            say(f"the server offers {len(models)}:")
            for line in textwrap.wrap(", ".join(models), 72):
                say(line)
        except OpenAIModelError as e:
            steps.fail("list_models", e)

        steps.start(f"list the assistants of {assistants}")
        try:
            found = model.assistants()
            say(f"{len(found)} defined:")
            for a in found:
                say(f"{a['name']} - {a['title']} ({a['id']})")
        except OpenAIModelError as e:
            steps.fail("list_assistants", e)

        def ask(question):
            say(f"you:       {question}")
            try:
                reply = model.ask(question)
            except OpenAIModelError as e:
                steps.fail("ask", e)
                return False
            say(f"assistant: {reply}")
            say(f"sentiment: {model.determine_sentiment(reply)}")
            return True

        steps.start('ask "Hello, how are you?"')
        if ask("Hello, how are you?"):
            usage = (model.last_response or {}).get("usage")   # what ask() leaves out
            if isinstance(usage, dict):
                say(f"tokens:    {usage.get('prompt_tokens')} prompt + {usage.get('completion_tokens')} completion"
                    f" = {usage.get('total_tokens')}")
            else:
                say("tokens:    (the server sent no usage)")

        jobs = []
        if train:
            have = sum(1 for e in model.dialogue if e["role"] == "assistant")
            steps.start(f"dynamic training on the dialogue (it holds {have} exchange{'s' * (have != 1)}; "
                        f"fine-tuning needs {MIN_EXCHANGES})")
            need = MIN_EXCHANGES - have
            if need > 0:
                say(f"asking {need} more question{'s' * (need != 1)} first:")
            for question in MORE_QUESTIONS:
                if need <= 0:
                    break
                if ask(question):
                    need -= 1
            try:
                job = model.dynamic_train()
                jobs.append((job, "dynamic training on the demo's dialogue"))
                have = sum(1 for e in model.dialogue if e["role"] == "assistant")
                say(f"uploaded {have} exchanges; fine-tuning job {job} created")
            except OpenAIModelError as e:
                steps.fail("dynamic_train", e)

            csv = data / "training.csv"
            steps.start(f"train from {csv}")
            try:
                job = model.train(data_file=str(csv))
                jobs.append((job, "training from training.csv"))
                say(f"converted, validated and uploaded; fine-tuning job {job} created")
            except OpenAIModelError as e:
                steps.fail("train", e)

            steps.start("save the job ids in the job registry")
            try:
                for job, description in jobs:
                    model.save_job_id(job, description)
                if not jobs:
                    steps.failed += 1
                    say("FAILED: no job was created, so there is no id to save")
                else:
                    registry = pathlib.Path(data_dir) / "job_ids.json"
                    entries = json.loads(registry.read_text())
                    say(f"saved {len(jobs)} id{'s' * (len(jobs) != 1)} in {registry}, which now lists "
                        f"{len(entries)} job{'s' * (len(entries) != 1)}:")
                    for entry in entries:
                        say(f"{entry['id']}  created {entry['created']}  {entry['description']}")
            except (OpenAIModelError, OSError, ValueError) as e:
                steps.fail("save_job_id", e)
        else:
            why = "fine-tuning costs money on a real API; set OM_DEMO_TRAIN=1 to create the jobs"
            steps.start("dynamic training on the dialogue")
            steps.skip(why)
            steps.start(f"train from {data / 'training.csv'}")
            steps.skip(why)
            steps.start("save the job ids in the job registry")
            steps.skip("no job was created")

        image = data / "example.jpg"
        steps.start(f"describe the image {image}")
        try:
            result = model.describe_image(str(image))
            if isinstance(result, dict) and list(result) == ["description"]:
                say(result["description"])
            else:
                for line in json.dumps(result, indent=2).splitlines():
                    say(line)
        except OpenAIModelError as e:
            steps.fail("describe_image", e)

    print(f"\ndemo: {steps.count} steps, {steps.failed} failed, {steps.skipped} skipped")
    return 1 if steps.failed else 0


if __name__ == "__main__":
    sys.exit(main())
