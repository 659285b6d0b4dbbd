from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.products import csv_import, selectors, services
from apps.products.models import Category, Product, ProductImport, StockAdjustment

ADJUSTMENTS_SHOWN = 20


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

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None) -> tuple[str, ...]:
        # A stock typed over what the form showed would undo the orders placed meanwhile: an
        # existing product's stock changes by adjustment only (the "Adjust stock" page).
        return (*self.readonly_fields, "stock") if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # The row locked and only the fields edited written, never the whole row the form read.
        services.product_update(product=obj, **{name: form.cleaned_data[name] for name in form.changed_data})

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust-stock/",
            self.admin_site.admin_view(self.adjust_stock_view),
            name="products_product_adjust_stock",
        )
        return [adjust, *super().get_urls()]

    def adjust_stock_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        product = self.get_object(request, object_id)
        if product is None:
            raise Http404(f"No product with id {object_id}.")
        if not request.user.has_perm("products.add_stockadjustment"):
            raise PermissionDenied
        form = StockAdjustmentForm(request.POST or None)
        if form.is_valid():
            try:
                adjustment = services.stock_adjust(product_id=product.pk, user=request.user, **form.cleaned_data)
            except DomainError as error:
                form_add_domain_error(form=form, error=error)
            else:
                self.message_user(
                    request,
                    f"Stock of '{product}' changed by {adjustment.delta:+d}: now {adjustment.stock_after}.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:products_product_change", args=[product.pk]))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the stock of {product}",
            "opts": self.opts,
            "original": product,
            "form": form,
            "adjustments": selectors.stock_adjustments(product_id=product.pk)[:ADJUSTMENTS_SHOWN],
        }
        return TemplateResponse(request, "admin/products/product/adjust_stock.html", context)


class StockAdjustmentForm(forms.Form):
    delta = forms.IntegerField(help_text="Units to add (e.g. 12) or remove (e.g. -3).")
    reason = forms.CharField(max_length=StockAdjustment._meta.get_field("reason").max_length)


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: adjustments are made on a product's "Adjust stock" page (or through the API) and kept."""

    list_display = ("created_at", "product", "delta", "stock_after", "reason", "user")
    list_select_related = ("product", "user")
    list_filter = ("created_at",)
    search_fields = ("product__name", "product__slug", "reason")


class ProductImportForm(forms.Form):
    file = forms.FileField(label="Product CSV", help_text="UTF-8 text, the first line naming the columns.")


@admin.register(ProductImport)
class ProductImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uploads go through the "Upload a product CSV" page (or the API) and run as a job; an import's
    page shows its progress, live, and its errors by line."""

    list_display = (
        "__str__",
        "status",
        "progress",
        "rows_processed",
        "created",
        "updated",
        "error_count",
        "created_at",
    )
    list_select_related = ("uploaded_by",)
    list_filter = ("status",)
    fields = (
        "original_name",
        "uploaded_by",
        "job_progress",
        "rows_processed",
        "created",
        "updated",
        "error_count",
        "errors_table",
        "created_at",
        "finished_at",
    )
    readonly_fields = ("job_progress", "errors_table")

    class Media:
        js = ("js/job-progress.js",)

    @admin.display(description="Progress")
    def job_progress(self, product_import: ProductImport) -> str:
        return render_to_string(
            "pages/_job_progress.html",
            {
                "job": product_import,
                "status_url": reverse("v1:product-import", kwargs={"pk": product_import.pk}),
                "label": f"Progress of import {product_import.pk}",
                "reload_when_done": True,
            },
        )

    @admin.display(description="Errors by line")
    def errors_table(self, product_import: ProductImport) -> str:
        if not product_import.errors:
            return "None"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (row["line"], column, " ".join(messages_))
                for row in product_import.errors
                for column, messages_ in row["errors"].items()
            ),
        )
        more = product_import.error_count - len(product_import.errors)
        return format_html(
            "<table><thead><tr><th>Line</th><th>Column</th><th>Problem</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            format_html("<p>… and {} more rows with errors.</p>", more) if more > 0 else "",
        )

    def get_urls(self) -> list[URLPattern]:
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="products_productimport_upload")
        return [upload, *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        form = ProductImportForm(request.POST or None, request.FILES or None)
        if form.is_valid():
            try:
                product_import, is_new = services.product_import_request(
                    user=request.user, upload=form.cleaned_data["file"]
                )
            except DomainError as error:
                form_add_domain_error(form=form, error=error)
            else:
                if is_new:
                    self.message_user(request, f"{product_import} is queued.", messages.SUCCESS)
                else:
                    self.message_user(request, f"This file was uploaded before: {product_import}.", messages.WARNING)
                return redirect(reverse("admin:products_productimport_change", args=[product_import.pk]))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Upload a product CSV",
            "opts": self.opts,
            "form": form,
            "required_columns": csv_import.REQUIRED_COLUMNS,
            "columns": csv_import.COLUMN_DOCS,
            "max_bytes": settings.PRODUCT_IMPORT_MAX_BYTES,
        }
        return TemplateResponse(request, "admin/products/productimport/upload.html", context)
