from django.contrib import admin

from apps.core.admin import ReadOnlyAdminMixin
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


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "order", "product", "quantity", "unit_price")
    list_select_related = ("order", "product")
    search_fields = ("order__id__exact", "product__name")
