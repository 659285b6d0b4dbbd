"""Writes to users: sign-up, profile changes, API tokens, password resets, and their emails."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.core.emails import email_send_once
from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.users import actors
from apps.users.models import LABEL_MAX_LENGTH, ApiToken, User


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


def token_for_credentials(*, email: str, password: str, label: str = "") -> tuple[ApiToken, str]:
    """Sign in: a new API token for this device, and its key, which only the client ever sees."""
    user = authenticate(username=email, password=password)
    if user is None:
        raise DomainError(code="invalid_credentials", message="Unable to log in with these credentials.")
    return api_token_create(user=user, label=label)


def api_token_create(*, user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new token (knox stores its digest, with an expiry of settings.REST_KNOX["TOKEN_TTL"]), and its key.

    A user holds at most API_TOKENS_PER_USER: beyond that, the oldest are revoked, so signing in
    never fails for a forgotten device and the table stays bounded.
    """
    with transaction.atomic():
        keep = settings.API_TOKENS_PER_USER - 1
        oldest = ApiToken.objects.filter(user=user).order_by("-created", "-id").values_list("id", flat=True)[keep:]
        ApiToken.objects.filter(id__in=list(oldest)).delete()
        return ApiToken.objects.create(user, label=label[:LABEL_MAX_LENGTH])


def api_token_revoke(*, user: User, token_id: int) -> None:
    """Raises ApiToken.DoesNotExist (a 404) for an unknown id or another user's token alike."""
    deleted, _ = ApiToken.objects.filter(user=user, id=token_id).delete()
    if not deleted:
        raise ApiToken.DoesNotExist(f"No token {token_id} of this user.")


def api_tokens_revoke_all(*, user: User) -> None:
    ApiToken.objects.filter(user=user).delete()


def api_tokens_delete_expired() -> int:
    """Expired tokens no longer authenticate; this deletes their rows (daily, project/tasks.py)."""
    deleted, _ = ApiToken.objects.filter(expiry__lte=timezone.now()).delete()
    return deleted


def _email_taken() -> DomainError:
    return DomainError(
        code="email_taken", message="A user with this email already exists.", fields={"email": ["Already taken."]}
    )


def welcome_email_send(*, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return  # deleted or deactivated since sign-up: nothing to welcome
    email_send_once(
        key=f"welcome:{user.pk}", to=user.email, subject="Welcome to Headroom", template="welcome", context={"user": user}
    )


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account with a password uses ``email``; say nothing either way.

    The caller answers the same whether or not the account exists, so the answer reveals nothing.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).only("id", "password").first()
    if user is None or not user.has_usable_password():
        return
    # One key per request: asking twice sends two links, a redelivered message still sends one.
    send_on_commit(actors.send_password_reset_email, user_id=user.pk, request_id=uuid.uuid4().hex)


def password_reset_email_send(*, user_id: int, request_id: str) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    # Made now, by the job: the link is valid PASSWORD_RESET_TIMEOUT from when it is sent,
    # and stops working as soon as the password changes or the user logs in.
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("pages:password-reset-confirm", kwargs={"uidb64": uidb64, "token": token})
    email_send_once(
        key=f"password-reset:{request_id}",
        to=user.email,
        subject="Reset your Headroom password",
        template="password_reset",
        context={
            "user": user,
            "reset_url": f"{settings.SITE_URL}{path}",
            "uid": uidb64,
            "token": token,
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with a reset link's ``uid`` and ``token``; a bad or expired link is a DomainError."""
    user = _user_for_reset_link(uid=uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise DomainError(
            code="invalid_token",
            message="This password reset link is invalid or has expired; ask for a new one.",
            fields={"token": ["Invalid or expired."]},
        )
    return password_set(user=user, password=new_password, field="new_password")


def password_set(*, user: User, password: str, field: str = "password") -> User:
    """Change the password; the user's API tokens are revoked and their other sessions end."""
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise DomainError(
            code="weak_password", message="The password is too weak.", fields={field: list(error.messages)}
        ) from error
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        api_tokens_revoke_all(user=user)
    return user


def _user_for_reset_link(*, uid: str) -> User | None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    if not 0 < user_id < 2**63:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
