from __future__ import annotations

from django.db import models


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
        ]

    def __str__(self) -> str:
        return self.name
