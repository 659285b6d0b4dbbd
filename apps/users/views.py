"""Pages for signing up, in and out. The API's equivalents are in api.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.users import services
from apps.users.forms import SignupForm

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
