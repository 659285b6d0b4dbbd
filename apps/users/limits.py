"""What limits the ways in: failed logins per account (axes), requests per client IP, and mail
per target address (django-ratelimit), all counted in the shared Redis cache (docs/security.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from django_ratelimit.decorators import ratelimit

from apps.core.errors import DomainError

LOCKED_OUT_MESSAGE = "Too many failed logins for this account: it is locked for {minutes} minutes. Try again later."


def _auth_rate(group: str, request: HttpRequest) -> str:
    return settings.AUTH_THROTTLE_RATE


# Per client IP, on the pages' form posts: the same rate and IP as the API's "auth" throttle.
limit_posts_per_ip = ratelimit(group="auth", key="ip", rate=_auth_rate, method="POST")


def mail_to_address_limit(*, email: str, purpose: str) -> None:
    """Count one ``purpose`` mail asked for ``email``; over MAIL_TO_ADDRESS_RATE it is a 429 DomainError.

    Counted whether or not an account uses the address, so the limit reveals nothing.
    """
    usage = get_usage(
        None,
        group=f"mail-to:{purpose}",
        key=lambda _group, _request: email.strip().lower(),
        rate=settings.MAIL_TO_ADDRESS_RATE,
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise DomainError(
            code="throttled",
            message="Too many emails were asked for this address. Try again later.",
            status=429,
            retry_after=max(usage["time_left"], 1),
        )


def login_identity(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt is for (AXES_USERNAME_CALLABLE): the email in lower case,
    as login matches it, so changing its letter case does not reset the count."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or {}).get(field) or request.POST.get(field)
    return username.strip().lower() if username else None


def _lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out_error() -> DomainError:
    """The API's answer to a login for a locked-out account: 429 locked_out, with Retry-After."""
    seconds = _lockout_seconds()
    return DomainError(
        code="locked_out", message=LOCKED_OUT_MESSAGE.format(minutes=seconds // 60), status=429, retry_after=seconds
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page a locked-out login gets (AXES_LOCKOUT_CALLABLE): 429, with Retry-After."""
    seconds = _lockout_seconds()
    response = render(
        request, "users/locked_out.html", {"message": LOCKED_OUT_MESSAGE.format(minutes=seconds // 60)}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response
