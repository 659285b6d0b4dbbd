"""Pages for a user's orders export: start it from "My orders", then watch it and download it. The API's are in api.py."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from apps.reports import selectors, services
from apps.reports.models import Report
from apps.users.models import User


def _signed_in(request: HttpRequest) -> User:
    # Behind login_required: never the AnonymousUser.
    return cast(User, request.user)


def _report_request_rate(group: str, request: HttpRequest) -> str:
    return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["report_requests"]


@login_required
@require_POST
# The API's rate per user (REPORT_REQUEST_THROTTLE_RATE); over it, the 429 page (RATELIMIT_VIEW).
@ratelimit(group="report_requests", key="user", rate=_report_request_rate, method="POST")
def orders_export_request(request: HttpRequest) -> HttpResponse:
    export, is_new = services.orders_export_request(user=_signed_in(request))
    if is_new:
        messages.success(request, "Your export has started; it is ready to download below when done.")
    else:
        messages.info(request, "Your last export is still being written.")
    return redirect("pages:orders-export", pk=export.pk)


@login_required
def orders_export(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        export = selectors.orders_export_for_user(user=_signed_in(request), report_id=pk)
    except Report.DoesNotExist as error:
        raise Http404("No such export.") from error
    download_url = (
        reverse("v1:orders-export-download", kwargs={"pk": export.pk}) if export.status == Report.Status.DONE else None
    )
    return render(
        request,
        "reports/orders_export.html",
        {
            "export": export,
            "status_url": reverse("v1:orders-export", kwargs={"pk": export.pk}),
            "download_url": download_url,
        },
    )
