"""The one exception type for domain errors; the API turns it into the error shape."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the business was broken by the caller's input.

    ``code`` is stable and machine-readable, ``message`` is for people, ``fields`` maps
    input field names to messages, ``status`` is the HTTP status the API answers with.
    """

    def __init__(
        self,
        *,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.status = status
