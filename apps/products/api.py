from __future__ import annotations

from collections.abc import Collection

from django.db.models import QuerySet
from django.utils.http import parse_etags, quote_etag
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import validated_input
from apps.core.pagination import QuerysetOrderCursorPagination
from apps.core.permissions import IsStaffOrReadOnly
from apps.core.schema import error_responses
from apps.products import selectors, services
from apps.products.filters import ProductFilter
from apps.products.models import Category, Product
from apps.products.serializers import (
    CategoryInputSerializer,
    CategoryOutputSerializer,
    ProductDetailOutputSerializer,
    ProductImportInputSerializer,
    ProductImportOutputSerializer,
    ProductInputSerializer,
    ProductListOutputSerializer,
    StockAdjustmentInputSerializer,
    StockAdjustmentOutputSerializer,
)

WRITE_ERRORS = error_responses(400, 401, 403)

PRODUCT_ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description="The product's version; send it back in If-Match to change its stock.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description=(
        "The ETag of the product as you read it. If the product has changed since, nothing is written (412). "
        "Required (428 without) when the body sets `stock` to a new value: a blind write would undo the orders "
        "placed since you read it. To add or remove units, POST to stock-adjustments/ instead."
    ),
)


class CategoriesApi(generics.GenericAPIView):
    summaries = {"get": "List categories", "post": "Create a category (staff)"}
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories_for_catalog()

    @extend_schema(responses={200: CategoryOutputSerializer(many=True), **error_responses(400, 404)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CategoryOutputSerializer(page, many=True).data)

    @extend_schema(request=CategoryInputSerializer, responses={201: CategoryOutputSerializer, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        category = services.category_create(**validated_input(CategoryInputSerializer, request))
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)


class CategoryApi(generics.GenericAPIView):
    summaries = {"get": "Read a category", "patch": "Update a category (staff)", "delete": "Delete a category (staff)"}
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = CategoryOutputSerializer

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories_for_catalog()

    @extend_schema(responses={200: CategoryOutputSerializer, **error_responses(404)})
    def get(self, request: Request, pk: str) -> Response:
        return Response(CategoryOutputSerializer(self.get_object()).data)

    @extend_schema(
        request=CategoryInputSerializer,
        responses={200: CategoryOutputSerializer, **WRITE_ERRORS, **error_responses(404)},
    )
    def patch(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        serializer = CategoryInputSerializer(category, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        category = services.category_update(category=category, **serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data)

    @extend_schema(responses={204: None, **WRITE_ERRORS, **error_responses(404, 409)})
    def delete(self, request: Request, pk: str) -> Response:
        services.category_delete(category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductsApi(generics.GenericAPIView):
    summaries = {"get": "List, search and filter products", "post": "Create a product (staff)"}
    permission_classes = [IsStaffOrReadOnly]
    serializer_class = ProductDetailOutputSerializer
    filterset_class = ProductFilter
    pagination_class = QuerysetOrderCursorPagination  # a page-number count would read every active product

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.products_for_catalog()

    @extend_schema(responses={200: ProductListOutputSerializer(many=True), **error_responses(400, 404)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProductListOutputSerializer(page, many=True).data)

    @extend_schema(request=ProductInputSerializer, responses={201: ProductDetailOutputSerializer, **WRITE_ERRORS})
    def post(self, request: Request) -> Response:
        product = services.product_create(**validated_input(ProductInputSerializer, request))
        return Response(ProductDetailOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductApi(APIView):
    summaries = {"get": "Read a product", "patch": "Update a product (staff)", "delete": "Delete a product (staff)"}
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(parameters=[PRODUCT_ETAG], responses={200: ProductDetailOutputSerializer, **error_responses(404)})
    def get(self, request: Request, pk: str) -> Response:
        product = _product(request, pk)
        return Response(ProductDetailOutputSerializer(product).data, headers=_etag_header(product))

    @extend_schema(
        request=ProductInputSerializer,
        parameters=[IF_MATCH, PRODUCT_ETAG],
        responses={200: ProductDetailOutputSerializer, **WRITE_ERRORS, **error_responses(404, 412, 428)},
    )
    def patch(self, request: Request, pk: str) -> Response:
        product = _product(request, pk)
        serializer = ProductInputSerializer(product, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(
            product=product, expected_versions=_if_match(request), **serializer.validated_data
        )
        return Response(ProductDetailOutputSerializer(product).data, headers=_etag_header(product))

    @extend_schema(responses={204: None, **WRITE_ERRORS, **error_responses(404, 409)})
    def delete(self, request: Request, pk: str) -> Response:
        services.product_delete(product=_product(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductStockAdjustmentsApi(APIView):
    """Staff add (positive delta) or remove (negative) units, with a reason; ``stock_after`` is the new stock.
    A removal below 0 is a 409."""

    summaries = {"post": "Adjust the stock of a product (staff)"}
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        request=StockAdjustmentInputSerializer,
        responses={201: StockAdjustmentOutputSerializer, **WRITE_ERRORS, **error_responses(404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        product = _product(request, pk)
        data = validated_input(StockAdjustmentInputSerializer, request)
        adjustment = services.stock_adjust(product_id=product.pk, user=request.user, **data)
        return Response(StockAdjustmentOutputSerializer(adjustment).data, status=status.HTTP_201_CREATED)


def _product(request: Request, pk: str) -> Product:
    # Staff can see and edit products taken off sale; everyone else gets a 404 for them.
    return selectors.product_detail(product_id=int(pk), include_inactive=request.user.is_staff)


def _etag_header(product: Product) -> dict[str, str]:
    return {"ETag": quote_etag(selectors.product_version(product=product))}


def _if_match(request: Request) -> Collection[str] | None:
    """The product versions named by If-Match; None without one, or for "*", which names no version read."""
    header = request.headers.get("If-Match")
    if header is None or parse_etags(header) == ["*"]:
        return None
    # Strong comparison (RFC 9110, 13.1.1): a weak ETag never matches.
    return {etag.strip('"') for etag in parse_etags(header) if not etag.startswith("W/")}


class ProductImportsApi(APIView):
    """Upload a product CSV (multipart, field ``file``): 202 and a job imports it; the same file
    again answers 200 with the first import and imports nothing."""

    summaries = {"post": "Upload a product CSV (staff)"}
    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ProductImportInputSerializer},
        responses={
            202: ProductImportOutputSerializer,
            200: ProductImportOutputSerializer,
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated_input(ProductImportInputSerializer, request)
        product_import, is_new = services.product_import_request(user=request.user, upload=data["file"])
        return Response(
            ProductImportOutputSerializer(product_import).data,
            status=status.HTTP_202_ACCEPTED if is_new else status.HTTP_200_OK,
        )


class ProductImportApi(APIView):
    """An import's status, progress and per-row errors (``line`` is the line in the file)."""

    summaries = {"get": "Read the progress and errors of a product import (staff)"}
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: ProductImportOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        return Response(ProductImportOutputSerializer(selectors.product_import(import_id=int(pk))).data)
