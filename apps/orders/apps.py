from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    verbose_name = "Orders"
    # The API schema's name for this choice set: other apps' "status" fields have other choices.
    api_enum_names = {"OrderStatusEnum": "apps.orders.models.Order.Status"}
