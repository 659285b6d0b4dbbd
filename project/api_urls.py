"""Version 1 of the API. A breaking change gets a new module and prefix, never an edit here."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.orders.api import OrderViewSet
from apps.products.api import CategoryViewSet, ProductViewSet
from apps.users.api import MeApi, SignupApi, TokenApi

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [
    path("auth/signup/", SignupApi.as_view(), name="signup"),
    path("auth/token/", TokenApi.as_view(), name="token"),
    path("users/me/", MeApi.as_view(), name="me"),
    *router.urls,
]
