from rest_framework import serializers

from apps.products.models import Category, Product


class CategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class CategoryInputSerializer(serializers.ModelSerializer):
    """Validation only (lengths, slug format and uniqueness); the service writes."""

    class Meta:
        model = Category
        fields = ["name", "slug"]


class ProductListOutputSerializer(serializers.ModelSerializer):
    category = CategoryOutputSerializer()

    class Meta:
        model = Product
        fields = ["id", "name", "slug", "price", "stock", "is_active", "category", "created_at"]


class ProductDetailOutputSerializer(serializers.ModelSerializer):
    category = CategoryOutputSerializer()

    class Meta:
        model = Product
        fields = [
            "id", "name", "slug", "description", "price", "stock", "is_active", "category", "created_at", "updated_at",
        ]


class ProductInputSerializer(serializers.ModelSerializer):
    """Validation only; the service writes. ``category`` is a category id."""

    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)

    class Meta:
        model = Product
        fields = ["category", "name", "slug", "description", "price", "stock", "is_active"]
