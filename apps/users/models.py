from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

LABEL_MAX_LENGTH = 200
# How much of a token its owner is shown to tell tokens apart: 8 of 64 hex characters, not enough to guess the rest.
TOKEN_PREFIX_SHOWN = 8


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Email is the login and is unique whatever its letter case.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    # Set when the owner of the address followed the link emailed at sign-up (services.email_verify).
    email_verified_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def name_for_mail(self) -> str:
        """The name emails may greet with: none until the address is verified, since anyone can
        sign up with someone else's address and write what they like as the name."""
        return self.name if self.email_verified else ""


class ApiToken(AbstractAuthToken):
    """An API token of one sign-in (one device): django-rest-knox's token with a public id and a label.

    The secret is never stored: ``digest`` is its SHA-512, ``token_key`` its first 15 characters
    (knox's lookup index). ``id`` names the token to its owner, so the digest never leaves the server.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    # Who signed in with it, for the owner's list: the client's User-Agent, cut to fit.
    label = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user", "created"], name="users_apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.token_key[:TOKEN_PREFIX_SHOWN]}… ({self.user_id})"
