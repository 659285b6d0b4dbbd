"""The client's IP address, one way for every limit: DRF's throttles, django-ratelimit and axes.

DRF's rule: with NUM_PROXIES=0, REMOTE_ADDR, and X-Forwarded-For is ignored (a client can write
it); with NUM_PROXIES=n, the address the n-th proxy from us appended to X-Forwarded-For.
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_ip(request: HttpRequest) -> str:
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # it reads only META, which both have
