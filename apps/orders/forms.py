from django import forms

from apps.orders.serializers import MAX_QUANTITY_PER_LINE


class OrderProductForm(forms.Form):
    """How many of one product to order, from its page."""

    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, initial=1)
