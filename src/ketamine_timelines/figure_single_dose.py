"""How long one dose lasts (``single-dose``, notebook "How long one infusion lasts"):
response after a single dose, one small panel per trial (the masked trial, nine trials
pooled, the dose-finding esketamine trial), and the end-of-course results of repeated-dose
trials in a panel of their own, each drug arm joined to its trial's comparison arm.

Every mark, the title line, the caption, the alt text and the data table come from
:class:`SingleDose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .arms import Arm, EndResult, TrialPanel, arm_table_rows
from .computed import DataRow, after_words, fmt, number_word, row_numbers
from .data import Point, select
from .timeaxis import WEEK

#: Trials of repeated doses drawn as end results, with the name readers know them by.
TRIALS = {
    "anand2023": "ELEKT-D",
    "fedgchin2019": "TRANSFORM-1",
    "popova2019": "TRANSFORM-2",
    "ochsross2020": "TRANSFORM-3",
}
#: The end-of-course panel, as the alt text names it.
END_PANEL = "After repeated doses: response at the end of each course (3 to 4 weeks)"
#: What the TRANSFORM trials compared, said once in the panel rather than on every row.
TRANSFORM_WHAT = "esketamine spray + new antidepressant vs placebo spray + new antidepressant"
SCALE_WORDS = {"QIDS_SR16": "self-rated scale", "mixed": "scales mixed"}
#: What the vertical axis of the time panels measures.
YLABEL = "Response, % of patients"


@dataclass(frozen=True)
class SingleDose:
    panels: tuple[TrialPanel, ...]  # after one dose, one per trial
    ends: tuple[EndResult, ...]  # after repeated doses, one per trial

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(
            dict.fromkeys(
                [
                    *(p for tp in self.panels for p in tp.rows),
                    *(p for e in self.ends for p in e.rows),
                ]
            )
        )

    @property
    def end_title(self) -> str:
        """The end-of-course panel's heading; what the TRANSFORM trials compared is said
        here once, not on every row."""
        if any(e.what.startswith(TRANSFORM_WHAT) for e in self.ends):
            return f"{END_PANEL}; TRANSFORM: {TRANSFORM_WHAT}"
        return END_PANEL

    @property
    def panel_titles(self) -> list[str]:
        return [tp.title for tp in self.panels] + ([self.end_title] if self.ends else [])

    def _arm(self, key: str, drug: bool) -> Arm | None:
        return next(
            (a for tp in self.panels for a in tp.arms if a.study_key == key and a.drug == drug),
            None,
        )

    def title(self) -> str:
        """The takeaway, checked against every arm drawn: each drug arm's response was
        highest within the first day after its dose; each trial's drug arm ended ahead."""
        parts = []
        drugs = [a for tp in self.panels for a in tp.arms if a.drug]
        if drugs and all(max(a.rows, key=lambda p: p.value).timepoint_hours <= 24 for a in drugs):
            parts.append("After one dose, every drug arm responded most within a day")
        if self.ends and all(e.ahead for e in self.ends):
            parts.append("after repeated doses, every drug arm ended ahead of its comparison")
        text = "; ".join(parts) or "Response after one dose and after repeated doses"
        return text[:1].upper() + text[1:]

    def caption(self) -> str:
        s = []
        lii_d, lii_c = self._arm("lii2023", True), self._arm("lii2023", False)
        if lii_d and lii_c:
            d0, c0, d1, c1 = lii_d.rows[0], lii_c.rows[0], lii_d.rows[-1], lii_c.rows[-1]
            s.append(
                f"After one infusion hidden under anaesthesia, {fmt(d0.value)}% responded with "
                f"ketamine and {fmt(c0.value)}% with saline {after_words(d0)}, and "
                f"{fmt(d1.value)}% and {fmt(c1.value)}% {after_words(d1)}."
            )
        han = self._arm("han2016", True)
        if han:
            a, b = han.rows[0], han.rows[-1]
            s.append(
                f"In pooled trials, response in ketamine arms fell from {fmt(a.value)}% "
                f"{after_words(a)} to {fmt(b.value)}% {after_words(b)}."
            )
        if self.ends:
            drug = [p.value for e in self.ends for _, p in e.drugs]
            ctl = [e.control.value for e in self.ends]
            s.append(
                f"After repeated doses, {fmt(min(drug))}% to {fmt(max(drug))}% "
                f"responded in the drug arms, against {fmt(min(ctl))}% to {fmt(max(ctl))}% "
                "in each trial's comparison arm."
            )
        return " ".join(s)

    def alt(self) -> str:
        n = len(self.panel_titles)
        panels = " ".join(
            f"Panel {i}, {tp.title}: {tp.words()}." for i, tp in enumerate(self.panels, 1)
        )
        ends = ""
        if self.ends:
            ends = f" Panel {n}, {self.end_title}: " + "; ".join(e.words() for e in self.ends) + "."
        return (
            f"{number_word(n)} panels of response rates (percent of patients whose "
            "depression score fell by at least half). The first "
            f"{number_word(len(self.panels)).lower()} share a logarithmic time axis from "
            f"{fmt(XMIN)} hour to {fmt(XMAX / WEEK)} weeks after the first dose; drug arms "
            "are filled markers on solid lines, comparison arms open markers on dotted "
            f"lines. Title: {self.title()}. {panels}{ends}"
        )

    def table(self) -> list[DataRow]:
        out = arm_table_rows(self.panels, self.ends)
        return out

    def numbers(self) -> set[float]:
        return row_numbers(self.rows)


def single_dose(points: Sequence[Point]) -> SingleDose:
    resp = select(points, measure="response_rate", timepoint_hours=lambda h: h > 0)

    def rows(**kw: object) -> tuple[Point, ...]:
        return tuple(sorted(select(resp, **kw), key=lambda p: p.timepoint_hours))

    panels = []
    lii_d, lii_c = rows(study_key="lii2023", arm="drug"), rows(study_key="lii2023", arm="control")
    if lii_d and lii_c:
        panels.append(
            TrialPanel(
                "Masked trial: one IV ketamine infusion vs saline, hidden under anaesthesia "
                f"({lii_d[0].n + lii_c[0].n} people)",
                (Arm("ketamine", lii_d, True), Arm("saline", lii_c, False)),
                "ketamine_iv",
            )
        )
    han = rows(study_key="han2016")
    if han:
        panels.append(
            TrialPanel(
                "9 trials pooled: IV ketamine arms only, after one infusion (scales mixed)"
                if "9 RCTs" in han[0].treatment
                else "Pooled trials: IV ketamine arms only, after one infusion (scales mixed)",
                (Arm("ketamine arms", han, True, "H"),),
                "other",
            )
        )
    arms = []
    for dose, mk in (("28", "^"), ("56", "s"), ("84", "D")):
        pts = rows(
            study_key="daly2018", treatment=lambda s, d=dose: s.startswith(f"esketamine {d} mg")
        )
        if pts:
            arms.append(Arm(f"{dose} mg", pts, True, mk))
    pbo = rows(study_key="daly2018", arm="control")
    if pbo:
        arms.append(Arm("placebo spray", pbo, False))
    if arms:
        people = sum(a.rows[0].n or 0 for a in arms)
        panels.append(
            TrialPanel(
                f"Esketamine spray vs placebo spray, twice a week (1 trial, {people} people): "
                "its day-8 results came after more than one dose",
                tuple(arms),
                "esketamine_in",
            )
        )
    ends = []
    for key, trial in TRIALS.items():
        got = rows(study_key=key)
        ctl = [p for p in got if p.arm == "control"]
        drugs = [p for p in got if p.arm == "drug"]
        if not ctl or not drugs:
            continue
        c = ctl[0]
        scale = f"; {SCALE_WORDS.get(c.scale, c.scale)}" if c.scale != "MADRS" else ""
        if drugs[0].drug_class == "ketamine_iv":
            what = f"IV ketamine twice a week vs ECT (an active treatment){scale}"
            row = f"{trial}: {what}"
        else:
            older = ", aged 65 or over" if "65" in c.treatment else ""
            what = f"{TRANSFORM_WHAT}{older}"
            row = f"{trial}{older}"
        named = len(drugs) > 1
        ends.append(
            EndResult(
                trial,
                what,
                c,
                tuple(
                    (p.treatment.split(" mg")[0].split()[-1] + " mg" if named else "", p)
                    for p in sorted(drugs, key=lambda p: p.treatment)
                ),
                row,
            )
        )
    return SingleDose(tuple(panels), tuple(ends))


# ---------------------------------------------------------------------- drawing

#: The time axis of the single-dose panels, in hours: 1 hour (the first visits are at 2)
#: to 3 weeks (the last, day 14).
XMIN, XMAX = 1.0, 3 * WEEK
TICKS = ((1.0, "1 hour"), (24.0, "1 day"), (WEEK, "1 week"))


def plot_single_dose_course(
    points: Sequence[Point], theme: str = "light", *, refs=None, narrow: bool = False
):
    """What happens after one dose, and results after repeated doses, trial by trial."""
    return draw(single_dose(points), theme, refs=refs, narrow=narrow)


def draw(data: SingleDose, theme: str = "light", *, refs=None, narrow: bool = False):
    from .arms import KEY, end_lines, end_panel, time_panel
    from .drawing import Recorder, figure_title, finish, refs_or_bib, time_axes_grid

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    from .style import themed

    with themed(theme) as t:
        fig, axes, end_ax = time_axes_grid(
            len(data.panels),
            bool(data.ends),
            narrow=narrow,
            xlim=(XMIN, XMAX),
            ticks=TICKS,
            end_lines=end_lines(data.end_title, data.ends, narrow=narrow),
        )
        fig.kt_data = data  # type: ignore[attr-defined]
        # One scale for every panel, so that heights compare within the figure.
        top = max(p.value for tp in data.panels for p in tp.rows)
        for ax, tp in zip(axes, data.panels, strict=True):
            time_panel(ax, tp, t, rec, refs, narrow=narrow, ylim=10 * ((top + 8) // 10 + 1))
            ax.set_ylabel(YLABEL if not narrow else "Response, %")
        if data.ends:
            end_panel(end_ax, data.end_title, data.ends, t, rec, refs, narrow=narrow)
        figure_title(fig, data.title(), t, narrow=narrow, subtitle=KEY)
        return finish(fig, rec)
