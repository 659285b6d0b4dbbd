"""`manage.py seed_demo`: a small catalog, two accounts and a few orders to try the kit with.

Idempotent: rows are looked up by slug or email and only the missing ones are created, so a
second run changes nothing (not even stock that demo orders have taken). The demo user's orders
are placed only while they have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from apps.core.errors import DomainError
from apps.orders import selectors as order_selectors
from apps.orders import services as order_services
from apps.orders.services import OrderLine
from apps.products import services as product_services
from apps.products.models import Category, Product
from apps.seeding.base import SeedCommand
from apps.users import services as user_services
from apps.users.demo import ADMIN_EMAIL, DEMO_ACCOUNTS, DEMO_EMAIL
from apps.users.models import User

DEMO_PASSWORD = DEMO_ACCOUNTS[DEMO_EMAIL]
ADMIN_PASSWORD = DEMO_ACCOUNTS[ADMIN_EMAIL]

# Category name -> (product name, price, stock). A stock of 0 shows the sold-out path.
CATALOG: dict[str, list[tuple[str, str, int]]] = {
    "Desk": [
        ("Standing desk", "499.00", 12),
        ("Monitor arm", "89.00", 40),
        ("Desk mat", "25.00", 120),
        ("Cable tray", "19.50", 75),
        ("Laptop stand", "45.00", 0),
        ("Footrest", "32.00", 18),
    ],
    "Audio": [
        ("Studio headphones", "149.00", 25),
        ("USB microphone", "119.00", 14),
        ("Desk speakers", "99.00", 9),
        ("Headphone stand", "29.00", 60),
        ("Pop filter", "12.00", 80),
        ("Audio interface", "179.00", 0),
    ],
    "Input": [
        ("Mechanical keyboard", "129.00", 30),
        ("Wireless mouse", "59.00", 55),
        ("Trackpad", "99.00", 20),
        ("Wrist rest", "22.00", 90),
        ("Numeric keypad", "35.00", 15),
        ("Drawing tablet", "89.00", 7),
    ],
    "Lighting": [
        ("Desk lamp", "65.00", 33),
        ("Monitor light bar", "79.00", 21),
        ("Key light", "139.00", 6),
        ("LED strip", "24.00", 100),
        ("Smart bulb", "15.00", 200),
        ("Ring light", "49.00", 11),
    ],
    "Storage": [
        ("Portable SSD 1 TB", "109.00", 45),
        ("USB-C hub", "49.00", 70),
        ("Memory card 128 GB", "21.00", 150),
        ("Drive enclosure", "39.00", 16),
        ("NAS 2-bay", "299.00", 4),
        ("Flash drive 64 GB", "11.00", 300),
    ],
}


@dataclass(frozen=True)
class DemoOrder:
    lines: tuple[tuple[str, int], ...]  # (product name, quantity)
    cancelled: bool = False


# The demo user's orders, oldest first; "My orders" shows them newest first.
DEMO_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(lines=(("Studio headphones", 1), ("Headphone stand", 1)), cancelled=True),
    DemoOrder(lines=(("Standing desk", 1), ("Monitor arm", 2))),
    DemoOrder(lines=(("Mechanical keyboard", 1), ("Wrist rest", 1), ("Desk mat", 1))),
)


class Command(SeedCommand):
    help = "Create demo categories, products, a demo user with a few orders and a superuser; safe to run again."
    production_refusal = "seed_demo creates accounts with published passwords"

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="where the printed links point")

    def handle(self, *args, base_url: str, **options) -> None:
        with transaction.atomic():
            categories, products = self._seed_catalog()
            demo_user, demo = self._seed_user(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, name="Demo User", superuser=False
            )
            _, admin = self._seed_user(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Admin", superuser=True)
            orders = self._seed_orders(user=demo_user)

        base_url = base_url.rstrip("/")
        self.stdout.write(
            f"Catalog: created {categories} categories and {products} products; existing rows left alone."
        )
        if orders is None:
            self.stdout.write(f"Orders: {DEMO_EMAIL} has some already; none placed.")
        else:
            self.stdout.write(f"Orders: placed {orders} for {DEMO_EMAIL}.")
        self.stdout.write("Accounts (email / password):")
        self.stdout.write(f"  {DEMO_EMAIL} / {DEMO_PASSWORD}  {'created' if demo else 'already there'}")
        self.stdout.write(f"  {ADMIN_EMAIL} / {ADMIN_PASSWORD}  superuser, {'created' if admin else 'already there'}")
        self.stdout.write("Open:")
        for label, url_name in [
            ("Catalog", "pages:catalog"),
            ("Log in", "pages:login"),
            ("My orders", "pages:orders"),
            ("Admin", "admin:index"),
            ("API docs", "swagger-ui"),
        ]:
            self.stdout.write(f"  {label + ':':<11}{base_url}{reverse(url_name)}")

    def _seed_catalog(self) -> tuple[int, int]:
        """Create what is missing, one save() per row so cache invalidation sees every write.

        What exists is read in one query per model, not one get_or_create() per row (an N+1)."""
        categories = {
            category.slug: category
            for category in Category.objects.filter(slug__in=[slugify(name) for name in CATALOG])
        }
        existing_products = set(
            Product.objects.filter(
                slug__in=[slugify(name) for items in CATALOG.values() for name, _, _ in items]
            ).values_list("slug", flat=True)
        )
        categories_created = products_created = 0
        for category_name, items in CATALOG.items():
            category = categories.get(slugify(category_name))
            if category is None:
                category = product_services.category_create(slug=slugify(category_name), name=category_name)
                categories_created += 1
            for name, price, stock in items:
                if slugify(name) in existing_products:
                    continue
                product_services.product_create(
                    slug=slugify(name),
                    category=category,
                    name=name,
                    description=f"{name}, from the demo catalog.",
                    price=Decimal(price),
                    stock=stock,
                )
                products_created += 1
        return categories_created, products_created

    def _seed_user(self, *, email: str, password: str, name: str, superuser: bool) -> tuple[User, bool]:
        """The account, signed up through the users service unless it exists, and whether it was new."""
        user = User.objects.filter(email__iexact=email).first()
        if user is not None:
            return user, False
        user = user_services.user_create(
            email=email, password=password, name=name, is_superuser=superuser, email_verified=True
        )
        return user, True

    def _seed_orders(self, *, user: User) -> int | None:
        """Place DEMO_ORDERS through the orders services, so stock and totals are as a customer's;
        returns how many were placed, or None when the user has orders already (left alone).

        An order the catalog cannot fill now (a product gone, its stock taken) is skipped, not fatal.
        """
        if order_selectors.orders_for_user(user=user).exists():
            return None
        slugs = {slugify(name) for order in DEMO_ORDERS for name, _ in order.lines}
        product_ids = dict(Product.objects.filter(slug__in=slugs).values_list("slug", "id"))
        placed = 0
        for demo_order in DEMO_ORDERS:
            missing = [name for name, _ in demo_order.lines if slugify(name) not in product_ids]
            if missing:
                self.stderr.write(f"Demo order skipped: no product {', '.join(missing)}.")
                continue
            lines = [OrderLine(product_id=product_ids[slugify(name)], quantity=qty) for name, qty in demo_order.lines]
            try:
                order = order_services.order_create(user=user, items=lines)
            except DomainError as error:
                self.stderr.write(f"Demo order skipped: {error.message}")
                continue
            if demo_order.cancelled:
                order_services.order_cancel(user=user, order_id=order.pk)
            placed += 1
        return placed
