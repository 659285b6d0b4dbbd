"""API token authentication: django-rest-knox's, kept to one query per request."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from rest_framework import exceptions

from apps.users.models import ApiToken


class TokenAuthentication(auth.TokenAuthentication):
    """``Authorization: Token <key>``, checked against the stored digests (knox).

    Two changes to knox: a key that is not UTF-8 is a 401, not a 500; and only the presented
    token's expiry is checked. Knox also loads every other token of the user on each request to
    delete the expired ones, a second query; a daily job deletes them instead (project/tasks.py).
    """

    def authenticate_credentials(self, token: bytes) -> tuple:
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from error
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """True when the token has expired: it is skipped, so the request is refused."""
        return auth_token.expiry is not None and auth_token.expiry <= timezone.now()


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular's for knox matches knox's class
    only), under the name the schema has always used for `Authorization: Token <key>`."""

    target_class = "apps.users.authentication.TokenAuthentication"
    name = "tokenAuth"
