"""Orders' API routes, included under /api/v1/ by project/api_urls.py (URL names in namespace "v1")."""

from django.urls import path, re_path

from apps.core.api import ID_PATTERN
from apps.orders import api

urlpatterns = [
    path("orders/", api.OrdersApi.as_view(), name="order-list"),
    re_path(rf"^orders/(?P<pk>{ID_PATTERN})/$", api.OrderApi.as_view(), name="order-detail"),
    re_path(rf"^orders/(?P<pk>{ID_PATTERN})/cancel/$", api.OrderCancelApi.as_view(), name="order-cancel"),
]
