"""Pages for signing up, in and out, verifying an email, and the account page. The API's equivalents are in api.py."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST
from django_ratelimit.exceptions import Ratelimited

from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.users import selectors, services
from apps.users.forms import (
    AccountEmailForm,
    AccountNameForm,
    EmailVerificationResendForm,
    PasswordResetRequestForm,
    SignupForm,
)
from apps.users.limits import limit_posts_per_ip
from apps.users.models import ApiToken, User

# The account page lists this many devices, newest first (the API's list pages through them all).
ACCOUNT_TOKENS_SHOWN = 50


class LoginView(SuccessMessageMixin, auth_views.LoginView):
    template_name = "users/login.html"
    redirect_authenticated_user = True
    success_message = "You are logged in as %(username)s."


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After the logout: the message goes with the new, empty session.
        messages.info(request, "You are logged out.")
        return response


login = limit_posts_per_ip(LoginView.as_view())
logout = LogoutView.as_view()


def too_many_requests(request: HttpRequest, exception: Ratelimited | DomainError) -> HttpResponse:
    """429, for a page over a rate limit (RATELIMIT_VIEW) or a service's 429 DomainError."""
    message = exception.message if isinstance(exception, DomainError) else "Too many requests from your address."
    response = render(request, "users/too_many_requests.html", {"message": f"{message} Try again later."}, status=429)
    if isinstance(exception, DomainError) and exception.retry_after is not None:
        response["Retry-After"] = str(exception.retry_after)
    return response


@limit_posts_per_ip
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form=form, error=error)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.info(request, f"We sent a link to {user.email}: follow it to verify your email.")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "users/signup.html", {"form": form})


@limit_posts_per_ip
def password_reset(request: HttpRequest) -> HttpResponse:
    """Asks for the email; the link is sent by a job, and the next page is the same whether or not it exists."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.password_reset_request(email=form.cleaned_data["email"])
        except DomainError as error:
            return too_many_requests(request, error)
        return redirect("pages:password-reset-done")
    return render(request, "users/password_reset.html", {"form": form})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token)
    except DomainError as error:
        return render(request, "users/verify_email.html", {"message": error.message}, status=400)
    return render(request, "users/verify_email.html", {"verified": user})


@limit_posts_per_ip
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    form = EmailVerificationResendForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.email_verification_resend(email=form.cleaned_data["email"])
        except DomainError as error:
            return too_many_requests(request, error)
        return render(request, "users/verify_email_resend.html", {"sent": True})
    return render(request, "users/verify_email_resend.html", {"form": form})


password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="users/password_reset_done.html")
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="users/password_reset_complete.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's link check and form (the token leaves the URL for the session first); the password
    is set by services.password_set, which also revokes the user's API tokens."""

    template_name = "users/password_reset_confirm.html"
    success_url = reverse_lazy("pages:password-reset-complete")

    def form_valid(self, form):
        services.password_set(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return redirect(self.get_success_url())


password_reset_confirm = PasswordResetConfirmView.as_view()


def _signed_in(request: HttpRequest) -> User:
    # Behind login_required: never the AnonymousUser.
    return cast(User, request.user)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The account page: name, email and the signed-in devices (API tokens); each form posts to its own view."""
    return _render_account(request)


def _render_account(
    request: HttpRequest,
    *,
    name_form: AccountNameForm | None = None,
    email_form: AccountEmailForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _signed_in(request)
    return render(
        request,
        "users/account.html",
        {
            "name_form": name_form or AccountNameForm(initial={"name": user.name}),
            "email_form": email_form or AccountEmailForm(initial={"email": user.email}),
            "tokens": selectors.api_tokens_of(user=user)[:ACCOUNT_TOKENS_SHOWN],
        },
        status=status,
    )


@login_required
@require_POST
def account_name(request: HttpRequest) -> HttpResponse:
    form = AccountNameForm(request.POST)
    if not form.is_valid():
        return _render_account(request, name_form=form, status=400)
    services.user_update(user=_signed_in(request), name=form.cleaned_data["name"])
    messages.success(request, "Your name is saved.")
    return redirect("pages:account")


@login_required
@require_POST
def account_email(request: HttpRequest) -> HttpResponse:
    form = AccountEmailForm(request.POST)
    if form.is_valid():
        try:
            user = services.user_email_change(user=_signed_in(request), email=form.cleaned_data["email"])
        except DomainError as error:
            form_add_domain_error(form=form, error=error)
        else:
            if not user.email_verified:
                messages.info(request, f"We sent a link to {user.email}: follow it to verify your new email.")
            return redirect("pages:account")
    return _render_account(request, email_form=form, status=400)


@login_required
@require_POST
def account_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=_signed_in(request), token_id=pk)
    except ApiToken.DoesNotExist as error:
        raise Http404("No such device.") from error
    messages.success(request, "That device is signed out.")
    return redirect("pages:account")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form (the old password, the new one twice); the password is set by
    services.password_set, which also revokes the user's API tokens. This session stays signed in."""

    template_name = "users/password_change.html"
    success_url = reverse_lazy("pages:account")

    def form_valid(self, form):
        services.password_set(user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, "Your password is changed; your devices must sign in again.")
        return redirect(self.get_success_url())


password_change = PasswordChangeView.as_view()
