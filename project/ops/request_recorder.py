"""One middleware measures each request once (project/ops/server_timing.py) and hands it to the
recorders that are on: the Prometheus metrics (METRICS_ENABLED) and the ops page's per-minute
counters (OPS_MINUTE_BUCKETS). Each recorder holds its own logic and never breaks the request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from project.ops import metrics, minute_buckets
from project.ops.server_timing import RequestCost, measuring, start_measuring

logger = logging.getLogger(__name__)


class RequestRecorderMiddleware:
    """Outermost but for whitenoise: static files are not counted, response-cache hits are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.recorders: list[Callable[[HttpRequest, HttpResponse, RequestCost, float], None]] = []
        if settings.METRICS_ENABLED:
            self.recorders.append(metrics.record_request)
        if settings.OPS_MINUTE_BUCKETS:
            self.recorders.append(minute_buckets.record_response)
        start_measuring()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        with measuring() as cost:
            response = self.get_response(request)
        seconds = time.perf_counter() - start
        for record in self.recorders:
            try:
                record(request, response, cost, seconds)
            except Exception:
                logger.exception("could not record a request with %s", record.__qualname__)
        return response
