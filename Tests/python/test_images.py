"""describe_image / describe_image_by_requests, and a cross-check of the
library's streaming base64 encoder against hashlib."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

import openaimodel
from harness import make_gif, make_jpeg, make_png, make_webp
from omtest import chat_requests

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_parts(request):
    parts = request["json"]["messages"][-1]["content"]
    return [p for p in parts if p.get("type") == "image_url"]


def test_describe_image_png(model, tenant, tmp_path):
    data = make_png(7, 5)
    path = tmp_path / "red.png"
    path.write_bytes(data)
    result = model.describe_image(path)
    assert result == {"format": "png", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                      "width": 7, "height": 5}
    (req,) = chat_requests(tenant)
    (part,) = image_parts(req)
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    texts = [p["text"] for p in req["json"]["messages"][-1]["content"] if p.get("type") == "text"]
    assert texts == ["What's in this image?"]
    assert req["images"][0]["mime"] == "image/png"


@pytest.mark.parametrize("maker,fmt,mime", [(make_gif, "gif", "image/gif"),
                                            (make_jpeg, "jpeg", "image/jpeg"),
                                            (make_webp, "webp", "image/webp")])
def test_describe_image_formats(model, tenant, tmp_path, maker, fmt, mime):
    data = maker()
    path = tmp_path / "image.bin"          # the type comes from the bytes, not the name
    path.write_bytes(data)
    result = model.describe_image(str(path))
    assert result["format"] == fmt and result["bytes"] == len(data)
    assert chat_requests(tenant)[0]["images"][0]["mime"] == mime


def test_describe_image_prompt_and_system_instruction(model, tenant, tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(make_png())
    model.describe_image(path, prompt="Count the pixels", system_instruction="You see well.")
    body = chat_requests(tenant)[0]["json"]
    assert body["messages"][0] == {"role": "system", "content": "You see well."}
    texts = [p["text"] for p in body["messages"][-1]["content"] if p.get("type") == "text"]
    assert texts == ["Count the pixels"]


def test_describe_image_prose_reply(model, tenant, tmp_path):
    tenant.config({"replies": ["A small red square."]})
    path = tmp_path / "a.png"
    path.write_bytes(make_png())
    assert model.describe_image(path) == {"description": "A small red square."}


def test_describe_image_fenced_json_reply(model, tenant, tmp_path):
    tenant.config({"replies": ['Here you go:\n```json\n[{"object": "square"}, {"object": "dot"}]\n```']})
    path = tmp_path / "a.png"
    path.write_bytes(make_png())
    assert model.describe_image(path) == [{"object": "square"}, {"object": "dot"}]


def test_describe_image_by_requests(model, tenant, tmp_path):
    data = make_png(2, 2)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    text = model.describe_image_by_requests(path, prompt="What is it?")
    assert isinstance(text, str)
    assert json.loads(text)["sha256"] == hashlib.sha256(data).hexdigest()
    tenant.config({"replies": ["  A red square.  "]})
    assert model.describe_image_by_requests(str(path)).strip() == "A red square."


def test_describe_image_url(model, tenant):
    url = "https://example.com/cat.png"
    result = model.describe_image(url)
    assert result["url"] == url and result["format"] is None
    (part,) = image_parts(chat_requests(tenant)[0])
    assert part["image_url"]["url"] == url


def test_image_detail_and_token_limit(make_model, tenant, tmp_path):
    m = make_model(image_detail="high", image_max_output_tokens=123)
    path = tmp_path / "a.png"
    path.write_bytes(make_png())
    m.describe_image(path)
    body = chat_requests(tenant)[0]["json"]
    (part,) = image_parts(chat_requests(tenant)[0])
    assert part["image_url"]["detail"] == "high"
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 123


def test_image_errors_before_any_request(model, tenant, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        model.describe_image(tmp_path / "missing.png")
    assert isinstance(info.value, openaimodel.NoSuchFileError)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(openaimodel.InvalidDataError):
        model.describe_image(empty)
    text = tmp_path / "notes.png"
    text.write_text("just some text, not an image")
    with pytest.raises(ValueError):
        model.describe_image(text)
    with pytest.raises(openaimodel.InvalidDataError):
        model.describe_image(tmp_path)             # a folder
    with pytest.raises(FileNotFoundError):
        model.describe_image_by_requests(tmp_path / "missing.png")
    assert chat_requests(tenant) == []


def test_base64_cross_check(model, tenant, tmp_path):
    """Images of random content and sizes: the server decodes the data URI and
    reports size and sha256, which must equal hashlib's on the file."""
    rng = random.Random(20240601)
    tails = sorted({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 56, 57, 58, 59, 4086, 4087, 4088}
                   | {rng.randrange(0, 4089) for _ in range(40)})
    for n in tails:
        data = PNG_SIGNATURE + rng.randbytes(n)
        path = tmp_path / f"random-{n}.png"
        path.write_bytes(data)
        result = model.describe_image(path)
        expected = hashlib.sha256(data).hexdigest()
        assert result["bytes"] == len(data), n
        assert result["sha256"] == expected, n
        logged = chat_requests(tenant)[-1]["images"][0]
        assert logged["decoded_size"] == len(data) and logged["sha256"] == expected
    assert len(chat_requests(tenant)) == len(tails)
