"""A steady client load for the scale-out tests: a few threads sending requests back to back,
each one counted, each failure kept with what went wrong.

Every request opens its own connection, as a client arriving afresh would. A client that
reuses a keep-alive connection meets the race every HTTP client handles: the server closes an
idle connection (nginx does on a reload) just as a request is written on it; browsers and
urllib3 retry such a request on a new connection, http.client does not, so counting those
would measure this client rather than the deploy.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    expected_status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    at: float  # time.monotonic()
    call: Call
    what: str  # the unexpected status, or the error


@dataclass
class Tally:
    answered: list[float] = field(default_factory=list)  # when each expected answer arrived
    failures: list[Failure] = field(default_factory=list)

    def answered_after(self, moment: float) -> int:
        return sum(1 for at in self.answered if at > moment)


class SteadyLoad:
    """``clients`` threads cycling through ``calls`` against 127.0.0.1:``port`` until stopped."""

    def __init__(self, *, port: int, calls: list[Call], clients: int = 10, timeout: float = 15.0) -> None:
        self.port = port
        self.calls = calls
        self.timeout = timeout
        self.tally = Tally()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> SteadyLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Tally:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.tally

    def _client(self, offset: int) -> None:
        n = offset
        while not self._stop.is_set():
            call = self.calls[n % len(self.calls)]
            n += 1
            outcome = self._send(call)
            with self._lock:
                if outcome is None:
                    self.tally.answered.append(time.monotonic())
                else:
                    self.tally.failures.append(Failure(at=time.monotonic(), call=call, what=outcome))

    def _send(self, call: Call) -> str | None:
        """None when the answer is the expected one; otherwise what came instead."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            body = b"{}" if call.method == "POST" else None
            headers = {"Host": "127.0.0.1", "Content-Type": "application/json", **call.headers}
            connection.request(call.method, call.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            return repr(error)
        finally:
            connection.close()
        return None if response.status == call.expected_status else f"HTTP {response.status}"
