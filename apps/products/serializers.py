from rest_framework import serializers

from apps.products.models import Category, Product, ProductImport


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


class ProductImportInputSerializer(serializers.Serializer):
    """A CSV with the columns slug, name, category (a slug), price and, optionally, stock,
    description, is_active. Rows are matched to products by slug: new slugs are created."""

    file = serializers.FileField()


class ProductImportOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImport
        fields = [
            "id", "status", "progress", "original_name", "rows_processed", "created", "updated",
            "error_count", "errors", "created_at", "finished_at",
        ]
