"""{{ amount|money }}: a price with the site's currency (settings.CURRENCY), as the pages show it."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f} {settings.CURRENCY}"
