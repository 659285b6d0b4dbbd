from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import JobStatus


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        indexes = [models.Index(fields=["name"], name="products_category_name_idx")]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="products_product_price_gte_0"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="products_product_stock_gte_0"),
        ]
        # The catalog lists active products only, so each sort and filter of the API
        # has an index led by is_active.
        indexes = [
            models.Index(fields=["is_active", "-created_at"], name="products_active_created_idx"),
            models.Index(fields=["is_active", "price"], name="products_active_price_idx"),
            models.Index(fields=["is_active", "name"], name="products_active_name_idx"),
            models.Index(fields=["is_active", "category"], name="products_active_category_idx"),
            models.Index(fields=["is_active", "stock"], name="products_active_stock_idx"),
            # ?search= (name__icontains) has a trigram index too, products_name_trgm_idx: it is
            # PostgreSQL-only SQL, so it lives in migration 0003 and not here.
        ]

    def __str__(self) -> str:
        return self.name


# The stock column is a PostgreSQL integer.
MAX_STOCK = 2_147_483_647


class StockAdjustment(models.Model):
    """A change of stock made by staff (a delivery counted in, breakage written off), with its reason.

    Staff never set the stock outright from what they read: orders take stock meanwhile, and a
    stale number written back would undo them. They add or remove units, and each change is kept.
    """

    # The record goes with its product: a product that was ordered cannot be deleted anyway.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_adjustments")
    delta = models.IntegerField(help_text="Units added (positive) or removed (negative).")
    reason = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    stock_after = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(delta=0), name="products_stockadjustment_delta_not_0"),
        ]
        indexes = [models.Index(fields=["product", "-created_at"], name="products_adjust_product_idx")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.product_id}: {self.reason}"


class ProductImport(models.Model):
    """One uploaded product CSV and its job's progress. The file's SHA-256 is unique: uploading
    the same file again finds this row and imports nothing."""

    Status = JobStatus

    sha256 = models.CharField(max_length=64, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file = models.CharField(max_length=255)  # the name in default_storage
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Share of the file's bytes read, in percent; and data rows read. Each batch commits its
    # products together with these, so a job killed midway resumes after the last batch.
    progress = models.PositiveSmallIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"line": n, "errors": {"column": ["message"]}}], the first MAX_IMPORT_ERRORS_KEPT rows with errors.
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Product import {self.pk} ({self.original_name})"
