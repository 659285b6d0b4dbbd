"""Reads of users."""

from __future__ import annotations

import functools
import operator

from django.contrib.auth.hashers import check_password
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.users.demo import DEMO_ACCOUNTS
from apps.users.models import ApiToken, User

# What a request needs of its signed-in user: the profile (GET /users/me/), and what permissions
# check. Never the password hash: the cached copy is served to every worker (apps/users/caching.py).
AUTH_USER_COLUMNS = ("id", "email", "name", "email_verified_at", "is_active", "is_staff", "is_superuser")
# What checking an API token needs. token_key is loaded so that a save of the token (knox's expiry
# renewal) invalidates the cached lookup by it.
AUTH_TOKEN_COLUMNS = ("id", "token_key", "digest", "created", "expiry", "user_id")


def api_tokens_with_key(*, token_key: str) -> list[ApiToken]:
    """The tokens whose key starts with ``token_key`` (knox's lookup index; almost always one), from
    the query cache: a warm sign-in check runs no SQL.

    Invalidated by cacheops, on commit, for every worker at once: a save or delete of a token
    (knox's expiry renewal, a revocation, a password change, a user deleted) drops the entry by its
    token_key. Expiry is the caller's to check on every request, against the cached ``expiry``.
    """
    return list(ApiToken.objects.filter(token_key=token_key).only(*AUTH_TOKEN_COLUMNS).cache())


def user_for_authentication(*, user_id: int) -> User | None:
    """The user a credential names, as a request needs it (AUTH_USER_COLUMNS), from the query cache;
    None if there is no such user. Any save of the user (deactivated, a password change, staff in
    the admin) drops the entry for every worker, on commit."""
    return User.objects.only(*AUTH_USER_COLUMNS).cache().filter(pk=user_id).first()


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
