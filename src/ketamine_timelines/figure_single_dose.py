"""How long one dose lasts (``single-dose``, notebook "How long one infusion lasts"):
response after a single dose, arm by arm, from 2 hours to day 14, and the end-of-course
results of repeated-dose trials, each drug arm beside its trial's comparison arm.

Every mark, the title line, the caption, the alt text and the data table come from
:class:`SingleDose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .computed import DataRow, fmt, row_numbers, time_words
from .data import Point, select
from .timeaxis import WEEK

#: Trials of repeated doses drawn as end results, with the name readers know them by.
TRIALS = {
    "anand2023": "ELEKT-D",
    "popova2019": "TRANSFORM-2",
    "fedgchin2019": "TRANSFORM-1",
    "ochsross2020": "TRANSFORM-3, aged 65 or over",
}
#: The panel, as the alt text names it.
PANEL = "response rates"
SCALE_WORDS = {"QIDS_SR16": "self-rated QIDS-SR", "mixed": "scales mixed"}


@dataclass(frozen=True)
class Arm:
    label: str
    rows: tuple[Point, ...]
    marker: str
    end: bool = False  # an end-of-course result after repeated doses (never joined)

    @property
    def study_key(self) -> str:
        return self.rows[0].study_key


@dataclass(frozen=True)
class SingleDose:
    arms: tuple[Arm, ...]

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(dict.fromkeys(p for a in self.arms for p in a.rows))

    def _one(self, key: str, arm: str) -> Arm | None:
        return next(
            (a for a in self.arms if a.study_key == key and a.rows[0].arm == arm and not a.end),
            None,
        )

    def _ends(self) -> list[tuple[Point, list[Point]]]:
        """Each trial's end result of the drug arm(s) with its comparison arm."""
        ends = [a.rows[0] for a in self.arms if a.end]
        out = []
        for key in dict.fromkeys(p.study_key for p in ends):
            ctl = [p for p in ends if p.study_key == key and p.arm == "control"]
            drugs = [p for p in ends if p.study_key == key and p.arm == "drug"]
            for c in ctl:
                out.append((c, drugs))
        return out

    def title(self) -> str:
        parts = []
        han = next((a for a in self.arms if a.study_key == "han2016"), None)
        if han and han.rows[-1].value < han.rows[0].value:
            parts.append("After one dose, response fell within two weeks")
        ends = self._ends()
        if ends and all(all(d.value > c.value for d in ds) for c, ds in ends):
            parts.append(
                "after repeated doses, each trial's drug arm ended ahead of its comparison arm"
            )
        text = "; ".join(parts) or "Response after one dose and after repeated doses"
        return text[:1].upper() + text[1:]

    def caption(self) -> str:
        s = []
        lii_d, lii_c = self._one("lii2023", "drug"), self._one("lii2023", "control")
        if lii_d and lii_c:
            d0, c0, d1, c1 = lii_d.rows[0], lii_c.rows[0], lii_d.rows[-1], lii_c.rows[-1]
            s.append(
                f"After one infusion hidden under anaesthesia, {fmt(d0.value)}% responded with "
                f"ketamine and {fmt(c0.value)}% with saline {time_words(d0)}, and "
                f"{fmt(d1.value)}% and {fmt(c1.value)}% {time_words(d1)}."
            )
        han = next((a for a in self.arms if a.study_key == "han2016"), None)
        if han:
            a, b = han.rows[0], han.rows[-1]
            s.append(
                f"In pooled trials, response in ketamine arms fell from {fmt(a.value)}% "
                f"{time_words(a)} to {fmt(b.value)}% {time_words(b)}."
            )
        ends = self._ends()
        if ends:
            drug = [d.value for _, ds in ends for d in ds]
            ctl = [c.value for c, _ in ends]
            s.append(
                f"After repeated doses (stars), {fmt(min(drug))}% to {fmt(max(drug))}% "
                f"responded, against {fmt(min(ctl))}% to {fmt(max(ctl))}% in each trial's "
                "comparison arm (diamonds)."
            )
        return " ".join(s)

    def alt(self) -> str:
        arms = "; ".join(
            f"{a.label}: " + ", ".join(f"{fmt(p.value)}% {time_words(p)}" for p in a.rows)
            for a in self.arms
        )
        return (
            f"One panel of {PANEL} (percent of patients whose depression score fell "
            f"by at least half) on a logarithmic time axis from {fmt(XMIN)} hour to "
            f"{fmt(XMAX / WEEK)} weeks after the first dose, by trial arm, with "
            "end-of-course results after repeated doses. "
            f"Title: {self.title()}. {arms}."
        )

    def table(self) -> list[DataRow]:
        return [
            DataRow(
                a.label,
                p.timepoint_label,
                f"{fmt(p.value)}% responded",
                str(p.n or "not stated"),
                p.study_key,
                p.source_location,
                p.is_partly,
            )
            for a in self.arms
            for p in a.rows
        ]

    def numbers(self) -> set[float]:
        return row_numbers(self.rows)


def single_dose(points: Sequence[Point]) -> SingleDose:
    resp = select(points, measure="response_rate", timepoint_hours=lambda h: h > 0)

    def rows(**kw: object) -> tuple[Point, ...]:
        return tuple(sorted(select(resp, **kw), key=lambda p: p.timepoint_hours))

    arms = [
        Arm("IV ketamine, masked by anaesthesia", rows(study_key="lii2023", arm="drug"), "o"),
        Arm("saline, masked by anaesthesia", rows(study_key="lii2023", arm="control"), "v"),
        Arm("IV ketamine arms of 9 trials (pooled; scales mixed)", rows(study_key="han2016"), "H"),
    ]
    for dose, mk in (("28", "<"), ("56", ">"), ("84", "s")):
        pts = rows(
            study_key="daly2018", treatment=lambda s, d=dose: s.startswith(f"esketamine {d} mg")
        )
        arms.append(
            Arm(f"esketamine {dose} mg twice a week (n = {pts[0].n})" if pts else "", pts, mk)
        )
    pbo = rows(study_key="daly2018", arm="control")
    arms.append(Arm(f"placebo spray (n = {pbo[0].n})" if pbo else "", pbo, "^"))
    ends = rows(study_key=set(TRIALS))
    for p in sorted(ends, key=lambda p: (p.study_key, p.arm != "drug", p.treatment)):
        scale = f", {SCALE_WORDS.get(p.scale, p.scale)}" if p.scale != "MADRS" else ""
        if p.drug_class == "ketamine_iv":
            what = "IV ketamine twice a week for 3 weeks"
        elif p.arm == "control":
            what = "ECT" if p.drug_class == "other" else "new antidepressant + placebo spray"
        else:
            what = p.treatment.split(" + ")[0].replace(" intranasal", "") + " + new antidepressant"
        arms.append(
            Arm(
                f"{TRIALS[p.study_key]}: {what}{scale}",
                (p,),
                "*" if p.arm == "drug" else "D",
                end=True,
            )
        )
    return SingleDose(tuple(a for a in arms if a.rows))


# ---------------------------------------------------------------------- drawing

#: The time axis, in hours: 1 hour (the first visits are at 2) to 16 weeks.
XMIN, XMAX = 1.0, 16 * WEEK


def plot_single_dose_course(
    points: Sequence[Point], theme: str = "light", *, refs=None, narrow: bool = False
):
    """What happens after one dose, with results after repeated doses as end markers."""
    return draw(single_dose(points), theme, refs=refs, narrow=narrow)


def draw(data: SingleDose, theme: str = "light", *, refs=None, narrow: bool = False):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedFormatter

    from .drawing import (
        SMALL,
        Recorder,
        cite,
        figure_title,
        finish,
        legend_below,
        partly_handle,
        refs_or_bib,
        series,
    )
    from .style import themed
    from .timeaxis import MAJOR_TICKS, apply_time_axis

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    with themed(theme) as t:
        fig, ax = plt.subplots(figsize=(4.2, 11.5) if narrow else (8.4, 8.8), layout="constrained")
        fig.kt_data = data  # type: ignore[attr-defined]
        ax.kt_panel = PANEL  # type: ignore[attr-defined]
        for a in data.arms:
            series(
                ax,
                a.rows,
                t,
                rec,
                f"{cite(a.study_key, refs)}: {a.label}",
                line=not a.end,
                marker=a.marker,
                markersize=(11 if a.rows[0].arm == "drug" else 7) if a.end else 6.5,
                # Each trial's comparison arm (diamond) beside its drug arm (star).
                dodge_points=7.0 if a.end and a.rows[0].arm == "control" else 0.0,
            )
        first = min(p.timepoint_hours for a in data.arms if not a.end for p in a.rows)
        last = max(p.timepoint_hours for a in data.arms if not a.end for p in a.rows)
        shade = ax.axvspan(first, last, color=t.muted, alpha=0.08, zorder=0, linewidth=0)
        shade.kt_reference = True  # type: ignore[attr-defined]
        ax.text(
            first * 1.1,
            97,
            "after one dose"
            if narrow
            else "after one dose (the esketamine day-8 values follow more than one)",
            fontsize=SMALL,
            color=t.text,
            va="top",
        )
        apply_time_axis(ax, xmin=XMIN, xmax=XMAX)
        if narrow:
            labels = [lab for _, lab in MAJOR_TICKS]
            ax.xaxis.set_major_formatter(
                FixedFormatter([lab if lab != "4 weeks" else "" for lab in labels])
            )
        ax.set_ylim(0, 100)
        ax.set_ylabel(
            "Response, % of patients\n(score fell by at least 50%"
            + (")" if narrow else "; MADRS unless marked)")
        )
        ax.grid(True, axis="y")
        handles = ax.get_legend_handles_labels()[0]
        if any(p.is_partly for p in data.rows):
            handles.append(partly_handle(t))
        legend_below(ax, handles, ncol=2, bbox=-0.1, narrow=narrow)
        figure_title(fig, data.title(), t, narrow=narrow)
        return finish(fig, rec)
