"""Pages every app shares: the CSRF failure page (CSRF_FAILURE_VIEW)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's own page tells a developer why; this one tells the visitor what to do, in the site's layout."""
    return render(request, "403_csrf.html", status=403)
