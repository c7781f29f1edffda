"""What every figure computes before it draws: the rows, the differences, the words.

Each figure module (``figure_*.py``) builds one frozen object from the data set, and
both its drawing and its caption, alt text and "Data behind this figure" table read that
object only; that is what keeps a caption from drifting away from its picture. This
module holds the parts they share. It imports no Matplotlib.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .data import Point

#: What an open marker means, in the words of the legend, tooltips and data tables. Among
#: the rows the figures draw, only rows read in a secondary summary are `partly`
#: (data/README.md, "Verified"); a figure says so only when it draws one. Plain words: a
#: cold reader did not know what "a secondary summary" was.
PARTLY_WORDS = "read in a summary article, not in the paper itself"

#: Number words for panel counts in alt text.
_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six"}


def number_word(n: int) -> str:
    return _WORDS.get(n, str(n))


def fmt(x: float) -> str:
    return f"{x:g}"


def signed(x: float) -> str:
    """'+18.6', '-15.8' written with a true minus sign (U+2212), '0'."""
    if x > 0:
        return f"+{x:g}"
    if x < 0:
        return f"\u2212{-x:g}"
    return "0"


@dataclass(frozen=True)
class Gap:
    """Drug arm minus its own comparison arm, in responders per 100 people, at one time."""

    hours: float
    value: float
    rows: tuple[Point, ...]  # (drug, comparator), or one row that is itself a difference
    n: int | None  # people in both arms, when the source gives both

    @property
    def label(self) -> str:
        return self.rows[0].timepoint_label


def pair_gaps(drug: Sequence[Point], control: Sequence[Point]) -> tuple[Gap, ...]:
    """Drug minus control at each time both arms were measured."""
    ctl = {p.timepoint_hours: p for p in control}
    gaps = []
    for d in sorted(drug, key=lambda p: p.timepoint_hours):
        c = ctl.get(d.timepoint_hours)
        if c is None:
            continue
        n = d.n + c.n if d.n and c.n else None
        gaps.append(Gap(d.timepoint_hours, round(d.value - c.value, 1), (d, c), n))
    return tuple(gaps)


_TRIALS = re.compile(r"\b(\d+) (?:RCTs|trials)\b")
_CERTAINTY = re.compile(r"GRADE certainty: (very low|low|moderate|high)")


def trial_count(p: Point) -> int | None:
    """'ketamine (7 RCTs)', 'SSRIs (pooled, 5 trials)' -> 7, 5: counted as the row says."""
    m = _TRIALS.search(p.treatment)
    return int(m.group(1)) if m else None


def certainty(rows: Iterable[Point]) -> str | None:
    """The GRADE certainty a row's note records (Cochrane), if any."""
    for p in rows:
        m = _CERTAINTY.search(p.note)
        if m:
            return m.group(1)
    return None


def time_words(p: Point) -> str:
    """'on day 2', 'at week 1', 'at 24 h': the source's own time label with a preposition."""
    label = p.timepoint_label
    return f"on {label}" if label.startswith("day") else f"at {label}"


_DAY = re.compile(r"day (\d+)\b")


def elapsed(hours: float) -> str:
    """A time after the first dose in the units a reader uses: '40 min', '24 h', '14 days',
    '6 weeks' (whole weeks from 4 weeks on)."""
    if hours < 1:
        return f"{hours * 60:g} min"
    if hours < 48:
        return f"{hours:g} h"
    if hours >= 672 and hours % 168 == 0:
        return f"{hours / 168:g} weeks"
    days = hours / 24
    return f"{days:g} day" + ("" if days == 1 else "s")


def after_words(p: Point, *, source_day: bool = True) -> str:
    """When, as time after the first dose, so that every series on one time axis reads
    alike: 'at 24 h', 'at 14 days', 'at 1 week'. Where the source numbers its days from
    1 (the first dose on day 1), its own label follows, so that TRANSFORM's 'day 2' (24 h)
    beside another trial's 'day 1' (also 24 h) does not look like an error:
    'at 24 h (day 2)', 'at 27 days (day 28)'. A figure's value labels leave the source's
    day out (``source_day=False``): beside an axis of time after the first dose, a second
    time for one point read as a contradiction."""
    h = p.timepoint_hours
    if "week" in p.timepoint_label:
        weeks = h / 168
        words = f"{weeks:g} week" + ("" if weeks == 1 else "s")
    else:
        words = elapsed(h)
    m = _DAY.match(p.timepoint_label)
    if source_day and m and float(m.group(1)) != h / 24:
        words += f" (day {m.group(1)})"
    return f"at {words}"


@dataclass(frozen=True)
class DataRow:
    """One line of a figure's "Data behind this figure" table."""

    what: str  # the series, as the figure names it
    when: str  # the source's time label
    number: str  # the drawn number, with its parts ("+18.6 per 100: 27.4% vs 8.8%")
    people: str  # n as the source gives it, or "not stated"
    study_key: str
    where: str  # where in the source the number stands
    partly: bool = False


def row_numbers(rows: Iterable[Point]) -> set[float]:
    """Every number a row puts on a figure: value, time (hours, days, weeks), n, range."""
    out: set[float] = set()
    for p in rows:
        out |= {p.value, p.timepoint_hours, p.timepoint_hours / 24, p.timepoint_hours / 168}
        out |= {p.timepoint_hours * 60}
        if p.n:
            out.add(float(p.n))
        for bound in (p.uncertainty_low, p.uncertainty_high):
            if bound is not None:
                out.add(bound)
        count = trial_count(p)
        if count:
            out.add(float(count))
        for m in re.finditer(r"\d+(?:\.\d+)?", p.timepoint_label):
            out.add(float(m.group(0)))
    return out
