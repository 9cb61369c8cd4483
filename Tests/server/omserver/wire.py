"""Reading request bodies, and the raw socket work behind network faults.

werkzeug's development server hands the connection socket to the
application as ``environ["werkzeug.socket"]``.  Faults that must misbehave at
the TCP level write to it directly and then raise :class:`Dropped`, which
werkzeug treats as a dropped connection (quietly, see ``Handler`` in
``app.py``).
"""

import hashlib
import http
import os
import select
import socket
import struct
import time


class Dropped(ConnectionAbortedError):
    """The server dropped the connection on purpose (or the client went away)."""


class BodyReader:
    """Reads the request body once, hashing and counting as it goes."""

    def __init__(self, stream, length):
        self.stream = stream
        self.remaining = length          # None: read until EOF (chunked input)
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n=-1):
        if self.remaining is not None:
            if self.remaining <= 0:
                return b""
            if n is None or n < 0 or n > self.remaining:
                n = self.remaining
        elif n is None or n < 0:
            return bytes(self.read_all())
        try:
            data = self.stream.read(n)
        except (OSError, ValueError) as exc:
            raise Dropped(f"client went away while sending the body ({exc})") from exc
        if not data:
            if self.remaining:
                raise Dropped("client closed the connection before sending the whole body")
            return b""
        if self.remaining is not None:
            self.remaining -= len(data)
        self.sha.update(data)
        self.size += len(data)
        return data

    def read_all(self):
        """The whole (rest of the) body as a bytearray, allocated once when sized."""
        if self.remaining is not None:
            buf = bytearray(self.remaining)
            view = memoryview(buf)
            pos = 0
            while pos < len(buf):
                chunk = self.read(min(len(buf) - pos, 8 << 20))
                view[pos:pos + len(chunk)] = chunk
                pos += len(chunk)
            view.release()
            return buf
        buf = bytearray()
        while True:
            chunk = self.read(1 << 20)
            if not chunk:
                return buf
            buf += chunk

    def drain(self):
        while self.read(1 << 20):
            pass

    @property
    def sha256(self):
        return self.sha.hexdigest() if self.size else None


def _sock(environ):
    return environ.get("werkzeug.socket")


def reset(environ, why="connection reset by fault"):
    """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""
    sock = _sock(environ)
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            # detach so werkzeug's later close/shutdown calls become no-ops,
            # then close the descriptor ourselves: the kernel sends the RST now
            fd = sock.detach()
            if fd >= 0:
                os.close(fd)
        except OSError:
            pass
    raise Dropped(why)


def send_raw(environ, data):
    sock = _sock(environ)
    if sock is None:
        raise Dropped("no socket")
    try:
        sock.sendall(data)
    except OSError as exc:
        raise Dropped(str(exc)) from exc


def close_cleanly(environ, why="connection closed by fault"):
    """Send FIN after what was written; werkzeug then closes the socket."""
    sock = _sock(environ)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    raise Dropped(why)


def wait_unless_gone(environ, seconds):
    """Sleep ``seconds``, returning early (raising Dropped) if the client hangs up."""
    deadline = time.monotonic() + float(seconds)
    sock = _sock(environ)
    watch = sock is not None
    poller = None
    if watch:
        try:
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        except (OSError, ValueError) as exc:
            raise Dropped("client went away during a stall") from exc
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if not watch:
            time.sleep(min(left, 0.25))
            continue
        if not poller.poll(int(min(left, 0.25) * 1000) + 1):
            continue
        try:
            peek = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as exc:
            raise Dropped("client went away during a stall") from exc
        if not peek:
            raise Dropped("client closed the connection during a stall")
        watch = False       # the client sent more bytes: stop watching, just wait


def response_head(status, headers, content_length=None):
    """Serialize a status line and headers for a raw write."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {status} {reason}"]
    for k, v in headers:
        if k.lower() in ("content-length", "transfer-encoding", "connection"):
            continue
        lines.append(f"{k}: {v}")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
