"""What the API schema learns from the apps: the names of their choice sets (``api_enum_names`` on
an app's AppConfig), for drf-spectacular's ENUM_NAME_OVERRIDES."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from django.apps import apps


class EnumNamesOfTheApps(Mapping[str, str]):
    """Read when a schema is generated, once the apps are loaded: importing settings imports no app."""

    def _names(self) -> dict[str, str]:
        return {
            name: choices
            for app in apps.get_app_configs()
            for name, choices in getattr(app, "api_enum_names", {}).items()
        }

    def __getitem__(self, name: str) -> str:
        return self._names()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())
