"""The API's error shape and the Django error handlers that keep /api/ answers in JSON.

Every error leaves the API as ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core import services
from apps.core.errors import DomainError

API_PREFIX = "/api/"
# Ids in URLs: digits that fit a bigint, so an absurd id is a 404 and never a database error.
ID_PATTERN = r"[0-9]{1,18}"


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def validated_input(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The request body checked by ``serializer_class``; bad input raises the 400 error shape."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def idempotent(request: Request, respond: Callable[[], Response]) -> Response:
    """``respond()``, once per Idempotency-Key: a retry of the same request gets the first response
    again (with ``Idempotent-Replayed: true``) and runs nothing. Without the header, just ``respond()``.

    ``respond`` runs inside the transaction that keeps its response: its writes and the kept
    response commit together, or neither does (apps.core.services.idempotent_request_run).
    """
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None:
        return respond()
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise DomainError(
            code="invalid",
            message=f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters.",
            fields={IDEMPOTENCY_KEY_HEADER: ["1 to 255 characters, unique per request, such as a UUID."]},
        )

    def run() -> tuple[int, Any]:
        response = respond()
        return response.status_code, response.data

    kept = services.idempotent_request_run(
        user_id=cast(int, request.user.pk), key=key, fingerprint=_request_fingerprint(request), run=run
    )
    response = Response(kept.body, status=kept.status)
    if kept.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _request_fingerprint(request: Request) -> str:
    """sha256 of the method, path and body, with the body's JSON keys sorted: the same request
    written with its keys in another order is the same request."""
    data = request.data
    if hasattr(data, "lists"):  # a form's QueryDict: every value of each field
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error, in the one shape."""
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields), status=exc.status, headers=headers
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers, and it is logged
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_error_body(exc)
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(code=str(codes), message=str(response.data.get("detail", "")))
    return response


def _validation_error_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = {key: value for key, value in detail.items() if key != "non_field_errors"}
        general = detail.get("non_field_errors")
        message = " ".join(str(item) for item in general) if general else "Invalid input."
        return error_body(code="invalid", message=message, fields=fields)
    items = detail if isinstance(detail, list) else [detail]
    return error_body(code="invalid", message=" ".join(str(item) for item in items))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="not_found", message="Not found."), status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


class JsonNotFoundUnderDebugMiddleware:
    """Under DEBUG Django answers an unknown URL with its HTML technical page and never calls
    handler404; this gives /api/ the JSON 404 there too. A no-op in production, where handler404
    already answers. Inside CommonMiddleware, so its redirect to the URL with a slash still happens."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == status.HTTP_404_NOT_FOUND
            and _is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return handler404(request, Http404())
        return response


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(code="server_error", message="Server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="bad_request", message="Bad request."), status=400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="permission_denied", message="Permission denied."), status=403)
    return defaults.permission_denied(request, exception)
