"""The two reference points of the benchmark. Neither is, nor should be, a product view."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from apps.products.models import Product


def bare(request: HttpRequest) -> JsonResponse:
    """The ceiling: the whole middleware stack and a JSON response, no Redis, no SQL."""
    return JsonResponse({"status": "ok"})


def naive_products(request: HttpRequest) -> JsonResponse:
    """The catalog list as it is often first written: no select_related, so reading
    product.category costs one query per row (1 count + 1 list + 20 category queries)."""
    products = Product.objects.filter(is_active=True).order_by("-created_at", "-id")
    return JsonResponse({"count": products.count(), "results": [_row(product) for product in products[:20]]})


def _row(product: Product) -> dict[str, Any]:
    category = product.category  # the N+1: a query for each product
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug,
        "price": str(product.price),
        "stock": product.stock,
        "is_active": product.is_active,
        "category": {"id": category.id, "name": category.name, "slug": category.slug},
        "created_at": product.created_at.isoformat(),
    }
