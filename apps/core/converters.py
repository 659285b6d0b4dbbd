"""Path converters for the pages' routes; CoreConfig.ready() registers them, once, before any URLconf loads."""

from django.urls import converters

from apps.core.api import ID_PATTERN


class IdConverter(converters.IntConverter):
    """``<id:pk>``: an id that fits a bigint, so an absurd one is a 404, never a database error."""

    regex = ID_PATTERN
