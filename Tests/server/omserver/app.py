"""The WSGI application: OpenAI API routes, faults and the control API."""

import hashlib
import selectors
import json
import math
import os
import re
import socket
import sys
import tempfile
import threading
import time
import traceback
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.formparser import MultiPartParser
from werkzeug.http import parse_options_header
from werkzeug.serving import WSGIRequestHandler
import werkzeug.serving as werkzeug_serving
from werkzeug.wrappers import Response

from . import chat, finetune, images, state, wire

DEFAULT_MODELS = [
    ("gpt-4o-mini", 1721172741),
    ("gpt-4o", 1715367049),
    ("gpt-4.1-mini", 1744318173),
    ("o4-mini", 1744225351),
    ("text-embedding-3-small", 1705948997),
]
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
FAULT_KINDS = ("status", "reset_request", "reset", "reset_response", "truncate", "stall",
               "slow", "delay")
SMALL_BODY = 8 << 20            # bodies up to this size are validated as sent
LOG_STRING_LIMIT = 256 << 10    # longer strings are summarized in the request log
OPENAI_VERSION = "2020-10-01"


# --- responses ---------------------------------------------------------------

def json_response(obj, status=200, headers=None):
    body = json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(body, status=status, headers=headers, content_type="application/json")


def error_obj(message, type_="invalid_request_error", param=None, code=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(status, message, type_="invalid_request_error", param=None, code=None,
                   headers=None):
    return json_response(error_obj(message, type_, param, code), status, headers)


DEFAULT_FAULT_ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You have insufficient permissions for this operation."),
    404: ("invalid_request_error", None, "Not found."),
    408: ("server_error", None, "Request timed out."),
    409: ("invalid_request_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("rate_limit_exceeded", "rate_limit_exceeded",
          "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None,
          "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
    504: ("server_error", None, "Gateway timeout."),
}


def mask_key(key):
    if len(key) > 12:
        return key[:6] + "*" * (len(key) - 10) + key[-4:]
    return key[:3] + "*" * max(3, len(key) - 3)


# --- routing -------------------------------------------------------------------

ROUTES = []


def route(method, template):
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")

    def register(fn):
        ROUTES.append((method, pattern, fn))
        return fn
    return register


def match_route(method, path):
    for m, pattern, fn in ROUTES:
        if m == method:
            found = pattern.match(path)
            if found:
                return fn, found.groupdict()
    return None, {}


# --- per-request context ---------------------------------------------------------

class Upload:
    """One file part of a multipart body, spooled to disk as it arrives."""

    def __init__(self, directory):
        fd, self.path = tempfile.mkstemp(dir=directory, suffix=".part")
        self.f = os.fdopen(fd, "wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        self.last = b""
        self.adopted = False
        self.name = self.filename = self.content_type = None

    def write(self, data):
        self.f.write(data)
        self.sha.update(data)
        self.size += len(data)
        self.newlines += data.count(b"\n")
        if data:
            self.last = data[-1:]

    def seek(self, *args):
        self.close()

    def close(self):
        if not self.f.closed:
            self.f.close()

    @property
    def line_count(self):
        return self.newlines + (1 if self.size and self.last != b"\n" else 0)

    def summary(self):
        return {"name": self.name, "filename": self.filename, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha.hexdigest(), "line_count": self.line_count}

    def discard(self):
        self.close()
        if not self.adopted:
            try:
                os.unlink(self.path)
            except OSError:
                pass


class Ctx:
    def __init__(self, server, environ, tenant, key, entry, headers, t0, rid):
        self.server = server
        self.environ = environ
        self.tenant = tenant
        self.key = key
        self.entry = entry
        self.t0 = t0
        self.rid = rid
        self.method = entry["method"]
        self.path = entry["path"]
        self.query_pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.query = dict(self.query_pairs)
        self.headers = headers       # lowercased names, unmasked
        self.content_type = environ.get("CONTENT_TYPE", "")
        self.raw = None              # body bytes when small enough to keep
        self.json = None             # parsed JSON body
        self.json_error = None
        self.fields = None           # multipart fields (name -> value)
        self.field_pairs = []
        self.uploads = []
        self.multipart_error = None
        self.spec_errors = []
        self.images = []             # analysis of image parts (chat)
        self.image_holders = []      # (image_url dict, log form)

    def violation(self, text):
        self.tenant.violation(f"{self.method} {self.path}: {text}")

    def cleanup(self):
        for u in self.uploads:
            u.discard()


LOG_BUDGET = 4 << 20            # characters of strings one log entry keeps in full


def log_copy(obj, subst):
    """A copy of a JSON value fit for the log.

    Strings over LOG_STRING_LIMIT, and any string over 64 characters once the
    entry has kept LOG_BUDGET characters, are replaced by a short summary;
    image holders listed in ``subst`` get their log form of the URL.
    """
    budget = [LOG_BUDGET]

    def summary(text):
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return f"<{len(text)} characters sha256={digest}>"

    def copy(o, depth):
        if depth > 200:
            return "<nested too deep>"
        if isinstance(o, dict):
            out = {k: copy(v, depth + 1) for k, v in o.items()}
            if id(o) in subst:
                out["url"] = subst[id(o)]
            return out
        if isinstance(o, list):
            return [copy(v, depth + 1) for v in o]
        if isinstance(o, str):
            if len(o) > LOG_STRING_LIMIT or (len(o) > 64 and len(o) > budget[0]):
                return summary(o)
            budget[0] -= len(o)
        return o
    return copy(obj, 0)


# --- the server ----------------------------------------------------------------

class _Watched:
    """Notes in the log entry when a response body could not be delivered."""

    def __init__(self, iterable, entry):
        self.iterable = iterable
        self.entry = entry

    def __iter__(self):
        try:
            yield from self.iterable
        except (ConnectionError, socket.timeout) as exc:
            self.entry["dropped"] = str(exc) or type(exc).__name__
            raise

    def close(self):
        close = getattr(self.iterable, "close", None)
        if close is not None:
            close()


# Whether the response being sent on this thread may leave the connection
# open. werkzeug always sends "Connection: close"; the server keeps the
# connection (HTTP/1.1 keep-alive, as the real API does) when it has read the
# whole request body and no fault is acting on the connection.
KEEPALIVE = threading.local()


class _NoDrainSelectors:
    """Stands in for the `selectors` module inside werkzeug.serving. After each
    response werkzeug reads whatever the client sent next and throws it away
    (it assumes every connection closes). On a connection kept open that
    would eat the client's next request, so then the drain finds nothing."""

    def __getattr__(self, name):
        return getattr(selectors, name)

    @staticmethod
    def DefaultSelector():
        sel = selectors.DefaultSelector()
        if getattr(KEEPALIVE, "kept", False):
            KEEPALIVE.kept = False
            sel.select = lambda timeout=None: []
        return sel


werkzeug_serving.selectors = _NoDrainSelectors()


class Handler(WSGIRequestHandler):
    """werkzeug's handler, with Nagle off, quiet drops and optional quiet logs."""

    quiet = False
    timeout = 300
    # HTTP/1.1: connections stay open between requests (keep-alive), as with
    # the real API, so clients' connection reuse is exercised.
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def send_header(self, keyword, value):
        if (keyword.lower() == "connection" and value.lower() == "close"
                and getattr(KEEPALIVE, "ok", False)
                and (self.headers.get("Connection") or "").lower() != "close"):
            KEEPALIVE.ok = False
            KEEPALIVE.kept = True
            return  # keep the connection open for the client's next request
        super().send_header(keyword, value)

    def connection_dropped(self, error, environ=None):
        # the connection is gone (or was reset on purpose): never read from it again
        self.close_connection = True

    def log_request(self, code="-", size="-"):
        if not self.quiet:
            super().log_request(code, size)


class OpenAIServer:
    def __init__(self, validator, file_dir, quiet=False):
        self.validator = validator
        self.registry = state.Registry(file_dir)
        self.file_dir = file_dir
        self.quiet = quiet

    # -- entry point --------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_control" or path.startswith("/_control/"):
            return self.control(environ, start_response)
        return self.api(environ, start_response)

    # -- the API --------------------------------------------------------------------
    def api(self, environ, start_response):
        KEEPALIVE.ok = False
        t0 = time.monotonic()
        rid = state.request_id()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        headers = {}
        for k, v in environ.items():
            if k.startswith("HTTP_"):
                headers[k[5:].replace("_", "-").lower()] = v
        for k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(k):
                headers[k.replace("_", "-").lower()] = environ[k]
        auth = headers.get("authorization")
        key = ""
        if auth is not None:
            scheme, _, rest = auth.strip().partition(" ")
            if scheme.lower() == "bearer":
                key = rest.strip()
        logged_headers = dict(headers)
        if auth is not None:
            logged_headers["authorization"] = "Bearer ***" + (key[-4:] if len(key) > 8 else "")
        tenant = self.registry.get(key)
        entry = {
            "method": method, "path": path,
            "query": dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            "headers": logged_headers, "json": None, "body_size": 0, "body_sha256": None,
            "remote_port": int(environ.get("REMOTE_PORT") or 0),
            "content_type": environ.get("CONTENT_TYPE") or None, "multipart": None,
            "time": time.time(), "fault": None, "status": None, "request_id": rid,
        }
        tenant.add_log(entry)
        ctx = Ctx(self, environ, tenant, key, entry, headers, t0, rid)
        try:
            return self._api(ctx, auth is not None, start_response)
        except (ConnectionError, socket.timeout) as exc:
            entry["dropped"] = str(exc) or type(exc).__name__
            raise
        except Exception as exc:  # a bug in this server: make it loud
            traceback.print_exc(file=sys.stderr)
            ctx.violation(f"internal test-server error: {exc!r}")
            resp = error_response(500, f"Internal test-server error: {exc!r}", "server_error")
            self.finish_headers(ctx, resp)
            entry["status"] = 500
            return resp(environ, start_response)
        finally:
            ctx.cleanup()

    def _api(self, ctx, had_auth, start_response):
        environ, tenant, entry = ctx.environ, ctx.tenant, ctx.entry
        fault = tenant.take_fault(ctx.method, ctx.path)
        kind = fault.get("kind") if fault else None
        entry["fault"] = kind
        latency = tenant.cfg("latency")
        if latency:
            time.sleep(float(latency))
        if kind == "reset_request":
            wire.reset(environ, "reset_request fault")
        handler, params = match_route(ctx.method, ctx.path)
        self.read_body(ctx, handler)
        KEEPALIVE.ok = kind in (None, "status", "delay")
        self.validate(ctx, handler)
        if kind == "reset":
            wire.reset(environ, "reset fault")
        elif kind == "stall":
            wire.wait_unless_gone(environ, fault.get("seconds", 30))
        elif kind == "delay":
            time.sleep(float(fault.get("seconds", 1)))
        resp = self.dispatch(ctx, handler, params, fault, had_auth)
        self.finish_headers(ctx, resp)
        entry["status"] = resp.status_code
        if kind in ("truncate", "reset_response"):
            self.send_partial(ctx, resp, fault)
        elif kind == "slow":
            resp = self.slow_response(ctx, resp, fault)
        return _Watched(resp(environ, start_response), entry)

    def finish_headers(self, ctx, resp):
        resp.headers.setdefault("x-request-id", ctx.rid)
        resp.headers.setdefault("openai-processing-ms", str(int((time.monotonic() - ctx.t0) * 1000)))
        resp.headers.setdefault("openai-version", OPENAI_VERSION)

    # -- body -----------------------------------------------------------------------
    def read_body(self, ctx, handler):
        environ = ctx.environ
        if environ.get("wsgi.input_terminated"):
            length = None
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
        reader = wire.BodyReader(environ["wsgi.input"], length)
        mimetype, options = parse_options_header(ctx.content_type)
        try:
            if mimetype == "multipart/form-data":
                self.read_multipart(ctx, reader, options.get("boundary"))
            else:
                self.read_plain(ctx, reader, handler)
        finally:
            ctx.entry["body_size"] = reader.size
            ctx.entry["body_sha256"] = reader.sha256

    def read_plain(self, ctx, reader, handler):
        buf = reader.read_all()
        if not buf:
            return
        if len(buf) <= SMALL_BODY:
            ctx.raw = bytes(buf)
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError as exc:
            ctx.json_error = f"body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
            return
        finally:
            del buf
        try:
            ctx.json = json.loads(text)
        except (ValueError, RecursionError) as exc:
            ctx.json_error = f"body is not valid JSON ({exc})"
            return
        finally:
            del text
        if handler is h_chat:
            self.prepare_images(ctx)
        subst = {id(holder): log for holder, log in ctx.image_holders}
        ctx.entry["json"] = log_copy(ctx.json, subst)
        if ctx.images:
            ctx.entry["images"] = [
                {k: info.get(k) for k in ("mime", "decoded_size", "sha256", "detected",
                                          "width", "height")}
                for info in ctx.images if info.get("kind") == "data"]

    def prepare_images(self, ctx):
        msgs = ctx.json.get("messages") if isinstance(ctx.json, dict) else None
        if not isinstance(msgs, list):
            return
        for m in msgs:
            content = m.get("content") if isinstance(m, dict) else None
            if not isinstance(content, list):
                continue
            for part in content:
                if not isinstance(part, dict) or part.get("type") != "image_url":
                    continue
                holder = part.get("image_url")
                if not isinstance(holder, dict) or not isinstance(holder.get("url"), str):
                    continue
                url = holder["url"]
                if url[:5].lower() == "data:":
                    info = images.analyze_data_uri(url)
                    info["kind"] = "data"
                    holder["url"] = images.short_valid_form(url)
                    log = images.log_form(info)
                elif url[:7].lower() == "http://" or url[:8].lower() == "https://":
                    info = {"kind": "http", "url": url}
                    log = url if len(url) <= 4096 else url[:4096] + "..."
                else:
                    info = {"kind": "other", "url": url[:200],
                            "error": "The image URL must be http(s) or a data:<mime>;base64 URI."}
                    holder["url"] = images.short_valid_form(url)
                    log = url if len(url) <= 4096 else url[:200] + "..."
                del url
                ctx.images.append(info)
                ctx.image_holders.append((holder, log))

    def read_multipart(self, ctx, reader, boundary):
        fields = []

        def factory(total_content_length=None, content_type=None, filename=None,
                    content_length=None):
            up = Upload(self.file_dir)
            ctx.uploads.append(up)
            return up

        try:
            if not boundary:
                raise ValueError("no boundary in the multipart Content-Type")
            parser = MultiPartParser(stream_factory=factory, max_form_memory_size=4 << 20,
                                     buffer_size=256 * 1024, max_form_parts=1000)
            form, files = parser.parse(reader, boundary.encode("latin-1"), reader.remaining)
            fields = list(form.items(multi=True))
            for name, storage in files.items(multi=True):
                up = storage.stream
                up.name, up.filename = name, storage.filename
                up.content_type = storage.headers.get("content-type")
                up.close()
            reader.drain()
        except wire.Dropped:
            raise
        except Exception as exc:
            ctx.multipart_error = f"malformed multipart body ({exc})"
            reader.drain()
        ctx.fields = dict(fields)
        ctx.field_pairs = fields
        mp = {"fields": ctx.fields,
              "files": [u.summary() for u in ctx.uploads if u.name is not None]}
        if ctx.multipart_error:
            mp["error"] = ctx.multipart_error
        ctx.entry["multipart"] = mp

    def synthetic_multipart(self, ctx):
        """A small copy of the multipart body (files cut to one byte) to validate."""
        b = "omvalidateboundary"
        out = []

        def q(s):
            return str(s).replace("\\", "\\\\").replace('"', '\\"')
        for name, value in ctx.field_pairs:
            out.append(f'--{b}\r\nContent-Disposition: form-data; name="{q(name)}"\r\n\r\n'
                       .encode() + str(value).encode() + b"\r\n")
        for u in ctx.uploads:
            if u.name is None:
                continue
            out.append(f'--{b}\r\nContent-Disposition: form-data; name="{q(u.name)}"; '
                       f'filename="{q(u.filename or "")}"\r\nContent-Type: '
                       f'{u.content_type or "application/octet-stream"}\r\n\r\nx\r\n'.encode())
        out.append(f"--{b}--\r\n".encode())
        return b"".join(out), f"multipart/form-data; boundary={b}"

    # -- validation and dispatch ------------------------------------------------------
    def spec_errors(self, ctx):
        if self.validator is None:
            return []
        body, ctype = None, ctx.content_type
        if ctx.fields is not None:
            if ctx.multipart_error is None:
                body, ctype = self.synthetic_multipart(ctx)
        elif ctx.raw is not None:
            body = ctx.raw
        elif ctx.json is not None:
            body, ctype = json.dumps(ctx.json).encode(), "application/json"
        elif ctx.entry["body_size"]:
            body = b"\x00"          # a large non-JSON body: let the media type decide
        headers = dict(ctx.headers)
        return self.validator.request_errors(ctx.method, ctx.path, ctx.query_pairs, headers,
                                             ctype, body)

    def validate(self, ctx, handler):
        """Check the request against the description; record what is wrong."""
        ctx.spec_errors = self.spec_errors(ctx) if handler is not None else []
        for e in ctx.spec_errors:
            ctx.violation(e)
        if handler is not None and ctx.multipart_error:
            ctx.violation(ctx.multipart_error)
        # from here on, image parts hold the short forms shown in the log
        for holder, log in ctx.image_holders:
            holder["url"] = log

    def dispatch(self, ctx, handler, params, fault, had_auth):
        errors = ctx.spec_errors
        retired = ctx.path.startswith("/v1/assistants") and ctx.tenant.cfg("assistants_retired")
        if handler is None and not retired:
            ctx.violation("no such endpoint (Invalid URL)")
        if fault and fault.get("kind") == "status":
            return self.fault_response(fault)
        key = ctx.key
        if not had_auth or not key:
            return error_response(
                401, "You didn't provide an API key. Send it in an Authorization header "
                     "using Bearer auth (Authorization: Bearer YOUR_KEY).")
        if key.startswith("sk-invalid"):
            return error_response(
                401, f"Incorrect API key provided: {mask_key(key)}. You can find your API key "
                     "in your account settings.", code="invalid_api_key")
        if key.startswith("sk-noperm"):
            return error_response(403, "You have insufficient permissions for this operation.")
        if retired:
            if handler is h_assistant_get:
                check_beta_header(ctx)
            status = int(ctx.tenant.cfg("retired_status", 404))
            return error_response(status, "The Assistants API has been shut down. "
                                          "Use the Responses API instead.",
                                  code=ctx.tenant.cfg("retired_code"))
        if handler is None:
            return error_response(404, f"Invalid URL ({ctx.method} {ctx.path})")
        if errors:
            return error_response(400, "Invalid request: " + errors[0])
        if ctx.multipart_error:
            return error_response(400, "Invalid request: " + ctx.multipart_error)
        return handler(ctx, **params)

    def fault_response(self, fault):
        status = int(fault.get("status", 500))
        headers = dict(fault.get("headers") or {})
        ctype = fault.get("content_type", "application/json")
        if "body" in fault:
            body = fault["body"]
            if fault.get("raw") or isinstance(body, (bytes,)):
                data = body if isinstance(body, bytes) else str(body).encode("utf-8")
            else:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        elif 300 <= status < 400 or status in (204, 304):
            data = b""
        else:
            type_, code, message = DEFAULT_FAULT_ERRORS.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None,
                         f"Error {status}."))
            err = error_obj(fault.get("error_message", message), fault.get("error_type", type_),
                            fault.get("error_param"), fault.get("error_code", code))
            data = json.dumps(err, indent=2).encode()
        resp = Response(data, status=status, content_type=ctype if data else None)
        if not data:
            resp.headers.pop("Content-Type", None)
        for k, v in headers.items():
            resp.headers[k] = str(v)
        return resp

    # -- delivery faults ----------------------------------------------------------------
    @staticmethod
    def _body_iter(resp):
        for piece in resp.response:
            yield piece.encode("utf-8") if isinstance(piece, str) else piece

    def _body_and_length(self, resp):
        total = resp.headers.get("Content-Length")
        if total is not None:
            return self._body_iter(resp), int(total)
        data = b"".join(self._body_iter(resp))
        return iter([data]), len(data)

    def send_partial(self, ctx, resp, fault):
        body, total = self._body_and_length(resp)
        kind = fault["kind"]
        want = int(fault.get("bytes", total // 2 if kind == "truncate" else 10))
        want = max(0, min(want, total))
        got = bytearray()
        for piece in body:
            got += piece[:want - len(got)]
            if len(got) >= want:
                break
        if hasattr(resp.response, "close"):
            resp.response.close()
        head = wire.response_head(resp.status_code, resp.headers.items(), total)
        wire.send_raw(ctx.environ, head + bytes(got))
        if kind == "truncate":
            wire.close_cleanly(ctx.environ, "truncate fault")
        wire.reset(ctx.environ, "reset_response fault")

    def slow_response(self, ctx, resp, fault):
        body, total = self._body_and_length(resp)
        chunks = max(1, int(fault.get("chunks", 10)))
        interval = float(fault.get("interval", 0.2))
        size = max(1, math.ceil(total / chunks))
        environ = ctx.environ

        def gen():
            buf = b""
            first = True
            for piece in body:
                buf += piece
                while len(buf) >= size:
                    if not first:
                        wire.wait_unless_gone(environ, interval)
                    first = False
                    yield buf[:size]
                    buf = buf[size:]
            if buf:
                if not first:
                    wire.wait_unless_gone(environ, interval)
                yield buf

        headers = [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(total)))
        return Response(gen(), status=resp.status_code, headers=headers, direct_passthrough=True)

    # -- control API ----------------------------------------------------------------------
    def control(self, environ, start_response):
        resp = self._control(environ)
        return resp(environ, start_response)

    def _control(self, environ):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        raw_path = urlsplit(raw).path if "://" in raw.split("?", 1)[0] else raw.split("?", 1)[0]
        segs = raw_path.split("/")[2:]
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))

        def bad(msg, status=400):
            return json_response({"error": msg}, status)

        if segs == ["health"]:
            return json_response({"ok": True, "validating": self.validator is not None,
                                  "spec": getattr(self.validator, "path", None),
                                  "threads": threading.active_count()})
        if len(segs) < 2:
            return bad("use /_control/<tenant>/<action>", 404)
        key = unquote(segs[0])
        action = segs[1]
        rest = [unquote(s) for s in segs[2:]]
        body = None
        if method in ("POST", "PUT"):
            reader = wire.BodyReader(environ["wsgi.input"],
                                     None if environ.get("wsgi.input_terminated")
                                     else int(environ.get("CONTENT_LENGTH") or 0))
            raw_body = reader.read_all()
            if raw_body.strip():
                try:
                    body = json.loads(raw_body)
                except ValueError as exc:
                    return bad(f"body is not JSON: {exc}")
        t = self.registry.get(key)

        if action == "faults" and not rest:
            if method == "GET":
                with t.lock:
                    return json_response(list(t.faults))
            if method != "POST":
                return bad("GET or POST", 405)
            faults = body.get("faults") if isinstance(body, dict) and "faults" in body else body
            if isinstance(faults, dict):
                faults = [faults]
            if not isinstance(faults, list):
                return bad('expected {"faults": [...]}')
            for f in faults:
                problem = check_fault(f)
                if problem:
                    return bad(problem)
            return json_response({"ok": True, "pending": t.add_faults(faults)})
        if action == "config" and not rest:
            if method == "GET":
                with t.lock:
                    return json_response(t.config)
            if method != "POST" or not isinstance(body, dict):
                return bad("POST a JSON object of settings")
            return json_response(t.merge_config(body))
        if action == "requests" and not rest and method == "GET":
            with t.lock:
                entries = [dict(e) for e in t.log]     # entries may still be updated
            data = json.dumps(entries, ensure_ascii=False, default=str)
            return Response(data.encode("utf-8"), content_type="application/json")
        if action == "violations" and not rest and method == "GET":
            clear = query.get("clear", "") not in ("", "0", "false")
            return json_response(t.take_violations(clear=clear))
        if action == "reset" and not rest and method == "POST":
            t.clear()
            return json_response({"ok": True})
        if action == "files" and method == "GET":
            if not rest:
                with t.lock:
                    recs = list(t.files.values())
                return json_response([dict(r.to_api(), sha256=r.sha256, line_count=r.line_count)
                                      for r in recs])
            rec = t.get_file(rest[0])
            if rec is None or len(rest) != 1:
                return bad(f"no file {rest[0]!r} for this tenant", 404)
            return file_stream_response(rec)
        return bad(f"unknown control action {method} {action}", 404)


def check_fault(f):
    if not isinstance(f, dict):
        return "each fault must be an object"
    if f.get("kind") not in FAULT_KINDS:
        return f"fault kind must be one of {', '.join(FAULT_KINDS)} (got {f.get('kind')!r})"
    if f["kind"] == "status" and not isinstance(f.get("status"), int):
        return "a status fault needs an integer 'status'"
    times = f.get("times", 1)
    if times is not None and not isinstance(times, int):
        return "'times' must be an integer (negative: unlimited)"
    return None


def file_stream_response(rec):
    def gen():
        with open(rec.path, "rb") as fh:
            while True:
                chunk = fh.read(1 << 20)
                if not chunk:
                    return
                yield chunk
    return Response(gen(), content_type="application/octet-stream",
                    headers=[("Content-Length", str(rec.bytes))], direct_passthrough=True)


# --- models ------------------------------------------------------------------------------

def tenant_models(tenant):
    configured = tenant.cfg("models")
    out = []
    if configured:
        out = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "system"}
               for m in configured]
    else:
        out = [{"id": m, "object": "model", "created": c, "owned_by": "system"}
               for m, c in DEFAULT_MODELS]
    with tenant.lock:
        out += [dict(m) for m in tenant.extra_models]
    return out


def find_model(tenant, model_id):
    """The model object, also accepting dated snapshots (``gpt-4o-2024-08-06``)."""
    if not isinstance(model_id, str):
        return None
    for m in tenant_models(tenant):
        if m["id"] == model_id or re.fullmatch(re.escape(m["id"]) + r"-\d{4}-\d{2}-\d{2}", model_id):
            return m
    return None


@route("GET", "/v1/models")
def h_models_list(ctx):
    return json_response({"object": "list", "data": tenant_models(ctx.tenant)})


@route("GET", "/v1/models/{model}")
def h_model_get(ctx, model):
    m = find_model(ctx.tenant, model)
    if m is None or m["id"] != model:
        return error_response(404, f"The model '{model}' does not exist", param="model",
                              code="model_not_found")
    return json_response(m)


# --- chat ----------------------------------------------------------------------------

def bad_json(ctx):
    why = ctx.json_error or "the body must be a JSON object"
    ctx.violation(why)
    return error_response(400, "We could not parse the JSON body of your request: " + why
                          + ". The API expects a JSON object.")


def strict_chat_problem(body):
    """OpenAI-side checks beyond the schema; returns (message, param) or None."""
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty array.", "messages"
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            return f"messages[{i}] must be an object.", f"messages[{i}]"
        c = m.get("content")
        if c is None and m.get("role") == "assistant" and (m.get("tool_calls") or m.get("function_call")):
            continue
        if isinstance(c, str):
            continue
        if isinstance(c, list) and all(isinstance(p, dict) and isinstance(p.get("type"), str) for p in c):
            continue
        return (f"messages[{i}].content must be a string or an array of content parts.",
                f"messages[{i}].content")
    if "max_tokens" in body and "max_completion_tokens" in body:
        return ("max_tokens and max_completion_tokens cannot both be set; "
                "use max_completion_tokens.", "max_tokens")
    if body.get("stream_options") is not None and not body.get("stream"):
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled.", \
            "stream_options"
    return None


@route("POST", "/v1/chat/completions")
def h_chat(ctx):
    body = ctx.json
    if not isinstance(body, dict):
        return bad_json(ctx)
    problem = strict_chat_problem(body)
    if problem:
        ctx.violation(problem[0])
        return error_response(400, problem[0], param=problem[1])
    reject = ctx.tenant.cfg("reject_param")
    rejects = reject if isinstance(reject, list) else [reject] if reject else []
    for p in rejects:
        if p in body:
            return error_response(400, f"Unsupported parameter: '{p}' is not supported with this "
                                       "model.", param=p, code="unsupported_parameter")
    model = body.get("model")
    if find_model(ctx.tenant, model) is None:
        return error_response(404, f"The model `{model}` does not exist or you do not have "
                                   "access to it.", code="model_not_found")
    for info in ctx.images:
        if info.get("error"):
            ctx.violation("image: " + info["error"])
            code = "invalid_image_url" if info.get("kind") == "other" else "invalid_image_format"
            return error_response(400, info["error"], code=code)
    reply = ctx.tenant.next_reply()
    if reply is None:
        reply = chat.image_reply(ctx.images) if ctx.images else \
            chat.default_reply(chat.last_user_text(body["messages"]))
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    reply, finish = chat.limit_reply(str(reply), limit)
    prompt = chat.prompt_tokens(body["messages"], len(ctx.images))
    if body.get("stream"):
        opts = dict(ctx.tenant.cfg("stream") or {})
        so = body.get("stream_options") or {}
        include_usage = bool(so.get("include_usage")) or bool(opts.get("usage"))
        items = chat.stream_items(model, reply, finish, prompt, opts, include_usage)
        environ = ctx.environ
        data = chat.rechunk(items, int(opts.get("split_bytes") or 0),
                            float(opts.get("split_delay", 0.002)),
                            lambda s: wire.wait_unless_gone(environ, s))
        return Response(data, status=200, direct_passthrough=True,
                        headers=[("Content-Type", "text/event-stream; charset=utf-8"),
                                 ("Cache-Control", "no-cache")])
    n = body.get("n") if isinstance(body.get("n"), int) and body.get("n") > 0 else 1
    return json_response(chat.completion_object(model, reply, finish, prompt, n))


# --- files ---------------------------------------------------------------------------

def file_not_found(file_id):
    return error_response(404, f"No such File object: {file_id}", param="id")


@route("POST", "/v1/files")
def h_file_upload(ctx):
    if ctx.fields is None:
        msg = "Uploads must be multipart/form-data with parts 'file' and 'purpose'."
        ctx.violation(msg)
        return error_response(400, msg)
    purpose = ctx.fields.get("purpose")
    parts = [u for u in ctx.uploads if u.name == "file"]
    if not parts:
        ctx.violation("missing the 'file' part")
        return error_response(400, "Missing required parameter: 'file'.", param="file")
    if purpose is None:
        ctx.violation("missing the 'purpose' part")
        return error_response(400, "Missing required parameter: 'purpose'.", param="purpose")
    if purpose not in FILE_PURPOSES:
        msg = f"'{purpose}' is not one of {list(FILE_PURPOSES)} - 'purpose'"
        ctx.violation(msg)
        return error_response(400, msg, param="purpose")
    up = parts[0]
    if purpose == "fine-tune":
        _stats, problem = finetune.check_chat_jsonl(up.path)
        if problem:
            line, reason = problem
            where = f"line {line}: " if line else ""
            msg = f"Invalid file format for fine-tuning: {where}{reason}."
            ctx.violation("fine-tune JSONL " + where + reason)
            return error_response(400, msg, param="file", code="invalid_file_format")
    rec = state.FileRecord(state.new_id("file-"), up.path, up.size, up.filename or "file",
                           purpose, up.sha.hexdigest(), up.line_count)
    up.adopted = True
    ctx.tenant.add_file(rec)
    return json_response(rec.to_api())


@route("GET", "/v1/files")
def h_files_list(ctx):
    q = ctx.query
    with ctx.tenant.lock:
        recs = list(ctx.tenant.files.values())
    if q.get("purpose"):
        recs = [r for r in recs if r.purpose == q["purpose"]]
    recs.sort(key=lambda r: r.seq, reverse=q.get("order", "desc") != "asc")
    if q.get("after"):
        ids = [r.id for r in recs]
        recs = recs[ids.index(q["after"]) + 1:] if q["after"] in ids else []
    limit = _int(q.get("limit"), 10000)
    page = recs[:limit]
    return json_response({"object": "list", "data": [r.to_api() for r in page],
                          "first_id": page[0].id if page else "",
                          "last_id": page[-1].id if page else "",
                          "has_more": len(recs) > len(page)})


@route("GET", "/v1/files/{file_id}")
def h_file_get(ctx, file_id):
    rec = ctx.tenant.get_file(file_id)
    return json_response(rec.to_api()) if rec else file_not_found(file_id)


@route("DELETE", "/v1/files/{file_id}")
def h_file_delete(ctx, file_id):
    rec = ctx.tenant.delete_file(file_id)
    if rec is None:
        return file_not_found(file_id)
    return json_response({"id": file_id, "object": "file", "deleted": True})


@route("GET", "/v1/files/{file_id}/content")
def h_file_content(ctx, file_id):
    rec = ctx.tenant.get_file(file_id)
    return file_stream_response(rec) if rec else file_not_found(file_id)


def _int(value, default):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


# --- fine-tuning -------------------------------------------------------------------------

def job_not_found(job_id):
    return error_response(404, f"Could not find fine-tuning job: {job_id}.", param="id")


def _training_file_problem(ctx, file_id, param):
    rec = ctx.tenant.get_file(file_id) if isinstance(file_id, str) else None
    if rec is None:
        return error_response(400, f"Invalid file ID '{file_id}' for {param}: no such file.",
                              param=param, code="invalid_file_id")
    if rec.purpose != "fine-tune":
        return error_response(400, f"File {file_id} has purpose '{rec.purpose}'; {param} needs a "
                                   "file uploaded with purpose 'fine-tune'.", param=param,
                              code="invalid_file_purpose")
    return None


@route("POST", "/v1/fine_tuning/jobs")
def h_job_create(ctx):
    body = ctx.json
    if not isinstance(body, dict):
        return bad_json(ctx)
    for param in ("model", "training_file"):
        if not isinstance(body.get(param), str) or not body.get(param):
            msg = f"Missing required parameter: '{param}'."
            ctx.violation(msg)
            return error_response(400, msg, param=param)
    problem = _training_file_problem(ctx, body["training_file"], "training_file")
    if problem is None and body.get("validation_file"):
        problem = _training_file_problem(ctx, body["validation_file"], "validation_file")
    if problem is not None:
        return problem
    if find_model(ctx.tenant, body["model"]) is None:
        return error_response(400, f"Model {body['model']} is not available for fine-tuning or "
                                   "does not exist.", param="model", code="model_not_available")
    rec = ctx.tenant.get_file(body["training_file"])
    stats, _problem = finetune.check_chat_jsonl(rec.path)
    job = finetune.Job(body, stats, body["model"])
    with ctx.tenant.lock:
        ctx.tenant.jobs[job.id] = job
        return json_response(job.to_api())


@route("GET", "/v1/fine_tuning/jobs")
def h_jobs_list(ctx):
    with ctx.tenant.lock:
        jobs = list(reversed(ctx.tenant.jobs.values()))
        after = ctx.query.get("after")
        if after:
            ids = [j.id for j in jobs]
            jobs = jobs[ids.index(after) + 1:] if after in ids else []
        limit = _int(ctx.query.get("limit"), 20)
        page = jobs[:limit]
        return json_response({"object": "list", "data": [j.to_api() for j in page],
                              "has_more": len(jobs) > len(page)})


def _make_result_file(ctx):
    def make(data, filename):
        fd, path = tempfile.mkstemp(dir=ctx.server.file_dir, suffix=".result")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        rec = state.FileRecord(state.new_id("file-"), path, len(data), filename,
                               "fine-tune-results", hashlib.sha256(data).hexdigest(),
                               data.count(b"\n"))
        ctx.tenant.add_file(rec)
        return rec.id
    return make


@route("GET", "/v1/fine_tuning/jobs/{job_id}")
def h_job_get(ctx, job_id):
    with ctx.tenant.lock:
        job = ctx.tenant.jobs.get(job_id)
        if job is None:
            return job_not_found(job_id)
        was = job.status
        job.poll(ctx.tenant.cfg("job_steps", 1), _make_result_file(ctx))
        if job.status == "succeeded" and was != "succeeded":
            ctx.tenant.extra_models.append({"id": job.fine_tuned_model, "object": "model",
                                            "created": int(time.time()),
                                            "owned_by": finetune.ORG_ID})
        return json_response(job.to_api())


@route("GET", "/v1/fine_tuning/jobs/{job_id}/events")
def h_job_events(ctx, job_id):
    with ctx.tenant.lock:
        job = ctx.tenant.jobs.get(job_id)
        if job is None:
            return job_not_found(job_id)
        events = job.events_newest_first()
    after = ctx.query.get("after")
    if after:
        ids = [e["id"] for e in events]
        events = events[ids.index(after) + 1:] if after in ids else []
    limit = _int(ctx.query.get("limit"), 20)
    page = events[:limit]
    return json_response({"object": "list", "data": page, "has_more": len(events) > len(page)})


@route("POST", "/v1/fine_tuning/jobs/{job_id}/cancel")
def h_job_cancel(ctx, job_id):
    with ctx.tenant.lock:
        job = ctx.tenant.jobs.get(job_id)
        if job is None:
            return job_not_found(job_id)
        if job.status in finetune.FINAL:
            return error_response(400, f"Job {job_id} has already {job.status}; only running or "
                                       "queued jobs can be cancelled.", param="id")
        job.cancel()
        return json_response(job.to_api())


# --- assistants -----------------------------------------------------------------------------

def check_beta_header(ctx):
    values = [v.strip().lower() for v in ctx.headers.get("openai-beta", "").split(",")]
    if "assistants=v2" in values:
        return None
    msg = ("The Assistants API requires the header 'OpenAI-Beta: assistants=v2' "
           f"(got {ctx.headers.get('openai-beta')!r}).")
    ctx.violation(msg)
    return error_response(400, msg)


@route("GET", "/v1/assistants/{assistant_id}")
def h_assistant_get(ctx, assistant_id):
    problem = check_beta_header(ctx)
    if problem is not None:
        return problem
    configured = (ctx.tenant.cfg("assistants") or {}).get(assistant_id)
    if configured is None:
        return error_response(404, f"No assistant found with id '{assistant_id}'.")
    obj = {"id": assistant_id, "object": "assistant", "created_at": 1700000000, "name": None,
           "description": None, "model": "gpt-4o-mini", "instructions": None, "tools": [],
           "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
           "response_format": "auto"}
    obj.update(configured)
    obj["id"] = assistant_id
    return json_response(obj)
