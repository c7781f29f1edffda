"""Numbers for the patient guide, computed from the data set at build time.

The guide ("Start here") answers "how fast, and for how many?" with numbers a reader can
hold: out of 100 people, how many responded with the drug and how many with the
comparison treatment, and so how many more responded with the drug. Each number here is
computed from rows of ``data/onset_timelines.csv`` (chosen with :func:`data.select`),
never typed into the text; the ``{answer}`` role of ``_ext/book_guide.py`` writes them
into the page, and the printable handout takes them from the page.

Rounding is to whole people out of 100 (half up), and "how many more" is the difference
of the two rounded numbers, so that the three numbers a reader sees always add up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .data import Point, select


def per_100(value: float) -> int:
    """A percentage as whole people out of 100, rounded half up (58.5 -> 59)."""
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Comparison:
    """Response with a drug and with its comparison treatment, at one time point."""

    name: str
    drug: Point
    control: Point

    @property
    def drug_per_100(self) -> int:
        return per_100(self.drug.value)

    @property
    def control_per_100(self) -> int:
        return per_100(self.control.value)

    @property
    def extra_per_100(self) -> int:
        """How many more out of 100 responded with the drug (negative: fewer)."""
        return self.drug_per_100 - self.control_per_100

    pooled: bool = False  # both rows give the n of the whole pooled analysis

    @property
    def people(self) -> int | None:
        """People behind the numbers: the two arms added, or the pooled analysis's n."""
        d, c = self.drug.n, self.control.n
        if self.pooled or d is None or c is None:
            return d or c
        return d + c

    @property
    def rows(self) -> tuple[str, str]:
        return (self.drug.row_id, self.control.row_id)


@dataclass(frozen=True)
class _Spec:
    study_key: str
    hours: float
    drug: dict[str, object]
    control: dict[str, object]
    pooled: bool = False


def _starts(prefix: str) -> Callable[[str], bool]:
    return lambda text: text.startswith(prefix)


#: The comparisons the guide states. Response means a fall of at least half in the
#: depression score; the Cochrane rows are the review's anticipated rates (its Summary of
#: findings tables), the others are observed in the trials.
COMPARISONS: dict[str, _Spec] = {
    # IV ketamine against a saline placebo, 24 h after one infusion (Cochrane review).
    "ketamine-24h": _Spec(
        "dean2021",
        24,
        {"drug_class": "ketamine_iv", "comparator": _starts("placebo")},
        {"drug_class": "placebo"},
        pooled=True,
    ),
    # IV ketamine against midazolam, a sedative that also makes people feel drugged.
    "ketamine-24h-midazolam": _Spec(
        "dean2021",
        24,
        {"drug_class": "ketamine_iv", "comparator": _starts("midazolam")},
        {"drug_class": "active_placebo"},
        pooled=True,
    ),
    # The one trial that hid ketamine under surgical anaesthesia (Lii 2023): day 1, day 14.
    "ketamine-masked-day1": _Spec("lii2023", 24, {}, {}),
    "ketamine-masked-day14": _Spec("lii2023", 336, {}, {}),
    # Esketamine spray + a new antidepressant against the new antidepressant + a placebo
    # spray, pooled TRANSFORM-1 and -2 (Turkoz 2021): day 2 (24 h) and day 28.
    "esketamine-day2": _Spec("turkoz2021", 24, {}, {}),
    "esketamine-day28": _Spec("turkoz2021", 648, {}, {}),
}


def _one(rows: list[Point], name: str, side: str) -> Point:
    if len(rows) != 1:
        found = ", ".join(p.row_id for p in rows) or "none"
        raise ValueError(f"answer {name!r}: expected one {side} row, found {found}")
    return rows[0]


def comparison(points: Iterable[Point], name: str) -> Comparison:
    """The comparison ``name`` of COMPARISONS, from the rows of the data set."""
    if name not in COMPARISONS:
        raise KeyError(f"unknown answer {name!r}; known: {', '.join(sorted(COMPARISONS))}")
    spec = COMPARISONS[name]
    rows = select(
        points, study_key=spec.study_key, measure="response_rate", timepoint_hours=spec.hours
    )
    drug = _one(select(rows, arm="drug", **spec.drug), name, "drug")
    control = _one(select(rows, arm="control", **spec.control), name, "control")
    return Comparison(name, drug, control, spec.pooled)


@dataclass(frozen=True)
class SingleDose:
    """How long one infusion of ketamine beats placebo (Kishimoto et al. 2016)."""

    first: Point  # first time ketamine was better than placebo
    peak: Point  # time of the largest difference
    gone: Point  # time by which the difference was no longer significant


def single_dose(points: Iterable[Point]) -> SingleDose:
    rows = select(points, study_key="kishimoto2016")

    def measure(name: str) -> Point:
        return _one(select(rows, measure=name), "single-dose", name)

    return SingleDose(
        measure("time_to_superiority"),
        measure("time_to_peak_effect"),
        measure("time_to_loss_of_superiority"),
    )


_UNIT_WORDS = {"min": ("minute", "minutes"), "h": ("hour", "hours"), "days": ("day", "days")}


def _duration(point: Point) -> str:
    one, many = _UNIT_WORDS[point.unit]
    if point.uncertainty_type == "range":
        assert point.uncertainty_low is not None and point.uncertainty_high is not None
        return f"{point.uncertainty_low:g} to {point.uncertainty_high:g} {many}"
    return f"{point.value:g} {one if point.value == 1 else many}"


#: Fields of a comparison the role can write: ``name:field``.
COMPARISON_FIELDS: dict[str, Callable[[Comparison], str]] = {
    "drug": lambda c: str(c.drug_per_100),
    "control": lambda c: str(c.control_per_100),
    "extra": lambda c: str(c.extra_per_100),
    "fewer": lambda c: str(-c.extra_per_100),
    "people": lambda c: f"{c.people:,}" if c.people is not None else "",
}
SINGLE_DOSE_FIELDS: dict[str, Callable[[SingleDose], str]] = {
    "first": lambda s: _duration(s.first),
    "peak": lambda s: _duration(s.peak),
    "gone": lambda s: _duration(s.gone),
}


def answer(points: Iterable[Point], spec: str) -> str:
    """The text of ``name:field`` (``esketamine-day28:extra`` -> ``"14"``)."""
    name, sep, field = spec.partition(":")
    if not sep:
        raise ValueError(f"answer {spec!r}: write name:field, e.g. esketamine-day28:extra")
    points = list(points)
    if name == "single-dose":
        fields: dict = SINGLE_DOSE_FIELDS
        subject: object = single_dose(points)
    else:
        fields = COMPARISON_FIELDS
        subject = comparison(points, name)
    if field not in fields:
        raise ValueError(f"answer {spec!r}: unknown field {field!r}; use {', '.join(fields)}")
    return fields[field](subject)


def answer_rows(points: Iterable[Point], spec: str) -> tuple[Point, ...]:
    """The rows an answer is computed from (for its tooltip and the tests)."""
    name = spec.partition(":")[0]
    points = list(points)
    if name == "single-dose":
        dose = single_dose(points)
        return (dose.first, dose.peak, dose.gone)
    c = comparison(points, name)
    return (c.drug, c.control)
