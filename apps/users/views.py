"""Pages for signing up, in and out, and verifying an email. The API's equivalents are in api.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django_ratelimit.exceptions import Ratelimited

from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.users import services
from apps.users.forms import EmailVerificationResendForm, PasswordResetRequestForm, SignupForm
from apps.users.limits import limit_posts_per_ip


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
