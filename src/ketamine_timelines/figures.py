"""One registry of the book's figures: what each draws, its caption and its alt text.

Chapters (through the ``timeline-figure`` directive) and notebooks (through
:func:`figure`) both take a figure's caption and alt text from here, and every number in
them is computed from the rows the figure draws, so a caption cannot contradict its
figure. ``FigureSpec.note`` names the studies drawn, for the PDF's figure note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from matplotlib.figure import Figure

from .bib import Reference, load_bib
from .data import Point, load_points
from .display import ThemedFigure
from .plots import (
    Comparison,
    onset_comparisons,
    plot_onset,
    plot_onset_headline,
    plot_single_dose_course,
    plot_treatment_day,
    treatment_day_spans,
)
from .timeaxis import format_hours


def _n(x: float) -> str:
    return f"{x:g}"


def _comp(comps: Sequence[Comparison], start: str) -> Comparison:
    return next(c for c in comps if c.name.startswith(start))


# ---------------------------------------------------------------- captions


def onset_caption(points: Sequence[Point]) -> str:
    comps = onset_comparisons(points)
    tr = _comp(comps, "Esketamine + new")
    ss = _comp(comps, "SSRI")
    ek = _comp(comps, "Esketamine vs")
    kt = _comp(comps, "IV ketamine")
    return (
        "Each line is one drug against its own comparison group, in extra responders per "
        f"100 people: in the large trials, esketamine added {_n(tr.gaps[0].value)} responders "
        f"to a newly started antidepressant by {tr.gaps[0].label} and "
        f"{_n(tr.gaps[-1].value)} by {tr.gaps[-1].label}, and SSRIs added "
        f"{_n(ss.gaps[0].value)} to placebo by {ss.gaps[0].label} and "
        f"{_n(ss.gaps[-1].value)} by {ss.gaps[-1].label}; IV ketamine added "
        f"{_n(kt.gaps[0].value)} over placebo at {kt.gaps[0].label}, and the largest early "
        f"gaps ({_n(min(g.value for g in ek.gaps))} to {_n(max(g.value for g in ek.gaps))}) "
        f"come from one small esketamine trial of {ek.gaps[0].n} people. "
        "Different trials and populations: not a head-to-head comparison."
    )


def onset_alt(points: Sequence[Point]) -> str:
    comps = onset_comparisons(points)
    parts = []
    for c in comps:
        vals = ", ".join(f"{_n(g.value)} at {g.label}" for g in c.gaps)
        parts.append(f"{c.name} ({c.who}): {vals}")
    return (
        "Line chart on a logarithmic time axis from 1 hour to 10 weeks after the first dose; "
        "the vertical axis is extra responders per 100 people, drug arm minus its comparison "
        "arm. " + "; ".join(parts) + "."
    )


def treatment_day_caption(points: Sequence[Point]) -> str:
    spans = treatment_day_spans(points)
    bp = next(s for s in spans if s.rows[0].study_key == "fda_spravato_label")
    ssri = next(s for s in spans if s.drug_class == "ssri_snri")
    return (
        "What happens on a treatment day lasts hours, while the lead of SSRIs over placebo "
        f"builds over weeks: with esketamine, blood pressure peaks about "
        f"{format_hours(bp.peak or 0)} after a dose and stays up for about "
        f"{format_hours(bp.end or 0)}; SSRIs are ahead of placebo from "
        f"week {_n(ssri.start / 168)} and still gaining at week {_n((ssri.end or 0) / 168)}."
    )


def treatment_day_alt(points: Sequence[Point]) -> str:
    spans = treatment_day_spans(points)
    return (
        "Timeline on a logarithmic axis from 10 minutes to 8 weeks after a dose, one bar per "
        "reported time course: " + "; ".join(f"{s.name} ({s.who})" for s in spans) + "."
    )


def single_dose_caption(points: Sequence[Point]) -> str:
    from .data import select

    lii = select(points, study_key="lii2023", measure="response_rate", timepoint_hours=24.0)
    drug = next(p for p in lii if p.arm == "drug")
    ctl = next(p for p in lii if p.arm == "control")
    ends = select(
        points,
        measure="response_rate",
        study_key={"anand2023", "popova2019", "fedgchin2019", "ochsross2020"},
    )
    ctl_end = sorted(_n(p.value) for p in ends if p.arm == "control")
    return (
        f"After one masked infusion, {_n(drug.value)}% responded with ketamine and "
        f"{_n(ctl.value)}% with saline on day 1; after repeated doses (stars), each trial's "
        f"comparison arm (diamonds: {', '.join(ctl_end)}%) is drawn beside it."
    )


def single_dose_alt(points: Sequence[Point]) -> str:
    return (
        "Response rates on a logarithmic time axis from 24 hours to 12 weeks after one dose "
        "of IV ketamine or esketamine, by trial arm, with end-of-course results after "
        "repeated doses and their comparison arms. " + single_dose_caption(points)
    )


def onset_detail_caption(points: Sequence[Point]) -> str:
    from .data import select

    rows = select(points, measure="response_rate", scale="MADRS")
    studies = len({p.study_key for p in rows})
    return (
        f"Every MADRS response rate behind the onset figure, arm by arm, from {studies} "
        "studies; the grey markers (Stassen et al. 2007) are average times to improvement "
        "among patients who improved, on a drug or on placebo alike, not times at which "
        "drugs beat placebo."
    )


def onset_detail_alt(points: Sequence[Point]) -> str:
    return (
        "Two panels on a logarithmic time axis from 10 minutes to 16 weeks: response rates "
        "by trial arm, and drug-minus-control differences in MADRS points. "
        + onset_detail_caption(points)
    )


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class FigureSpec:
    name: str
    plot: Callable[..., Figure]
    caption: Callable[[Sequence[Point]], str]
    alt: Callable[[Sequence[Point]], str]
    narrow: bool = True  # the plot function takes narrow=True for phones


FIGURES: dict[str, FigureSpec] = {
    "onset": FigureSpec("onset", plot_onset_headline, onset_caption, onset_alt),
    "onset-detail": FigureSpec("onset-detail", plot_onset, onset_detail_caption, onset_detail_alt),
    "single-dose": FigureSpec(
        "single-dose", plot_single_dose_course, single_dose_caption, single_dose_alt
    ),
    "treatment-day": FigureSpec(
        "treatment-day", plot_treatment_day, treatment_day_caption, treatment_day_alt
    ),
}


def get_spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"no figure {name!r}; the book's figures are {', '.join(FIGURES)}") from None


def drawn_points(name: str, points: Sequence[Point]) -> tuple[Point, ...]:
    """The rows a figure draws (from a light, wide rendering)."""
    import matplotlib.pyplot as plt

    fig = get_spec(name).plot(points, "light")
    try:
        return tuple(fig.source_points)  # type: ignore[attr-defined]
    finally:
        plt.close(fig)


def studies_note(pts: Sequence[Point], refs: dict[str, Reference] | None = None) -> str:
    """'Sources: Daly et al. 2018; ...' for the figure note (PDF and EPUB have no links)."""
    refs = refs if refs is not None else load_bib()
    keys = list(dict.fromkeys(p.study_key for p in pts))
    keys.sort(key=lambda k: (refs[k].year if k in refs else "", k))
    return "; ".join(refs[k].short if k in refs else k for k in keys)


def figure(name: str, points: Sequence[Point] | None = None) -> ThemedFigure:
    """A notebook's figure: both themes, a phone layout, caption and alt from the data."""
    spec = get_spec(name)
    pts = list(points) if points is not None else load_points()

    def build(theme: str, narrow: bool = False) -> Any:
        return spec.plot(pts, theme, narrow=narrow) if narrow else spec.plot(pts, theme)

    shown = drawn_points(name, pts)
    themed = ThemedFigure(
        build,
        alt=spec.alt(pts),
        caption=spec.caption(pts),
        narrow=partial(build, narrow=True) if spec.narrow else None,
        note="; ".join(f"{{cite:t}}`{k}`" for k in _study_keys(shown)),
    )
    themed.source_points = tuple(shown)
    if points is None or pts == load_points():  # the chapters' figure: share its files
        themed.store_name = name
    return themed


def _study_keys(pts: Sequence[Point]) -> list[str]:
    refs = load_bib()
    keys = list(dict.fromkeys(p.study_key for p in pts))
    keys.sort(key=lambda k: (refs[k].year if k in refs else "", k))
    return keys
