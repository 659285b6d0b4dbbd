"""What server-rendered pages share about their query string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import django_filters

View = TypeVar("View", bound=Callable[..., Any])


def reads_query_params(
    *, filterset_class: type[django_filters.FilterSet] | None = None, params: tuple[str, ...] = ()
) -> Callable[[View], View]:
    """Names the query parameters a page view reads: its filterset's and ``params``. The response
    cache keeps these, written the one way the view reads them, and drops the rest."""

    def decorate(view: View) -> View:
        view.filterset_class = filterset_class  # type: ignore[attr-defined]
        view.query_params = params  # type: ignore[attr-defined]
        return view

    return decorate
