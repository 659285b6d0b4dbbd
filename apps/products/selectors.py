"""Reads of the catalog."""

from __future__ import annotations

import hashlib
import json

from django.db.models import QuerySet

from apps.products.models import Category, Product, ProductImport, StockAdjustment

# Only the columns the list serializer shows: the description can be long.
CATALOG_COLUMNS = (
    "id",
    "name",
    "slug",
    "price",
    "stock",
    "is_active",
    "created_at",
    "category__id",
    "category__name",
    "category__slug",
)


def categories_for_catalog() -> QuerySet[Category]:
    return Category.objects.only("id", "name", "slug").order_by("name", "id")


def products_for_catalog() -> QuerySet[Product]:
    """Active products, newest first, with their category in the same query."""
    return Product.objects.filter(is_active=True).select_related("category").only(*CATALOG_COLUMNS)


def product_detail(*, product_id: int, include_inactive: bool = False) -> Product:
    """Raises Product.DoesNotExist (a 404 in the API) for an unknown or, unless asked, inactive id.

    Not from the query cache: it would store every miss, and random ids would fill Redis. A
    primary-key read is cheap, and anonymous detail reads are served by the response cache.
    """
    products = Product.objects.nocache().select_related("category")
    if not include_inactive:
        products = products.filter(is_active=True)
    return products.get(pk=product_id)


def product_version(*, product: Product) -> str:
    """A digest of everything the product's detail shows, its category included: the API's ETag,
    and what a write with If-Match is checked against. Every write to the product changes it."""
    state = [
        product.pk,
        product.name,
        product.slug,
        product.description,
        str(product.price),
        product.stock,
        product.is_active,
        product.category_id,
        product.category.name,
        product.category.slug,
        product.created_at.isoformat(),
        product.updated_at.isoformat(),
    ]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:32]


def stock_adjustments(*, product_id: int) -> QuerySet[StockAdjustment]:
    """A product's stock adjustments, newest first, with who made them."""
    return StockAdjustment.objects.filter(product_id=product_id).select_related("user")


def product_import(*, import_id: int) -> ProductImport:
    """Raises ProductImport.DoesNotExist (a 404) for an unknown id."""
    return ProductImport.objects.get(pk=import_id)
