from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    verbose_name = "Users"

    def ready(self) -> None:
        from apps.users import checks  # noqa: F401 - registers the system checks
