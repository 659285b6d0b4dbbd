"""Writes to users: sign-up, email verification, profile changes, API tokens, password resets,
and their emails."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.core.emails import email_send_once
from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.users.limits import locked_out_error, mail_to_address_limit
from apps.users.models import LABEL_MAX_LENGTH, ApiToken, User

EMAIL_VERIFICATION_SALT = "apps.users.email-verification"


def user_create(
    *,
    email: str,
    password: str,
    name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
) -> User:
    """Sign a user up. A taken email, in any letter case, or a weak password is a DomainError.

    ``email_verified``: the address is known good (an account staff or a seed makes), no link needed.
    """
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
                email,
                password,
                name=name,
                is_staff=is_staff or is_superuser,
                is_superuser=is_superuser,
                email_verified_at=timezone.now() if email_verified else None,
            )
    except IntegrityError as error:  # a concurrent sign-up won the race for the same email
        raise _email_taken() from error
    if email_verified:
        send_on_commit("send_welcome_email", user_id=user.pk)
        return user
    # The address may be someone else's: it gets a link with no text of the sign-up's in it, and
    # the welcome email (which greets by name) only once the link is followed.
    send_on_commit("send_verification_email", email=user.email, request_id=uuid.uuid4().hex)
    return user


def user_update(*, user: User, name: str | None = None) -> User:
    if name is not None:
        user.name = name
        user.save(update_fields=["name"])
    return user


def user_email_change(*, user: User, email: str) -> User:
    """Move the account to a new address, unverified until its owner follows the link emailed there.

    A taken email, in any letter case, is a DomainError. Links sent to the old address stop
    working: a link names the address it was sent to (verification_email_send).
    """
    email = User.objects.normalize_email(email).lower()
    if email == user.email:
        return user
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise _email_taken()
    try:
        with transaction.atomic():
            user.email = email
            user.email_verified_at = None
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError as error:
        raise _email_taken() from error
    send_on_commit("send_verification_email", email=user.email, request_id=uuid.uuid4().hex)
    return user


def token_for_credentials(*, request: HttpRequest, email: str, password: str, label: str = "") -> tuple[ApiToken, str]:
    """Sign in: a new API token for this device, and its key, which only the client ever sees."""
    # With the request, axes counts the failure and refuses a locked-out account (settings.AXES_*).
    user = authenticate(request, username=email, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise locked_out_error()
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
    user = User.objects.filter(pk=user_id, is_active=True, email_verified_at__isnull=False).first()
    if user is None:
        return  # deleted or deactivated since, or never verified: nothing to welcome
    email_send_once(
        key=f"welcome:{user.pk}",
        to=user.email,
        subject="Welcome to Headroom",
        template="welcome",
        context={"user": user},
    )


def email_verification_resend(*, email: str) -> None:
    """Send a new verification link if an unverified account uses ``email``; a 429 DomainError past
    MAIL_TO_ADDRESS_RATE for the address.

    The same work whether or not the account exists (the job looks it up), so neither the
    answer nor its timing reveals it.
    """
    email = email.strip().lower()
    mail_to_address_limit(email=email, purpose="verify-email")
    send_on_commit("send_verification_email", email=email, request_id=uuid.uuid4().hex)


def verification_email_send(*, email: str, request_id: str) -> None:
    user = User.objects.filter(email__iexact=email, is_active=True, email_verified_at__isnull=True).first()
    if user is None:
        return  # no such account, or verified already
    token = signing.dumps([user.pk, user.email], salt=EMAIL_VERIFICATION_SALT)
    path = reverse("pages:verify-email", kwargs={"token": token})
    # Nothing of what the sign-up wrote (the name) goes to an address not verified yet.
    email_send_once(
        key=f"verify-email:{request_id}",
        to=user.email,
        subject="Verify your Headroom email",
        template="verify_email",
        context={
            "email": user.email,
            "verify_url": f"{settings.SITE_URL}{path}",
            "token": token,
            "valid_hours": settings.EMAIL_VERIFICATION_TIMEOUT // 3600,
        },
    )


def email_verify(*, token: str) -> User:
    """Mark the address of a verification link verified, and send the welcome email. A bad, expired
    or already used link is a DomainError."""
    invalid = DomainError(
        code="invalid_token",
        message="This verification link is invalid, expired or used already; ask for a new one.",
        fields={"token": ["Invalid or expired."]},
    )
    try:
        user_id, email = signing.loads(token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT)
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise invalid from error
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=user_id, email=email, is_active=True, email_verified_at__isnull=True)
            .first()
        )
        if user is None:
            raise invalid
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    send_on_commit("send_welcome_email", user_id=user.pk)
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link if an active account with a password uses ``email``; say nothing either
    way. A 429 DomainError past MAIL_TO_ADDRESS_RATE for the address.

    The job is enqueued whether or not the account exists (the job looks it up), so neither the
    answer nor the work, nor its timing, reveals it.
    """
    email = email.strip().lower()
    mail_to_address_limit(email=email, purpose="password-reset")
    # One key per request: asking twice sends two links, a redelivered message still sends one.
    send_on_commit("send_password_reset_email", email=email, request_id=uuid.uuid4().hex)


def password_reset_email_send(*, email: str, request_id: str) -> None:
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
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
