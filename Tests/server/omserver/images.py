"""Analysis of images sent inline as ``data:<mime>;base64,<data>`` URIs.

Payloads may be hundreds of megabytes, so the base64 text is decoded in
slices: only a hash, the size and the first bytes (enough for the format's
header) are kept.
"""

import binascii
import hashlib
import struct

SUPPORTED = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
MIME_TO_KIND = {v: k for k, v in SUPPORTED.items()}

HEAD_KEEP = 512 * 1024          # decoded bytes kept for header parsing
SLICE_CHARS = 4 * 1024 * 1024   # base64 characters decoded per step (multiple of 4)


class ImageError(ValueError):
    """The data URI or the image in it is not acceptable."""


def detect(head):
    """The real format from magic bytes: png, jpeg, gif, webp or unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def _png_size(h):
    if len(h) >= 24 and h[12:16] == b"IHDR":
        return struct.unpack(">II", h[16:24])
    return None


def _gif_size(h):
    if len(h) >= 10:
        return struct.unpack("<HH", h[6:10])
    return None


def _webp_size(h):
    if len(h) < 30:
        return None
    chunk = h[12:16]
    if chunk == b"VP8X":
        w = int.from_bytes(h[24:27], "little") + 1
        ht = int.from_bytes(h[27:30], "little") + 1
        return w, ht
    if chunk == b"VP8 " and h[23:26] == b"\x9d\x01\x2a":
        w, ht = struct.unpack("<HH", h[26:30])
        return w & 0x3FFF, ht & 0x3FFF
    if chunk == b"VP8L" and h[20] == 0x2F:
        bits = int.from_bytes(h[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


# JPEG start-of-frame markers (SOF0..SOF15 but not DHT, JPG, DAC)
_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(h):
    i = 2
    n = len(h)
    while i + 4 <= n:
        if h[i] != 0xFF:
            return None
        marker = h[i + 1]
        if marker == 0xFF:          # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seg_len = struct.unpack(">H", h[i + 2:i + 4])[0]
        if marker in _SOF:
            if i + 9 <= n:
                height, width = struct.unpack(">HH", h[i + 5:i + 9])
                return width, height
            return None
        if marker == 0xDA:           # start of scan: no frame header seen
            return None
        i += 2 + seg_len
    return None


def dimensions(kind, head):
    """(width, height) from the header when it is easy to read, else None."""
    try:
        return {"png": _png_size, "gif": _gif_size, "webp": _webp_size,
                "jpeg": _jpeg_size}.get(kind, lambda h: None)(head)
    except (struct.error, IndexError):
        return None


def parse_data_uri_header(url):
    """Split ``data:<mime>;base64,`` off; returns (mime, is_base64, payload_start)."""
    comma = url.find(",", 0, 512)
    if not url.startswith("data:") or comma < 0:
        raise ImageError("The image URL is not a valid data URI (expected data:<mime>;base64,<data>).")
    meta = url[5:comma].split(";")
    mime = meta[0].strip().lower()
    is_b64 = any(p.strip().lower() == "base64" for p in meta[1:])
    return mime, is_b64, comma + 1


def analyze_data_uri(url):
    """Decode and inspect one data URI.

    Returns a dict {mime, decoded_size, sha256, detected, width, height}
    and, when the image is not acceptable, an "error" message.
    """
    info = {"mime": None, "decoded_size": None, "sha256": None, "detected": "unknown",
            "width": None, "height": None}
    try:
        mime, is_b64, start = parse_data_uri_header(url)
    except ImageError as exc:
        info["error"] = str(exc)
        return info
    info["mime"] = mime
    if not is_b64:
        info["error"] = f"The data URI for {mime or 'the image'} is not base64-encoded."
        return info
    total = len(url) - start
    if total == 0:
        info["error"] = "The image data is empty."
        return info
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    try:
        for pos in range(start, len(url), SLICE_CHARS):
            chunk = binascii.a2b_base64(url[pos:pos + SLICE_CHARS], strict_mode=True)
            digest.update(chunk)
            size += len(chunk)
            if len(head) < HEAD_KEEP:
                head += chunk[:HEAD_KEEP - len(head)]
    except (binascii.Error, ValueError) as exc:
        info["error"] = f"The image data is not valid base64 ({exc})."
        return info
    head = bytes(head)
    kind = detect(head)
    info.update(decoded_size=size, sha256=digest.hexdigest(), detected=kind)
    dims = dimensions(kind, head)
    if dims:
        info["width"], info["height"] = dims
    if kind == "unknown":
        info["error"] = ("You uploaded an unsupported image. Supported formats are "
                         "png, jpeg, gif and webp.")
    elif mime not in MIME_TO_KIND:
        info["error"] = (f"Unsupported image type {mime!r} in the data URI; "
                         "use image/png, image/jpeg, image/gif or image/webp.")
    elif MIME_TO_KIND[mime] != kind:
        info["error"] = (f"The image data is {kind} but the data URI declares {mime}: "
                         "the declared type must match the image.")
    return info


def log_form(info):
    """The short text that replaces a data URI in the request log."""
    if info.get("decoded_size") is None:
        return f"data:{info.get('mime') or ''};base64,<undecodable>"
    return f"data:{info['mime']};base64,<{info['decoded_size']} bytes sha256={info['sha256']}>"


def short_valid_form(url):
    """A tiny stand-in data URI, kept valid for schema validation."""
    if len(url) <= 1024:
        return url
    comma = url.find(",", 0, 512)
    prefix = url[:comma] if url.startswith("data:") and comma > 0 else "data:application/octet-stream;base64"
    return prefix + ",AAAA"
