"""Fine-tuning: train / dynamic_train, job ids, the job helpers, wait_for_job."""

from __future__ import annotations

import json
import threading
import time

import pytest

import openaimodel
from harness import encode_multipart
from omtest import requests_to

POSITIVE = ["I love this product", "What a wonderful day", "Great service, thank you",
            "This made me so happy", "Absolutely amazing work", "Best purchase ever",
            "I enjoyed every minute", "Fantastic support team", "Lovely and kind people",
            "Excellent quality overall", "Brilliant idea", "Such a pleasant surprise"]


def csv_text(rows=POSITIVE):
    """One text column with a header; labels come from ``positive``."""
    return "text\n" + "".join(f'"{r}"\n' for r in rows)


def labelled_csv(rows):
    return "text,label\n" + "".join(f'"{t}",{label}\n' for t, label in rows)


def uploaded_training_file(tenant):
    files = [f for f in tenant.files() if f["purpose"] == "fine-tune"]
    assert len(files) == 1
    return files[0], tenant.file_content(files[0]["id"]).decode()


def examples(jsonl):
    return [json.loads(line) for line in jsonl.splitlines() if line.strip()]


def create_job_directly(tenant, user_text="hello", n=10, model="gpt-4o-mini"):
    """A job made through the API itself (independent of the library's train)."""
    lines = "".join(json.dumps({"messages": [{"role": "user", "content": f"{user_text} {i}"},
                                             {"role": "assistant", "content": "ok"}]}) + "\n"
                    for i in range(n))
    body, ctype = encode_multipart({"purpose": "fine-tune"},
                                   [("file", "train.jsonl", "application/jsonl", lines.encode())])
    r = tenant.call("POST", "/files", body, {"Content-Type": ctype})
    assert r.status == 200, r
    r = tenant.call("POST", "/fine_tuning/jobs", {"training_file": r.json()["id"], "model": model})
    assert r.status == 200, r
    return r.json()["id"]


# --- train ----------------------------------------------------------------------

def test_train_from_csv_text(model, tenant):
    job_id = model.train(data=csv_text())
    assert job_id.startswith("ftjob-")
    assert model.current_job_id == job_id
    info, content = uploaded_training_file(tenant)
    exs = examples(content)
    assert len(exs) == len(POSITIVE)
    users = [m["content"] for e in exs for m in e["messages"] if m["role"] == "user"]
    assert users == POSITIVE
    assert all(e["messages"][-1]["role"] == "assistant" for e in exs)
    assert all("positive" in e["messages"][-1]["content"].lower() for e in exs)
    (job_req,) = requests_to(tenant, "/fine_tuning/jobs")
    assert job_req["json"]["training_file"] == info["id"]
    assert job_req["json"]["model"] == "gpt-4o-mini"


def test_train_negative_label(model, tenant):
    model.train(data=csv_text(), positive=False)
    _, content = uploaded_training_file(tenant)
    assert all("negative" in e["messages"][-1]["content"].lower() for e in examples(content))


def test_train_labelled_and_prompt_completion_layouts(model, tenant):
    rows = [(t, "joy" if i % 2 else "calm") for i, t in enumerate(POSITIVE)]
    model.train(data=labelled_csv(rows), positive=False)
    _, content = uploaded_training_file(tenant)
    replies = [e["messages"][-1]["content"] for e in examples(content)]
    assert replies == [label for _, label in rows]          # the label column wins
    tenant.reset()
    pairs = "".join(f'"q{i}","a{i}"\n' for i in range(10))
    model.train(data="Question,Answer\n" + pairs)
    _, content = uploaded_training_file(tenant)
    assert examples(content)[4]["messages"][-2:] == [{"role": "user", "content": "q4"},
                                                     {"role": "assistant", "content": "a4"}]


def test_train_validation_names_the_line(model, tenant):
    rows = [(t, "x") for t in POSITIVE]
    rows[4] = ("", "x")                                      # an empty text on line 6
    with pytest.raises(openaimodel.InvalidDataError) as info:
        model.train(data=labelled_csv(rows))
    assert ":6" in str(info.value)
    with pytest.raises(openaimodel.InvalidDataError, match="colour"):
        model.train(data="colour\nred\n")
    with pytest.raises(openaimodel.InvalidDataError):       # fewer than 10 examples
        model.train(data=csv_text(POSITIVE[:3]))
    assert tenant.files() == [] and requests_to(tenant, "/") == []


def test_train_from_file_and_folder(model, tenant, tmp_path):
    folder = tmp_path / "csvs"
    folder.mkdir()
    (folder / "b.csv").write_text(csv_text(POSITIVE[6:]))
    (folder / "a.csv").write_text(csv_text(POSITIVE[:6]))
    (folder / "ignored.txt").write_text("not csv")
    job1 = model.train(data_dir=folder)
    file = tmp_path / "one.csv"
    file.write_text(csv_text())
    job2 = model.train(data_file=file)
    assert job1 != job2
    assert model.current_job_id == job2
    contents = [examples(tenant.file_content(f["id"]).decode())
                for f in tenant.files() if f["purpose"] == "fine-tune"]
    for exs in contents:
        users = [m["content"] for e in exs for m in e["messages"] if m["role"] == "user"]
        assert users == POSITIVE                      # folder files sorted by name


def test_train_with_options_and_progress(model, tenant):
    calls = []
    job_id = model.train(data=csv_text(), progress=lambda *a: calls.append(a),
                         model="gpt-4o", suffix="mine")
    assert job_id
    assert calls, "progress was never called"
    stages = {stage for stage, _, _ in calls}
    assert stages <= {"convert", "upload"} and "upload" in stages
    for stage, done, total in calls:
        assert isinstance(done, int) and done >= 0
        assert total is None or (isinstance(total, int) and done <= total)
    body = requests_to(tenant, "/fine_tuning/jobs")[0]["json"]
    assert body["model"] == "gpt-4o" and body["suffix"] == "mine"


def test_fine_tune_suffix_option(make_model, tenant):
    m = make_model(fine_tune_suffix="from-option")
    m.train(data=csv_text())
    assert requests_to(tenant, "/fine_tuning/jobs")[0]["json"]["suffix"] == "from-option"


def test_train_progress_raising_is_re_raised(model, tenant):
    class Boom(Exception):
        pass

    def progress(stage, done, total):
        raise Boom(stage)

    with pytest.raises(Boom):
        model.train(data=csv_text(), progress=progress)
    assert requests_to(tenant, "/fine_tuning/jobs") == []
    assert model.current_job_id is None


def test_train_progress_returning_true_stops(model, tenant):
    with pytest.raises(openaimodel.Cancelled):
        model.train(data=csv_text(), progress=lambda stage, done, total: True)
    assert requests_to(tenant, "/fine_tuning/jobs") == []


def test_train_argument_errors(model, tenant, tmp_path):
    with pytest.raises(ValueError):
        model.train()                                     # no source
    with pytest.raises(ValueError):
        model.train(data=csv_text(), data_file=tmp_path / "x.csv")   # two sources
    with pytest.raises(FileNotFoundError):
        model.train(data_file=tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        model.train(data_dir=tmp_path / "missing")
    with pytest.raises(openaimodel.InvalidDataError):
        model.train(data='text\n"unterminated\n')
    assert tenant.files() == []


def test_dynamic_train(model, tenant):
    for i in range(10):
        model.ask(f"question number {i}", system_instruction="Be short.")
    job_id = model.dynamic_train()
    assert job_id.startswith("ftjob-") and model.current_job_id == job_id
    _, content = uploaded_training_file(tenant)
    exs = examples(content)
    assert len(exs) == 10
    assert exs[3]["messages"] == [{"role": "system", "content": "Be short."},
                                  {"role": "user", "content": "question number 3"},
                                  {"role": "assistant", "content": "You said: question number 3"}]


def test_current_job_id_none(model):
    assert model.current_job_id is None


# --- job ids file ----------------------------------------------------------------

def test_save_job_id(model, tmp_path):
    before = int(time.time())
    model.save_job_id("ftjob-1", "first")
    model.save_job_id("ftjob-2", None)
    saved = json.loads((tmp_path / "job_ids.json").read_text())
    assert [(e["id"], e["description"]) for e in saved] == [("ftjob-1", "first"), ("ftjob-2", None)]
    assert all(before <= e["created"] <= time.time() + 1 for e in saved)
    other = tmp_path / "elsewhere.json"
    model.save_job_id("ftjob-3", "abs", filename=other)
    assert json.loads(other.read_text())[0]["id"] == "ftjob-3"


def test_save_job_id_corrupt_file_left_alone(model, tmp_path):
    path = tmp_path / "job_ids.json"
    path.write_text('{"not": "a list"}')
    with pytest.raises(openaimodel.InvalidDataError):
        model.save_job_id("ftjob-1", "x")
    assert path.read_text() == '{"not": "a list"}'


def test_save_job_id_from_threads(model, tmp_path):
    errors = []

    def save(i):
        try:
            model.save_job_id(f"ftjob-{i}", str(i))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    saved = json.loads((tmp_path / "job_ids.json").read_text())
    assert sorted(e["id"] for e in saved) == sorted(f"ftjob-{i}" for i in range(8))


# --- job helpers -----------------------------------------------------------------

def test_job_events_jobs_cancel(model, tenant):
    job_id = create_job_directly(tenant)
    job = model.job(job_id)
    # every GET is a poll that moves the test server's job on one step
    assert job["id"] == job_id and job["status"] in ("validating_files", "queued")
    events = model.job_events(job_id)
    assert isinstance(events["data"], list) and events["data"]
    assert "has_more" in events
    limited = model.job_events(job_id, limit=1)
    assert len(limited["data"]) == 1 and limited["has_more"] is True
    after = model.job_events(job_id, after=limited["data"][0]["id"])
    assert after["data"][0]["id"] != limited["data"][0]["id"]
    second = create_job_directly(tenant)
    listed = model.jobs()
    assert [j["id"] for j in listed["data"]][:2] == [second, job_id]
    assert len(model.jobs(limit=1)["data"]) == 1
    assert model.jobs(after=second)["data"][0]["id"] == job_id
    cancelled = model.cancel_job(job_id)
    assert cancelled["status"] == "cancelled"
    with pytest.raises(openaimodel.BadRequestError):
        model.cancel_job(job_id)                          # already finished
    with pytest.raises(openaimodel.NotFoundError):
        model.job("ftjob-doesnotexist")


def test_wait_for_job(model, tenant):
    job_id = create_job_directly(tenant)
    seen = []
    final = model.wait_for_job(job_id, timeout=60, progress=lambda s, e: seen.append((s, e)))
    assert final["status"] == "succeeded" and final["fine_tuned_model"]
    statuses = [s for s, e in seen if e is None]
    assert statuses[-1] == "succeeded"
    assert "running" in statuses
    events = [e for s, e in seen if e is not None]
    assert events and all(isinstance(e, dict) and e["object"] == "fine_tuning.job.event"
                          for e in events)
    assert model.current_job_id == job_id                 # the followed job becomes current


def test_wait_for_current_job(model, tenant):
    model.train(data=csv_text())
    final = model.wait_for_job(timeout=60)
    assert final["id"] == model.current_job_id and final["status"] == "succeeded"


def test_wait_for_failed_job(model, tenant):
    job_id = create_job_directly(tenant, user_text="[[fail]]")
    final = model.wait_for_job(job_id, timeout=60)
    assert final["status"] == "failed" and final["error"]["code"] == "invalid_training_file"


def test_wait_without_a_job(model):
    with pytest.raises(ValueError, match="no current job"):
        model.wait_for_job()


def test_wait_timeout(model, tenant):
    tenant.config({"job_steps": 1000})
    job_id = create_job_directly(tenant)
    started = time.monotonic()
    with pytest.raises(openaimodel.APITimeoutError):
        model.wait_for_job(job_id, timeout=1)
    assert time.monotonic() - started < 10


def test_wait_progress_raising_is_re_raised(model, tenant):
    job_id = create_job_directly(tenant)

    class Boom(Exception):
        pass

    def progress(status, event):
        raise Boom(status)

    with pytest.raises(Boom):
        model.wait_for_job(job_id, progress=progress)
    assert model.job(job_id)["status"] != "cancelled"     # only the waiting stopped


def test_wait_progress_returning_true_stops(model, tenant):
    job_id = create_job_directly(tenant)
    with pytest.raises(openaimodel.Cancelled):
        model.wait_for_job(job_id, progress=lambda status, event: status == "queued")
