"""django-csp's middleware, with the settings' policy built once per process.

django-csp builds the header for every response (a deep copy of the policy's parts, then the
string), a tenth of a warm signed-in API read's CPU in scripts/bench-cache's profile. Most
responses use the settings' policy unchanged: no nonce was asked for, and no decorator
(csp_update, csp_replace, csp_exempt...) touched the response. Those get the header built once;
any other response goes through django-csp's own code, unchanged.
"""

from __future__ import annotations

import functools
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What csp's decorators set on a response to change its policy.
_PER_RESPONSE_ATTRIBUTES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@functools.cache
def _settings_policies() -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    """(header, excluded prefixes, report-only header, its excluded prefixes) of the settings' policies."""
    policy: dict[str, Any] = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    report_only: dict[str, Any] = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
    return (
        build_policy(),
        tuple(policy.get("EXCLUDE_URL_PREFIXES") or ()),
        build_policy(report_only=True),
        tuple(report_only.get("EXCLUDE_URL_PREFIXES") or ()),
    )


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE_ATTRIBUTES)
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or (settings.DEBUG and response.status_code in (404, 500))  # django-csp leaves debug pages alone
        ):
            return super().process_response(request, response)
        policy, excluded, report_only, report_only_excluded = _settings_policies()
        if policy and not request.path_info.startswith(excluded):
            response[HEADER] = policy
        if report_only and not request.path_info.startswith(report_only_excluded):
            response[HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent miss.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
