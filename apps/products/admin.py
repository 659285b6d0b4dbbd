from django.contrib import admin

from apps.core.admin import ReadOnlyAdminMixin
from apps.products.models import Category, Product, ProductImport


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "stock", "is_active", "created_at")
    list_select_related = ("category",)
    list_filter = ("is_active", "category")
    search_fields = ("name", "slug")
    autocomplete_fields = ("category",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")


@admin.register(ProductImport)
class ProductImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: imports are uploaded through the API and run by their job."""

    list_display = ("__str__", "status", "progress", "rows_processed", "created", "updated", "error_count", "created_at")
    list_select_related = ("uploaded_by",)
    list_filter = ("status",)
