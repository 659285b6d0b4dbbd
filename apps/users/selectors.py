"""Reads of users."""

from __future__ import annotations

import functools
import operator

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.query_cache import Conditions, cached_read, cached_value, rows
from apps.users.demo import DEMO_ACCOUNTS
from apps.users.models import ApiToken, User

# What a request needs of its signed-in user: the profile (GET /users/me/), and what permissions
# check. Never the password hash: the cached copy is served to every worker (apps/users/caching.py).
AUTH_USER_COLUMNS = ("id", "email", "name", "email_verified_at", "is_active", "is_staff", "is_superuser")
# What checking an API token needs. token_key is loaded so that a save of the token (knox's expiry
# renewal) drops the cached lookup by it.
AUTH_TOKEN_COLUMNS = ("id", "token_key", "digest", "created", "expiry", "user_id")


def api_tokens_with_key(*, token_key: str) -> list[ApiToken]:
    """The tokens whose key starts with ``token_key`` (knox's lookup index; almost always one), each
    with its user (AUTH_USER_COLUMNS): one query cache read, and no SQL, when warm.

    cacheops drops the entry, on commit, for every worker at once, on any save or delete of these
    tokens (knox's expiry renewal, a revocation, a password change) or of their users (deactivated,
    edited by staff, deleted). An unknown key is not cached: whoever sends made-up keys must not
    fill Redis with them (each costs one query, as it did before the cache).

    Expiry is the caller's to check on every request, against the cached ``expiry``.
    """

    def fill(using: str) -> tuple[list[ApiToken], Conditions | None]:
        user_columns = (f"user__{column}" for column in AUTH_USER_COLUMNS)
        tokens = list(
            ApiToken.objects.using(using)
            .filter(token_key=token_key)
            .select_related("user")
            .only(*AUTH_TOKEN_COLUMNS, *user_columns)
        )
        if not tokens:
            return tokens, None
        return tokens, rows(ApiToken, {"token_key": token_key}) | rows(User, *({"id": t.user_id} for t in tokens))

    return cached_read(
        key=_token_cache_key(token_key),
        model=ApiToken,
        guard=rows(ApiToken, {"token_key": token_key}) | rows(User),
        fill=fill,
        timeout=settings.SIGNED_IN_CACHE_TTL,
    )


def api_tokens_with_key_if_cached(*, token_key: str) -> list[ApiToken] | None:
    """What api_tokens_with_key() answers when its entry is in the query cache, else None: never
    the database (the WSGI front's check, project/caching/signed_in_front.py)."""
    found, tokens = cached_value(key=_token_cache_key(token_key), model=ApiToken)
    return tokens if found else None


def _token_cache_key(token_key: str) -> str:
    return f"auth:token:{token_key}"


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
