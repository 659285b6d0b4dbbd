"""Reading a product CSV: its header and rows, each row checked into a ProductRow or its errors.

Pure parsing, no writes (services.product_import_run writes). Any input, binary junk included,
becomes errors here and never an exception.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

REQUIRED_COLUMNS = ("slug", "name", "category", "price")
OPTIONAL_COLUMNS = ("stock", "description", "is_active")
# What each column holds, as the admin's upload page and docs/jobs.md show it.
COLUMN_DOCS = {
    "slug": "The product's key: letters, digits, - and _ (at most 200). An existing slug is updated, a new one created.",
    "name": "The product's name (at most 200 characters).",
    "category": "The slug of an existing category.",
    "price": "A number from 0 to 99999999.99, at most 2 decimal places (12.50).",
    "stock": "Units in stock, a whole number. Empty: a new product gets 0, an existing one keeps its stock.",
    "description": "Any text. Empty: left as it is.",
    "is_active": "true or false (also 1/0, yes/no): whether it is for sale. Empty: left as it is (new: true).",
}
MAX_PRICE = Decimal("99999999.99")  # Product.price: 10 digits, 2 decimal places
MAX_STOCK = 2_147_483_647
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_EXTRA = "\x00extra"
HEADER_READ_BYTES = 64 * 1024


@dataclass(frozen=True)
class ProductRow:
    """One product to create or update by slug; ``None`` leaves an existing product's value as it is."""

    slug: str
    name: str
    category_id: int
    price: Decimal
    stock: int | None = None
    description: str | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class CsvRow:
    """A data row: its line in the file, and its ProductRow or the errors by column."""

    line: int
    product: ProductRow | None
    errors: dict[str, list[str]]


def header_errors(head: bytes) -> list[str]:
    """What is wrong with a file whose first HEADER_READ_BYTES bytes are ``head``, or [].

    The header line must be UTF-8 and name the columns; a NUL byte anywhere in ``head`` means a
    binary file. Anything wrong further down is a row error, reported by the job."""
    if b"\x00" in head:
        return ["This is not a text file."]
    first_line = head.split(b"\n", 1)[0]
    if len(first_line) == len(head) and len(head) >= HEADER_READ_BYTES:
        return ["The first line is too long for a header."]
    try:
        first_line = first_line.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return ["The file is not UTF-8 text."]
    if not first_line:
        return ["The file is empty: the first line must name the columns."]
    try:
        columns = [column.strip().lower() for column in next(csv.reader([first_line]))]
    except csv.Error:
        return ["The first line is not a CSV header."]
    problems = []
    if missing := [column for column in REQUIRED_COLUMNS if column not in columns]:
        problems.append(f"Missing columns: {', '.join(missing)}.")
    if unknown := [column for column in columns if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]:
        problems.append(
            f"Unknown columns: {', '.join(unknown)}. Allowed: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    if len(set(columns)) != len(columns):
        problems.append("A column is named twice.")
    return problems


def read_rows(binary: IO[bytes], *, categories: dict[str, int], skip: int = 0) -> Iterator[CsvRow]:
    """Every data row after the first ``skip``, checked; ``categories`` maps category slug to id."""
    for index, (line, record) in enumerate(_records(binary)):
        if index < skip:
            continue
        if isinstance(record, str):
            yield CsvRow(line=line, product=None, errors={"row": [record]})
        else:
            yield _check(line, record, categories)


def _records(binary: IO[bytes]) -> Iterator[tuple[int, dict[str, str | None] | str]]:
    """(line, record) for each data row; a record the csv module cannot read is a message instead."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
    try:
        reader = csv.DictReader(text, restkey=_EXTRA)
        try:
            reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        except csv.Error:
            return
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield reader.line_num, f"Unreadable CSV: {error}."
                continue
            yield reader.line_num, record
    finally:
        text.detach()  # the caller's file stays open: closing it is the caller's business


def _check(line: int, record: dict[str, str | None], categories: dict[str, int]) -> CsvRow:
    errors: dict[str, list[str]] = {}
    if _EXTRA in record:
        errors["row"] = ["More values than columns."]
    values = {key: (value or "").strip() for key, value in record.items() if key != _EXTRA}
    if any(value is None for value in record.values()):
        errors["row"] = ["Fewer values than columns."]
    if any("\ufffd" in value for value in values.values()):
        errors["row"] = ["Contains bytes that are not UTF-8 text."]

    slug = values.get("slug", "")
    try:
        validate_slug(slug)
        if len(slug) > 200:
            raise ValidationError("At most 200 characters.")
    except ValidationError as error:
        errors["slug"] = list(error.messages)
    name = values.get("name", "")
    if not name or len(name) > 200:
        errors["name"] = ["Required, at most 200 characters."]
    category_id = categories.get(values.get("category", ""))
    if category_id is None:
        errors["category"] = [f"Unknown category {values.get('category', '')!r}."]
    price = _decimal(values.get("price", ""), errors)
    stock = _stock(values.get("stock", ""), errors)
    is_active = _boolean(values.get("is_active", ""), errors)
    description = values.get("description") or None

    if errors:
        return CsvRow(line=line, product=None, errors=errors)
    product = ProductRow(
        slug=slug,
        name=name,
        category_id=category_id,
        price=price,
        stock=stock,
        description=description,
        is_active=is_active,
    )
    return CsvRow(line=line, product=product, errors={})


def _decimal(value: str, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        price = Decimal(value)
    except InvalidOperation:
        errors["price"] = [f"Not a number: {value[:40]!r}."]
        return None
    if not price.is_finite() or price < 0 or price > MAX_PRICE or price.as_tuple().exponent < -2:
        errors["price"] = [f"Must be between 0 and {MAX_PRICE} with at most 2 decimal places."]
        return None
    return price


def _stock(value: str, errors: dict[str, list[str]]) -> int | None:
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_STOCK:
        errors["stock"] = [f"Must be a whole number from 0 to {MAX_STOCK}."]
        return None
    return int(value)


def _boolean(value: str, errors: dict[str, list[str]]) -> bool | None:
    if value == "":
        return None
    if value.lower() not in BOOLEANS:
        errors["is_active"] = ["Must be true or false."]
        return None
    return BOOLEANS[value.lower()]
