"""/ops/: the ops page, for staff (docs/observability.md)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from project.ops.overview import ops_overview


@staff_member_required
@never_cache
def ops_page(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/page.html", {"ops": ops_overview()})
