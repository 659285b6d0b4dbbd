"""axes' cache handler (AXES_HANDLER), failing open while Redis is unreachable, as every other use
of the cache does: a failed login is then not counted, and is answered, never a 500."""

from __future__ import annotations

import logging

import redis
from axes.handlers.cache import AxesCacheHandler

logger = logging.getLogger(__name__)


class FailOpenAxesCacheHandler(AxesCacheHandler):
    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        # django-redis ignores errors of most calls (DJANGO_REDIS_IGNORE_EXCEPTIONS), not of touch().
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except redis.RedisError as error:
            logger.warning("login failure not counted towards a lockout, Redis unreachable: %r", error)
