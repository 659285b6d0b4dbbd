from rest_framework import serializers

from apps.products.models import MAX_STOCK, Category, Product, ProductImport, StockAdjustment


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
            "id",
            "name",
            "slug",
            "description",
            "price",
            "stock",
            "is_active",
            "category",
            "created_at",
            "updated_at",
        ]


class ProductInputSerializer(serializers.ModelSerializer):
    """Validation only; the service writes. ``category`` is a category id. In a PATCH, a ``stock``
    different from the current one needs If-Match (see ProductApi.patch)."""

    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, required=False)

    class Meta:
        model = Product
        fields = ["category", "name", "slug", "description", "price", "stock", "is_active"]


class StockAdjustmentInputSerializer(serializers.Serializer):
    """Units to add (positive) or remove (negative), and why."""

    delta = serializers.IntegerField(min_value=-MAX_STOCK, max_value=MAX_STOCK)
    reason = serializers.CharField(max_length=StockAdjustment._meta.get_field("reason").max_length)


class StockAdjustmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockAdjustment
        fields = ["id", "product", "delta", "reason", "stock_after", "created_at"]


class ProductImportInputSerializer(serializers.Serializer):
    """A CSV with the columns slug, name, category (a slug), price and, optionally, stock,
    description, is_active. Rows are matched to products by slug: new slugs are created."""

    file = serializers.FileField()


class ProductImportOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImport
        fields = [
            "id",
            "status",
            "progress",
            "original_name",
            "rows_processed",
            "created",
            "updated",
            "error_count",
            "errors",
            "created_at",
            "finished_at",
        ]
