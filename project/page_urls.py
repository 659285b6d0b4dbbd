"""Server-rendered pages: each app's routes (apps/<app>/page_urls.py), all named in namespace "pages"."""

from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/landing.html"), name="landing"),
    path("", include("apps.users.page_urls")),
    path("", include("apps.products.page_urls")),
    path("", include("apps.orders.page_urls")),
    path("", include("apps.reports.page_urls")),
]
