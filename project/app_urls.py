"""Each app's routes are found, never listed: an app added to LOCAL_APPS is routed (docs/adding-an-app.md)."""

from importlib import import_module

from django.conf import settings
from django.utils.module_loading import module_has_submodule


def app_url_modules(name: str) -> list[str]:
    """``<app>.<name>`` for each app of LOCAL_APPS that has that module, in LOCAL_APPS' order."""
    return [
        f"{app}.{name}"
        for app in settings.LOCAL_APPS
        if app != "project" and module_has_submodule(import_module(app), name)
    ]
