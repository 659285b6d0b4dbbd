"""Catalog pages, included at the site's root by project/page_urls.py (URL names in namespace "pages").
``<id:pk>`` is apps.core.converters.IdConverter."""

from django.urls import path

from apps.products import views

urlpatterns = [
    path("products/", views.catalog, name="catalog"),
    path("products/<id:pk>/", views.product_detail, name="product"),
]
