"""What of the catalog is cached, and which writes make it stale. Read by project/caching/declarations.py,
which explains the four names; docs/caching.md explains the caches."""

# The query cache (cacheops): every read of categories and products.
QUERY_CACHE = {
    "products.category": {"ops": "all"},
    "products.product": {"ops": "all"},
}

# The response cache: anonymous reads of the catalog (API and page), by URL name -> the tags each response depends on.
# A product's detail shows its category; a list page shows any product, and their categories.
RESPONSE_CACHE = {
    "v1:product-list": lambda url: ("products", "categories"),
    "v1:product-detail": lambda url: (f"product:{int(url['pk'])}", "products:all", "categories"),
    "v1:category-list": lambda url: ("categories",),
    "pages:catalog": lambda url: ("products", "categories"),
}

# The tags a write replaces. A write to one product leaves the other products' details cached.
INVALIDATES = {
    "products.product": lambda row: (
        ("products", f"product:{row['id']}") if row and "id" in row else ("products", "products:all")
    ),
    "products.category": lambda row: ("categories",),
}

# cacheops invalidates a query by the conditions of its WHERE clause only: a product query that
# select_related() its category is not invalidated when that category changes. So a category write
# drops the products' query cache whole (categories are rarely written).
EMBEDDED_IN = {
    "products.category": ("products.product",),
}
