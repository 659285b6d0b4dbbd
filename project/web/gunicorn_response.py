"""gunicorn's HTTP/1 response, sending the headers in the same write as the first body bytes.

gunicorn sends the headers and the body in two writes. A server killed between them leaves nginx
with a header it has already passed on, so it cannot retry elsewhere and the client gets a
truncated response (seen in tests/project/web/test_scale_out.py). Sent together, a response
reaches nginx whole or not at all, and "not at all" nginx retries on the next server.

config/gunicorn.conf.py installs it with `install()`: gunicorn has no setting for its response
class, and `gunicorn.http.wsgi.create` looks `Response` up in its module each time.

`install()` also makes the errors gunicorn answers itself, before Django sees the request (a request
line over `limit_request_line`: 414; too many or too large headers: 431; a malformed request: 400),
JSON in the API's error shape instead of gunicorn's HTML page. The API schema documents 414 and 431
on every operation (apps/core/schema.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.http import wsgi
from gunicorn.util import write as gunicorn_write


class _CapturedWrites:
    """Stands in for the socket while gunicorn builds the header, to keep its bytes for later."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class _PrefixedSocket:
    """The client socket, with the held header sent in the same `sendall` as the next bytes."""

    def __init__(self, *, sock: Any, prefix: bytes) -> None:
        self._sock = sock
        self._prefix = prefix

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(self._prefix + data)


class OneWriteResponse(wsgi.Response):  # type: ignore[misc]  # gunicorn is untyped
    """Holds the header until the first body bytes (or the end of the response), then sends both."""

    _held_header = b""

    def send_headers(self) -> None:
        if self.headers_sent:
            return
        sock: Any = self.sock  # type: ignore[has-type]
        captured = _CapturedWrites()
        self.sock = captured
        try:
            super().send_headers()  # builds the header exactly as gunicorn does, into `captured`
        finally:
            self.sock = sock
        self._held_header = captured.data

    def _emit_body(self, data: bytes) -> None:
        if not self._held_header:
            super()._emit_body(data)
            return
        header, self._held_header = self._held_header, b""
        gunicorn_write(_PrefixedSocket(sock=self.sock, prefix=header), data, self.chunked)

    def flush_header(self) -> None:
        if self._held_header:
            header, self._held_header = self._held_header, b""
            self.sock.sendall(header)

    def sendfile(self, respiter: Any) -> bool:
        # os.sendfile writes straight to the socket: the header must be out before it.
        if self.cfg.is_ssl or not self.can_sendfile():
            return False
        self.send_headers()
        self.flush_header()
        return bool(super().sendfile(respiter))

    def close(self) -> None:
        # A response with no body bytes (HEAD, 204, 304, an empty body) ends with its header.
        self.send_headers()
        self.flush_header()
        super().close()


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, in the error shape of the API: {"error": {"code", "message", "fields"}}."""
    code = re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "bad_request"
    body = json.dumps({"error": {"code": code, "message": f"{reason}: {mesg}" if mesg else reason, "fields": {}}})
    encoded = body.encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(encoded)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + encoded)


def install() -> None:
    wsgi.Response = OneWriteResponse
    # Looked up as `util.write_error` by gunicorn's workers at each error.
    gunicorn_util.write_error = write_json_error
