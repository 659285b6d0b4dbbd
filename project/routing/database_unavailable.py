"""A request whose database connection fails answers 503 with Retry-After, never a 500.

While the primary is lost and a replica is promoted (docs/reliability.md), a request in flight on
the dead connection, or one that finds no primary yet, gets ``{"error": {"code":
"database_unavailable", ...}}`` on the API and a short text page elsewhere; the client may retry.
Listed before ReadYourWritesMiddleware, so that a replica failing under a read is first retried on
the primary there. Django closes the broken connection at the end of the request
(CONN_HEALTH_CHECKS), and the next one connects to whichever host is the primary then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.api import API_PREFIX, error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        # One line, not a traceback: a lost database is an outage to see, not a bug to read.
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, str(exception).strip())
        message = "The database is unavailable; try again in a few seconds."
        response: HttpResponse
        if request.path.startswith(API_PREFIX):
            response = JsonResponse(error_body(code="database_unavailable", message=message), status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
