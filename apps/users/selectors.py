"""Reads of users."""

from __future__ import annotations

from apps.users.models import User

PROFILE_COLUMNS = ("id", "email", "name", "email_verified_at")


def user_profile(*, user_id: int) -> User:
    """The public part of a user, from the query cache. Only these columns are loaded, so the
    cached copy never holds the password hash (settings.CACHEOPS: users.user is manual-only)."""
    return User.objects.only(*PROFILE_COLUMNS).cache().get(pk=user_id)
