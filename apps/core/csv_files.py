"""The one way the app writes a CSV file: people open these in a spreadsheet, which runs a cell
that starts like a formula (OWASP "CSV Injection", CWE-1236).

Every text cell is quoted, and one that starts with = + - @ TAB or CR gets a leading single
quote, so the spreadsheet shows it as text. Numbers (int, Decimal, float) are written as they
are: a -5 in a numeric column is data, and stays a number. So pass numbers as numbers, never
pre-formatted as text. tests/core/test_csv_files.py keeps every other module off csv.writer and
off COPY.

A query's rows are written by ``csv_write_query``: on PostgreSQL the database formats the CSV
itself (``COPY (SELECT ...) TO STDOUT``, the same rules applied in SQL), and Python only moves
its bytes; elsewhere (SQLite, stage 1) the same query is streamed through CsvWriter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import Ref

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class CsvWriter:
    def __init__(self, file: IO[str]) -> None:
        # Quoted text: a separator inside a cell can never start a new cell that holds a formula.
        self._writer = csv.writer(file, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


def spreadsheet_safe(value: object) -> object:
    """A number or None as it is; anything else as text that a spreadsheet never runs."""
    if value is None or isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class CsvColumn:
    name: str
    # Numbers are written bare; anything else (text, dates, times) is quoted and made spreadsheet-safe.
    numeric: bool = False
    # Decimals written with exactly this many places (SQLite returns a computed 998.00 as 998).
    decimal_places: int | None = None


# Called every PROGRESS_EVERY_ROWS rows with (rows written so far, the first cell of the latest row).
ProgressCallback = Callable[[int, str], None]
PROGRESS_EVERY_ROWS = 10_000


def csv_write_query(
    file: IO[bytes],
    *,
    rows: QuerySet[Any, Any],
    columns: Sequence[CsvColumn],
    on_progress: ProgressCallback | None = None,
    database_formats: bool = True,
) -> int:
    """Write a header, then the rows of ``rows`` (a values_list in ``columns`` order) as UTF-8 CSV
    to ``file``; returns the number of rows. ``database_formats=False`` forces the Python path."""
    if csv_copies(rows, database_formats):
        return csv_copy_query(file, rows=rows, columns=columns, on_progress=on_progress)
    return csv_stream_query(file, rows=rows, columns=columns, on_progress=on_progress)


def csv_copies(rows: QuerySet[Any, Any], database_formats: bool = True) -> bool:
    """Whether csv_write_query writes ``rows`` by COPY: its connection is then busy until the end."""
    return database_formats and connections[rows.db].vendor == "postgresql"


def csv_stream_query(
    file: IO[bytes],
    *,
    rows: QuerySet[Any, Any],
    columns: Sequence[CsvColumn],
    on_progress: ProgressCallback | None = None,
) -> int:
    """The Python path: the query's rows streamed from a cursor through CsvWriter."""
    text = io.TextIOWrapper(file, encoding="utf-8", newline="")
    writer = CsvWriter(text)
    writer.writerow(column.name for column in columns)
    places = {
        index: Decimal(1).scaleb(-column.decimal_places)
        for index, column in enumerate(columns)
        if column.decimal_places is not None
    }
    count = 0
    for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        if places:
            row = [
                value.quantize(places[index]) if index in places and value is not None else value
                for index, value in enumerate(row)
            ]
        writer.writerow(row)
        if on_progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            on_progress(count, str(row[0]))
    text.flush()
    text.detach()
    return count


def csv_copy_query(
    file: IO[bytes],
    *,
    rows: QuerySet[Any, Any],
    columns: Sequence[CsvColumn],
    on_progress: ProgressCallback | None = None,
) -> int:
    """The PostgreSQL path: COPY writes the CSV, with CsvWriter's rules in SQL (text quoted, a
    leading quote before a formula's first character, numbers bare); Python copies its bytes."""
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    select, params = csv_select_sql(rows=rows, columns=columns)
    texts = [quote(column.name) for column in columns if not column.numeric]
    force_quote = f", FORCE_QUOTE ({', '.join(texts)})" if texts else ""
    statement = f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER{force_quote})"
    count = -1  # the header is the first chunk
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(statement, params) as copy,
    ):
        # One chunk per row (a COPY message): only bytes move here, nothing is parsed or formatted.
        for count, chunk in enumerate(copy):
            file.write(chunk)
            if on_progress is not None and count and count % PROGRESS_EVERY_ROWS == 0:
                on_progress(count, next(csv.reader([bytes(chunk).decode()]))[0])
    return max(count, 0)


def csv_select_sql(*, rows: QuerySet[Any, Any], columns: Sequence[CsvColumn]) -> tuple[str, list[Any]]:
    """The SELECT that csv_copy_query COPYs, and its parameters: ``rows`` with CsvWriter's rules
    applied to each cell in SQL, the cells named as ``columns``."""
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    rows, order_by = _order_outside(rows, columns=columns, quote=quote)
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    cells = ", ".join(_cell_sql(quote(column.name), column) for column in columns)
    # Only quoted identifiers and Django's compiled SQL go in; every value is a bound parameter.
    names = ", ".join(quote(column.name) for column in columns)
    select = f"SELECT {cells} FROM ({sql}) AS query ({names}){order_by}"  # noqa: S608
    texts = sum(not column.numeric for column in columns)
    return select, [*[list(FORMULA_PREFIXES)] * texts, *params]


def _order_outside(
    rows: QuerySet[Any, Any], *, columns: Sequence[CsvColumn], quote: Callable[[str], str]
) -> tuple[QuerySet[Any, Any], str]:
    """A union (``a.union(b).order_by(...)``) as the same union unordered and its ORDER BY for the
    query around it; any other query as it is, and no ORDER BY.

    PostgreSQL sorts the whole result of an ordered UNION, even when each part is ordered already
    (1.8M rows of a sales report: seconds, on disk); ordered from the query around it, it merges
    the ordered parts instead (Merge Append). Each part keeps its own ORDER BY.
    """
    if not (rows.query.combinator and rows.query.order_by):
        return rows, ""
    compiler = rows.query.clone().get_compiler(using=rows.db)
    compiler.setup_query()
    aliases = [alias for _expression, _sql, alias in compiler.select]
    keys = []
    for order, _sql in compiler.get_order_by():
        reference = getattr(order, "expression", None)
        alias = getattr(reference, "refs", None) if isinstance(reference, Ref) else None
        if alias not in aliases:
            return rows, ""  # not a column of the result: left to Django's own ORDER BY
        name = quote(columns[aliases.index(alias)].name)
        keys.append(f"query.{name} DESC" if order.descending else f"query.{name}")
    return rows.order_by(), f" ORDER BY {', '.join(keys)}"


def _cell_sql(name: str, column: CsvColumn) -> str:
    """One column as the Python path writes it; for text, spreadsheet_safe in SQL: text that starts
    like a formula gets a leading quote."""
    if column.decimal_places is not None:
        return f"round({name}, {int(column.decimal_places)}) AS {name}"
    if column.numeric:
        return name
    return f"CASE WHEN left({name}::text, 1) = ANY(%s) THEN '''' || {name}::text ELSE {name}::text END AS {name}"
