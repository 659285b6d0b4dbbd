"""A real SMTP server on a loopback port, for jobs that send through smtp:// as production does.

It keeps every message it accepted. ``hold()`` makes it wait before it answers the end of a
message's data, then refuse it: a test kills the worker meanwhile, and the message was never
accepted, as a real server drops a message whose client went away before the final reply.
``slow(seconds)`` makes it answer each MAIL command that late, as a busy server does: a sender
waits there with nothing of its message sent yet.
"""

from __future__ import annotations

import contextlib
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HOLD_SECONDS_AT_MOST = 30


class FakeSmtpServer:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.accepted_at: list[float] = []  # time.monotonic() of each message's acceptance
        self.holding = threading.Event()  # set while a message's data waits for its final reply
        self.mail_reply_delay = 0.0
        self._waiting_since: dict[int, float] = {}  # client -> when its MAIL reply began to wait
        self._lock = threading.Lock()
        self.on_quit: Callable[[], None] | None = None  # runs before QUIT is answered
        self._released = threading.Event()
        self._released.set()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):  # a client killed mid-conversation
                    server._converse(self)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def slow(self, seconds: float) -> None:
        self.mail_reply_delay = seconds

    def senders_waiting(self, *, for_at_least: float) -> int:
        """How many clients wait on a slow MAIL reply that is still ``for_at_least`` seconds away."""
        now = time.monotonic()
        with self._lock:
            return sum(
                1 for since in self._waiting_since.values() if since + self.mail_reply_delay - now >= for_at_least
            )

    def _converse(self, handler: socketserver.StreamRequestHandler) -> None:
        def reply(line: str) -> None:
            handler.wfile.write(f"{line}\r\n".encode())
            handler.wfile.flush()

        reply("220 fake-smtp ready")
        while line := handler.rfile.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                reply("250 fake-smtp")
            elif command.startswith("MAIL") and self.mail_reply_delay:
                with self._lock:
                    self._waiting_since[id(handler)] = time.monotonic()
                time.sleep(self.mail_reply_delay)
                with self._lock:
                    del self._waiting_since[id(handler)]
                reply("250 OK")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                reply("250 OK")
            elif command == "DATA":
                reply("354 go ahead")
                data = _read_data(handler)
                if data is None:
                    return
                if not self._released.is_set():
                    self.holding.set()
                    self._released.wait(HOLD_SECONDS_AT_MOST)
                    self.holding.clear()
                    reply("421 closing")  # a held message is never accepted: its client was killed meanwhile
                    return
                with self._lock:
                    self.messages.append(data)
                    self.accepted_at.append(time.monotonic())
                reply("250 accepted")
            elif command == "QUIT":
                if self.on_quit:
                    self.on_quit()
                reply("221 bye")
                return
            else:
                reply("502 not implemented")


def _read_data(handler: socketserver.StreamRequestHandler) -> bytes | None:
    lines = []
    while (line := handler.rfile.readline()) != b".\r\n":
        if not line:
            return None  # the client went away mid-message
        lines.append(line)
    return b"".join(lines)


@contextmanager
def fake_smtp_server() -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer()
    thread = threading.Thread(target=server._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release()
        server._server.shutdown()
        server._server.server_close()
