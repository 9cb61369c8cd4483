"""Assistants: the local assistants file, the server's assistants, set_assistant."""

from __future__ import annotations

import json

import pytest

import openaimodel
from omtest import chat_requests, requests_to

ASSISTANTS = {
    "asst_helper": {
        "name": "helper",
        "title": "The Helper",
        "description": "Helps with everything",
        "instructions": {"1": {"name": "role", "text": "You are a helpful helper."},
                         "2": {"name": "style", "text": "Answer in one sentence."}},
    },
    "asst_poet": {
        "name": "poet",
        "title": "The Poet",
        "description": "Answers in verse",
        "instructions": {"1": {"name": "role", "text": "You answer in rhymes."}},
    },
}


@pytest.fixture
def assistants_file(tmp_path):
    path = tmp_path / "assistants.json"
    path.write_text(json.dumps(ASSISTANTS))
    return path


def test_list_assistants_from_the_data_dir(make_model, assistants_file):
    m = make_model(data_dir=assistants_file.parent)
    assert m.list_assistants == ["helper", "poet"]
    assert m.assistants() == [
        {"id": "asst_helper", "name": "helper", "title": "The Helper",
         "description": "Helps with everything"},
        {"id": "asst_poet", "name": "poet", "title": "The Poet", "description": "Answers in verse"},
    ]


def test_list_assistants_from_an_explicit_file(make_model, tmp_path):
    path = tmp_path / "elsewhere" / "mine.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"asst_x": {"name": "x", "title": "X", "description": "x",
                                           "instructions": {"1": {"name": "a", "text": "b"}}}}))
    m = make_model(assistants_file=path)
    assert m.list_assistants == ["x"]


def test_list_assistants_without_a_file(model):
    with pytest.raises(FileNotFoundError):
        model.list_assistants


def test_list_assistants_malformed_file(make_model, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2")
    m = make_model(assistants_file=path)
    with pytest.raises(openaimodel.InvalidDataError):
        m.list_assistants


def test_set_local_assistant(make_model, tenant, assistants_file):
    m = make_model(data_dir=assistants_file.parent)
    m.set_assistant("asst_helper")
    assert m.assistant_id == "asst_helper"
    m.ask("hello there friend")
    system = chat_requests(tenant)[0]["json"]["messages"][0]
    assert system["role"] == "system"
    assert "You are a helpful helper." in system["content"]
    assert "Answer in one sentence." in system["content"]
    assert requests_to(tenant, "/assistants") == []              # no network for local ones


def test_assistant_id_at_creation(make_model, tenant, assistants_file):
    m = make_model(data_dir=assistants_file.parent, assistant_id="asst_poet")
    assert requests_to(tenant, "/") == []                        # nothing at creation
    m.ask("what is the sky")
    assert "You answer in rhymes." in chat_requests(tenant)[0]["json"]["messages"][0]["content"]


def test_call_instruction_beats_the_assistant(make_model, tenant, assistants_file):
    m = make_model(data_dir=assistants_file.parent)
    m.set_assistant("asst_poet")
    m.ask("x y z", system_instruction="Plain prose.")
    assert chat_requests(tenant)[0]["json"]["messages"][0]["content"] == "Plain prose."


def test_set_server_assistant(model, tenant):
    tenant.config({"assistants": {"asst_remote": {"instructions": "Served instructions.",
                                                  "model": "gpt-4o", "name": "Remote"}}})
    model.set_assistant("asst_remote")
    (req,) = requests_to(tenant, "/assistants")
    assert req["path"] == "/v1/assistants/asst_remote"
    assert req["headers"]["openai-beta"] == "assistants=v2"
    model.ask("hi there you")
    body = chat_requests(tenant)[0]["json"]
    assert body["messages"][0] == {"role": "system", "content": "Served instructions."}
    assert body["model"] == "gpt-4o"


def test_unknown_assistant(model, tenant):
    with pytest.raises(openaimodel.NotFoundError) as info:
        model.set_assistant("asst_nowhere")
    assert "asst_nowhere" in str(info.value)
    assert model.assistant_id is None


def test_failed_set_keeps_the_current_assistant(make_model, tenant, assistants_file):
    m = make_model(data_dir=assistants_file.parent)
    m.set_assistant("asst_poet")
    with pytest.raises(openaimodel.NotFoundError):
        m.set_assistant("asst_nowhere")
    assert m.assistant_id == "asst_poet"
    m.ask("still a poet")
    assert "You answer in rhymes." in chat_requests(tenant)[0]["json"]["messages"][0]["content"]


def test_retired_assistants_api(model, tenant):
    tenant.config({"assistants_retired": True})
    with pytest.raises(openaimodel.APIStatusError) as info:
        model.set_assistant("asst_remote")
    assert info.value.status_code == 404
    assert "shut down" in str(info.value)


def test_set_assistant_argument_errors(model):
    with pytest.raises(ValueError):
        model.set_assistant("")
