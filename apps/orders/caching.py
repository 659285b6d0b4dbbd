"""What of orders is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# Manual only (.cache()): a user's orders pages (selectors.orders_for_user), which every worker
# reads from Redis. An order's save (placed, cancelled by its owner or by staff) drops its user's
# pages on commit; an order's items are written once, with the order, and never change.
QUERY_CACHE = {
    "orders.order": {"ops": ()},
    "orders.orderitem": {"ops": ()},
}
