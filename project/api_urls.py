"""Version 1 of the API: each app's routes (apps/<app>/urls.py), all named in namespace "v1".
A breaking change gets a new module and prefix, never an edit here."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.users.urls")),
    path("", include("apps.products.urls")),
    path("", include("apps.orders.urls")),
    path("", include("apps.reports.urls")),
]
