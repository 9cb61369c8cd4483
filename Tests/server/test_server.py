"""Tests of the OpenAI test server itself (fixtures from Tests/conftest.py)."""

import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from harness import (Tenant, data_uri, encode_multipart, make_gif, make_jpeg, make_png,
                     make_webp, new_key, start_server)

CHAT = "/v1/chat/completions"


# --- helpers -------------------------------------------------------------------

def chat_body(text="Hello, how are you?", **extra):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    body.update(extra)
    return body


def raw_exchange(tenant, method, path, body=b"", headers=None, timeout=10, key=None):
    """One request on a fresh socket, read until EOF or error.

    Returns (bytes received, exception or None).
    """
    u = urlsplit(tenant.root)
    if not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    hdrs = {"Host": u.netloc, "Authorization": f"Bearer {key or tenant.key}",
            "Content-Type": "application/json", "Content-Length": str(len(body)),
            "Connection": "close"}
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
    got = bytearray()
    err = None
    try:
        sock.sendall(head.encode() + b"\r\n" + bytes(body))
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError as exc:
        err = exc
    finally:
        sock.close()
    return bytes(got), err


def split_http(raw):
    """(status, headers, body bytes as sent, chunk payloads or None)."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding") == "chunked":
        chunks = []
        pos = 0
        while True:
            eol = rest.index(b"\r\n", pos)
            size = int(rest[pos:eol], 16)
            if size == 0:
                break
            chunks.append(rest[eol + 2:eol + 2 + size])
            pos = eol + 2 + size + 2
        return status, headers, b"".join(chunks), chunks
    return status, headers, rest, None


def parse_sse(text):
    """Events as (name, data) following the SSE rules for all three line endings."""
    events, data, name = [], [], None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data or name:
                events.append((name, "\n".join(data)))
            data, name = [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return events


def stream_chat(tenant, body=None, **extra):
    raw, err = raw_exchange(tenant, "POST", CHAT, body or chat_body(stream=True, **extra))
    assert err is None, err
    status, headers, payload, chunks = split_http(raw)
    return status, headers, payload, chunks


def content_of(events):
    pieces = []
    for name, data in events:
        if data == "[DONE]" or name == "error":
            continue
        obj = json.loads(data)
        for ch in obj.get("choices", []):
            pieces.append(ch["delta"].get("content") or "")
    return pieces


def find_log(tenant, path, method=None):
    return [e for e in tenant.requests() if e["path"] == path
            and (method is None or e["method"] == method)]


def upload(tenant, data, purpose="fine-tune", filename="train.jsonl"):
    body, ctype = encode_multipart({"purpose": purpose},
                                   [("file", filename, "application/jsonl", data)])
    return tenant.call("POST", "/v1/files", body, {"Content-Type": ctype})


def jsonl(*examples):
    return "".join(json.dumps(e) + "\n" for e in examples).encode()


def example(user="What is 2+2?", answer="4"):
    return {"messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": user},
                         {"role": "assistant", "content": answer}]}


class _NoSpec:
    """Stands in when the API description is absent: answers are not checked."""

    def schema_errors(self, name, value):
        return []


@pytest.fixture(scope="session")
def spec():
    """The API description, loaded in this process to check the server's answers."""
    from omserver import spec as specmod
    path, _why = specmod.find_spec_path()
    if path is None:
        return _NoSpec()
    return specmod.SpecValidator(path)


@pytest.fixture(scope="session")
def validating(server):
    """Whether the server validates requests against the API description."""
    return Tenant(server.root).call("GET", "/_control/health", auth=False).json()["validating"]


def assert_valid(spec, method, path, reply, query=None, request_body=None):
    if isinstance(spec, _NoSpec):
        return
    errors = spec.response_errors(method, path, reply.status, reply.body,
                                  content_type=reply.headers.get("content-type", "").split(";")[0],
                                  query=query, request_body=request_body)
    assert errors == [], errors


# --- basics ---------------------------------------------------------------------

def test_health(server):
    t = Tenant(server.root)
    r = t.call("GET", "/_control/health", auth=False)
    assert r.status == 200 and r.json()["ok"] is True


def test_models(tenant, spec):
    r = tenant.call("GET", "/v1/models")
    assert r.status == 200
    assert r.headers["x-request-id"].startswith("req_") and len(r.headers["x-request-id"]) == 36
    assert int(r.headers["openai-processing-ms"]) >= 0
    ids = [m["id"] for m in r.json()["data"]]
    assert ids == ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini", "text-embedding-3-small"]
    assert_valid(spec, "GET", "/v1/models", r)
    one = tenant.call("GET", "/v1/models/gpt-4o")
    assert one.status == 200 and one.json()["id"] == "gpt-4o"
    assert_valid(spec, "GET", "/v1/models/gpt-4o", one)
    missing = tenant.call("GET", "/v1/models/nope-model")
    assert missing.status == 404 and missing.json()["error"]["code"] == "model_not_found"
    tenant.config(models=["m-one", "m-two"])
    assert [m["id"] for m in tenant.call("GET", "/v1/models").json()["data"]] == ["m-one", "m-two"]


def test_auth_errors(server, tenant):
    bad = Tenant(server.root, "sk-invalid-" + "a1b2c3d4e5f6g7h8")
    r = bad.call("GET", "/v1/models")
    assert r.status == 401
    err = r.json()["error"]
    assert err["code"] == "invalid_api_key" and err["type"] == "invalid_request_error"
    assert bad.key not in err["message"] and "sk-inv" in err["message"]
    assert err["param"] is None
    r = Tenant(server.root, "sk-noperm-xyz").call("GET", "/v1/models")
    assert r.status == 403
    r = tenant.call("GET", "/v1/models", auth=False)
    assert r.status == 401
    assert r.json()["error"]["message"].startswith("You didn't provide an API key")
    assert r.json()["error"]["code"] is None
    anon = Tenant(server.root, "")
    assert any(e["path"] == "/v1/models" and e["status"] == 401 for e in anon.requests())


def test_error_bodies_follow_the_schema(server, tenant, spec):
    tenant.fault("status", status=429)
    replies = [
        tenant.call("GET", "/v1/models"),                                  # fault default body
        Tenant(server.root, "sk-invalid-0123456789abcdef").call("GET", "/v1/models"),
        tenant.call("GET", "/v1/models", auth=False),
        tenant.call("GET", "/v1/models/no-such-model"),
        tenant.call("POST", CHAT, chat_body(messages=[])),
        tenant.call("GET", "/v1/files/file-missing"),
    ]
    tenant.take_violations()
    for r in replies:
        assert r.status >= 400
        assert spec.schema_errors("ErrorResponse", r.json()) == [], r


def test_unknown_path_is_404_and_a_violation(tenant):
    r = tenant.call("GET", "/v1/engines")
    assert r.status == 404
    assert r.json()["error"]["message"] == "Invalid URL (GET /v1/engines)"
    v = tenant.take_violations()
    assert len(v) == 1 and "GET /v1/engines" in v[0]


# --- chat -------------------------------------------------------------------------

def test_chat_plain(tenant, spec):
    body = chat_body()
    r = tenant.call("POST", CHAT, body)
    assert r.status == 200, r
    obj = r.json()
    assert obj["object"] == "chat.completion" and obj["id"].startswith("chatcmpl-")
    msg = obj["choices"][0]["message"]
    assert msg["content"] == "Hello! I'm doing well, thank you for asking. How can I help you today?"
    assert msg["refusal"] is None and obj["choices"][0]["finish_reason"] == "stop"
    u = obj["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] > 0
    assert_valid(spec, "POST", CHAT, r, request_body=json.dumps(body).encode())
    other = tenant.call("POST", CHAT, chat_body("Tell me a joke")).json()
    assert other["choices"][0]["message"]["content"] == "You said: Tell me a joke"


def test_chat_replies_fifo_and_length(tenant):
    tenant.config(replies=["first one", "second reply here"])
    assert tenant.call("POST", CHAT, chat_body()).json()["choices"][0]["message"]["content"] == "first one"
    r = tenant.call("POST", CHAT, chat_body(max_completion_tokens=2)).json()
    assert r["choices"][0]["message"]["content"] == "second reply"
    assert r["choices"][0]["finish_reason"] == "length"
    assert "You said" not in tenant.call("POST", CHAT, chat_body()).json()["choices"][0]["message"]["content"]


def test_chat_strict_checks(tenant, validating):
    cases = [
        ({"model": "gpt-4o-mini", "messages": []}, 400),
        (chat_body(max_tokens=5, max_completion_tokens=5), 400),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": 5}]}, 400),
        (chat_body(stream_options={"include_usage": True}), 400),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ["no parts"]}]}, 400),
    ]
    if validating:          # only the API description knows temperature is a number
        cases.append((chat_body(temperature="hot"), 400))
    for body, status in cases:
        r = tenant.call("POST", CHAT, body)
        assert r.status == status, (body, r)
        assert r.json()["error"]["type"] == "invalid_request_error"
    v = tenant.take_violations()
    assert len(v) >= len(cases), v
    assert any("temperature" in x for x in v) or not validating
    # an unknown model is OpenAI's 404, not a client bug
    r = tenant.call("POST", CHAT, chat_body(model="gpt-9-ultra"))
    assert r.status == 404 and r.json()["error"]["code"] == "model_not_found"
    assert tenant.violations() == []
    # broken JSON
    r = tenant.call("POST", CHAT, b'{"model": "gpt-4o-mini", "messages": [', {"Content-Type": "application/json"})
    assert r.status == 400
    assert tenant.take_violations()


def test_reject_param(tenant):
    tenant.config(reject_param="max_completion_tokens")
    r = tenant.call("POST", CHAT, chat_body(max_completion_tokens=10))
    assert r.status == 400
    err = r.json()["error"]
    assert err["code"] == "unsupported_parameter" and err["param"] == "max_completion_tokens"
    assert "Unsupported parameter: 'max_completion_tokens'" in err["message"]
    assert tenant.call("POST", CHAT, chat_body(max_tokens=10)).status == 200


def _stream_text(tenant, **cfg):
    if cfg:
        tenant.config(stream=cfg)
    status, headers, payload, chunks = stream_chat(tenant)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    return payload.decode("utf-8"), chunks


def test_chat_stream(tenant, spec):
    text, _ = _stream_text(tenant)
    events = parse_sse(text)
    assert events[-1] == (None, "[DONE]")
    objs = [json.loads(d) for _, d in events[:-1]]
    assert all(o["object"] == "chat.completion.chunk" for o in objs)
    for o in objs:
        assert spec.schema_errors("CreateChatCompletionStreamResponse", o) == []
    assert objs[0]["choices"][0]["delta"]["role"] == "assistant"
    assert objs[-1]["choices"][0]["finish_reason"] == "stop"
    pieces = content_of(events)
    assert "".join(pieces) == "Hello! I'm doing well, thank you for asking. How can I help you today?"
    assert len([p for p in pieces if p]) == 14          # one word per delta
    # usage chunk on request
    status, _, payload, _ = stream_chat(tenant, body=chat_body(stream=True, stream_options={"include_usage": True}))
    objs = [json.loads(d) for _, d in parse_sse(payload.decode())[:-1]]
    assert objs[-1]["choices"] == [] and objs[-1]["usage"]["completion_tokens"] == 14
    assert all(o["usage"] is None for o in objs[:-1])
    for o in objs:
        assert spec.schema_errors("CreateChatCompletionStreamResponse", o) == []


@pytest.mark.parametrize("ending", ["\n", "\r", "\r\n"])
def test_stream_line_endings(tenant, ending):
    text, _ = _stream_text(tenant, line_ending=ending, chunk_chars=5)
    if ending == "\n":
        assert "\r" not in text
    elif ending == "\r":
        assert "\n" not in text
    else:
        assert text.count("\r\n") == text.count("\n") == text.count("\r")
    assert text.endswith("data: [DONE]" + ending + ending)
    pieces = content_of(parse_sse(text))
    assert all(len(p) <= 5 for p in pieces)
    assert "".join(pieces).startswith("Hello! I'm doing well")


def test_stream_split_bytes_cuts_utf8(tenant):
    reply = "Grüße aus Köln — 日本語のテキスト ✓ ok"
    tenant.config(replies=[reply], stream={"split_bytes": 7, "split_delay": 0})
    status, _, payload, chunks = stream_chat(tenant)
    assert status == 200
    assert all(len(c) <= 7 for c in chunks) and len(chunks) > 50

    def is_utf8(b):
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    assert any(not is_utf8(c) for c in chunks), "no write split a multi-byte character"
    assert "".join(content_of(parse_sse(payload.decode("utf-8")))) == reply


@pytest.mark.parametrize("style", ["event", "data"])
def test_stream_error_mid_way(tenant, style, spec):
    text, _ = _stream_text(tenant, error_after=3, error_style=style)
    events = parse_sse(text)
    assert len(content_of(events)) == 1 + 3        # role chunk + three words
    name, data = events[-1]
    assert json.loads(data)["error"]["type"] == "server_error"
    assert spec.schema_errors("ErrorResponse", json.loads(data)) == []
    assert name == ("error" if style == "event" else None)
    assert (None, "[DONE]") not in events


def test_stream_events_and_stall(tenant):
    tenant.config(stream={"events": 500, "event_text": "ab", "stall_after": 2, "stall_seconds": 0.4})
    t0 = time.monotonic()
    text, _ = _stream_text(tenant)
    assert time.monotonic() - t0 >= 0.4
    pieces = content_of(parse_sse(text))
    assert pieces.count("ab") == 500


def test_stream_stall_stops_when_client_leaves(tenant):
    tenant.config(stream={"stall_after": 1, "stall_seconds": 30})
    u = urlsplit(tenant.root)
    sock = socket.create_connection((u.hostname, u.port), timeout=5)
    body = json.dumps(chat_body(stream=True)).encode()
    sock.sendall(f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entry = find_log(tenant, CHAT)[0]
        if entry.get("dropped"):
            break
        time.sleep(0.1)
    assert "stall" in entry.get("dropped", "")


# --- images ------------------------------------------------------------------------

def image_body(uri, text="What is in this image?"):
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [
        {"type": "text", "text": text},
        {"type": "image_url", "image_url": {"url": uri}}]}]}


@pytest.mark.parametrize("maker,mime,fmt,size", [
    (make_png, "image/png", "png", (3, 2)),
    (make_gif, "image/gif", "gif", (4, 3)),
    (make_jpeg, "image/jpeg", "jpeg", (5, 7)),
    (make_webp, "image/webp", "webp", (6, 9)),
])
def test_image_reply_and_log(tenant, maker, mime, fmt, size):
    data = maker()
    r = tenant.call("POST", CHAT, image_body(data_uri(data, mime)))
    assert r.status == 200, r
    info = json.loads(r.json()["choices"][0]["message"]["content"])
    assert info == {"format": fmt, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "width": size[0], "height": size[1]}
    entry = find_log(tenant, CHAT)[0]
    url = entry["json"]["messages"][0]["content"][1]["image_url"]["url"]
    assert url == f"data:{mime};base64,<{len(data)} bytes sha256={hashlib.sha256(data).hexdigest()}>"
    img = entry["images"][0]
    assert (img["mime"], img["decoded_size"], img["detected"]) == (mime, len(data), fmt)


def test_image_http_url_accepted(tenant):
    r = tenant.call("POST", CHAT, image_body("https://example.com/cat.png"))
    assert r.status == 200
    assert json.loads(r.json()["choices"][0]["message"]["content"])["url"] == "https://example.com/cat.png"


@pytest.mark.parametrize("uri", [
    data_uri(make_png(), "image/jpeg"),                       # declared type lies
    "data:image/png;base64,iVBORw0KGgo$$$notbase64",          # not base64
    data_uri(b"BM" + b"\x00" * 60, "image/bmp"),               # unsupported type
    "data:image/png,rawbytes",                                # not base64-encoded
    "ftp://example.com/x.png",                                # neither http(s) nor data
])
def test_bad_images_rejected(tenant, uri):
    r = tenant.call("POST", CHAT, image_body(uri))
    assert r.status == 400, r
    assert r.json()["error"]["code"] in ("invalid_image_format", "invalid_image_url")
    v = tenant.take_violations()
    assert len(v) == 1 and "image" in v[0]


def test_large_image_body(tenant):
    png = make_png(40, 30, pad_to=12 << 20)           # > 8 MB: validated from a stand-in copy
    r = tenant.call("POST", CHAT, image_body(data_uri(png, "image/png")))
    assert r.status == 200, r
    info = json.loads(r.json()["choices"][0]["message"]["content"])
    assert info["bytes"] == len(png) and (info["width"], info["height"]) == (40, 30)
    entry = find_log(tenant, CHAT)[0]
    assert entry["body_size"] > 16 << 20
    assert len(json.dumps(entry)) < 10000


def test_log_keeps_big_bodies_small(tenant):
    text = "word " * 20000                       # 100 kB per message, 10 MB in all
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}] * 100}
    assert tenant.call("POST", CHAT, body).status == 200
    entry = find_log(tenant, CHAT)[0]
    assert entry["body_size"] > 10_000_000
    assert len(json.dumps(entry)) < 5_000_000
    assert entry["json"]["messages"][-1]["content"].startswith("<100000 characters sha256=")


# --- faults ---------------------------------------------------------------------------

def test_fault_status_defaults_and_headers(tenant):
    tenant.faults([{"kind": "status", "status": 429, "headers": {"retry-after": "2", "retry-after-ms": "1500"}},
                   {"kind": "status", "status": 429, "error_type": "insufficient_quota",
                    "error_code": "insufficient_quota"}])
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 429 and r.headers["retry-after"] == "2" and r.headers["retry-after-ms"] == "1500"
    err = r.json()["error"]
    assert err["type"] == "rate_limit_exceeded" and err["code"] == "rate_limit_exceeded"
    assert "x-request-id" in r.headers
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 429 and r.json()["error"]["code"] == "insufficient_quota"
    assert tenant.call("POST", CHAT, chat_body()).status == 200
    assert [e["fault"] for e in find_log(tenant, CHAT)] == ["status", "status", None]
    assert [e["status"] for e in find_log(tenant, CHAT)] == [429, 429, 200]


def test_fault_status_bodies(tenant):
    tenant.faults([
        {"kind": "status", "status": 502, "body": "<html><body>Bad gateway</body></html>",
         "raw": True, "content_type": "text/html"},
        {"kind": "status", "status": 200, "body": '{"id": "chatcmpl-1", "choices": [', "raw": True},
        {"kind": "status", "status": 200, "body": {"unexpected": ["shape"]}},
        {"kind": "status", "status": 503, "headers": {"x-should-retry": "false"}},
        {"kind": "status", "status": 307, "headers": {"Location": "/v1/chat/completions"}},
    ])
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 502 and r.headers["content-type"].startswith("text/html") and b"<html>" in r.body
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 200 and r.body == b'{"id": "chatcmpl-1", "choices": ['
    r = tenant.call("POST", CHAT, chat_body())
    assert r.json() == {"unexpected": ["shape"]}
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 503 and r.headers["x-should-retry"] == "false"
    assert r.json()["error"]["type"] == "server_error"
    r = tenant.call("POST", CHAT, chat_body())
    assert r.status == 307 and r.headers["location"] == "/v1/chat/completions"


def test_fault_matching_and_times(tenant):
    tenant.faults([{"kind": "status", "status": 500, "path": "/v1/models", "method": "GET", "times": 2}])
    assert tenant.call("POST", CHAT, chat_body()).status == 200
    assert tenant.call("GET", "/v1/models").status == 500
    assert tenant.call("GET", "/v1/models/gpt-4o").status == 500      # prefix match
    assert tenant.call("GET", "/v1/models").status == 200
    assert tenant.pending_faults() == []


def test_fault_reset_request(tenant):
    tenant.fault("reset_request")
    big = json.dumps(chat_body("x " * 2_000_000)).encode()      # ~4 MB the server never reads
    got, err = raw_exchange(tenant, "POST", CHAT, big)
    assert got == b"" and isinstance(err, (ConnectionResetError, BrokenPipeError)), (got, err)
    entry = find_log(tenant, CHAT)[0]
    assert entry["fault"] == "reset_request" and entry["body_size"] == 0 and entry["status"] is None


def test_fault_reset_after_reading(tenant):
    tenant.fault("reset")
    body = json.dumps(chat_body()).encode()
    got, err = raw_exchange(tenant, "POST", CHAT, body)
    assert got == b"" and isinstance(err, ConnectionResetError), (got, err)
    entry = find_log(tenant, CHAT)[0]
    assert entry["body_size"] == len(body) and entry["json"]["model"] == "gpt-4o-mini"


def test_faulted_requests_are_still_validated(tenant):
    tenant.fault("reset")
    got, err = raw_exchange(tenant, "POST", CHAT, chat_body(temperature="hot"))
    assert got == b"" and err is not None
    if tenant.call("GET", "/_control/health", auth=False).json()["validating"]:
        v = tenant.take_violations()
        assert len(v) == 1 and "temperature" in v[0]


def test_fault_reset_response(tenant):
    tenant.fault("reset_response", bytes=12)
    got, err = raw_exchange(tenant, "POST", CHAT, chat_body())
    assert isinstance(err, ConnectionResetError), (got, err)
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and len(body) == 12
    assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) > 12


def test_fault_truncate(tenant):
    tenant.fault("truncate")
    got, err = raw_exchange(tenant, "POST", CHAT, chat_body())
    assert err is None                    # a clean close
    status, headers, body, _ = split_http(got)
    assert status == 200
    total = int(headers["content-length"])
    assert len(body) == total // 2
    # and through http.client: IncompleteRead
    tenant.fault("truncate", bytes=5)
    u = urlsplit(tenant.root)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {tenant.key}"})
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()
    conn.close()


def test_fault_stall(tenant):
    tenant.fault("stall", seconds=30)
    u = urlsplit(tenant.root)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(socket.timeout):
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {tenant.key}"})
        conn.getresponse()
    conn.close()
    assert time.monotonic() - t0 < 5
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entry = find_log(tenant, "/v1/models")[0]
        if entry.get("dropped"):
            break
        time.sleep(0.1)
    assert "stall" in entry["dropped"]        # the server gave up early, not after 30 s
    tenant.fault("stall", seconds=0.3)
    t0 = time.monotonic()
    assert tenant.call("GET", "/v1/models").status == 200
    assert time.monotonic() - t0 >= 0.3


def test_fault_slow_and_delay(tenant):
    tenant.fault("slow", chunks=4, interval=0.1)
    u = urlsplit(tenant.root)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    t0 = time.monotonic()
    conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {tenant.key}"})
    resp = conn.getresponse()
    first = time.monotonic() - t0
    data = resp.read()
    total = time.monotonic() - t0
    conn.close()
    assert total >= 0.3 and total - first >= 0.25     # headers came early, the body slowly
    assert json.loads(data)["object"] == "list"
    tenant.fault("delay", seconds=0.3)
    t0 = time.monotonic()
    assert tenant.call("GET", "/v1/models").status == 200
    assert time.monotonic() - t0 >= 0.3
    tenant.config(latency=0.2)
    t0 = time.monotonic()
    tenant.call("GET", "/v1/models")
    assert time.monotonic() - t0 >= 0.2


def test_fault_kinds_checked(tenant):
    with pytest.raises(Exception):
        tenant.fault("explode")


# --- files ----------------------------------------------------------------------------

def test_files_roundtrip(tenant, spec):
    data = jsonl(example(), example("Capital of France?", "Paris"))
    r = upload(tenant, data)
    assert r.status == 200, r
    f = r.json()
    assert f["id"].startswith("file-") and f["object"] == "file" and f["bytes"] == len(data)
    assert f["purpose"] == "fine-tune" and f["status"] == "processed" and f["filename"] == "train.jsonl"
    assert_valid(spec, "POST", "/v1/files", r)
    lst = tenant.call("GET", "/v1/files")
    assert [x["id"] for x in lst.json()["data"]] == [f["id"]]
    assert_valid(spec, "GET", "/v1/files", lst)
    got = tenant.call("GET", f"/v1/files/{f['id']}")
    assert got.json() == f
    assert_valid(spec, "GET", f"/v1/files/{f['id']}", got)
    assert tenant.call("GET", f"/v1/files/{f['id']}/content").body == data
    assert tenant.file_content(f["id"]) == data
    assert tenant.files()[0]["sha256"] == hashlib.sha256(data).hexdigest()
    entry = find_log(tenant, "/v1/files", "POST")[0]
    part = entry["multipart"]["files"][0]
    assert part["filename"] == "train.jsonl" and part["size"] == len(data)
    assert part["line_count"] == 2 and part["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["multipart"]["fields"] == {"purpose": "fine-tune"}
    d = tenant.call("DELETE", f"/v1/files/{f['id']}")
    assert d.json() == {"id": f["id"], "object": "file", "deleted": True}
    assert_valid(spec, "DELETE", f"/v1/files/{f['id']}", d)
    assert tenant.call("GET", f"/v1/files/{f['id']}").status == 404
    # any purpose of the spec; binary content is kept byte for byte
    blob = bytes(range(256)) * 100
    r = upload(tenant, blob, purpose="user_data", filename="blob.bin")
    assert r.status == 200 and tenant.file_content(r.json()["id"]) == blob


@pytest.mark.parametrize("data,line", [
    (b'{"messages": [{"role": "user", "content": "hi"}]}\n', 1),                   # last not assistant
    (jsonl(example()) + b"not json\n", 2),
    (jsonl(example()) + b'{"messages": []}\n', 2),
    (jsonl(example(), example()) + b'{"messages": [{"role": "robot", "content": "x"}, '
                                    b'{"role": "assistant", "content": "y"}]}\n', 3),
    (jsonl(example()) + b'{"messages": [{"role": "user", "content": ""}, '
                        b'{"role": "assistant", "content": "y"}]}\n', 2),
    (jsonl(example()) + b'{"messages": [{"role": "user", "content": "\xff"}]}\n', 2),
    (jsonl(example()) + b"\n" + jsonl(example()), 2),
])
def test_bad_jsonl_rejected(tenant, data, line):
    r = upload(tenant, data)
    assert r.status == 400, r
    assert f"line {line}" in r.json()["error"]["message"]
    v = tenant.take_violations()
    assert len(v) == 1 and f"line {line}" in v[0]
    assert tenant.files() == []


def test_bad_purpose_rejected(tenant):
    r = upload(tenant, b"abc", purpose="training")
    assert r.status == 400
    assert any("purpose" in x or "training" in x for x in tenant.take_violations())


# --- fine-tuning ---------------------------------------------------------------------------

def make_job(tenant, data=None, **extra):
    fid = upload(tenant, data or jsonl(example(), example("Hi", "Hello"))).json()["id"]
    body = {"model": "gpt-4o-mini", "training_file": fid}
    body.update(extra)
    r = tenant.call("POST", "/v1/fine_tuning/jobs", body)
    assert r.status == 200, r
    return r


def test_job_to_success(tenant, spec):
    r = make_job(tenant, suffix="demo")
    job = r.json()
    assert job["status"] == "validating_files" and job["id"].startswith("ftjob-")
    assert_valid(spec, "POST", "/v1/fine_tuning/jobs", r)
    seen = []
    for _ in range(3):
        g = tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}")
        assert_valid(spec, "GET", f"/v1/fine_tuning/jobs/{job['id']}", g)
        seen.append(g.json()["status"])
    assert seen == ["queued", "running", "succeeded"]
    done = g.json()
    assert re.fullmatch(r"ft:gpt-4o-mini:personal:demo:[A-Za-z0-9]{8}", done["fine_tuned_model"])
    assert done["finished_at"] and done["trained_tokens"] > 0 and done["error"] is None
    assert tenant.file_content(done["result_files"][0]).startswith(b"step,")
    ev = tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}/events")
    assert_valid(spec, "GET", f"/v1/fine_tuning/jobs/{job['id']}/events", ev)
    events = ev.json()["data"]
    assert events[0]["message"] == "The job has successfully completed"
    assert events[-1]["message"].startswith("Created fine-tuning job")
    assert all(e["object"] == "fine_tuning.job.event" and e["id"].startswith("ftevent-") for e in events)
    created = [e["created_at"] for e in events]
    assert created == sorted(created, reverse=True)
    page = tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}/events?limit=2").json()
    assert page["has_more"] is True and [e["id"] for e in page["data"]] == [e["id"] for e in events[:2]]
    rest = tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}/events?after={events[1]['id']}").json()
    assert [e["id"] for e in rest["data"]] == [e["id"] for e in events[2:]]
    # the new model is served
    models = [m["id"] for m in tenant.call("GET", "/v1/models").json()["data"]]
    assert done["fine_tuned_model"] in models
    assert tenant.call("POST", CHAT, chat_body(model=done["fine_tuned_model"])).status == 200


def test_job_to_failure(tenant):
    data = jsonl(example(), example("please [[fail]] now", "ok"))
    job = make_job(tenant, data).json()
    statuses = [tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}").json() for _ in range(4)]
    assert [s["status"] for s in statuses] == ["queued", "running", "failed", "failed"]
    err = statuses[-1]["error"]
    assert err["code"] and "line 2" in err["message"] and statuses[-1]["fine_tuned_model"] is None
    events = tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}/events").json()["data"]
    assert events[0]["level"] == "error"


def test_job_cancel_list_and_errors(tenant, spec):
    a = make_job(tenant).json()
    b = make_job(tenant).json()
    c = tenant.call("POST", f"/v1/fine_tuning/jobs/{a['id']}/cancel")
    assert c.status == 200 and c.json()["status"] == "cancelled"
    assert_valid(spec, "POST", f"/v1/fine_tuning/jobs/{a['id']}/cancel", c)
    again = tenant.call("POST", f"/v1/fine_tuning/jobs/{a['id']}/cancel")
    assert again.status == 400 and again.json()["error"]["type"] == "invalid_request_error"
    assert tenant.call("GET", f"/v1/fine_tuning/jobs/{a['id']}").json()["status"] == "cancelled"
    lst = tenant.call("GET", "/v1/fine_tuning/jobs")
    assert_valid(spec, "GET", "/v1/fine_tuning/jobs", lst)
    assert [j["id"] for j in lst.json()["data"]] == [b["id"], a["id"]]
    page = tenant.call("GET", "/v1/fine_tuning/jobs?limit=1").json()
    assert page["has_more"] is True and page["data"][0]["id"] == b["id"]
    page = tenant.call("GET", f"/v1/fine_tuning/jobs?after={b['id']}").json()
    assert [j["id"] for j in page["data"]] == [a["id"]] and page["has_more"] is False
    for path in ("/v1/fine_tuning/jobs/ftjob-nope", "/v1/fine_tuning/jobs/ftjob-nope/events"):
        r = tenant.call("GET", path)
        assert r.status == 404 and "error" in r.json()
    r = tenant.call("POST", "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini", "training_file": "file-missing"})
    assert r.status == 400 and r.json()["error"]["param"] == "training_file"
    other = upload(tenant, b"x", purpose="user_data").json()["id"]
    r = tenant.call("POST", "/v1/fine_tuning/jobs", {"model": "gpt-4o-mini", "training_file": other})
    assert r.status == 400


def test_job_steps(tenant):
    tenant.config(job_steps=2)
    job = make_job(tenant).json()
    seen = [tenant.call("GET", f"/v1/fine_tuning/jobs/{job['id']}").json()["status"] for _ in range(6)]
    assert seen == ["validating_files", "queued", "queued", "running", "running", "succeeded"]


# --- assistants ------------------------------------------------------------------------------

BETA = {"OpenAI-Beta": "assistants=v2"}


def test_assistants(tenant, spec):
    tenant.config(assistants={"asst_abc123": {"name": "Helper", "model": "gpt-4o",
                                               "instructions": "Be brief."}})
    r = tenant.call("GET", "/v1/assistants/asst_abc123", headers=BETA)
    assert r.status == 200, r
    a = r.json()
    assert (a["id"], a["object"], a["name"], a["model"]) == ("asst_abc123", "assistant", "Helper", "gpt-4o")
    assert a["tools"] == [] and a["metadata"] == {}
    assert_valid(spec, "GET", "/v1/assistants/asst_abc123", r)
    assert tenant.call("GET", "/v1/assistants/asst_other", headers=BETA).status == 404
    r = tenant.call("GET", "/v1/assistants/asst_abc123")
    assert r.status == 400 and "OpenAI-Beta" in r.json()["error"]["message"]
    v = tenant.take_violations()
    assert len(v) == 1 and "OpenAI-Beta" in v[0]


def test_assistants_retired(tenant):
    tenant.config(assistants={"asst_abc123": {"name": "Helper"}}, assistants_retired=True)
    r = tenant.call("GET", "/v1/assistants/asst_abc123", headers=BETA)
    assert r.status == 404 and "shut down" in r.json()["error"]["message"]
    tenant.config(retired_status=410)
    assert tenant.call("GET", "/v1/assistants", headers=BETA).status == 410
    assert tenant.violations() == []


# --- tenants and the log ------------------------------------------------------------------------

def test_tenants_are_isolated(server):
    a, b = Tenant(server.root, new_key("iso-a")), Tenant(server.root, new_key("iso-b"))
    try:
        a.faults([{"kind": "status", "status": 500, "times": 1}])
        a.config(replies=["only for a"])
        assert b.call("POST", CHAT, chat_body()).status == 200
        assert "only for a" not in b.call("POST", CHAT, chat_body()).body.decode()
        assert a.call("POST", CHAT, chat_body()).status == 500
        assert len(b.requests()) == 2 and len(a.requests()) == 1
        fid = upload(a, jsonl(example())).json()["id"]
        assert b.call("GET", f"/v1/files/{fid}").status == 404
        assert b.files() == []
    finally:
        assert a.violations() == [] and b.violations() == []
        a.reset()
        b.reset()


def test_request_log(tenant):
    tenant.call("GET", "/v1/fine_tuning/jobs?limit=3&after=ftjob-x", headers={"X-Custom": "yes"})
    body = json.dumps(chat_body()).encode()
    tenant.call("POST", CHAT, body, {"Content-Type": "application/json"})
    log = tenant.requests()
    assert [e["path"] for e in log] == ["/v1/fine_tuning/jobs", CHAT]
    first, second = log
    assert first["query"] == {"limit": "3", "after": "ftjob-x"} and first["json"] is None
    assert first["headers"]["x-custom"] == "yes"
    assert first["headers"]["authorization"] == "Bearer ***" + tenant.key[-4:]
    assert tenant.key not in json.dumps(log)
    assert second["json"] == chat_body() and second["body_size"] == len(body)
    assert second["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert second["content_type"] == "application/json" and second["status"] == 200
    assert second["fault"] is None and second["time"] >= first["time"]
    assert second["method"] == "POST"


def test_chunked_request_body(tenant):
    body = json.dumps(chat_body("chunked please")).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 10]), body[i:i + 10])
                       for i in range(0, len(body), 10)) + b"0\r\n\r\n"
    got, err = raw_exchange(tenant, "POST", CHAT, chunked,
                            headers={"Transfer-Encoding": "chunked", "Content-Length": None})
    assert err is None
    status, _, payload, _ = split_http(got)
    assert status == 200 and b"You said: chunked please" in payload


def test_many_small_requests(tenant):
    n_threads, per_thread = 8, 40
    failures = []

    def work():
        for _ in range(per_thread):
            r = tenant.call("GET", "/v1/models")
            if r.status != 200:
                failures.append(r.status)
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert failures == []
    assert len(tenant.requests()) == n_threads * per_thread
    rate = n_threads * per_thread / elapsed
    assert rate > 50, f"only {rate:.0f} requests/s"     # typically several hundred


def test_no_validate_mode_still_checks(server):
    srv = start_server(validate=False)
    try:
        t = Tenant(srv.root)
        assert t.call("GET", "/_control/health", auth=False).json()["validating"] is False
        assert t.call("POST", CHAT, chat_body()).status == 200
        assert t.call("POST", CHAT, {"model": "gpt-4o-mini", "messages": []}).status == 400
        assert len(t.violations()) == 1
    finally:
        srv.stop()


# --- big payloads (opt-in: OM_SERVER_BIG_TESTS=1) -------------------------------------------

big = pytest.mark.skipif(not os.environ.get("OM_SERVER_BIG_TESTS"),
                         reason="set OM_SERVER_BIG_TESTS=1 for the 200 MB / 1 GB payload tests")


@big
def test_200mb_image(tenant):
    png = make_png(64, 48, pad_to=200 << 20)
    body = json.dumps(image_body(data_uri(png, "image/png"))).encode()
    del png
    r = tenant.call("POST", CHAT, body, {"Content-Type": "application/json"}, timeout=300)
    assert r.status == 200, r
    info = json.loads(r.json()["choices"][0]["message"]["content"])
    assert info["bytes"] == 200 << 20 and info["width"] == 64


@big
def test_1gb_upload(tenant):
    line = (json.dumps(example()) + "\n").encode()
    count = (1 << 30) // len(line)
    head, ctype = encode_multipart({"purpose": "fine-tune"}, [])
    boundary = ctype.split("boundary=")[1]
    pre = (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
           f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n'
           f'Content-Type: application/jsonl\r\n\r\n').encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    size = len(pre) + count * len(line) + len(post)
    block = line * 10000
    u = urlsplit(tenant.root)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    conn.putrequest("POST", "/v1/files")
    conn.putheader("Authorization", f"Bearer {tenant.key}")
    conn.putheader("Content-Type", ctype)
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    conn.send(pre)
    left = count
    while left:
        n = min(left, 10000)
        conn.send(block if n == 10000 else line * n)
        left -= n
    conn.send(post)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    assert resp.status == 200, data
    assert json.loads(data)["bytes"] == count * len(line)
