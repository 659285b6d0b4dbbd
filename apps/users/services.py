"""Writes to users: sign-up, profile changes, API tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from rest_framework.authtoken.models import Token

from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.users import actors
from apps.users.models import User


def user_create(
    *, email: str, password: str, name: str = "", is_staff: bool = False, is_superuser: bool = False
) -> User:
    """Sign a user up. A taken email, in any letter case, or a weak password is a DomainError."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise _email_taken()
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise DomainError(
            code="weak_password", message="The password is too weak.", fields={"password": list(error.messages)}
        ) from error
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, name=name, is_staff=is_staff or is_superuser, is_superuser=is_superuser
            )
    except IntegrityError as error:  # a concurrent sign-up won the race for the same email
        raise _email_taken() from error
    send_on_commit(actors.send_welcome_email, user_id=user.pk)
    return user


def user_update(*, user: User, name: str | None = None) -> User:
    if name is not None:
        user.name = name
        user.save(update_fields=["name"])
    return user


def token_for_credentials(*, email: str, password: str) -> Token:
    user = authenticate(username=email, password=password)
    if user is None:
        raise DomainError(code="invalid_credentials", message="Unable to log in with these credentials.")
    token, _ = Token.objects.get_or_create(user=user)
    return token


def _email_taken() -> DomainError:
    return DomainError(
        code="email_taken", message="A user with this email already exists.", fields={"email": ["Already taken."]}
    )


def welcome_email_send(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return  # deleted or deactivated since sign-up: nothing to welcome
    context = {"user": user}
    send_mail(
        subject="Welcome to Headroom",
        message=render_to_string("emails/welcome.txt", context),
        html_message=render_to_string("emails/welcome.html", context),
        from_email=None,
        recipient_list=[user.email],
    )
