from decimal import Decimal

import factory
from django.utils import timezone

from apps.orders.models import Order, OrderItem
from apps.products.models import Category, Product
from apps.users.models import ApiToken, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password(DEFAULT_PASSWORD)
    # Verified, as accounts from before verification are: UserFactory(email_verified_at=None) is one that is not.
    email_verified_at = factory.LazyFunction(timezone.now)


class StaffFactory(UserFactory):
    is_staff = True


class TokenFactory(factory.django.DjangoModelFactory):
    """An API token; ``.key`` is the secret a client sends (only its digest is stored)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[ApiToken], *args, **kwargs) -> ApiToken:
        token, key = model_class.objects.create(*args, **kwargs)
        token.key = key
        return token


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A fine product."
    price = Decimal("10.00")
    stock = 10
    is_active = True


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    total = Decimal("10.00")


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("10.00")
