"""The request middleware of the ops page: it measures a request and hands it to the recorder
(``minute_buckets.record_response``), which holds all the logic."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from project.ops.minute_buckets import record_response
from project.ops.server_timing import count_cache_reads, measuring


class RequestRecorderMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        count_cache_reads()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        with measuring() as cost:
            response = self.get_response(request)
        record_response(request, response, duration_s=time.perf_counter() - start, cost=cost)
        return response
