"""API token authentication: django-rest-knox's, with its lookup served from the query cache."""

from __future__ import annotations

import binascii
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions

from apps.users import selectors
from apps.users.models import ApiToken, User


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

    def authenticate_credentials(self, token: bytes) -> tuple[User, ApiToken]:
        message = _("Invalid token.")
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(message) from error
        for auth_token in selectors.api_tokens_with_key(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(key)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(message) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

    def validate_user(self, auth_token: ApiToken) -> tuple[User, ApiToken]:
        user = auth_token.user  # read with the token (selectors.api_tokens_with_key)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, auth_token

    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """True when the token has expired: it is skipped, so the request is refused."""
        return auth_token.expiry is not None and auth_token.expiry <= timezone.now()


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular's for knox matches knox's class
    only), under the name the schema has always used for `Authorization: Token <key>`."""

    target_class = "apps.users.authentication.TokenAuthentication"
    name = "tokenAuth"
