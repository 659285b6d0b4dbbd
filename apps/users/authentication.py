"""API token authentication: django-rest-knox's, with its lookup served from the query cache."""

from __future__ import annotations

import binascii
import copy
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.request import Request

from apps.users import selectors
from apps.users.models import ApiToken, User

INVALID_TOKEN = _("Invalid token.")
# Where authenticate() leaves the (user, token) it accepted, in the request's WSGI environ.
CREDENTIALS_KEY = "headroom.token_credentials"


class TokenAuthentication(auth.TokenAuthentication):
    """``Authorization: Token <key>``, checked against the stored digests (knox).

    Knox's check, with three changes:

    - The token and its user come from the query cache (selectors.api_tokens_with_key): one Redis
      read and no SQL when warm. cacheops drops the entry on commit of any save or delete of the
      token or its user, in Redis, which every worker reads: a revoked token, a password change
      (which revokes every token) or a deactivated user is refused on the very next request, in
      any worker. With Redis down, they are read from the database, never from a copy that may be stale.
    - Only the presented token's expiry is checked, on every request, against the expiry read with
      it. Knox also loads every other token of the user to delete the expired ones, a second
      query; a daily job deletes them instead (project/tasks.py).
    - A key that is not UTF-8 is a 401, not a 500.

    Knox's expiry renewal (AUTO_REFRESH) is unchanged: it writes at most once per token per
    MIN_REFRESH_INTERVAL, and that save drops the cached token, so the next request reads the new expiry.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        credentials = super().authenticate(request)
        if credentials is not None:
            # What this check read, for the WSGI front to file a response under (signed_in_front.py).
            request.META[CREDENTIALS_KEY] = credentials
        return credentials

    def authenticate_credentials(self, token: bytes) -> tuple[User, ApiToken]:
        key = _decoded(token)
        tokens = selectors.api_tokens_with_key(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH])
        return self._check(key, tokens, renew=True)

    def cached_credentials(self, token: bytes) -> tuple[User, ApiToken] | None:
        """What authenticate_credentials() answers, when the query cache alone answers it: None when
        the answer needs the database (the lookup not cached, an expiry renewal due) or is a refusal,
        which Django then gives. For the WSGI front (project/caching/signed_in_front.py)."""
        try:
            key = _decoded(token)
            tokens = selectors.api_tokens_with_key_if_cached(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH])
            return None if tokens is None else self._check(key, tokens, renew=False)
        except (exceptions.AuthenticationFailed, _RenewalDue):
            return None

    def _check(self, key: str, tokens: list[ApiToken], *, renew: bool) -> tuple[User, ApiToken]:
        """Knox's check of ``key`` against ``tokens``. An expiry renewal that would write is made
        (``renew``), or else raises _RenewalDue."""
        for auth_token in tokens:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(key)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(INVALID_TOKEN) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    if renew:
                        self.renew_token(auth_token)
                    elif self._renewal_writes(auth_token):
                        raise _RenewalDue
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)

    def _renewal_writes(self, auth_token: ApiToken) -> bool:
        """Whether knox's renew_token() would save this token now: asked of knox itself, on a copy
        whose save() only notes that it was called."""
        probe = copy.copy(auth_token)
        saves: list[object] = []
        probe.save = lambda *args, **kwargs: saves.append(kwargs)
        self.renew_token(probe)
        return bool(saves)

    def validate_user(self, auth_token: ApiToken) -> tuple[User, ApiToken]:
        user = auth_token.user  # read with the token (selectors.api_tokens_with_key)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, auth_token

    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """True when the token has expired: it is skipped, so the request is refused."""
        return auth_token.expiry is not None and auth_token.expiry <= timezone.now()


class _RenewalDue(Exception):
    pass


def _decoded(token: bytes) -> str:
    try:
        return token.decode("utf-8")
    except UnicodeDecodeError as error:
        raise exceptions.AuthenticationFailed(INVALID_TOKEN) from error


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular's for knox matches knox's class
    only), under the name the schema has always used for `Authorization: Token <key>`."""

    target_class = "apps.users.authentication.TokenAuthentication"
    name = "tokenAuth"
