"""ask, the dialogue, sentiment and the chat options."""

from __future__ import annotations

import json

import pytest

import openaimodel
from omtest import FAST_RETRY, chat_requests


def test_ask(model, tenant):
    reply = model.ask("Tell me something")
    assert reply == "You said: Tell me something"
    (req,) = chat_requests(tenant)
    body = req["json"]
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0
    assert body["messages"][-1] == {"role": "user", "content": "Tell me something"}
    assert not any(m["role"] == "system" for m in body["messages"])
    assert model.last_http_status == 200
    assert model.last_request_id == req["request_id"]


def test_ask_reply_is_trimmed(model, tenant):
    tenant.config({"replies": ["  \n spaced out reply \n\n"]})
    assert model.ask("anything") == "spaced out reply"


def test_ask_unicode(model, tenant):
    assert model.ask("Grüße, 世界 🌍") == "You said: Grüße, 世界 🌍"


def test_system_instruction_of_the_model_and_of_the_call(make_model, tenant):
    m = make_model(system_instruction="Answer in French.", model_name="gpt-4o")
    m.ask("Hello there friend")
    m.ask("Hello there friend", system_instruction="Answer in German.")
    first, second = chat_requests(tenant)
    assert first["json"]["model"] == "gpt-4o"
    assert first["json"]["messages"][0] == {"role": "system", "content": "Answer in French."}
    assert second["json"]["messages"][0] == {"role": "system", "content": "Answer in German."}


def test_attempts(model, tenant):
    tenant.faults([{"kind": "status", "status": 500, "times": 1, "headers": FAST_RETRY,
                    "path": "/v1/chat/completions"}])
    assert model.ask("retry me", attempts=2) == "You said: retry me"
    assert len(chat_requests(tenant)) == 2
    tenant.reset()
    tenant.faults([{"kind": "status", "status": 500, "times": 5, "headers": FAST_RETRY,
                    "path": "/v1/chat/completions"}])
    with pytest.raises(openaimodel.InternalServerError):
        model.ask("no retry", attempts=1)
    assert len(chat_requests(tenant)) == 1


def test_ask_unknown_model_is_not_found(make_model, tenant):
    m = make_model(model_name="gpt-nonexistent")
    with pytest.raises(openaimodel.NotFoundError) as info:
        m.ask("hi there you")
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"


def test_ask_argument_errors(model):
    with pytest.raises(ValueError, match="NUL"):
        model.ask("a\0b")
    with pytest.raises(TypeError):
        model.ask(42)
    with pytest.raises(TypeError):
        model.ask("x", attempts="three")


def test_dialogue(model, tenant):
    assert model.dialogue == []
    model.ask("I love sunny days", system_instruction="Be nice.")
    model.ask("Tell me more")
    d = model.dialogue
    assert isinstance(d, list) and all(isinstance(e, dict) for e in d)
    roles = [e["role"] for e in d]
    assert roles.count("user") == 2 and roles.count("assistant") == 2
    assert {"role": "system", "content": "Be nice."} in d
    users = [e["content"] for e in d if e["role"] == "user"]
    assert users == ["I love sunny days", "Tell me more"]
    replies = [e for e in d if e["role"] == "assistant"]
    assert replies[0]["content"] == "You said: I love sunny days"
    assert all(e["sentiment"] in ("positive", "negative", "neutral") for e in replies)
    assert replies[0]["sentiment"] == model.determine_sentiment(replies[0]["content"])


def test_dialogue_file(make_model, tmp_path):
    path = tmp_path / "talk.jsonl"
    m = make_model(dialogue_file=path)
    m.ask("write me down")
    assert path.exists()
    text = path.read_text()
    assert "write me down" in text
    m2 = make_model(dialogue_file=path)
    assert any(e.get("content") == "write me down" for e in m2.dialogue)  # continued


def test_dialogue_saved_in_data_dir_by_default(make_model, tmp_path):
    data = tmp_path / "data"
    m = make_model(data_dir=data)
    m.ask("remember this")
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any("remember this" in p.read_text(errors="replace") for p in files)


def test_save_dialogue_false(make_model, tmp_path):
    data = tmp_path / "data"
    m = make_model(data_dir=data, save_dialogue=False)
    m.ask("forget this")
    assert not data.exists() or not any(
        "forget this" in p.read_text(errors="replace") for p in data.rglob("*") if p.is_file())
    assert any(e["content"] == "forget this" for e in m.dialogue)


def test_send_history(make_model, tenant):
    m = make_model(send_history=True)
    m.ask("first question")
    m.ask("second question")
    second = chat_requests(tenant)[1]["json"]["messages"]
    contents = [msg["content"] for msg in second]
    assert "first question" in contents and "You said: first question" in contents
    assert contents[-1] == "second question"


def test_no_history_by_default(model, tenant):
    model.ask("first question")
    model.ask("second question")
    second = chat_requests(tenant)[1]["json"]["messages"]
    assert [msg["content"] for msg in second] == ["second question"]


def test_max_output_tokens(make_model, tenant):
    m = make_model(max_output_tokens=3)
    assert m.ask("one two three four five six") == "You said: one"
    assert chat_requests(tenant)[0]["json"]["max_completion_tokens"] == 3


def test_token_limit_param(make_model, tenant):
    m = make_model(token_limit_param="max_tokens", max_output_tokens=50)
    m.ask("old style")
    body = chat_requests(tenant)[0]["json"]
    assert body["max_tokens"] == 50 and "max_completion_tokens" not in body


def test_token_limit_param_fallback(model, tenant):
    tenant.config({"reject_param": "max_completion_tokens"})
    assert model.ask("fallback please") == "You said: fallback please"
    bodies = [r["json"] for r in chat_requests(tenant)]
    assert "max_completion_tokens" in bodies[0]
    assert "max_tokens" in bodies[-1]


def test_determine_sentiment(model):
    assert model.determine_sentiment("This is great, I am so happy") == "positive"
    assert model.determine_sentiment("I hate this awful thing") == "negative"
    assert model.determine_sentiment("The train leaves at noon") == "neutral"
    assert model.determine_sentiment("This is not bad at all") != "negative"


def test_replies_in_order(model, tenant):
    tenant.config({"replies": ["first", "second"]})
    assert [model.ask("a"), model.ask("b"), model.ask("c")] == ["first", "second", "You said: c"]


def test_request_is_valid_json_with_quotes(model, tenant):
    """The original escaped quotes inside the prompt; the message goes as is."""
    msg = 'He said "hi" and \\ left'
    assert model.ask(msg) == "You said: " + msg
    assert json.dumps(chat_requests(tenant)[0]["json"]["messages"][-1]["content"]) == json.dumps(msg)


def test_calls_of_every_kind_in_turn_on_one_connection(model, tenant):
    """The library keeps a connection's request set-up between plain requests
    of the same kind; the next request of that kind must send its own body
    and key, and requests of other kinds in between must inherit nothing
    (method, body, headers)."""
    for i in range(3):
        assert model.ask(f"first {i}") == f"You said: first {i}"
        assert model.ask(f"second {i}") == f"You said: second {i}"
        assert isinstance(model.list_models, list)
        assert isinstance(model.list_models, list)
        assert "".join(model.ask_stream(f"streamed {i}")) == f"You said: streamed {i}"
        assert model.ask(f"third {i}") == f"You said: third {i}"
    reqs = [r for r in tenant.requests() if r["path"].startswith("/v1/")]
    kinds = [(r["method"], r["path"]) for r in reqs]
    chat, models = ("POST", "/v1/chat/completions"), ("GET", "/v1/models")
    assert kinds == [chat, chat, models, models, chat, chat] * 3
    keys = [r["headers"].get("idempotency-key") for r in reqs]
    posts = [k for (m, _), k in zip(kinds, keys) if m == "POST"]
    assert all(posts) and len(set(posts)) == len(posts)          # a new key for every call
    assert all(k is None for (m, _), k in zip(kinds, keys) if m == "GET")
    bodies = [r.get("json") for r in reqs]
    assert [b["messages"][-1]["content"] for b in bodies if b] == [
        f"{w} {i}" for i in range(3) for w in ("first", "second", "streamed", "third")]
    assert [bool(b and b.get("stream")) for b in bodies] == [False, False, False, False, True, False] * 3


def test_last_response(model, tenant):
    """The raw completion behind ask()'s text: usage, id, finish_reason; after
    ask_stream() the stream's last event with its usage (its request ran on a
    worker thread, handed to the reader); None after a failed call."""
    assert model.last_response is None
    reply = model.ask("count my tokens")
    completion = model.last_response
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"].strip() == reply
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["usage"]["total_tokens"] > 0
    asked_id = model.last_request_id

    assert "".join(model.ask_stream("stream and count")) == "You said: stream and count"
    last = model.last_response
    assert last["object"] == "chat.completion.chunk" and last["usage"]["total_tokens"] > 0
    stream_req = chat_requests(tenant)[-1]
    assert model.last_request_id == stream_req["request_id"] != asked_id
    assert model.last_http_status == 200

    model.ask("and again")               # this thread's own call is the last again
    assert model.last_response["object"] == "chat.completion"
    assert model.last_request_id == chat_requests(tenant)[-1]["request_id"]

    tenant.faults([{"kind": "status", "status": 400}])
    with pytest.raises(openaimodel.BadRequestError):
        model.ask("refused", attempts=1)
    assert model.last_response is None
    assert model.last_http_status == 400
