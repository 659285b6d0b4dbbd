"""The N+1 guard's middleware: django-zeal's, with the Django admin's single-object loads allowed.

zeal names an N+1 by the first frame outside site-packages, which for code that runs entirely
inside Django is a project middleware's ``get_response`` line. On an admin change page the
session's user (``User.get()`` in AuthenticationMiddleware), ``ModelAdmin.get_object()`` and
cacheops' re-read of a row before its ``save()`` are each one ``.get()``, yet two of them on one
model look like a loop at that one line. Under /admin/ those ``.get()`` reports are dropped;
lazy loads of related objects (a list_display column without list_select_related) still raise.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from django.http import HttpRequest, HttpResponse
from zeal import zeal_context, zeal_ignore

ADMIN_PATH_PREFIX = "/admin/"  # project/urls.py
ADMIN_ALLOWLIST = [{"model": "*", "field": "get()"}]


class NPlusOneGuardMiddleware:
    # Sync only, like the middlewares after it (response cache, read-your-writes): under ASGI
    # Django runs the whole chain in a thread, so an async path here would never be taken.
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with zeal_context(), _allowed(request):
            return self.get_response(request)


def _allowed(request: HttpRequest) -> AbstractContextManager[None]:
    return zeal_ignore(ADMIN_ALLOWLIST) if request.path_info.startswith(ADMIN_PATH_PREFIX) else nullcontext()
