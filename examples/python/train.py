#!/usr/bin/env python3
"""Fine-tunes on a CSV file, then follows the job with a progress bar on
stderr (the Python twin of train.c).

    python3 examples/python/train.py [-n] [-m BASE_MODEL] [-x SUFFIX] [-t TIMEOUT] [-W] CSV_FILE

stdout gets the job id as soon as the job exists, then the fine-tuned
model's name. Exit status 0 when the job succeeded (or, with -W, was
created). Ctrl-C stops waiting; the job goes on at the server.
Fine-tuning on OpenAI costs money.
"""
import argparse
import pathlib
import re
import sys

try:
    from openaimodel import OpenAIModel, OpenAIModelError
except ImportError:  # not installed: use the checkout's binding
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bindings" / "python"))
    from openaimodel import OpenAIModel, OpenAIModelError

FINAL = ("succeeded", "failed", "cancelled")


class Bar:
    """One bar per stage: redrawn in place on a terminal; in a file or a
    pipe, a line when the stage changes and when it ends."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.label = None
        self.detail = None
        self.open = False

    def draw(self, label, fraction, detail="", done=False):
        changed = label != self.label
        if not changed:
            if self.tty and not self.open:
                return  # this stage's bar is finished
            if not self.tty and not (done and detail != self.detail):
                return
        if changed and self.open:
            sys.stderr.write("\n")
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 30 + 0.5)
        line = f"{label:<16} [{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:3.0f}%  {detail[:40]:<40}"
        sys.stderr.write(("\r" if self.tty else "") + line)
        self.open = self.tty and not done
        if not self.open:
            sys.stderr.write("\n")
        sys.stderr.flush()
        self.label, self.detail = label, detail

    def end_line(self):
        if self.open:
            sys.stderr.write("\n")
            self.open = False


def main() -> int:
    parser = argparse.ArgumentParser(description="Fine-tune on a CSV file and wait for the job.")
    parser.add_argument("-n", dest="negative", action="store_true",
                        help='label text-only rows "negative" instead of "positive"')
    parser.add_argument("-m", dest="model", help="base model (default gpt-4o-mini)")
    parser.add_argument("-x", dest="suffix", help="suffix of the fine-tuned model's name")
    parser.add_argument("-t", dest="timeout", type=float, help="stop waiting after this many seconds")
    parser.add_argument("-W", dest="no_wait", action="store_true", help="print the job id and exit")
    parser.add_argument("csv")
    args = parser.parse_args()
    bar = Bar()

    def on_transfer(stage, done, total):  # "convert" and "upload", in bytes
        bar.draw(stage, done / total if total else 0.0, f"{done} of {total} bytes",
                 done=bool(total) and done >= total)

    state = {"fraction": 0.0, "detail": ""}

    def on_job(status, event):  # each status change (event None), then each new event
        if event is None:
            state["detail"] = status
            if status in FINAL:
                return  # main() draws the final state with the last event
        else:
            state["detail"] = event.get("message", "")
            data = event.get("data") or {}
            step, total = data.get("step"), data.get("total_steps")
            found = re.match(r"Step (\d+)/(\d+)", state["detail"])
            if not total and found:
                step, total = int(found.group(1)), int(found.group(2))
            if status == "running" and step and total:
                state["fraction"] = 0.15 + 0.80 * step / total
        state["fraction"] = {"validating_files": 0.05, "queued": 0.10,
                             "running": max(state["fraction"], 0.15), "succeeded": 1.0}.get(status, state["fraction"])
        bar.draw(status, state["fraction"], state["detail"])

    with OpenAIModel(model_name=args.model or "gpt-4o-mini", save_dialogue=False) as model:
        try:
            job_id = model.train(data_file=args.csv, positive=not args.negative, progress=on_transfer,
                                 suffix=args.suffix)
        except OpenAIModelError as e:
            bar.end_line()
            print(f"train: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        bar.end_line()
        print(job_id, flush=True)
        if args.no_wait:
            return 0
        try:
            job = model.wait_for_job(job_id, timeout=args.timeout, progress=on_job)
        except (OpenAIModelError, KeyboardInterrupt) as e:
            bar.end_line()
            print(f"train: {type(e).__name__}: {e}\n(the job {job_id} goes on at the server)", file=sys.stderr)
            return 1
    status = job.get("status", "?")
    bar.draw(status, 1.0 if status == "succeeded" else state["fraction"], state["detail"], done=True)
    if status == "succeeded" and job.get("fine_tuned_model"):
        print(job["fine_tuned_model"])
        return 0
    why = (job.get("error") or {}).get("message")
    print(f"train: job {job_id} ended '{status}'" + (f": {why}" if why else ""), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
