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


def hit_recorder() -> Callable[[str, int, float], None] | None:
    """What counts a response-cache hit answered before Django, and so before this middleware
    (project/caching/wsgi_front.py): the same series, counted in memory and sent in batches. None
    when neither recorder is on. Called with the endpoint's URL name, the status and the seconds."""
    recorders: list[Callable[[str, int, float], None]] = []
    if settings.METRICS_ENABLED:
        recorders.append(metrics.record_response_cache_hit)
    if settings.OPS_MINUTE_BUCKETS:
        recorders.append(lambda route, status, seconds: minute_buckets.record_cache_hit(status, seconds))
    if not recorders:
        return None

    def record(route: str, status: int, seconds: float) -> None:
        for recorder in recorders:
            try:
                recorder(route, status, seconds)
            except Exception:
                logger.exception("could not record a response-cache hit")

    return record
