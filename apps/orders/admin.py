from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.orders import services
from apps.orders.models import Order, OrderItem


class OrderItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderItem
    fields = ("product", "quantity", "unit_price")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "user", "status", "total", "created_at")
    list_select_related = ("user",)
    list_filter = ("status", "created_at")
    search_fields = ("id__exact", "user__email")
    date_hierarchy = "created_at"
    inlines = (OrderItemInline,)
    actions = ("cancel_orders",)

    @admin.action(description="Cancel the selected pending orders (their stock goes back)")
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        # Through the service, one order at a time: each puts its stock back under its own lock.
        cancelled = 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                services.order_cancel_by_staff(order_id=order_id)
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                cancelled += 1
        if cancelled:
            self.message_user(request, f"{cancelled} order(s) cancelled.", messages.SUCCESS)


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "order", "product", "quantity", "unit_price")
    list_select_related = ("order", "product")
    search_fields = ("order__id__exact", "product__name")
