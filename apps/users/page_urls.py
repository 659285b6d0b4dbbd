"""Account pages, included at the site's root by project/page_urls.py (URL names in namespace "pages")."""

from django.urls import path

from apps.users import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_done, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/done/", views.password_reset_complete, name="password-reset-complete"),
    path("account/", views.account, name="account"),
    path("account/name/", views.account_name, name="account-name"),
    path("account/email/", views.account_email, name="account-email"),
    path("account/password/", views.password_change, name="password-change"),
    path("account/devices/<id:pk>/revoke/", views.account_token_revoke, name="account-token-revoke"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
]
