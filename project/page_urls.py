"""Server-rendered pages. Each app owns its views; this module only places them."""

from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/landing.html"), name="landing"),
]
