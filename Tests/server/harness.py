"""Start the OpenAI test server and drive its control API from tests.

    from harness import start_server, Tenant

    srv = start_server()                 # spawns Tests/server/server.py
    t = Tenant(srv.root)                 # a fresh API key = a fresh tenant
    t.config({"replies": ["Hi!"]})
    t.faults([{"kind": "status", "status": 429, "headers": {"retry-after": "1"}}])
    ... point the library at srv.url with api key t.key ...
    t.requests(); t.violations()
    srv.stop()

Only the standard library is used (no ``requests``).  Helpers to build small
test images (PNG, GIF, JPEG and WebP headers) live here too.
"""

import http.client
import json
import os
import re
import secrets
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from urllib.parse import quote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """A running server subprocess.  ``url`` ends in /v1; ``root`` is the origin."""

    def __init__(self, proc, port, host="127.0.0.1", log_path=None, own_log=False):
        self.proc = proc
        self.port = port
        self.host = host
        self.root = f"http://{host}:{port}"
        self.url = self.root + "/v1"
        self.log_path = log_path
        self._own_log = own_log

    def tenant(self, key=None):
        return Tenant(self.root, key)

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def log_text(self):
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=10, keep_log=False):
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code.

        A log file that start_server created is removed unless ``keep_log``.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._own_log and not keep_log:
            self.remove_log()
        return self.proc.returncode

    def remove_log(self):
        if self.log_path:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_server(validate=True, quiet=True, host="127.0.0.1", timeout=60, extra_args=(),
                 env=None, log_path=None):
    """Spawn the server on an ephemeral port and wait for its ``PORT <n>`` line.

    The server's stderr goes to ``log_path`` (a temporary file by default,
    see ``ServerProcess.log_text()``).
    """
    args = [sys.executable, SERVER, "--host", host, "--port", "0"]
    if not validate:
        args.append("--no-validate")
    if quiet:
        args.append("--quiet")
    args += list(extra_args)
    own_log = log_path is None
    if own_log:
        fd, log_path = tempfile.mkstemp(prefix="om-openai-server-", suffix=".log")
        os.close(fd)
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=log, env=env)
    finally:
        log.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if sel.select(min(left, 0.5)):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
            elif proc.poll() is not None:
                break
    finally:
        sel.close()
    m = re.match(rb"PORT (\d+)\r?\n", buf)
    if not m:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with open(log_path, "r", errors="replace") as f:
            tail = f.read()[-4000:]
        if own_log:
            os.unlink(log_path)
        raise ServerError(f"test server did not announce its port (got {buf!r}); log:\n{tail}")
    return ServerProcess(proc, int(m.group(1)), host, log_path, own_log)


def attach_server(root):
    """Use a server that is already running (e.g. OM_TEST_SERVER=http://127.0.0.1:PORT)."""
    u = urlsplit(root.rstrip("/"))
    r = http_call(f"{u.scheme}://{u.netloc}", "GET", "/_control/health", timeout=10)
    if r.status != 200:
        raise ServerError(f"no test server at {root}: {r.status}")
    return ServerProcess(None, u.port, u.hostname)


class Reply:
    """A raw HTTP answer: status, headers (lowercased dict), body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:200]!r}>"


def http_call(root, method, path, body=None, headers=None, timeout=60):
    """One request with http.client; ``body`` may be bytes, str or a JSON value."""
    u = urlsplit(root)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, bytearray, str)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def new_key(name="test"):
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "test"
    return f"sk-test-{safe}-{secrets.token_hex(4)}"


class Tenant:
    """Control client for one tenant (= one API key) of a running server."""

    def __init__(self, root, key=None):
        self.root = root.rstrip("/")
        if self.root.endswith("/v1"):
            self.root = self.root[:-3]
        self.key = new_key() if key is None else key
        self.base_url = self.root + "/v1"
        self.allow_violations = False     # the conftest fixture checks this at teardown

    # -- control API -----------------------------------------------------------
    def _control(self, method, action, body=None, query=""):
        path = f"/_control/{quote(self.key, safe='')}/{action}{query}"
        r = http_call(self.root, method, path, body)
        if r.status != 200:
            raise ServerError(f"control {method} {action}: {r.status} {r.body[:500]!r}")
        return r

    def faults(self, faults):
        """Append faults (a list of dicts, or one dict) to this tenant's queue."""
        if isinstance(faults, dict):
            faults = [faults]
        return self._control("POST", "faults", {"faults": list(faults)}).json()

    def fault(self, kind, **params):
        return self.faults([dict(params, kind=kind)])

    def pending_faults(self):
        return self._control("GET", "faults").json()

    def config(self, settings=None, **more):
        """Merge settings; returns the whole resulting config."""
        settings = dict(settings or {}, **more)
        return self._control("POST", "config", settings).json()

    def get_config(self):
        return self._control("GET", "config").json()

    def requests(self):
        return self._control("GET", "requests").json()

    def violations(self):
        return self._control("GET", "violations").json()

    def take_violations(self):
        """Return the recorded violations and clear them (for tests that expect some)."""
        return self._control("GET", "violations", query="?clear=1").json()

    def reset(self):
        return self._control("POST", "reset").json()

    def files(self):
        """The tenant's stored files (File objects plus sha256 and line_count)."""
        return self._control("GET", "files").json()

    def file_content(self, file_id):
        return self._control("GET", f"files/{quote(file_id, safe='')}").body

    # -- plain API calls as this tenant ----------------------------------------
    def call(self, method, path, body=None, headers=None, auth=True, timeout=60):
        """Call the API (``path`` relative to /v1 or absolute) with this tenant's key."""
        if not path.startswith("/"):
            path = "/v1/" + path
        elif not path.startswith("/v1") and not path.startswith("/_control"):
            path = "/v1" + path
        hdrs = dict(headers or {})
        if auth:
            hdrs.setdefault("Authorization", f"Bearer {self.key}")
        return http_call(self.root, method, path, body, hdrs, timeout)


def encode_multipart(fields=None, files=()):
    """Build a multipart/form-data body.

    ``fields``: name -> text value; ``files``: (name, filename, content_type, bytes).
    Returns (body, content_type_header).
    """
    boundary = "omtest" + secrets.token_hex(12)
    out = []
    for name, value in (fields or {}).items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode() + str(value).encode("utf-8") + b"\r\n")
    for name, filename, ctype, data in files:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                   f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                   + bytes(data) + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


# --- small test images ----------------------------------------------------------

def make_png(width=3, height=2, pad_to=None):
    """A valid RGB PNG; ``pad_to`` appends an ancillary chunk to reach that size."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)))
    if pad_to and pad_to > len(png) + 24:
        png += chunk(b"zPAD", b"\x00" * (pad_to - len(png) - 24))
    return png + chunk(b"IEND", b"")


def make_gif(width=4, height=3):
    """A 1-colour GIF89a of the given size."""
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
            + b"\xff\x00\x00\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
            + b"\x02\x02\x44\x01\x00\x3b")


def make_jpeg(width=5, height=7):
    """JPEG markers up to a baseline frame header (enough to identify and size it)."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
            + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9")


def make_webp(width=6, height=9):
    """A lossless (VP8L) WebP header of the given size."""
    bits = (width - 1) | ((height - 1) << 14)
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 5
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def data_uri(data, mime):
    import base64
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
