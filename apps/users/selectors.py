"""Reads of users."""

from __future__ import annotations

import functools
import operator

from django.contrib.auth.hashers import check_password
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.users.demo import DEMO_ACCOUNTS
from apps.users.models import ApiToken, User

PROFILE_COLUMNS = ("id", "email", "name", "email_verified_at")


def user_profile(*, user_id: int) -> User:
    """The public part of a user, from the query cache. Only these columns are loaded, so the
    cached copy never holds the password hash (apps/users/caching.py: users.user is manual-only)."""
    return User.objects.only(*PROFILE_COLUMNS).cache().get(pk=user_id)


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still authenticate, newest first; the digest is never loaded."""
    return (
        ApiToken.objects.filter(user=user, expiry__gt=timezone.now())
        .only("id", "token_key", "label", "created", "expiry")
        .order_by("-created", "-id")
    )


def demo_accounts_with_published_password() -> list[str]:
    """Emails of the active demo accounts whose password is one of those published for the demo.

    Only the demo emails are read, never every user, and each stored hash is checked once per
    process: /readyz calls this on every probe, and one check costs a full password hash.
    """
    same_email = functools.reduce(operator.or_, (Q(email__iexact=email) for email in DEMO_ACCOUNTS))
    accounts = User.objects.filter(same_email, is_active=True).values_list("email", "password")
    return sorted(email for email, encoded in accounts if _is_a_published_password(encoded))


@functools.lru_cache(maxsize=64)
def _is_a_published_password(encoded: str) -> bool:
    # hashers.check_password, not User.check_password: a match must never upgrade (write) the hash.
    return any(check_password(password, encoded) for password in DEMO_ACCOUNTS.values())
