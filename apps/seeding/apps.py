from django.apps import AppConfig


class SeedingConfig(AppConfig):
    name = "apps.seeding"
    verbose_name = "Seeding"
