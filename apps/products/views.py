"""Catalog pages. The API's equivalents are in api.py."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.pages import reads_query_params
from apps.core.pagination import keyset_page
from apps.products import selectors
from apps.products.filters import ProductFilter
from apps.products.models import Product

CATALOG_PAGE_SIZE = 20


# What the sort menu offers: values of the API's ?ordering=, with their labels.
CATALOG_SORTS = (
    ("", "Newest"),
    ("price", "Price, low to high"),
    ("-price", "Price, high to low"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
)
# The controls that narrow the list; the category links are a control of their own.
CATALOG_FILTERS = ("search", "min_price", "max_price", "in_stock", "ordering")


@reads_query_params(filterset_class=ProductFilter, params=("cursor",))
def catalog(request: HttpRequest) -> HttpResponse:
    # The API's filter, so ?category=<slug> (and the rest) means the same on both; bad values are ignored.
    products = ProductFilter(request.GET, queryset=selectors.products_for_catalog()).qs
    # Keyset, as in the API: a page-number count would read every active product on each request.
    page = keyset_page(request=request, queryset=products, page_size=CATALOG_PAGE_SIZE)
    return render(
        request,
        "products/catalog.html",
        {
            "page": page,
            "categories": selectors.categories_for_catalog(),
            "sorts": CATALOG_SORTS,
            "filtered": any(request.GET.get(name) for name in (*CATALOG_FILTERS, "category")),
        },
    )


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_product_page(request, product_id=pk)


def render_product_page(
    request: HttpRequest, *, product_id: int, order_form: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    """The product page. The orders app posts its form here from outside and, on bad input, renders
    this page again with that form bound, so the error shows under the field."""
    try:
        product = selectors.product_detail(product_id=product_id)
    except Product.DoesNotExist as error:
        raise Http404("No such product for sale.") from error
    return render(
        request, "products/product_detail.html", {"product": product, "order_form": order_form}, status=status
    )
