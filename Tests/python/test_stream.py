"""ask_stream: pieces, early exit, errors, and threads sharing one model."""

from __future__ import annotations

import threading
import time

import pytest

import openaimodel
from omtest import chat_requests

LONG = " ".join(f"word{i}" for i in range(400))


def test_stream_pieces(model, tenant):
    pieces = list(model.ask_stream("stream this please"))
    assert len(pieces) > 1
    assert "".join(pieces) == "You said: stream this please"
    (req,) = chat_requests(tenant)
    assert req["json"]["stream"] is True
    d = model.dialogue
    assert d[-1]["role"] == "assistant" and d[-1]["content"] == "You said: stream this please"


def test_stream_unicode_split_bytes(model, tenant):
    text = "Grüße 世界 🌍 ok " * 20
    tenant.config({"replies": [text], "stream": {"split_bytes": 3, "split_delay": 0,
                                                 "chunk_chars": 2}})
    # the pieces are the reply as sent (the whole reply is trimmed only for the dialogue)
    assert "".join(model.ask_stream("x")) == text
    assert model.dialogue[-1]["content"] == text.strip()


def test_stream_is_lazy(model, tenant):
    gen = model.ask_stream("not yet")
    assert chat_requests(tenant) == []
    assert "".join(gen) == "You said: not yet"


def test_stream_early_break(model, tenant):
    tenant.config({"replies": [LONG], "stream": {"chunk_chars": 5, "split_delay": 0.01}})
    started = time.monotonic()
    got = []
    for piece in model.ask_stream("long one"):
        got.append(piece)
        if len(got) == 3:
            break
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"breaking out took {elapsed:.1f}s"
    assert len(got) == 3
    assert len(chat_requests(tenant)) == 1                 # stopped, not retried
    assert not any(t.name == "openaimodel-ask-stream" for t in threading.enumerate())
    # the model is fine afterwards; the cut reply is not in the dialogue
    assert model.ask("after") == "You said: after"
    assert not any(e["content"] == LONG for e in model.dialogue)


def test_stream_early_break_while_stalled(model, tenant):
    """A stalled stream delivers no piece to see the stop flag: the loop still
    ends promptly, and close() cancels the abandoned transfer."""
    tenant.config({"replies": [LONG], "stream": {"chunk_chars": 5, "stall_after": 3,
                                                 "stall_seconds": 20}})
    started = time.monotonic()
    got = []
    for piece in model.ask_stream("long one"):
        got.append(piece)
        if len(got) == 3:            # the server now pauses for 20 s
            break
    assert time.monotonic() - started < 4
    started = time.monotonic()
    model.close()
    assert time.monotonic() - started < 4
    assert len(chat_requests(tenant)) == 1


def test_stream_explicit_close(model, tenant):
    tenant.config({"replies": [LONG], "stream": {"chunk_chars": 5, "split_delay": 0.01}})
    gen = model.ask_stream("long one")
    assert next(gen)
    started = time.monotonic()
    gen.close()
    assert time.monotonic() - started < 3
    assert len(chat_requests(tenant)) == 1


def test_stream_consumer_raising(model, tenant):
    tenant.config({"replies": [LONG], "stream": {"chunk_chars": 5, "split_delay": 0.01}})

    class Stop(Exception):
        pass

    started = time.monotonic()
    with pytest.raises(Stop):
        for piece in model.ask_stream("long one"):
            raise Stop(piece)
    assert time.monotonic() - started < 3
    assert len(chat_requests(tenant)) == 1


def test_stream_error_mid_way(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.config({"stream": {"error_after": 2, "error_message": "model overloaded"}})
    got = []
    with pytest.raises(openaimodel.APIError) as info:
        for piece in m.ask_stream("one two three four five"):
            got.append(piece)
    assert len(got) == 2
    assert "model overloaded" in str(info.value)
    assert len(chat_requests(tenant)) == 1          # text was delivered: not retried


def test_stream_http_error(model, tenant):
    tenant.faults([{"kind": "status", "status": 401, "path": "/v1/chat/completions"}])
    with pytest.raises(openaimodel.AuthenticationError) as info:
        list(model.ask_stream("x"))
    assert info.value.status_code == 401 and info.value.request_id


def test_stream_retried_before_any_text(model, tenant):
    tenant.faults([{"kind": "status", "status": 503, "path": "/v1/chat/completions",
                    "headers": {"retry-after-ms": "10"}}])
    assert "".join(model.ask_stream("again", attempts=2)) == "You said: again"
    assert len(chat_requests(tenant)) == 2


def test_stream_idle_timeout(make_model, tenant):
    m = make_model(idle_timeout=0.5, max_retries=0)
    tenant.config({"stream": {"stall_after": 1, "stall_seconds": 20}})
    started = time.monotonic()
    got = []
    with pytest.raises(openaimodel.APITimeoutError):
        for piece in m.ask_stream("a b c d"):
            got.append(piece)
    assert got and time.monotonic() - started < 5


def test_stream_cancel_from_another_thread(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.config({"stream": {"stall_after": 1, "stall_seconds": 20}})
    timer = threading.Timer(0.5, m.cancel)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(openaimodel.Cancelled):
            list(m.ask_stream("a b c d"))
    finally:
        timer.cancel()
        timer.join()
    assert time.monotonic() - started < 5


def test_close_model_during_stream(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.config({"stream": {"stall_after": 1, "stall_seconds": 20}})
    gen = m.ask_stream("a b c d")
    assert next(gen)
    started = time.monotonic()
    m.close()                                   # cancels the stream's call and waits for it
    assert time.monotonic() - started < 5
    with pytest.raises(openaimodel.Cancelled):
        list(gen)


def test_threads_share_one_model(model, tenant):
    errors = []
    results = {}

    def worker(t):
        try:
            for i in range(10):
                msg = f"thread {t} message {i}"
                results[(t, i)] = (msg, model.ask(msg))
                assert model.last_http_status == 200
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == 80
    for msg, reply in results.values():
        assert reply == "You said: " + msg
    assert len(chat_requests(tenant)) == 80
    assert sum(1 for e in model.dialogue if e["role"] == "assistant") == 80


def test_calls_run_in_parallel(model, tenant):
    """Blocking calls release the GIL and the handle runs them side by side."""
    tenant.config({"latency": 0.5})
    results = []
    threads = [threading.Thread(target=lambda: results.append(model.list_models))
               for _ in range(6)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - started
    assert len(results) == 6
    assert elapsed < 2.5, f"6 calls of 0.5 s took {elapsed:.1f}s: not parallel"


def test_threads_mix_streams_and_asks(model, tenant):
    errors = []

    def streamer(t):
        try:
            for i in range(3):
                msg = f"stream {t} {i}"
                assert "".join(model.ask_stream(msg)) == "You said: " + msg
        except BaseException as e:
            errors.append(e)

    def asker(t):
        try:
            for i in range(3):
                msg = f"ask {t} {i}"
                assert model.ask(msg) == "You said: " + msg
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=f, args=(t,)) for t in range(3) for f in (streamer, asker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
