"""list_models, the error classes and what they carry, request ids, cancel."""

from __future__ import annotations

import threading
import time

import pytest

import openaimodel
from openaimodel import errors
from omtest import FAST_RETRY, requests_to, stalled_call

DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini", "text-embedding-3-small"]


def test_list_models(model, tenant):
    models = model.list_models
    assert isinstance(models, list)
    assert set(DEFAULT_MODELS) <= set(models)
    assert all(isinstance(m, str) for m in models)
    assert model.last_http_status == 200
    assert model.last_request_id and model.last_request_id.startswith("req_")
    assert [r["request_id"] for r in requests_to(tenant, "/models")] == [model.last_request_id]


def test_list_models_configured(model, tenant):
    tenant.config({"models": ["alpha", "beta"]})
    assert model.list_models == ["alpha", "beta"]


def test_organization_and_project_headers(make_model, tenant):
    m = make_model(organization="org-123", project="proj_456")
    m.list_models
    (req,) = requests_to(tenant, "/models")
    assert req["headers"]["openai-organization"] == "org-123"
    assert req["headers"]["openai-project"] == "proj_456"


def test_hierarchy_like_the_sdk():
    assert issubclass(errors.APIStatusError, errors.APIError)
    assert issubclass(errors.APIError, errors.OpenAIModelError)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.APIResponseValidationError, errors.APIError)
    for cls in (errors.BadRequestError, errors.AuthenticationError, errors.PermissionDeniedError,
                errors.NotFoundError, errors.ConflictError, errors.UnprocessableEntityError,
                errors.RateLimitError, errors.InternalServerError):
        assert issubclass(cls, errors.APIStatusError)
    assert issubclass(errors.Cancelled, errors.OpenAIModelError)
    assert issubclass(errors.InvalidDataError, ValueError)
    assert issubclass(errors.InvalidArgumentError, ValueError)
    assert issubclass(errors.NoSuchFileError, FileNotFoundError)
    assert issubclass(errors.LocalIOError, OSError)
    assert issubclass(errors.OutOfMemoryError, MemoryError)
    assert openaimodel.RateLimitError is errors.RateLimitError
    e = errors.APIError("m", "req_1", {"code": "c", "type": "t", "param": "p"})
    assert (e.message, e.request_id, e.code, e.type, e.param) == ("m", "req_1", "c", "t", "p")


def test_make_error_from_detail():
    detail = ('{"status": 429, "type": "insufficient_quota", "code": "insufficient_quota", '
              '"param": null, "message": "quota", "request_id": "req_abc", '
              '"body": "{\\"error\\": {\\"message\\": \\"quota\\", \\"code\\": \\"insufficient_quota\\"}}"}')
    e = errors.make_error(openaimodel.Status.ERATELIMIT, "HTTP 429 ...", detail, "req_abc", 429)
    assert type(e) is errors.RateLimitError
    assert e.status_code == 429 and e.request_id == "req_abc" and e.code == "insufficient_quota"
    assert e.body == {"message": "quota", "code": "insufficient_quota"}
    assert e.raw_body.startswith('{"error"')
    e = errors.make_error(openaimodel.Status.ENOTFOUND, "no such assistant")
    assert type(e) is errors.NotFoundError and e.status_code is None
    e = errors.make_error(openaimodel.Status.EAPI, "teapot", '{"status": 418}')
    assert type(e) is errors.APIStatusError and e.status_code == 418
    assert type(errors.make_error(openaimodel.Status.EDATA, "x")) is errors.InvalidDataError
    assert type(errors.make_error(openaimodel.Status.EINTERNAL, "x")) is errors.InternalLibraryError
    assert type(errors.make_error(999, "x")) is errors.InternalLibraryError


def test_authentication_error(make_model, tenant):
    m = make_model(api_key="sk-invalid-python-binding-0001")
    with pytest.raises(openaimodel.AuthenticationError) as info:
        m.list_models
    e = info.value
    assert e.status_code == 401
    assert e.errcode == openaimodel.Status.EAUTH
    assert e.code == "invalid_api_key"
    assert e.type == "invalid_request_error"
    assert e.request_id and e.request_id.startswith("req_")
    assert e.request_id == m.last_request_id
    assert isinstance(e.body, dict) and e.body["code"] == "invalid_api_key"
    assert '"invalid_api_key"' in e.raw_body
    assert "401" in str(e)
    assert "sk-invalid-python-binding-0001" not in str(e)
    assert m.last_http_status == 401


def test_permission_denied(make_model):
    m = make_model(api_key="sk-noperm-python-binding-0001")
    with pytest.raises(openaimodel.PermissionDeniedError) as info:
        m.list_models
    assert info.value.status_code == 403


def test_not_found(model, tenant):
    tenant.faults([{"kind": "status", "status": 404, "path": "/v1/models",
                    "error_message": "no models here", "error_code": "nothing"}])
    with pytest.raises(openaimodel.NotFoundError) as info:
        model.list_models
    e = info.value
    assert e.status_code == 404 and e.code == "nothing"
    assert e.body["message"] == "no models here"
    assert e.request_id == requests_to(tenant, "/models")[0]["request_id"]


@pytest.mark.parametrize("status,cls", [
    (400, openaimodel.BadRequestError),
    (409, openaimodel.ConflictError),
    (422, openaimodel.UnprocessableEntityError),
    (418, openaimodel.APIStatusError),
])
def test_other_statuses(make_model, tenant, status, cls):
    m = make_model(max_retries=0)
    tenant.faults([{"kind": "status", "status": status, "error_message": f"status {status}",
                    "error_param": "model"}])
    with pytest.raises(cls) as info:
        m.list_models
    assert type(info.value) is cls
    assert info.value.status_code == status
    assert info.value.param == "model"
    assert info.value.errcode == openaimodel.Status.EAPI


def test_rate_limit_insufficient_quota_not_retried(model, tenant):
    tenant.faults([{"kind": "status", "status": 429, "times": 3, "error_type": "insufficient_quota",
                    "error_code": "insufficient_quota", "headers": FAST_RETRY}])
    with pytest.raises(openaimodel.RateLimitError) as info:
        model.list_models
    e = info.value
    assert e.status_code == 429
    assert e.code == "insufficient_quota" and e.type == "insufficient_quota"
    assert e.request_id and e.body["code"] == "insufficient_quota"
    assert len(requests_to(tenant, "/models")) == 1


def test_rate_limit_retried_then_ok(model, tenant):
    tenant.faults([{"kind": "status", "status": 429, "times": 2, "headers": FAST_RETRY}])
    assert "gpt-4o-mini" in model.list_models
    assert len(requests_to(tenant, "/models")) == 3


def test_server_error_after_retries(model, tenant):
    tenant.faults([{"kind": "status", "status": 500, "times": 3, "headers": FAST_RETRY}])
    with pytest.raises(openaimodel.InternalServerError) as info:
        model.list_models
    e = info.value
    assert e.status_code == 500 and e.errcode == openaimodel.Status.ESERVER
    assert e.type == "server_error"
    logged = requests_to(tenant, "/models")
    assert len(logged) == 3                          # first try + 2 retries (the default)
    assert e.request_id == logged[-1]["request_id"]


def test_max_retries_option(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.faults([{"kind": "status", "status": 503, "times": 3, "headers": FAST_RETRY}])
    with pytest.raises(openaimodel.InternalServerError):
        m.list_models
    assert len(requests_to(tenant, "/models")) == 1
    m = make_model(max_retries=1)
    tenant.reset()
    tenant.faults([{"kind": "status", "status": 503, "times": 3, "headers": FAST_RETRY}])
    with pytest.raises(openaimodel.InternalServerError):
        m.list_models
    assert len(requests_to(tenant, "/models")) == 2


def test_connection_refused(make_model, tmp_path):
    m = make_model(api_key="sk-test-unused", base_url="http://127.0.0.1:9/v1", max_retries=0)
    started = time.monotonic()
    with pytest.raises(openaimodel.APIConnectionError) as info:
        m.list_models
    assert type(info.value) is openaimodel.APIConnectionError
    assert info.value.errcode == openaimodel.Status.ENETWORK
    assert "127.0.0.1" in str(info.value)
    assert m.last_http_status == 0
    assert time.monotonic() - started < 5


def test_timeout_on_a_stalled_answer(make_model, tenant):
    m = make_model(idle_timeout=0.5, max_retries=0)
    tenant.faults([{"kind": "stall", "seconds": 10, "path": "/v1/models"}])
    started = time.monotonic()
    with pytest.raises(openaimodel.APITimeoutError) as info:
        m.list_models
    assert isinstance(info.value, openaimodel.APIConnectionError)
    assert info.value.errcode == openaimodel.Status.ETIMEDOUT
    assert time.monotonic() - started < 5


def test_total_timeout(make_model, tenant):
    m = make_model(timeout=0.5, max_retries=0)
    tenant.faults([{"kind": "stall", "seconds": 10}])
    with pytest.raises(openaimodel.APITimeoutError):
        m.list_models


def test_truncated_answer_is_a_connection_error(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.faults([{"kind": "truncate", "path": "/v1/models"}])
    with pytest.raises(openaimodel.APIConnectionError):
        m.list_models


def test_unreadable_answer(make_model, tenant):
    m = make_model(max_retries=0)
    tenant.faults([{"kind": "status", "status": 200, "body": "this is not JSON", "raw": True,
                    "content_type": "text/plain"}])
    with pytest.raises(openaimodel.APIResponseValidationError) as info:
        m.list_models
    assert info.value.errcode == openaimodel.Status.EPARSE


def test_bad_options_at_creation(make_model):
    with pytest.raises(openaimodel.InvalidArgumentError) as info:
        make_model(image_detail="ultra")
    assert isinstance(info.value, ValueError)
    assert "image_detail" in str(info.value)
    with pytest.raises(ValueError, match="base_url"):
        make_model(base_url="")
    with pytest.raises(ValueError, match="plain HTTP"):
        openaimodel.OpenAIModel(api_key="sk-test-remote", base_url="http://api.example.com/v1")
    m = openaimodel.OpenAIModel(api_key="sk-test-remote", base_url="http://api.example.com/v1",
                                allow_insecure_http=True, save_dialogue=False)
    m.close()


def test_request_id_and_status_are_per_thread(model, tenant):
    model.list_models
    rid = model.last_request_id
    seen = {}

    def other():
        seen["rid"] = model.last_request_id
        seen["status"] = model.last_http_status

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == {"rid": None, "status": 0}
    assert model.last_request_id == rid


def test_cancel_from_another_thread(make_model, tenant):
    m = make_model(max_retries=0)
    started = time.monotonic()
    t, caught = stalled_call(m, tenant)
    m.cancel()
    t.join(10)
    assert not t.is_alive()
    assert time.monotonic() - started < 5
    assert len(caught) == 1 and isinstance(caught[0], openaimodel.Cancelled)
    assert caught[0].errcode == openaimodel.Status.ECANCELLED
    assert "gpt-4o-mini" in m.list_models          # later calls run normally
