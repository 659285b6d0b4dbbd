"""What of orders is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# No queryset of either is cached (ops). The profiles are what makes cacheops invalidate on their
# writes: a user's orders pages (GET /api/v1/orders/, apps/orders/api.py) are cached whole with
# apps/core/query_cache.py, and an order's save (placed, cancelled by its owner or by staff) drops
# its user's pages on commit. An order's items are written once, with the order, and never change.
QUERY_CACHE = {
    "orders.order": {"ops": ()},
    "orders.orderitem": {"ops": ()},
}
