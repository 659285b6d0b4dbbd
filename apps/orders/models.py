from __future__ import annotations

from django.conf import settings
from django.db import models


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # "My orders, newest first" is the hot read; this index serves it and its keyset pages.
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="orders_user_created_idx"),
            # Sales by day (the rollup and the reports) read orders by date range, across users.
            models.Index(fields=["created_at"], name="orders_created_idx"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(total__gte=0), name="orders_order_total_gte_0")]

    def __str__(self) -> str:
        return f"Order {self.pk}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveIntegerField()
    # The price when ordered: later price changes must not rewrite past orders.
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orders_item_quantity_gte_1"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="orders_item_unit_price_gte_0"),
        ]

    def __str__(self) -> str:
        # Where it is shown (the admin's inline and list) the product is select_related().
        return f"{self.quantity} × {self.product.name}"


class DailySales(models.Model):
    """The rollup: one row per day and product sold that day (cancelled orders left out).

    Refreshed by the refresh_daily_sales job (apps.orders.services.daily_sales_refresh);
    sales reports read it for every day it is fresh for (DailySalesDay).
    """

    day = models.DateField()
    # No foreign key constraint and no index of its own: checking 1.8M product references and
    # indexing them took most of a 2-year rebuild (docs/performance.md), and the rows are derived.
    # A product with sales cannot be deleted (its order items PROTECT it); rows of one whose
    # orders were deleted drop out of reports with it (they join the product for its name).
    product = models.ForeignKey(
        "products.Product", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    orders = models.PositiveIntegerField()
    units = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["day", "product_id"]
        constraints = [models.UniqueConstraint(fields=["day", "product"], name="orders_dailysales_day_product_unique")]
        verbose_name_plural = "daily sales"

    def __str__(self) -> str:
        return f"{self.day} product {self.product_id}"


class DailySalesDay(models.Model):
    """Whether the rollup of one day is fresh: it is when ``rolled_version == version``.

    Cancelling an order bumps its day's ``version``; a refresh stores the version it read before
    aggregating, so a cancellation that commits during a refresh leaves the day stale, never wrong.
    """

    day = models.DateField(primary_key=True)
    version = models.PositiveIntegerField(default=0)
    rolled_version = models.PositiveIntegerField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return str(self.day)
