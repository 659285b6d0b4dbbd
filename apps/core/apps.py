from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core.converters import IdConverter

        register_converter(IdConverter, "id")
