from rest_framework import serializers

from apps.orders.models import Order, OrderItem

MAX_LINES_PER_ORDER = 50
MAX_QUANTITY_PER_LINE = 1_000


class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE)


class OrderCreateInputSerializer(serializers.Serializer):
    items = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES_PER_ORDER)


class OrderItemOutputSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderItem
        fields = ["product", "product_name", "quantity", "unit_price"]


class OrderOutputSerializer(serializers.ModelSerializer):
    items = OrderItemOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "status", "total", "created_at", "items"]
