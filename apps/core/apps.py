from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "Core"
    # The API schema's name for the job statuses that reports and product imports share.
    api_enum_names = {"JobStatusEnum": "apps.core.models.JobStatus"}

    def ready(self) -> None:
        from apps.core.converters import IdConverter

        register_converter(IdConverter, "id")
