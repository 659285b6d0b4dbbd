"""Writes to the catalog, and the stock that orders reserve and release.

Every write here invalidates the caches of what it changed. ``Model.save()``/``delete()`` do it
through their signals. Writes that send no signal (``QuerySet.update()``, ``bulk_create()``,
raw SQL) must go through cacheops' ``invalidated_update()`` or call ``invalidate_model()``,
as the bulk functions below do; see docs/caching.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cacheops import invalidate_model
from django.db import transaction
from django.db.models import ProtectedError

from apps.core.errors import DomainError
from apps.products.models import Category, Product


def category_create(*, name: str, slug: str) -> Category:
    return Category.objects.create(name=name, slug=slug)


def category_update(*, category: Category, **changes: Any) -> Category:
    return _update(category, changes)


def category_delete(*, category: Category) -> None:
    try:
        category.delete()
    except ProtectedError as error:
        raise DomainError(
            code="category_in_use",
            message=f"Category '{category.name}' still has products; move or delete them first.",
            status=409,
        ) from error


def product_create(**fields: Any) -> Product:
    return Product.objects.create(**fields)


def product_update(*, product: Product, **changes: Any) -> Product:
    return _update(product, changes)


def product_delete(*, product: Product) -> None:
    try:
        product.delete()
    except ProtectedError as error:
        raise DomainError(
            code="product_in_use",
            message=f"Product '{product.name}' has been ordered; deactivate it instead of deleting it.",
            status=409,
        ) from error


def products_set_active(*, product_ids: list[int], is_active: bool) -> int:
    """Put products on or off sale in one statement; returns how many rows changed."""
    return Product.objects.filter(pk__in=product_ids).invalidated_update(is_active=is_active)


def products_bulk_create(*, products: list[Product], batch_size: int = 1000) -> list[Product]:
    """Insert many products at once (imports, seeding); bulk_create sends no signal."""
    with transaction.atomic():
        created = Product.objects.bulk_create(products, batch_size=batch_size)
        invalidate_model(Product)  # queued by cacheops until the commit
    return created


def stock_reserve(*, quantities: Mapping[int, int]) -> dict[int, Product]:
    """Take ``quantities`` (product id → count) out of stock, or raise and take nothing.

    Runs inside the caller's transaction. Rows are locked in id order, so two orders that
    share products queue behind each other instead of deadlocking.
    """
    _require_transaction()
    products = {
        product.pk: product
        for product in Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
    }
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None or not product.is_active:
            raise DomainError(
                code="unknown_product",
                message=f"Product {product_id} does not exist or is not for sale.",
                fields={"items": [f"Product {product_id} does not exist or is not for sale."]},
            )
        if product.stock < quantities[product_id]:
            raise DomainError(
                code="out_of_stock",
                message=f"Only {product.stock} of '{product.name}' (product {product_id}) left in stock.",
                fields={"items": [f"Product {product_id}: only {product.stock} left."]},
                status=409,
            )
    for product_id in sorted(quantities):
        product = products[product_id]
        product.stock -= quantities[product_id]
        product.save(update_fields=["stock", "updated_at"])
    return products


def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Put ``quantities`` back into stock, as when an order is cancelled."""
    _require_transaction()
    for product in Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk"):
        product.stock += quantities[product.pk]
        product.save(update_fields=["stock", "updated_at"])


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock changes must run inside the caller's transaction.atomic()")


def _update(instance: Category | Product, changes: Mapping[str, Any]) -> Any:
    for field, value in changes.items():
        setattr(instance, field, value)
    instance.save()
    return instance
