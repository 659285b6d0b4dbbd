"""Server-rendered pages. Each app owns its views; this module only places them."""

from django.urls import converters, path, register_converter
from django.views.generic import TemplateView

from apps.core.api import ID_PATTERN
from apps.orders import views as order_views
from apps.products import views as product_views
from apps.users import views as user_views


class IdConverter(converters.IntConverter):
    """An id that fits a bigint: an absurd one is a 404, never a database error."""

    regex = ID_PATTERN


register_converter(IdConverter, "id")

urlpatterns = [
    path("", TemplateView.as_view(template_name="pages/landing.html"), name="landing"),
    path("signup/", user_views.signup, name="signup"),
    path("login/", user_views.login, name="login"),
    path("logout/", user_views.logout, name="logout"),
    path("password-reset/", user_views.password_reset, name="password-reset"),
    path("password-reset/sent/", user_views.password_reset_done, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", user_views.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/done/", user_views.password_reset_complete, name="password-reset-complete"),
    path("verify-email/resend/", user_views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", user_views.verify_email, name="verify-email"),
    path("products/", product_views.catalog, name="catalog"),
    path("products/<id:pk>/", product_views.product_detail, name="product"),
    path("products/<id:pk>/order/", order_views.order_place, name="order-place"),
    path("orders/", order_views.my_orders, name="orders"),
]
