"""Fills the benchmark database: `python -m benchmarks.seed --categories 20 --products 1000`.

bulk_create sends no signals, so nothing is invalidated: run it on a fresh database, before
the servers start and with the benchmark's Redis database flushed (scripts/bench-cache does).
"""

from __future__ import annotations

import argparse
import random
from decimal import Decimal

import django

DESCRIPTION = (
    "A sturdy, well-made thing for everyday use. Ships in recycled packaging; "
    "two-year warranty; returns accepted within thirty days of delivery. "
) * 3
ORDERS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--token-file", help="also a user with orders; their API token is written here")
    args = parser.parse_args()

    django.setup()
    from apps.products.models import Category, Product

    rng = random.Random(1843)  # the same catalog on every run
    categories = Category.objects.bulk_create(
        Category(name=f"Category {number:02d}", slug=f"category-{number:02d}") for number in range(args.categories)
    )
    Product.objects.bulk_create(
        (
            Product(
                category=categories[number % len(categories)],
                name=f"Product {number:04d}",
                slug=f"product-{number:04d}",
                description=DESCRIPTION,
                price=Decimal(rng.randrange(100, 100_000)) / 100,
                stock=rng.randrange(0, 500),
                is_active=True,
            )
            for number in range(args.products)
        ),
        batch_size=500,
    )
    print(f"seeded {len(categories)} categories and {Product.objects.count()} products")
    if args.token_file:
        _signed_in_user(token_file=args.token_file)


def _signed_in_user(*, token_file: str) -> None:
    """A user with ORDERS orders, and an API token of theirs written to ``token_file``: the signed-in targets."""
    from pathlib import Path

    from apps.orders import services as order_services
    from apps.products.models import Product
    from apps.users import services as user_services
    from apps.users.models import User

    user = User.objects.create_user(email="bench@example.com", password=None)
    product_ids = list(Product.objects.order_by("id").values_list("id", flat=True)[:ORDERS])
    for product_id in product_ids:
        order_services.order_create(user=user, items=[order_services.OrderLine(product_id=product_id, quantity=1)])
    _token, key = user_services.api_token_create(user=user, label="benchmark")
    Path(token_file).write_text(key)
    print(f"seeded a user with {len(product_ids)} orders and an API token")


if __name__ == "__main__":
    main()
