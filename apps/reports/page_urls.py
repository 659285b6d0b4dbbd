"""Export pages, included at the site's root by project/page_urls.py (URL names in namespace "pages").
``<id:pk>`` is apps.core.converters.IdConverter."""

from django.urls import path

from apps.reports import views

urlpatterns = [
    path("orders/exports/", views.orders_export_request, name="orders-export-request"),
    path("orders/exports/<id:pk>/", views.orders_export, name="orders-export"),
]
