"""The reference of scripts/bench-cache: the same Django, no app, no middleware, one JsonResponse view.

What any Django request costs at least; every target is reported as a ratio to it. Served by the
same gunicorn configuration as the kit (config/gunicorn.conf.py):
`DJANGO_SETTINGS_MODULE=benchmarks.minimal_settings gunicorn 'django.core.wsgi:get_wsgi_application()'`.
This module is its settings and its URLconf.
"""

import os
import secrets

from django.http import HttpRequest, JsonResponse
from django.urls import path

SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",")
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
ROOT_URLCONF = __name__
USE_TZ = True


def reference(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/bare", reference)]
