import factory
from django.utils import timezone

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
