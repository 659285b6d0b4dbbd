"""Order pages: placing an order from a product page, "my orders" and cancelling one. The API's are in api.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError
from apps.core.pagination import keyset_page
from apps.core.templatetags.money import money
from apps.orders import selectors, services
from apps.orders.forms import OrderProductForm
from apps.orders.models import Order
from apps.products.views import render_product_page

ORDERS_PAGE_SIZE = 20


@login_required
def my_orders(request: HttpRequest) -> HttpResponse:
    orders = selectors.orders_for_user(user=request.user)
    # Keyset, as in the API: newest first, no COUNT(*) of the user's orders, a deep page as cheap as the first.
    page = keyset_page(request=request, queryset=orders, page_size=ORDERS_PAGE_SIZE)
    return render(request, "orders/my_orders.html", {"page": page})


@login_required
def order_place(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        # Where a login for this form comes back to: the product page the form is on.
        return redirect("pages:product", pk=pk)
    form = OrderProductForm(request.POST)
    if not form.is_valid():
        return render_product_page(request, product_id=pk, order_form=form)
    line = services.OrderLine(product_id=pk, quantity=form.cleaned_data["quantity"])
    try:
        order = services.order_create(user=request.user, items=[line])
    except DomainError as error:
        if error.code == "out_of_stock":
            # Under the field, with the typed quantity kept, so it can be corrected in place.
            form.add_error("quantity", error.message)
            return render_product_page(request, product_id=pk, order_form=form, status=409)
        messages.error(request, error.message)
        return redirect("pages:product", pk=pk)
    messages.success(request, f"Order {order.pk} placed: {line.quantity} for {money(order.total)}.")
    return redirect("pages:orders")


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        order = services.order_cancel(user=request.user, order_id=pk)
    except Order.DoesNotExist as error:
        raise Http404("No such order.") from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Order {order.pk} cancelled; its items are back in stock.")
    return redirect("pages:orders")
