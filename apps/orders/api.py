from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import IDEMPOTENCY_KEY_HEADER, idempotent, validated_input
from apps.core.pagination import NewestFirstCursorPagination
from apps.core.parsers import JSONParser
from apps.core.query_cache import Conditions, cached_read
from apps.core.schema import error_responses
from apps.orders import selectors, services
from apps.orders.models import Order
from apps.orders.serializers import OrderCreateInputSerializer, OrderOutputSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "A unique key per order (a UUID, at most 255 characters). A retry with the same key and body "
        "gets the first response again, with `Idempotent-Replayed: true`, and places no second order. "
        "The same key with another body is a 422 (`idempotency_key_reused`); while the first request "
        "with a key is still running, a 409 (`idempotency_key_in_use`). Keys are kept 24 hours. "
        "A request that failed placed nothing and is not kept: a retry runs again."
    ),
)


class OrdersApi(generics.GenericAPIView):
    summaries = {"get": "List my orders", "post": "Place an order"}
    permission_classes = [IsAuthenticated]
    # JSON only: an order's items are a list of objects, which no form encoding carries.
    parser_classes = [JSONParser]
    serializer_class = OrderOutputSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self, *, using: str | None = None) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, only the model is read
            return Order.objects.none()
        return selectors.orders_for_user(user=self.request.user, using=using)

    @extend_schema(responses={200: OrderOutputSerializer(many=True), **error_responses(400, 401)})
    def get(self, request: Request) -> Response:
        """The page as a whole from the query cache: one Redis read, no SQL, no serializing when warm.
        Dropped for every worker on commit of any write to the user's orders or to a product on
        the page (selectors.orders_cache_depends_on)."""
        user = request.user

        def fill(using: str | None) -> tuple[Any, Conditions | None]:
            page = self.paginate_queryset(self.get_queryset(using=using)) or []
            data = self.get_paginated_response(OrderOutputSerializer(page, many=True).data).data
            return data, selectors.orders_cache_depends_on(user=user, orders=page)

        if not self._cacheable(request):
            return Response(fill(None)[0])
        # The whole URL, host and scheme too: the page's links are absolute.
        url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
        data = cached_read(
            key=f"orders:list:{user.pk}:{url}",
            model=Order,
            guard=selectors.orders_cache_guard(user=user),
            fill=fill,
            timeout=settings.SIGNED_IN_CACHE_TTL,
        )
        return Response(data)

    def _cacheable(self, request: Request) -> bool:
        """Only the paginator's own parameters, with a page size it takes as given: junk in the query
        string (which the page's links repeat) must not make entries of its own."""
        paginator = NewestFirstCursorPagination
        params = request.query_params
        if not set(params) <= {paginator.cursor_query_param, paginator.page_size_query_param}:
            return False
        page_size = params.get(paginator.page_size_query_param)
        # A few ASCII digits only: "²" is a digit to isdigit() and not to int(), and int() refuses 4,300+ digits.
        return page_size is None or (
            len(page_size) <= 4
            and page_size.isascii()
            and page_size.isdigit()
            and 0 < int(page_size) <= paginator.max_page_size
        )

    @extend_schema(
        request=OrderCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(OrderOutputSerializer, description="Placed; or the first response again, for a retry"),
            **error_responses(400, 401, 403, 409, 422),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated_input(OrderCreateInputSerializer, request)
        lines = [services.OrderLine(product_id=item["product"], quantity=item["quantity"]) for item in data["items"]]

        def place() -> Response:
            order = services.order_create(user=request.user, items=lines)
            return Response(_fresh(request, order.pk), status=status.HTTP_201_CREATED)

        return idempotent(request, place)


class OrderApi(APIView):
    summaries = {"get": "Read one of my orders"}
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses={200: OrderOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        order = selectors.order_for_user(user=request.user, order_id=int(pk))
        return Response(OrderOutputSerializer(order).data)


class OrderCancelApi(APIView):
    summaries = {"post": "Cancel a pending order"}
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(request=None, responses={200: OrderOutputSerializer, **error_responses(401, 404, 409)})
    def post(self, request: Request, pk: str) -> Response:
        order = services.order_cancel(user=request.user, order_id=int(pk))
        return Response(_fresh(request, order.pk))


def _fresh(request: Request, order_id: int) -> dict:
    return OrderOutputSerializer(selectors.order_for_user(user=request.user, order_id=order_id)).data
