"""Accounts' API routes, included under /api/v1/ by project/api_urls.py (URL names in namespace "v1")."""

from django.urls import path, re_path

from apps.core.api import ID_PATTERN
from apps.users import api

urlpatterns = [
    path("auth/signup/", api.SignupApi.as_view(), name="signup"),
    path("auth/token/", api.TokenApi.as_view(), name="token"),
    path("auth/logout/", api.LogoutApi.as_view(), name="logout"),
    path("auth/logout-all/", api.LogoutAllApi.as_view(), name="logout-all"),
    path("auth/tokens/", api.ApiTokensApi.as_view(), name="tokens"),
    re_path(rf"^auth/tokens/(?P<pk>{ID_PATTERN})/$", api.ApiTokenApi.as_view(), name="token-revoke"),
    path("auth/password-reset/", api.PasswordResetApi.as_view(), name="password-reset"),
    path("auth/password-reset/confirm/", api.PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
    path("auth/verify-email/", api.EmailVerifyApi.as_view(), name="verify-email"),
    path("auth/verify-email/resend/", api.EmailVerificationResendApi.as_view(), name="verify-email-resend"),
    path("users/me/", api.MeApi.as_view(), name="me"),
]
