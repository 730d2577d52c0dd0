"""CSV reading and validation that every importer shares.

Every importer works in two phases: validate the whole file (collecting a `RowError` with the
line number for each bad row), then write the valid rows in one transaction. The caller decides
whether any error means "write nothing" (the default of the commands) or "write the good rows".
This module holds the file plumbing of the first phase: opening, the header check, records with
their line numbers, field counts, timestamps (within a sane window) and unique slugs.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.utils.text import slugify

_EPOCH_RE = re.compile(r"\d+(\.\d+)?")

# Imported timestamps lie in this window: none before the Unix epoch, none more than a day after
# the import (a clock a few hours off, or a time zone mistaken, is not an error; year 9999 is).
TIMESTAMP_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TIMESTAMP_FUTURE_SLACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportFileError(Exception):
    """The file as a whole cannot be imported: unreadable, not UTF-8, or a bad header."""


@dataclass(frozen=True)
class CsvHeader:
    columns: dict[str, int]
    width: int

    def index(self, name: str) -> int | None:
        return self.columns.get(name)


def csv_header_check(
    *, header: Sequence[str], required: Sequence[str], optional: Sequence[str]
) -> CsvHeader:
    """Map column names to positions; refuse missing, unknown or repeated columns.

    An unknown column is refused rather than ignored: a misspelt optional column ("teachers")
    would otherwise be dropped without a word.
    """
    names = [name.strip().lower() for name in header]
    problems = []
    missing = [name for name in required if name not in names]
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    allowed = set(required) | set(optional)
    unknown = [name for name in names if name not in allowed]
    if unknown:
        problems.append(
            f"unknown column(s): {', '.join(repr(name) for name in unknown)} "
            f"(allowed: {', '.join([*required, *optional])})"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        raise ImportFileError("bad header: " + "; ".join(problems))
    return CsvHeader(columns={name: i for i, name in enumerate(names)}, width=len(names))


def csv_records(*, handle: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number where the record starts, fields), skipping blank lines.

    Line numbers count physical lines, header included, so they match what an editor shows
    even when a quoted field spans several lines.
    """
    reader = csv.reader(handle)
    previous_end = 0
    try:
        for fields in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if fields and not (len(fields) == 1 and not fields[0].strip()):
                yield start, fields
    except csv.Error as exc:
        raise ImportFileError(f"line {reader.line_num}: not valid CSV ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"near line {reader.line_num + 1}: not UTF-8 text") from exc


def csv_open(*, path: Path) -> IO[str]:
    try:
        # utf-8-sig drops the byte-order mark spreadsheet programs put in front of the header.
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def csv_read_header(
    *, records: Iterator[tuple[int, list[str]]], required: Sequence[str], optional: Sequence[str]
) -> CsvHeader:
    first = next(records, None)
    if first is None:
        raise ImportFileError("the file is empty (expected a header line)")
    return csv_header_check(header=first[1], required=required, optional=optional)


def width_error(*, line: int, fields: Sequence[str], header: CsvHeader) -> RowError | None:
    if len(fields) == header.width:
        return None
    return RowError(line, f"has {len(fields)} fields, the header has {header.width}")


def timestamp_parse(raw: str) -> dt.datetime | None:
    """ISO 8601 (a time without offset is UTC) or epoch seconds; None when it is neither.

    All-digit values are read as epoch seconds, although Python would also accept "20240105" as
    a basic-format ISO date: an export of epoch seconds is far more common than basic ISO dates.
    """
    if _EPOCH_RE.fullmatch(raw):
        try:
            return dt.datetime.fromtimestamp(float(raw), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def timestamp_read(
    raw: str, *, column: str, now: dt.datetime
) -> tuple[dt.datetime | None, str | None]:
    """`raw` as a timestamp within the window (from 1970 to a day after `now`), or the reason it
    is refused: not a timestamp, before 1970, or more than a day in the future."""
    value = timestamp_parse(raw)
    if value is None:
        return None, f"{column} '{raw}' is not ISO 8601 or epoch seconds"
    if value < TIMESTAMP_EARLIEST:
        return None, f"{column} '{raw}' is before 1970-01-01"
    if value > now + TIMESTAMP_FUTURE_SLACK:
        return None, (
            f"{column} '{raw}' is more than a day in the future "
            f"(the import runs at {now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ})"
        )
    return value, None


def slug_unique(*, text: str, taken: set[str], fallback: str, max_length: int) -> str:
    """A slug for `text` not in `taken` (then added to it): "python", "python-2", ..."""
    base = slugify(text)[: max_length - 8].strip("-") or fallback
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


@dataclass
class ImportOutcome:
    """What every import reports: its row errors and whether anything was written."""

    errors: list[RowError] = field(default_factory=list)
    written: bool = False

    @property
    def skipped(self) -> int:
        """Rows not imported because they are invalid (a row may have several errors)."""
        return len({error.line for error in self.errors})
