from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Keyset pagination: a deep page costs what the first one does, and no COUNT(*) runs."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-created_at", "-id")


class QuerysetOrderCursorPagination(pagination.CursorPagination):
    """Keyset pagination in the order the view's filters chose (``?ordering=``), else the model's.

    No COUNT(*): the first page reads page_size + 1 rows from an index whatever the table's size,
    and a deep page costs what the first one does (OFFSET would read every row before it). The
    order must end with a unique column (the id) so that rows with equal values keep their place;
    the cursor holds the first column's value and how many rows with that value were already shown
    (DRF skips those by OFFSET, capped at 1,000: fine for prices, names and dates, not for a
    column where thousands of rows share a value).
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView | None) -> tuple[str, ...]:
        ordering = tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
        assert ordering and ordering[-1].lstrip("-") in ("id", "pk"), f"the order must end with the id: {ordering}"
        return ordering
