"""Order pages, included at the site's root by project/page_urls.py (URL names in namespace "pages").
``<id:pk>`` is apps.core.converters.IdConverter."""

from django.urls import path

from apps.orders import views

urlpatterns = [
    path("products/<id:pk>/order/", views.order_place, name="order-place"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<id:pk>/cancel/", views.order_cancel, name="order-cancel"),
]
