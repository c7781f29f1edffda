"""Load and validate data/onset_timelines.csv.

Validation is strict on purpose: a figure in the book must never show a number that
cannot be traced to a row, a study key and a place in the source.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .bib import load_bib
from .paths import default_bib_path, default_data_path, display_path
from .vocab import COLUMNS, ENUMS, REQUIRED_COLUMNS

_HOURS_PER_UNIT = {"min": 1 / 60, "h": 1.0, "days": 24.0}


class DataError(ValueError):
    """A problem in one cell of the data file, located as file:line: column."""

    def __init__(self, path: str | Path, line: int, column: str, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{display_path(self.path)}:{self.line}: column '{self.column}': {self.message}"


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
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        if header != COLUMNS:
            missing = [c for c in COLUMNS if c not in header]
            extra = [c for c in header if c not in COLUMNS]
            moved = [a for a, b in zip(header, COLUMNS, strict=False) if a != b]
            col = (missing or extra or moved)[0]
            why = "missing" if missing else "unexpected" if extra else "out of order"
            raise DataError(
                path, 1, col, f"wrong header: column {why}; expected {','.join(COLUMNS)}"
            )
        for raw in reader:
            line = reader.line_num
            if None in raw or any(v is None for v in raw.values()):
                raise DataError(path, line, "row_id", "wrong number of fields in this row")
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
                raise DataError(
                    path, line, "row_id", f"duplicate row_id (line {seen_ids[p.row_id]})"
                )
            seen[key] = line
            seen_ids[p.row_id] = line
            points.append(p)
    return points


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
