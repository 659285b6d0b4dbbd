"""The one way the app writes a CSV file: people open these in a spreadsheet, which runs a cell
that starts like a formula (OWASP "CSV Injection", CWE-1236).

Every text cell is quoted, and one that starts with = + - @ TAB or CR gets a leading single
quote, so the spreadsheet shows it as text. Numbers (int, Decimal, float) are written as they
are: a -5 in a numeric column is data, and stays a number. So pass numbers as numbers, never
pre-formatted as text. tests/test_architecture.py keeps every other module off csv.writer.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import IO

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
