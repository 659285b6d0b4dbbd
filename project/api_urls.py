"""Version 1 of the API. A breaking change gets a new module and prefix, never an edit here."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from apps.core.api import ID_PATTERN
from apps.orders.api import OrderViewSet
from apps.products.api import CategoryViewSet, ProductImportApi, ProductImportsApi, ProductViewSet
from apps.reports import api as reports
from apps.users.api import (
    ApiTokenApi,
    ApiTokensApi,
    EmailVerificationResendApi,
    EmailVerifyApi,
    LogoutAllApi,
    LogoutApi,
    MeApi,
    PasswordResetApi,
    PasswordResetConfirmApi,
    SignupApi,
    TokenApi,
)

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("auth/signup/", SignupApi.as_view(), name="signup"),
    path("auth/token/", TokenApi.as_view(), name="token"),
    path("auth/logout/", LogoutApi.as_view(), name="logout"),
    path("auth/logout-all/", LogoutAllApi.as_view(), name="logout-all"),
    path("auth/tokens/", ApiTokensApi.as_view(), name="tokens"),
    re_path(rf"^auth/tokens/(?P<pk>{ID_PATTERN})/$", ApiTokenApi.as_view(), name="token-revoke"),
    path("auth/password-reset/", PasswordResetApi.as_view(), name="password-reset"),
    path("auth/password-reset/confirm/", PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
    path("auth/verify-email/", EmailVerifyApi.as_view(), name="verify-email"),
    path("auth/verify-email/resend/", EmailVerificationResendApi.as_view(), name="verify-email-resend"),
    path("users/me/", MeApi.as_view(), name="me"),
    # Jobs behind the API: each POST answers 202 and a job does the work (docs/jobs.md).
    path("reports/", reports.SalesReportsApi.as_view(), name="reports"),
    re_path(rf"^reports/(?P<pk>{ID_PATTERN})/$", reports.SalesReportApi.as_view(), name="report"),
    re_path(rf"^reports/(?P<pk>{ID_PATTERN})/download/$", reports.SalesReportDownloadApi.as_view(), name="report-download"),
    path("orders/exports/", reports.OrdersExportsApi.as_view(), name="orders-exports"),
    re_path(rf"^orders/exports/(?P<pk>{ID_PATTERN})/$", reports.OrdersExportApi.as_view(), name="orders-export"),
    re_path(
        rf"^orders/exports/(?P<pk>{ID_PATTERN})/download/$",
        reports.OrdersExportDownloadApi.as_view(),
        name="orders-export-download",
    ),
    path("products/imports/", ProductImportsApi.as_view(), name="product-imports"),
    re_path(rf"^products/imports/(?P<pk>{ID_PATTERN})/$", ProductImportApi.as_view(), name="product-import"),
    *router.urls,
]
