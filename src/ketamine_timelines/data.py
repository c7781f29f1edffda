"""Load and validate data/onset_timelines.csv.

Validation is strict on purpose: a figure in the book must never show a number that
cannot be traced to a row, a study key and a place in the source.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .bib import load_bib
from .paths import default_bib_path, default_data_path, display_path
from .vocab import (
    COLUMNS,
    ENUMS,
    FREE_TEXT_COLUMNS,
    MAX_TIMEPOINT_HOURS,
    REQUIRED_COLUMNS,
    SCALE_RANGES,
)

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


#: Markup that free text must not hold, and what to call it in the message. Readers see
#: these columns in HTML, Markdown (MyST), LaTeX and SVG: each place escapes them too, but
#: a cell that holds markup was meant to do something other than show its text.
_MARKUP = (
    (re.compile(r"<[A-Za-z!?/]"), "an HTML tag"),
    (re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);"), "an HTML entity"),
    (re.compile(r"\[[^\]]*\]\s*[(\[]"), "a Markdown link"),
    (re.compile(r"`|:::"), "a MyST role or code"),
    (re.compile(r"\$"), "math"),
    (re.compile(r"\\[A-Za-z]+"), "a LaTeX command"),
    (re.compile(r"\bjavascript:", re.I), "a javascript: address"),
)


def _check_plain_text(row: dict[str, str], err) -> None:
    for column in FREE_TEXT_COLUMNS:
        for pattern, kind in _MARKUP:
            found = pattern.search(row[column])
            if found is not None:
                start = max(0, found.start() - 10)
                raise err(
                    column,
                    f"markup is not allowed in data ({kind}: "
                    f"{row[column][start : found.end() + 20]!r}); write plain text",
                )


_UNIT_HOURS = {"min": 1 / 60, "h": 1.0, "hr": 1.0, "d": 24.0, "w": 168.0, "mo": 730.5}
_UNIT_HOURS |= {"y": 8760.0}
_NUMBER = r"(\d+(?:\.\d+)?)"
_TO = r"(?:\s*(?:-|\u2013|to)\s*" + _NUMBER + ")?"  # a hyphen, an en dash or "to"
#: "24 h", "2-4 h", "3-week", "14 weeks": an amount of time.
_AMOUNT = re.compile(
    _NUMBER + _TO + r"[\s-]*(min(?:ute)?s?|h(?:ours?)?|hrs?|days?|weeks?|months?|years?)\b",
    re.I,
)
#: "day 28", "week 2", "days 1-3": a trial visit, counted either way (see data/README.md,
#: "Time": day 1 is the first dosing day, or day 0 is the infusion day).
_VISIT = re.compile(r"\b(day|week)s?\s+" + _NUMBER + _TO, re.I)


def _unit_hours(unit: str) -> float:
    unit = unit.lower()
    for prefix in ("min", "mo", "hr", "h", "d", "w", "y"):
        if unit.startswith(prefix):
            return _UNIT_HOURS[prefix]
    raise ValueError(unit)


def _label_times(label: str) -> list[tuple[float, float]]:
    """The (low, high) hours each time that a label mentions allows; low == high for one
    time. An empty list when the label names no time ("end of treatment")."""
    times: list[tuple[float, float]] = []
    for m in _AMOUNT.finditer(label):
        f = _unit_hours(m.group(3))
        low, high = float(m.group(1)) * f, float(m.group(2) or m.group(1)) * f
        times += [(low, low), (high, high)] if m.group(2) is None else [(low, high)]
    for m in _VISIT.finditer(label):
        f = _unit_hours(m.group(1))
        first, last = float(m.group(2)), float(m.group(3) or m.group(2))
        if m.group(3) is None:
            times += [((first - 1) * f, (first - 1) * f), (first * f, first * f)]
        else:
            times.append(((first - 1) * f, last * f))
    return times


def _check_time(row: dict[str, str], hours: float, err) -> None:
    """A time within the study design, agreeing with the time its label states."""
    if hours > MAX_TIMEPOINT_HOURS:
        raise err(
            "timepoint_hours",
            f"{hours:g} h ({hours / 8760:.3g} years) is beyond {MAX_TIMEPOINT_HOURS:,} h "
            "(2 years), the longest time after the first dose this data set holds; "
            "was it written in minutes or days?",
        )
    label = row["timepoint_label"]
    times = _label_times(label)
    if not times:
        return
    slack = max(0.01, 0.005 * hours)  # "40 min" is 0.667 h
    if any(low - slack <= hours <= high + slack for low, high in times):
        return
    said = sorted({f"{lo:g} h" if lo == hi else f"{lo:g} to {hi:g} h" for lo, hi in times})
    raise err(
        "timepoint_hours",
        f"{hours:g} h does not match its timepoint_label {label!r}, which says "
        f"{' or '.join(said)} (day N is (N-1) x 24 h, or N x 24 h counted from an "
        "infusion on day 0; see data/README.md, Time)",
    )


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
    _check_time(row, hours, err)
    _check_plain_text(row, err)
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
