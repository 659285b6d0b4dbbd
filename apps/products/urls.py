"""The catalog's API routes, included under /api/v1/ by project/api_urls.py (URL names in namespace "v1")."""

from django.urls import path, re_path

from apps.core.api import ID_PATTERN
from apps.products import api

urlpatterns = [
    path("categories/", api.CategoriesApi.as_view(), name="category-list"),
    re_path(rf"^categories/(?P<pk>{ID_PATTERN})/$", api.CategoryApi.as_view(), name="category-detail"),
    path("products/", api.ProductsApi.as_view(), name="product-list"),
    re_path(rf"^products/(?P<pk>{ID_PATTERN})/$", api.ProductApi.as_view(), name="product-detail"),
    re_path(
        rf"^products/(?P<pk>{ID_PATTERN})/stock-adjustments/$",
        api.ProductStockAdjustmentsApi.as_view(),
        name="product-stock-adjustments",
    ),
    # A job imports the file: the POST answers 202 (docs/jobs.md).
    path("products/imports/", api.ProductImportsApi.as_view(), name="product-imports"),
    re_path(rf"^products/imports/(?P<pk>{ID_PATTERN})/$", api.ProductImportApi.as_view(), name="product-import"),
]
