import django_filters

from apps.products.models import Product


class StableOrderingFilter(django_filters.OrderingFilter):
    """Adds the id as a tie-breaker: rows with equal prices or names keep their place across pages."""

    def filter(self, queryset, value):
        queryset = super().filter(queryset, value)
        if value:
            queryset = queryset.order_by(*queryset.query.order_by, "-id")
        return queryset


class ProductFilter(django_filters.FilterSet):
    """The catalog's query parameters; anything else in the query string is ignored."""

    category = django_filters.CharFilter(field_name="category__slug")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)
    ordering = StableOrderingFilter(fields=("price", "created_at", "name"))

    class Meta:
        model = Product
        fields = ["category", "min_price", "max_price", "in_stock", "search"]

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)
