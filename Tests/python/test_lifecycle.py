"""Creation, options, close / context manager / finalizer, the log callback."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

import openaimodel
from openaimodel import _lib
from openaimodel.model import OPTION_NAMES, _milliseconds
from omtest import stalled_call


def test_signature_like_the_original(server, tenant, tmp_path):
    m = openaimodel.OpenAIModel(tenant.key, "Be brief.", "gpt-4o", "asst_x",
                                base_url=server.url, data_dir=tmp_path)
    try:
        assert m.model_name == "gpt-4o"
        assert m.system_instruction == "Be brief."
        assert m.assistant_id == "asst_x"
        assert "gpt-4o" in repr(m) and "open" in repr(m)
    finally:
        m.close()
    assert "closed" in repr(m)


def test_unknown_option_is_a_type_error(make_model):
    with pytest.raises(TypeError, match="colour"):
        make_model(colour="blue")


def test_every_option_is_accepted(make_model, tmp_path):
    m = make_model(organization="org-1", project="proj-1", proxy=None, ca_file=None,
                   allow_insecure_http=False, connect_timeout=2.5, timeout=30, idle_timeout=10,
                   max_retries=3, assistants_file=tmp_path / "a.json", max_output_tokens=100,
                   image_max_output_tokens=50, image_detail="low",
                   token_limit_param="max_tokens", send_history=True, data_dir=tmp_path,
                   dialogue_file=tmp_path / "d.jsonl", save_dialogue=False,
                   fine_tune_suffix="sfx", log_level="off", log=lambda level, msg: None)
    assert m.list_models
    assert OPTION_NAMES == {
        "organization", "project", "proxy", "ca_file", "allow_insecure_http", "connect_timeout",
        "timeout", "idle_timeout", "max_retries", "assistants_file", "max_output_tokens",
        "image_max_output_tokens", "image_detail", "token_limit_param", "send_history",
        "data_dir", "dialogue_file", "save_dialogue", "fine_tune_suffix", "log_level", "log"}


def test_option_values_are_checked(make_model):
    with pytest.raises(TypeError):
        make_model(max_output_tokens="many")
    with pytest.raises(ValueError):
        make_model(max_output_tokens=2 ** 40)
    with pytest.raises(ValueError):
        make_model(log_level="loud")
    with pytest.raises(TypeError):
        make_model(log="not callable")
    with pytest.raises(ValueError, match="NUL"):
        make_model(system_instruction="a\0b")
    with pytest.raises(TypeError):
        make_model(timeout="soon")


def test_seconds_to_milliseconds():
    assert _milliseconds(None, "t") == 0          # the library's default
    assert _milliseconds(2.5, "t") == 2500
    assert _milliseconds(0.0001, "t") == 1        # never rounds down to "default"
    assert _milliseconds(0, "t") == -1            # no limit
    assert _milliseconds(-3, "t") == -1
    assert _milliseconds(float("inf"), "t") == -1


def test_close_twice_and_use_after_close(model):
    model.close()
    model.close()
    assert model.closed
    for use in (lambda: model.list_models, lambda: model.ask("hi"), lambda: model.dialogue,
                lambda: model.last_request_id, lambda: model.cancel(),
                lambda: model.ask_stream("hi"), lambda: model.current_job_id):
        with pytest.raises(openaimodel.ModelClosedError, match="closed"):
            use()
    with pytest.raises(ValueError):                 # ModelClosedError is a ValueError too
        model.list_models


def test_context_manager(make_model):
    with make_model() as m:
        assert m.list_models
        assert not m.closed
    assert m.closed
    with pytest.raises(openaimodel.ModelClosedError):
        with m:
            pass


def test_context_manager_closes_on_error(make_model):
    with pytest.raises(RuntimeError):
        with make_model() as m:
            raise RuntimeError("boom")
    assert m.closed


def test_finalizer_frees_once(server, tenant, tmp_path, monkeypatch):
    freed = []
    real = _lib.om_free
    monkeypatch.setattr(_lib, "om_free", lambda h: (freed.append(h), real(h)))
    m = openaimodel.OpenAIModel(tenant.key, base_url=server.url, data_dir=tmp_path)
    handle = m._handle
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    assert freed == [handle]

    m = openaimodel.OpenAIModel(tenant.key, base_url=server.url, data_dir=tmp_path)
    m.close()
    m.close()
    del m
    gc.collect()
    assert len(freed) == 2


def test_many_handles(server, tenant, tmp_path):
    for _ in range(200):
        with openaimodel.OpenAIModel(tenant.key, base_url=server.url, data_dir=tmp_path,
                                     save_dialogue=False):
            pass


def test_close_cancels_calls_in_flight(make_model, tenant):
    m = make_model(max_retries=0)
    t, caught = stalled_call(m, tenant)
    started = time.monotonic()
    m.close()
    assert time.monotonic() - started < 5
    t.join(5)
    assert len(caught) == 1 and isinstance(caught[0], openaimodel.Cancelled)


def test_log_callback(make_model):
    lines = []
    m = make_model(log_level="debug", log=lambda level, message: lines.append((level, message)))
    m.list_models
    assert lines, "no log line at debug level"
    assert all(isinstance(level, int) and isinstance(msg, str) for level, msg in lines)
    assert any(level == openaimodel.LogLevel.DEBUG or level == openaimodel.LogLevel.INFO
               for level, _ in lines)


def test_log_callback_hides_the_key(make_model, tenant):
    lines = []
    m = make_model(log_level=openaimodel.LogLevel.DEBUG,
                   log=lambda level, message: lines.append(message))
    m.list_models
    assert lines
    assert not any(tenant.key in line for line in lines)


def test_log_callback_raising_is_re_raised(make_model):
    class Boom(Exception):
        pass

    def log(level, message):
        raise Boom(message)

    m = make_model(log_level="debug", log=log)
    with pytest.raises(Boom):
        m.list_models
    m2 = make_model(log_level="off", log=log)
    assert m2.list_models                               # no line, nothing raised


def test_log_level_off_calls_nothing(make_model):
    lines = []
    m = make_model(log_level="off", log=lambda level, message: lines.append(message))
    m.list_models
    assert lines == []


def test_close_from_a_callback_is_refused(make_model):
    holder = {}

    def log(level, message):
        holder["m"].close()

    m = make_model(log_level="debug", log=log)
    holder["m"] = m
    with pytest.raises(RuntimeError, match="callback"):
        m.list_models
    assert not m.closed
