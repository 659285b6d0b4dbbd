"""The product's URLs, plus two bench-only views under /bench/."""

from django.urls import path

from benchmarks import views
from project import urls as product_urls

urlpatterns = [
    path("bench/bare", views.bare),
    path("bench/naive-products/", views.naive_products),
    *product_urls.urlpatterns,
]

handler400 = product_urls.handler400
handler403 = product_urls.handler403
handler404 = product_urls.handler404
handler500 = product_urls.handler500
