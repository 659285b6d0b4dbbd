"""The API's JSON parser: DRF's, with one more kind of malformed body answered as a 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:  # nesting deeper than Python's decoder goes: bad input, not a 500
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from error
