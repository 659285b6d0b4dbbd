from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor
from rest_framework.request import Request
from rest_framework.views import APIView

T = TypeVar("T", bound=Model)

# Every list of the API: ?page_size= up to this (project/caching/response_cache.py caps its keys with it).
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class CursorPagination(pagination.CursorPagination):
    """DRF's keyset pagination with two of its edges fixed; the base of the two below."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and isinstance(cursor.position, str) and "\x00" in cursor.position:
            # Only a forged cursor holds a NUL, and PostgreSQL refuses it in a text parameter (a 500).
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except OverflowError as error:
            # A forged date position at the calendar's edge overflows on its way to the database's
            # time zone, while the WHERE is built: nothing ran, and the cursor is simply unreadable.
            raise NotFound(self.invalid_cursor_message) from error

    # DRF builds an end page's link back by stepping page_size rows, which skips rows when that
    # page is short (encode/django-rest-framework#7709); the page's real length is right in every case.

    def get_next_link(self) -> str | None:
        with self._page_size_as_shown():
            return super().get_next_link()

    def get_previous_link(self) -> str | None:
        with self._page_size_as_shown():
            return super().get_previous_link()

    @contextmanager
    def _page_size_as_shown(self) -> Iterator[None]:
        page_size = self.page_size
        self.page_size = len(self.page or ()) or page_size
        try:
            yield
        finally:
            self.page_size = page_size


class NewestFirstCursorPagination(CursorPagination):
    """Keyset pagination: a deep page costs what the first one does, and no COUNT(*) runs."""

    ordering = ("-created_at", "-id")


class QuerysetOrderCursorPagination(CursorPagination):
    """Keyset pagination in the order the view's filters chose (``?ordering=``), else the model's.

    No COUNT(*): the first page reads page_size + 1 rows from an index whatever the table's size,
    and a deep page costs what the first one does (OFFSET would read every row before it). The
    order must end with a unique column (the id) so that rows with equal values keep their place;
    the cursor holds the first column's value and how many rows with that value were already shown
    (DRF skips those by OFFSET, capped at 1,000: fine for prices, names and dates, not for a
    column where thousands of rows share a value).
    """

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: APIView | None) -> tuple[str, ...]:
        ordering = tuple(str(field) for field in queryset.query.order_by or queryset.model._meta.ordering)
        if not ordering or ordering[-1].lstrip("-") not in ("id", "pk"):
            raise ImproperlyConfigured(f"the order must end with the id: {ordering}")
        return ordering


class _PageCursorPagination(QuerysetOrderCursorPagination):
    """The API's keyset pagination as a server-rendered page uses it: the page chooses its size, not
    the query string, and a cursor that cannot be read can be set aside (``ignore_cursor``)."""

    page_size_query_param = None  # type: ignore[assignment]  # DRF reads None as "no such parameter"
    ignore_cursor = False

    def decode_cursor(self, request: Request) -> Cursor | None:
        return None if self.ignore_cursor else super().decode_cursor(request)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of rows and the ``?cursor=`` values of the pages either side (None at an end)."""

    object_list: list[T]
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.next_cursor is not None or self.previous_cursor is not None


def keyset_page(*, request: HttpRequest, queryset: QuerySet[T], page_size: int) -> KeysetPage[T]:
    """A page of ``queryset`` for an HTML page, by the API's keyset pagination (one implementation):
    in the queryset's order, which must end with the id; no COUNT(*), one query for the rows (and
    one per prefetch), whatever the page's depth.

    A cursor that cannot be read (forged, or holding a position that is no value of the order's
    first column, as one from another ``?ordering=`` can) gives the first page, as a bad page
    number did before, not an error.
    """
    paginator = _PageCursorPagination()
    paginator.page_size = page_size
    drf_request = Request(request)
    try:
        rows = paginator.paginate_queryset(queryset, drf_request)
    except (NotFound, DjangoValidationError):
        # Raised while reading the cursor and building the WHERE, before any query ran.
        paginator.ignore_cursor = True
        rows = paginator.paginate_queryset(queryset, drf_request)
    return KeysetPage(
        object_list=rows or [],
        next_cursor=_cursor_of(paginator.get_next_link(), param=paginator.cursor_query_param),
        previous_cursor=_cursor_of(paginator.get_previous_link(), param=paginator.cursor_query_param),
    )


def _cursor_of(link: str | None, *, param: str) -> str | None:
    # DRF answers with absolute URLs; a page keeps its own query string and swaps the cursor in.
    return None if link is None else parse_qs(urlsplit(link).query)[param][0]
