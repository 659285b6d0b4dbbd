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
        # Each client past its MAIL command: when its delayed reply began to wait, or None once answered.
        self._mail_waiting_since: dict[int, float | None] = {}
        self._lock = threading.Lock()
        self.on_quit: Callable[[], None] | None = None  # runs before QUIT is answered
        self._released = threading.Event()
        self._released.set()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):  # a client killed mid-conversation
                    server._converse(self)
                with server._lock:
                    server._mail_waiting_since.pop(id(self), None)

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

    def senders_waiting(self) -> int:
        with self._lock:
            return sum(since is not None for since in self._mail_waiting_since.values())

    def accepts_nothing_within(self, seconds: float) -> bool:
        """No client can have a message accepted in the next ``seconds``: each one that sent MAIL
        still waits on its reply for that long (a client killed now has nothing accepted, or
        has committed and quit)."""
        deadline = time.monotonic() + seconds
        with self._lock:
            return all(
                since is not None and since + self.mail_reply_delay >= deadline
                for since in self._mail_waiting_since.values()
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
                    self._mail_waiting_since[id(handler)] = time.monotonic()
                time.sleep(self.mail_reply_delay)
                with self._lock:
                    self._mail_waiting_since[id(handler)] = None
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
