"""Fine-tuning: the chat JSONL format check and the job state machine."""

import json
import time

from . import state

ROLES = ("system", "user", "assistant")
FAIL_MARK = "[[fail]]"
ORG_ID = "org-omtest0000000000000000"
ORG_NAME = "personal"
FINAL = ("succeeded", "failed", "cancelled")


class JsonlStats:
    def __init__(self):
        self.examples = 0
        self.words = 0
        self.fail_line = None       # first line whose user content holds FAIL_MARK


def check_chat_jsonl(path):
    """Check every line of a chat fine-tuning file.

    Returns (stats, None) when valid, or (stats, (line_number, reason)).
    Lines already seen valid are remembered (a bounded number of them), so
    big generated files that repeat a few examples are checked quickly.
    """
    stats = JsonlStats()
    known = {}        # line bytes -> (words, holds the fail mark)
    with open(path, "rb", buffering=1 << 20) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip(b"\r\n")
            hit = known.get(line)
            if hit is None:
                problem, hit = _check_line(line)
                if problem:
                    return stats, (n, problem)
                if len(known) < 4096:
                    known[line] = hit
            stats.examples += 1
            stats.words += hit[0]
            if hit[1] and stats.fail_line is None:
                stats.fail_line = n
    if stats.examples == 0:
        return stats, (0, "the file holds no training examples")
    return stats, None


def _check_line(line):
    """(problem or None, (words, has fail mark))."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 ({exc.reason} at byte {exc.start})", None
    if not text.strip():
        return "empty line", None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return f"not valid JSON ({exc})", None
    problem = _example_problem(obj)
    if problem:
        return problem, None
    words = 0
    fail = False
    for m in obj["messages"]:
        words += len(m["content"].split())
        if m["role"] == "user" and FAIL_MARK in m["content"]:
            fail = True
    return None, (words, fail)


def _example_problem(obj):
    if not isinstance(obj, dict):
        return "each line must be a JSON object"
    msgs = obj.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty array"
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            return f"messages[{i}] must be an object"
        if m.get("role") not in ROLES:
            return f"messages[{i}].role must be one of system, user, assistant (got {m.get('role')!r})"
        c = m.get("content")
        if not isinstance(c, str) or not c:
            return f"messages[{i}].content must be a non-empty string"
    if msgs[-1].get("role") != "assistant":
        return "the last message must be from the assistant"
    return None


def _resolve_hp(hp, examples):
    out = dict(hp)
    if out.get("batch_size", "auto") == "auto":
        out["batch_size"] = max(1, min(8, examples // 10 or 1))
    if out.get("learning_rate_multiplier", "auto") == "auto":
        out["learning_rate_multiplier"] = 1.8
    if out.get("n_epochs", "auto") == "auto":
        out["n_epochs"] = 3
    return out


class Job:
    def __init__(self, body, stats, model):
        self.id = state.new_id("ftjob-")
        self.created_at = int(time.time())
        self.model = model
        self.training_file = body["training_file"]
        self.validation_file = body.get("validation_file")
        self.suffix = body.get("suffix")
        self.seed = body.get("seed") if isinstance(body.get("seed"), int) else 42
        self.metadata = body.get("metadata")
        self.request_method = body.get("method")
        hp = {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
        given = body.get("hyperparameters")
        if isinstance(self.request_method, dict):
            sub = self.request_method.get(self.request_method.get("type") or "supervised")
            if isinstance(sub, dict) and isinstance(sub.get("hyperparameters"), dict):
                given = sub["hyperparameters"]
        if isinstance(given, dict):
            hp.update({k: v for k, v in given.items() if k in hp})
        self.hyperparameters = hp
        self.stats = stats
        self.status = "validating_files"
        self.polls = 0
        self.events = []
        self.error = None
        self.fine_tuned_model = None
        self.finished_at = None
        self.trained_tokens = None
        self.result_files = []
        self.event("info", f"Created fine-tuning job: {self.id}")
        self.event("info", f"Validating training file: {self.training_file}")

    def event(self, level, message, type_="message", data=None):
        ev = {"object": "fine_tuning.job.event", "id": state.new_id("ftevent-"),
              "created_at": int(time.time()), "level": level, "message": message,
              "type": type_}
        if data is not None:
            ev["data"] = data
        self.events.append(ev)

    def poll(self, steps, make_result_file):
        """One GET: advance a state once every ``steps`` polls."""
        if self.status in FINAL:
            return
        self.polls += 1
        if self.polls < max(1, int(steps)):
            return
        self.polls = 0
        if self.status == "validating_files":
            self.status = "queued"
            self.event("info", "Files validated, moving job to queued state")
        elif self.status == "queued":
            self.status = "running"
            self.hyperparameters = _resolve_hp(self.hyperparameters, self.stats.examples)
            self.event("info", "Fine-tuning job started")
        elif self.status == "running":
            self.finished_at = int(time.time())
            if self.stats.fail_line is not None:
                self.status = "failed"
                self.error = {"code": "invalid_training_file",
                              "message": (f"The job failed: training example on line "
                                          f"{self.stats.fail_line} of {self.training_file} "
                                          f"could not be trained on."),
                              "param": "training_file"}
                self.event("error", self.error["message"])
                return
            epochs = self.hyperparameters.get("n_epochs", 3)
            epochs = epochs if isinstance(epochs, int) else 3
            self.trained_tokens = max(1, self.stats.words) * epochs
            steps_total = max(1, self.stats.examples) * epochs
            csv = "step,train_loss,train_accuracy\n" + "".join(
                f"{i},{1.5 / i:.4f},{min(1.0, 0.5 + 0.05 * i):.2f}\n"
                for i in range(1, min(steps_total, 20) + 1))
            self.result_files = [make_result_file(csv.encode(), "step_metrics.csv")]
            self.fine_tuned_model = f"ft:{self.model}:{ORG_NAME}:{self.suffix or ''}:{state.new_id('', 8)}"
            self.event("info", f"Step {steps_total}/{steps_total}: training loss=0.1234",
                       type_="metrics", data={"step": steps_total, "train_loss": 0.1234,
                                              "train_mean_token_accuracy": 0.95})
            self.event("info", f"New fine-tuned model created: {self.fine_tuned_model}")
            self.status = "succeeded"
            self.event("info", "The job has successfully completed")

    def cancel(self):
        self.status = "cancelled"
        self.finished_at = int(time.time())
        self.event("info", "Fine-tuning job cancelled")

    def to_api(self):
        method = self.request_method if isinstance(self.request_method, dict) else \
            {"type": "supervised", "supervised": {"hyperparameters": dict(self.hyperparameters)}}
        return {
            "object": "fine_tuning.job",
            "id": self.id,
            "model": self.model,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "fine_tuned_model": self.fine_tuned_model,
            "organization_id": ORG_ID,
            "result_files": list(self.result_files),
            "status": self.status,
            "validation_file": self.validation_file,
            "training_file": self.training_file,
            "hyperparameters": dict(self.hyperparameters),
            "trained_tokens": self.trained_tokens,
            "error": self.error,
            "user_provided_suffix": self.suffix,
            "seed": self.seed,
            "estimated_finish": None,
            "integrations": [],
            "metadata": self.metadata,
            "method": method,
        }

    def events_newest_first(self):
        return list(reversed(self.events))
