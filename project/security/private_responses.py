"""Cache-Control: private, no-store on every response to a signed-in user.

A page a signed-in user sees carries their email, their orders, a CSRF token: no shared cache
(a CDN, a proxy) may keep it, nor may the browser's disk once they log out on a shared computer.
The API sets its own headers first (project/caching/response_cache.py), already private for anyone signed in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PrivateWhenSignedIn:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # patch_cache_control drops a "public" the view may have set.
            patch_cache_control(response, private=True, no_store=True)
        return response
