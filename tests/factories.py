# Every app's factories in one import, for tests that mix apps; each lives in tests/<app>/factories.py.
from tests.orders.factories import OrderFactory, OrderItemFactory
from tests.products.factories import CategoryFactory, ProductFactory
from tests.users.factories import DEFAULT_PASSWORD, StaffFactory, TokenFactory, UserFactory

__all__ = [
    "DEFAULT_PASSWORD",
    "CategoryFactory",
    "OrderFactory",
    "OrderItemFactory",
    "ProductFactory",
    "StaffFactory",
    "TokenFactory",
    "UserFactory",
]
