"""System checks of users, run by `manage.py check --deploy` and by /readyz in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connection

from apps.users import selectors
from apps.users.models import User


@register(Tags.security, deploy=True)
def demo_passwords_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """An Error while an active demo account (apps/users/demo.py) has its published password."""
    if not settings.IS_PRODUCTION:
        return []
    try:
        if User._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: no account exists
        emails = selectors.demo_accounts_with_published_password()
    except DatabaseError as error:
        return [
            Warning(
                f"Could not check the demo accounts' passwords: {type(error).__name__}.",
                hint="Run `manage.py check --deploy` where it reaches the production database.",
                id="users.W001",
            )
        ]
    return [
        Error(
            f"The account {email} signs in with the password published for the demo.",
            hint="Deactivate it or set a new password (manage.py changepassword), then check again.",
            id="users.E001",
        )
        for email in emails
    ]
