"""Server-rendered pages: the routes of each app in LOCAL_APPS that has a ``page_urls.py``, in that
order, all named in namespace "pages"."""

from django.urls import include, path
from django.views.generic import TemplateView

from project.app_urls import app_url_modules

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/landing.html"), name="landing"),
    *(path("", include(module)) for module in app_url_modules("page_urls")),
]
