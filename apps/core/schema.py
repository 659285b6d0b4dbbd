"""OpenAPI pieces shared by every endpoint, so the schema describes the real API.

``AutoSchema`` (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) derives from each view's own configuration
what every operation can answer, so a new endpoint is described right without a line of its own:
- no security requirement (``{}`` among the alternatives) where an anonymous caller is let in;
- 414 and 431 on every operation: gunicorn refuses a request line or headers over its limits;
- 401 wherever credentials are read (a missing one where they are needed, a wrong one anywhere),
  429 where a throttle applies, and 404 on a cursor-paginated list (a cursor that cannot be read),
  each with the error shape.
A view still lists its own errors (400, 403, 404, 409) with ``error_responses``, and names each
method's one-line summary in ``summaries = {"get": "List products", ...}`` (Swagger UI's headings).
Operations are grouped (tagged) by the first part of their path after /api/<version>/: auth, products...
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import pagination, serializers
from rest_framework.request import Request

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.JSONField()),
            },
        )
    },
)

_DESCRIPTIONS = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the current state",
    414: "URI too long: the request line is over the web server's limit (answered before the API)",
    412: "Precondition failed: the resource changed since the ETag in If-Match was read",
    422: "Idempotency-Key already used for another request",
    428: "Precondition required: this write needs If-Match",
    429: "Too many requests",
    431: "Request header fields too large: over the web server's limits (answered before the API)",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in statuses}


# On a throttled endpoint's 429 (DRF sets it from the throttle's wait).
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until a request is allowed again",
)


class AutoSchema(openapi.AutoSchema):
    def get_summary(self) -> str | None:
        summaries: dict[str, str] = getattr(self.view, "summaries", {})
        return summaries.get(self.method.lower()) or super().get_summary()

    def get_tags(self) -> list[str]:
        # /api/v1/products/{id}/ -> "products". Only the tags: the operation ids stay as published.
        parts = [part for part in self.path.split("/") if part]
        return parts[2:3] or super().get_tags()

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        if {} not in auths and self._anonymous_allowed():
            auths.append({})  # authentication is optional here: staff may see more, anyone may call
        return auths

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._derived_error_statuses():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    error_responses(code)[code], str(code), direction=direction
                )
        return dict(sorted(responses.items()))

    def _derived_error_statuses(self) -> list[int]:
        # Any request can be over gunicorn's limits; it answers them in the error shape (project/web/gunicorn_response.py).
        statuses = [414, 431]
        if self.view.get_authenticators():
            statuses.append(401)  # a wrong or expired token is refused even where none is needed
        if self.view.get_throttles():
            statuses.append(429)
        paginator = self._get_paginator()  # type: ignore[no-untyped-call]
        if self._is_list_view() and isinstance(paginator, pagination.CursorPagination):
            statuses.append(404)  # DRF answers a cursor it cannot decode with 404 "Invalid cursor"
        return statuses

    def _anonymous_allowed(self) -> bool:
        # What the view's own permissions answer an anonymous caller of this method.
        http_request = HttpRequest()
        http_request.method = self.method
        anonymous = Request(http_request)
        anonymous.user = AnonymousUser()
        return all(permission.has_permission(anonymous, self.view) for permission in self.view.get_permissions())
