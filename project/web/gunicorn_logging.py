"""gunicorn's access log as one JSON object per line (config/gunicorn.conf.py, `logger_class`).

A format string (`access_log_format`) cannot make JSON: gunicorn substitutes the URL, the
user agent and the referer as they came, so a quote or a backslash in any of them breaks the
line. Here every value goes through `json.dumps`, which escapes whatever the client sent; and
the URL and referer go through `redact_url`, so no password-reset or other secret link is kept.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import traceback
from typing import Any

from gunicorn import glogging

from project.security.log_redaction import redact_url


def access_record(*, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta) -> dict[str, Any]:
    """The fields of one access log line: what a log pipeline filters and aggregates on."""
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    with contextlib.suppress(TypeError, ValueError):  # a status gunicorn could not parse is logged as it came
        status = int(status)
    return {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        # Behind nginx REMOTE_ADDR is nginx; the client is the first address here.
        "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
        "method": environ.get("REQUEST_METHOD"),
        # RAW_URI is the path and query string exactly as requested, before any decoding.
        "uri": _redacted(environ.get("RAW_URI")),
        "protocol": environ.get("SERVER_PROTOCOL"),
        "status": status,
        "bytes": getattr(resp, "sent", None),
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "referer": _redacted(environ.get("HTTP_REFERER")),
        "user_agent": environ.get("HTTP_USER_AGENT"),
        "pid": os.getpid(),
    }


def _redacted(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


class JsonAccessLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's own Logger (error log, files, reopening on USR1) with a JSON access log."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            record = access_record(resp=resp, req=req, environ=environ, request_time=request_time)
            # "%s" with the line as an argument: a "%" the client sent is never read as a format.
            self.access_log.info("%s", json.dumps(record, default=str))
        except Exception:  # a log line must never fail the request it describes
            self.error(traceback.format_exc())
