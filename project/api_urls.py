"""Version 1 of the API: the routes of each app in LOCAL_APPS that has a ``urls.py``, in that order,
all named in namespace "v1". A breaking change gets a new module and prefix, never an edit here."""

from django.urls import include, path

from project.app_urls import app_url_modules

urlpatterns = [path("", include(module)) for module in app_url_modules("urls")]
