"""What every seeding command shares."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class SeedCommand(BaseCommand):
    """A command that writes made-up data, which it refuses to do in production."""

    # Why this command must not run in production, as the start of the refusal's sentence.
    production_refusal: str

    def execute(self, *args: Any, **options: Any) -> str | None:
        if settings.IS_PRODUCTION:
            raise CommandError(f"{self.production_refusal}; it never runs in production.")
        return super().execute(*args, **options)
