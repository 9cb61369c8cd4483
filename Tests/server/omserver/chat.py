"""Chat completions: replies, completion objects and server-sent event streams."""

import json
import re
import time

from . import state

FINGERPRINT = "fp_0m7e5t5e7v"

_GREETING = re.compile(r"^\s*(hello|hi|hey|good (morning|afternoon|evening))\b", re.I)


def message_text(content):
    """The text of a message content (string, or the text parts of an array)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content
                 if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)]
        return "\n".join(texts)
    return ""


def last_user_text(messages):
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return message_text(m.get("content"))
    return ""


def default_reply(text):
    """A friendly, deterministic answer to the last user message."""
    t = text.strip()
    if not t:
        return "Hello! How can I help you today?"
    if "how are you" in t.lower():
        return "Hello! I'm doing well, thank you for asking. How can I help you today?"
    if _GREETING.match(t) and len(t.split()) <= 3:
        return "Hello! How can I help you today?"
    return "You said: " + t


def image_reply(images):
    """The reply describing the image(s) the request carried, as JSON text."""
    out = []
    for info in images:
        if info.get("kind") == "data":
            out.append({"format": info.get("detected"), "bytes": info.get("decoded_size"),
                        "sha256": info.get("sha256"), "width": info.get("width"),
                        "height": info.get("height")})
        else:
            out.append({"format": None, "bytes": None, "sha256": None, "width": None,
                        "height": None, "url": info.get("url")})
    obj = out[0] if len(out) == 1 else out
    return json.dumps(obj, separators=(",", ":"))


def count_words(text):
    return len(text.split())


def prompt_tokens(messages, n_images):
    total = 0
    for m in messages:
        if isinstance(m, dict):
            total += 3 + count_words(message_text(m.get("content")))
    return total + 3 + 85 * n_images


def limit_reply(reply, limit):
    """Cut the reply to ``limit`` words; returns (text, finish_reason)."""
    if not isinstance(limit, int) or limit <= 0:
        return reply, "stop"
    words = re.findall(r"\s*\S+", reply)
    if len(words) <= limit:
        return reply, "stop"
    return "".join(words[:limit]), "length"


def usage(prompt, completion):
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }


def completion_object(model, reply, finish, prompt, n=1):
    return {
        "id": state.new_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": i,
            "message": {"role": "assistant", "content": reply, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": finish,
        } for i in range(n)],
        "usage": usage(prompt, count_words(reply) * n),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }


# --- streaming --------------------------------------------------------------

class Stall:
    """A pause in a stream (flushes any partial write first)."""

    def __init__(self, seconds):
        self.seconds = seconds


def split_pieces(reply, chunk_chars=None):
    if chunk_chars:
        n = max(1, int(chunk_chars))
        return [reply[i:i + n] for i in range(0, len(reply), n)]
    pieces = re.findall(r"\s*\S+", reply)
    tail = reply[len("".join(pieces)):]
    if tail:
        pieces.append(tail)
    return pieces


DEFAULT_STREAM_ERROR = {"message": "The server had an error while processing your request. Sorry about that!",
                        "type": "server_error", "param": None, "code": None}


def stream_items(model, reply, finish, prompt, opts, include_usage):
    """The SSE stream as bytes items (and Stall markers)."""
    le = opts.get("line_ending", "\n")
    if le not in ("\n", "\r", "\r\n"):
        le = "\n"
    cid = state.new_id("chatcmpl-", 29)
    created = int(time.time())

    def chunk(delta, finish_reason=None, choices=True, usage_obj=None):
        obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "service_tier": "default", "system_fingerprint": FINGERPRINT,
               "choices": [{"index": 0, "delta": delta, "logprobs": None,
                            "finish_reason": finish_reason}] if choices else []}
        if include_usage:
            obj["usage"] = usage_obj
        return event(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))

    def event(data, name=None):
        text = (f"event: {name}{le}" if name else "") + f"data: {data}{le}{le}"
        return text.encode("utf-8")

    if "events" in opts:
        text = str(opts.get("event_text", "x"))
        pieces = [text] * max(0, int(opts["events"]))
        reply = text * len(pieces)
    else:
        pieces = split_pieces(reply, opts.get("chunk_chars"))

    error_after = opts.get("error_after")
    stall_after = opts.get("stall_after")

    error_after = None if error_after is None else int(error_after)
    stall_after = None if stall_after is None else int(stall_after)

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    sent = 0
    if stall_after == 0:
        yield Stall(float(opts.get("stall_seconds", 30)))
    for piece in pieces:
        if error_after is not None and sent >= error_after:
            break
        yield chunk({"content": piece})
        sent += 1
        if stall_after is not None and sent == stall_after:
            yield Stall(float(opts.get("stall_seconds", 30)))
    if error_after is not None and sent >= error_after:
        err = dict(DEFAULT_STREAM_ERROR)
        if opts.get("error_message"):
            err["message"] = str(opts["error_message"])
        payload = json.dumps({"error": err}, separators=(",", ":"))
        if opts.get("error_style", "event") == "data":
            yield event(payload)
        else:
            yield event(payload, name="error")
        return
    yield chunk({}, finish_reason=finish)
    if include_usage:
        yield chunk(None, choices=False, usage_obj=usage(prompt, count_words(reply)))
    yield event("[DONE]")


def rechunk(items, size, delay, wait):
    """Re-cut the byte stream into writes of ``size`` bytes, pausing ``delay``.

    ``wait(seconds)`` performs a stall (and may raise when the client is gone).
    """
    buf = b""
    for item in items:
        if isinstance(item, Stall):
            if buf:
                yield buf
                buf = b""
            wait(item.seconds)
            continue
        if not size:
            yield item
            continue
        buf += item
        while len(buf) >= size:
            yield buf[:size]
            buf = buf[size:]
            if delay:
                time.sleep(delay)
    if buf:
        yield buf
