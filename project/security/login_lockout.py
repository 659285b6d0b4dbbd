"""axes' cache handler (AXES_HANDLER), failing open while Redis is unreachable, as every other use
of the cache does: a failed login is then not counted, and is answered, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import redis
from axes.handlers.cache import AxesCacheHandler
from django.http import HttpRequest

logger = logging.getLogger(__name__)


class FailOpenAxesCacheHandler(AxesCacheHandler):  # type: ignore[misc]  # axes is untyped
    def user_login_failed(
        self, sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        # django-redis ignores errors of most calls (DJANGO_REDIS_IGNORE_EXCEPTIONS), not of touch().
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except redis.RedisError as error:
            logger.warning("login failure not counted towards a lockout, Redis unreachable: %r", error)
