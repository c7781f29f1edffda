"""Load and validate data/onset_timelines.csv.

Validation is strict on purpose: a figure in the book must never show a number that
cannot be traced to a row, a study key and a place in the source.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .bib import load_bib
from .paths import default_bib_path, default_data_path, display_path
from .vocab import COLUMNS, ENUMS, REQUIRED_COLUMNS, SCALE_RANGES

_HOURS_PER_UNIT = {"min": 1 / 60, "h": 1.0, "days": 24.0}


class DataError(ValueError):
    """A problem in one cell of the data file, located as file:line: column.

    ``column`` is None for a problem of the whole line (its encoding) or the whole file.
    """

    def __init__(self, path: str | Path, line: int, column: str | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" column '{self.column}':" if self.column else ""
        return f"{display_path(self.path)}:{self.line}:{where} {self.message}"


@dataclass(frozen=True)
class Point:
    """One published number (one row of the CSV)."""

    row_id: str
    study_key: str
    treatment: str
    arm: str
    drug_class: str
    population: str
    timepoint_hours: float
    timepoint_label: str
    measure: str
    scale: str
    value: float
    unit: str
    uncertainty_type: str
    uncertainty_low: float | None
    uncertainty_high: float | None
    n: int | None
    comparator: str
    source_location: str
    obtained: str
    confidence: str
    read_at: str
    note: str
    line: int = 0

    @property
    def is_partly(self) -> bool:
        return self.confidence == "partly"

    def interval(self) -> tuple[float, float] | None:
        """Absolute (low, high) bounds of the reported uncertainty, or None.

        SD and SE rows store the spread in uncertainty_low, so they become value +/- spread.
        """
        if self.uncertainty_type in ("SD", "SE") and self.uncertainty_low is not None:
            return (self.value - self.uncertainty_low, self.value + self.uncertainty_low)
        if self.uncertainty_type in ("CI95", "range"):
            assert self.uncertainty_low is not None and self.uncertainty_high is not None
            return (self.uncertainty_low, self.uncertainty_high)
        return None

    def event_hours(self) -> tuple[float, float, float]:
        """For time-to-event rows: (value, low, high) converted to hours.

        Low/high equal the value unless a range was reported (e.g. 'days 10-12').
        """
        f = _HOURS_PER_UNIT[self.unit]
        v = self.value * f
        if self.uncertainty_type == "range":
            assert self.uncertainty_low is not None and self.uncertainty_high is not None
            return v, self.uncertainty_low * f, self.uncertainty_high * f
        return v, v, v


def _number(raw: str, err, column: str, *, integer: bool = False) -> float:
    try:
        x = int(raw) if integer else float(raw)
    except ValueError:
        raise err(column, f"not a{'n integer' if integer else ' number'}: {raw!r}") from None
    if not math.isfinite(x):
        raise err(column, f"not a finite number: {raw!r}")
    return x


#: Measures whose value is a score on the row's scale, and those that are a change of it.
_LEVELS = frozenset({"mean_total"})
_CHANGES = frozenset({"mean_change", "mean_difference_vs_control"})


def _check_range(
    row: dict[str, str], value: float, lo: float | None, hi: float | None, utype: str, err
) -> None:
    """A score, a change of a score and their uncertainty lie within the scale's range."""
    scale, measure = row["scale"], row["measure"]
    if scale not in SCALE_RANGES or row["unit"] not in ("points", "mmHg"):
        return
    if measure not in _LEVELS | _CHANGES:
        return
    low, high = SCALE_RANGES[scale]
    if measure in _CHANGES:
        low, high = -(high - low), high - low
    what = "a change" if measure in _CHANGES else "a score"
    bounds = [("value", value)]
    if utype in ("CI95", "range"):
        bounds += [("uncertainty_low", lo), ("uncertainty_high", hi)]
    for column, x in bounds:
        if x is not None and not low <= x <= high:
            raise err(
                column, f"{x:g} is outside {low:g} to {high:g}, the range of {what} on {scale}"
            )
    if utype in ("SD", "SE") and lo is not None and lo > SCALE_RANGES[scale][1]:
        raise err("uncertainty_low", f"{utype} {lo:g} is wider than the whole {scale} scale")


def _parse_row(raw: dict[str, str], path: Path, line: int, bib_keys: frozenset[str]) -> Point:
    def err(column: str, message: str) -> DataError:
        return DataError(path, line, column, message)

    row = {k: (v or "").strip() for k, v in raw.items()}
    for col in REQUIRED_COLUMNS:
        if not row[col]:
            raise err(col, "missing value (required column is empty)")
    if row["study_key"] not in bib_keys:
        raise err("study_key", f"unknown study key {row['study_key']!r} (not in references.bib)")
    for col, allowed in ENUMS.items():
        if row[col] not in allowed:
            what = {"measure": "measure", "scale": "scale"}.get(col, "value")
            raise err(col, f"unknown {what} {row[col]!r}; allowed: {', '.join(sorted(allowed))}")

    value = _number(row["value"], err, "value")
    hours = _number(row["timepoint_hours"], err, "timepoint_hours")
    if hours < 0:
        raise err("timepoint_hours", f"negative time {hours:g} (hours after the first dose)")
    n = int(_number(row["n"], err, "n", integer=True)) if row["n"] else None
    if n is not None and n <= 0:
        raise err("n", f"n must be positive, got {n}")
    if row["unit"] == "%" and not 0 <= value <= 100:
        raise err("value", f"rate {value:g}% is outside 0-100")

    lo = hi = None
    if row["uncertainty_low"]:
        lo = _number(row["uncertainty_low"], err, "uncertainty_low")
    if row["uncertainty_high"]:
        hi = _number(row["uncertainty_high"], err, "uncertainty_high")
    utype = row["uncertainty_type"]
    if utype == "none" and (lo is not None or hi is not None):
        raise err("uncertainty_type", "is 'none' but uncertainty values are given")
    if utype in ("SD", "SE"):
        if lo is None:
            raise err("uncertainty_low", f"missing value ({utype} goes in uncertainty_low)")
        if hi is not None:
            raise err(
                "uncertainty_high", f"must be empty for {utype} (spread is in uncertainty_low)"
            )
        if lo < 0:
            raise err("uncertainty_low", f"{utype} cannot be negative")
    if utype in ("CI95", "range"):
        if lo is None:
            raise err("uncertainty_low", f"missing value (lower bound of the {utype})")
        if hi is None:
            raise err("uncertainty_high", f"missing value (upper bound of the {utype})")
        if not lo <= value <= hi:
            # Catches sign slips such as a negative estimate with a positive CI.
            raise err("value", f"{value:g} lies outside its {utype} [{lo:g}, {hi:g}]")
    _check_range(row, value, lo, hi, utype, err)
    if row["measure"].startswith("time_to_") and row["unit"] not in _HOURS_PER_UNIT:
        raise err("unit", f"time-to-event rows need unit min, h or days, got {row['unit']!r}")

    return Point(
        row_id=row["row_id"],
        study_key=row["study_key"],
        treatment=row["treatment"],
        arm=row["arm"],
        drug_class=row["drug_class"],
        population=row["population"],
        timepoint_hours=hours,
        timepoint_label=row["timepoint_label"],
        measure=row["measure"],
        scale=row["scale"],
        value=value,
        unit=row["unit"],
        uncertainty_type=utype,
        uncertainty_low=lo,
        uncertainty_high=hi,
        n=n,
        comparator=row["comparator"],
        source_location=row["source_location"],
        obtained=row["obtained"],
        confidence=row["confidence"],
        read_at=row["read_at"],
        note=row["note"],
        line=line,
    )


def load_points(path: str | Path | None = None, bib_path: str | Path | None = None) -> list[Point]:
    """Read and validate the data set; raise DataError at the first bad cell."""
    path = Path(path) if path is not None else default_data_path()
    bib_keys = frozenset(load_bib(bib_path if bib_path is not None else default_bib_path()))
    points: list[Point] = []
    seen: dict[tuple[str, str, float, str, str], int] = {}
    seen_ids: dict[str, int] = {}
    text = _read_text(path)
    records = _records(text, path)
    header_line, header_fields = next(records, (1, []))
    header = tuple(header_fields)
    if header != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        moved = [a for a, b in zip(header, COLUMNS, strict=False) if a != b]
        col = (missing or extra or moved)[0]
        why = "missing" if missing else "unexpected" if extra else "out of order"
        raise DataError(
            path, header_line, col, f"wrong header: column {why}; expected {','.join(COLUMNS)}"
        )
    for line, fields in records:
        if len(fields) != len(COLUMNS):
            raise DataError(
                path,
                line,
                None,
                f"wrong number of fields in this row: {len(fields)}, expected {len(COLUMNS)}",
            )
        raw = dict(zip(COLUMNS, fields, strict=True))
        p = _parse_row(raw, path, line, bib_keys)
        key = (p.study_key, p.treatment, p.timepoint_hours, p.measure, p.scale)
        if key in seen:
            raise DataError(
                path,
                line,
                "study_key",
                f"duplicate row: same study, treatment, "
                f"time, measure and scale as line {seen[key]}",
            )
        if p.row_id in seen_ids:
            raise DataError(path, line, "row_id", f"duplicate row_id (line {seen_ids[p.row_id]})")
        seen[key] = line
        seen_ids[p.row_id] = line
        points.append(p)
    if not points:
        raise DataError(
            path, header_line, None, "no data rows: the file has only its header (empty data set)"
        )
    return points


def _read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without the byte-order mark Excel writes."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            path,
            line,
            None,
            f"not UTF-8: byte 0x{raw[exc.start]:02x} at character {column} of this line; "
            "save the file as UTF-8 (in Excel: 'CSV UTF-8')",
        ) from None


def _records(text: str, path: Path):
    """(first line, fields) of each non-empty CSV record.

    A record is located at the line where it starts, so an unbalanced quote, which makes
    the parser read on into later lines, is reported where the quote opens.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines = text.splitlines()
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _quote_error(path, start, lines, str(exc)) from None
        if any("\n" in f or "\r" in f for f in fields):
            raise _quote_error(path, start, lines, f"the field runs on to line {reader.line_num}")
        if fields:
            yield start, fields


def _quote_error(path: Path, line: int, lines: list[str], detail: str) -> DataError:
    # Read alone, the line's last field is the one whose quote is never closed.
    fields = next(csv.reader([lines[line - 1] if line <= len(lines) else ""]), [])
    column = COLUMNS[len(fields) - 1] if 0 < len(fields) <= len(COLUMNS) else None
    return DataError(path, line, column, f'unbalanced quote (") in this line: {detail}')


def select(points: Iterable[Point], **criteria: object) -> list[Point]:
    """Rows whose attributes match: a string matches exactly, a set/tuple by membership,
    a callable by predicate."""

    def ok(p: Point) -> bool:
        for attr, want in criteria.items():
            got = getattr(p, attr)
            if callable(want):
                if not want(got):
                    return False
            elif isinstance(want, (set, frozenset, tuple, list)):
                if got not in want:
                    return False
            elif got != want:
                return False
        return True

    return [p for p in points if ok(p)]
