"""Pages for signing up, in and out. The API's equivalents are in api.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.users import services
from apps.users.forms import PasswordResetRequestForm, SignupForm

login = auth_views.LoginView.as_view(template_name="users/login.html", redirect_authenticated_user=True)
logout = auth_views.LogoutView.as_view()


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form=form, error=error)
        else:
            auth_login(request, user)
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "users/signup.html", {"form": form})


def password_reset(request: HttpRequest) -> HttpResponse:
    """Asks for the email; the link is sent by a job, and the next page is the same whether or not it exists."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("pages:password-reset-done")
    return render(request, "users/password_reset.html", {"form": form})


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
