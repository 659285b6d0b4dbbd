"""The one exception type for domain errors; the API turns it into the error shape."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the business was broken by the caller's input.

    ``code`` is stable and machine-readable, ``message`` is for people, ``fields`` maps
    input field names to messages, ``status`` is the HTTP status the API answers with;
    ``retry_after``, in seconds, is when a refused request (a 429) may be tried again.
    """

    def __init__(
        self,
        *,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        status: int = 400,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.status = status
        self.retry_after = retry_after
