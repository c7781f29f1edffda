"""The detail behind the headline (``onset-detail``, notebook "Onset timelines"): response
rates arm by arm, one small panel per trial (the masked trial, the dose-finding esketamine
trial, the pooled TRANSFORM trials), each drug arm beside its own comparison arm; day-28
results of each TRANSFORM trial on its own in a panel of dumbbells; and, in a strip above,
the times pooled analyses report (never as lines through the data).

Every mark, the caption, the alt text and the data table come from :class:`OnsetDetail`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .arms import Arm, EndResult, TrialPanel, arm_table_rows
from .computed import DataRow, after_words, fmt, number_word, row_numbers
from .data import Point, select
from .timeaxis import WEEK

#: Pooled analyses whose reported times the strip draws.
TIMES_FROM = ("kishimoto2016", "stassen2007")
#: The day-28 panel, as the alt text names it.
END_PANEL = "Day 28, each TRANSFORM trial on its own"
TRANSFORM_WHAT = "esketamine spray + new antidepressant vs placebo spray + new antidepressant"
TRIALS = {"fedgchin2019": "TRANSFORM-1", "popova2019": "TRANSFORM-2", "ochsross2020": "TRANSFORM-3"}

_EVENT_WORDS = {
    "time_to_superiority": "ahead of placebo from",
    "time_to_peak_effect": "largest lead at",
    "time_to_loss_of_superiority": "no longer ahead by",
    "time_to_onset_of_improvement": "improvement began, on average, at",
    "time_to_response": "response came, on average, at",
}


@dataclass(frozen=True)
class Times:
    """Times one pooled analysis reports, drawn as one line of the strip."""

    who: str  # "IV ketamine vs placebo, 9 trials" / "drug or placebo, pooled"
    rows: tuple[Point, ...]

    @property
    def study_key(self) -> str:
        return self.rows[0].study_key

    def words(self) -> str:
        return "; ".join(
            f"{_EVENT_WORDS[p.measure]} {p.timepoint_label.replace('-', chr(0x2013))}"
            for p in self.rows
        )


@dataclass(frozen=True)
class OnsetDetail:
    panels: tuple[TrialPanel, ...]
    ends: tuple[EndResult, ...]
    times: tuple[Times, ...]

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(
            dict.fromkeys(
                [
                    *(p for tp in self.panels for p in tp.rows),
                    *(p for e in self.ends for p in e.rows),
                    *(p for t in self.times for p in t.rows),
                ]
            )
        )

    @property
    def studies(self) -> list[str]:
        """Studies whose response rates are drawn (the strip's pooled times not counted)."""
        return list(
            dict.fromkeys(
                [
                    *(a.study_key for tp in self.panels for a in tp.arms),
                    *(e.control.study_key for e in self.ends),
                ]
            )
        )

    @property
    def panel_titles(self) -> list[str]:
        return [tp.title for tp in self.panels] + ([END_PANEL] if self.ends else [])

    def _arm(self, key: str, drug: bool) -> Arm | None:
        return next(
            (a for tp in self.panels for a in tp.arms if a.study_key == key and a.drug == drug),
            None,
        )

    @property
    def comparison_rows(self) -> list[Point]:
        return [
            *(p for tp in self.panels for a in tp.arms if not a.drug for p in a.rows),
            *(e.control for e in self.ends),
        ]

    def title(self) -> str:
        """The takeaway: comparison arms responded too (the most any did, from the rows),
        so a drug arm's rate alone overstates what the drug added."""
        ctl = self.comparison_rows
        if not ctl:
            return "Response rates arm by arm"
        top = max(p.value for p in ctl)
        return (
            f"Comparison arms responded too, up to {fmt(top)} in 100, so a drug arm's "
            "response rate alone overstates what the drug added"
        )

    def caption(self) -> str:
        s = [
            f"Response rates arm by arm, each drug arm beside its comparison arm, from "
            f"{len(self.studies)} studies."
        ]
        lii_d, lii_c = self._arm("lii2023", True), self._arm("lii2023", False)
        if lii_d and lii_c:
            d, c = lii_d.rows[0], lii_c.rows[0]
            s.append(
                f"In the masked trial, {fmt(d.value)}% responded with ketamine and "
                f"{fmt(c.value)}% with saline {after_words(d)}."
            )
        tk_d, tk_c = self._arm("turkoz2021", True), self._arm("turkoz2021", False)
        if tk_d and tk_c:
            s.append(
                "In the large esketamine trials, response rose in both arms, from "
                f"{fmt(tk_d.rows[0].value)}% and {fmt(tk_c.rows[0].value)}% "
                f"{after_words(tk_d.rows[0])} to {fmt(tk_d.rows[-1].value)}% and "
                f"{fmt(tk_c.rows[-1].value)}% {after_words(tk_d.rows[-1])}."
            )
        stassen = next((t for t in self.times if t.study_key == "stassen2007"), None)
        if stassen:
            s.append(
                "The grey times in the strip above (days "
                + " and ".join(fmt(p.value) for p in stassen.rows)
                + ") are averages among patients who improved, on a drug or on placebo "
                "alike, not times at which drugs beat placebo."
            )
        return " ".join(s)

    def alt(self) -> str:
        n = len(self.panel_titles)
        panels = " ".join(
            f"Panel {i}, {tp.title}: {tp.words()}." for i, tp in enumerate(self.panels, 1)
        )
        if self.ends:
            panels += (
                f" Panel {n}, {END_PANEL} ({TRANSFORM_WHAT}): "
                + "; ".join(e.words() for e in self.ends)
                + "."
            )
        times = "; ".join(f"{t.who}: {t.words()}" for t in self.times)
        return (
            f"{number_word(n)} panels of response rates (percent of patients whose MADRS "
            "score fell by at least half), under a strip of times reported by pooled "
            f"analyses. The first {number_word(len(self.panels)).lower()} share a "
            f"logarithmic time axis from {fmt(XMIN * 60)} minutes to {fmt(XMAX / WEEK)} "
            "weeks after the first dose; drug arms are filled markers on solid lines, "
            "comparison arms open markers on dotted lines. "
            f"Title: {self.title()}. {panels} Times: {times}."
        )

    def table(self) -> list[DataRow]:
        out = arm_table_rows(self.panels, self.ends)
        for t in self.times:
            for p in t.rows:
                out.append(
                    DataRow(
                        t.who,
                        p.timepoint_label,
                        f"{_EVENT_WORDS[p.measure]} {p.timepoint_label}",
                        str(p.n or "not stated"),
                        p.study_key,
                        p.source_location,
                        p.is_partly,
                    )
                )
        return out

    def numbers(self) -> set[float]:
        return row_numbers(self.rows) | {float(len(self.studies))}


def onset_detail(points: Sequence[Point]) -> OnsetDetail:
    resp = select(points, measure="response_rate", scale="MADRS", timepoint_hours=lambda h: h > 0)

    def rows(key: str, **kw: object) -> tuple[Point, ...]:
        return tuple(sorted(select(resp, study_key=key, **kw), key=lambda p: p.timepoint_hours))

    panels = []
    lii_d, lii_c = rows("lii2023", arm="drug"), rows("lii2023", arm="control")
    if lii_d and lii_c:
        panels.append(
            TrialPanel(
                "Masked trial: IV ketamine vs saline, hidden under anaesthesia "
                f"({lii_d[0].n + lii_c[0].n} people)",
                (Arm("ketamine", lii_d, True), Arm("saline", lii_c, False)),
                "ketamine_iv",
            )
        )
    daly_doses = len({p.treatment.split(" mg")[0] for p in rows("daly2018", arm="drug")})
    top = rows("daly2018", treatment=lambda s: s.startswith("esketamine 84"))
    pbo = rows("daly2018", arm="control")
    if top and pbo:
        panels.append(
            TrialPanel(
                f"Esketamine spray 84 mg, the highest of {daly_doses} doses ({top[0].n} "
                f"people), vs placebo spray ({pbo[0].n} people), both with the current "
                "antidepressant",
                (Arm("84 mg", top, True, "s"), Arm("placebo spray", pbo, False, "s")),
                "esketamine_in",
            )
        )
    tk_d, tk_c = rows("turkoz2021", arm="drug"), rows("turkoz2021", arm="control")
    if tk_d and tk_c:
        # People at the largest visit, as the headline counts them.
        people = max((d.n or 0) + (c.n or 0) for d, c in zip(tk_d, tk_c, strict=False))
        panels.append(
            TrialPanel(
                f"TRANSFORM-1 and -2 pooled ({people} people): {TRANSFORM_WHAT}",
                (
                    Arm("esketamine", tk_d, True, "D", joined=False),
                    Arm("placebo spray", tk_c, False, "D", joined=False),
                ),
                "esketamine_in",
            )
        )
    ends = []
    for key, trial in TRIALS.items():
        got = rows(key)
        ctl = [p for p in got if p.arm == "control"]
        drugs = sorted((p for p in got if p.arm == "drug"), key=lambda p: p.treatment)
        if not ctl or not drugs:
            continue
        older = ", aged 65 or over" if "65" in ctl[0].treatment else ""
        named = len(drugs) > 1
        ends.append(
            EndResult(
                trial,
                f"{TRANSFORM_WHAT}{older}",
                ctl[0],
                tuple(
                    (p.treatment.split(" mg")[0].split()[-1] + " mg" if named else "", p)
                    for p in drugs
                ),
                f"{trial}{older}",
            )
        )
    times = []
    kish = tuple(
        sorted(
            select(points, study_key="kishimoto2016", measure=lambda m: m in _EVENT_WORDS),
            key=lambda p: p.timepoint_hours,
        )
    )
    if kish:
        times.append(
            Times(
                "IV ketamine vs placebo, 9 trials pooled"
                if "9 RCTs" in kish[0].treatment
                else "IV ketamine vs placebo, pooled",
                kish,
            )
        )
    stas = tuple(
        sorted(
            select(points, study_key="stassen2007", measure=lambda m: m in _EVENT_WORDS),
            key=lambda p: p.timepoint_hours,
        )
    )
    if stas:
        times.append(Times("patients who improved, on a drug or on placebo alike", stas))
    return OnsetDetail(tuple(panels), tuple(ends), tuple(times))


# ---------------------------------------------------------------------- drawing

#: The time axis: 30 minutes (the pooled lead starts at 40) to 6 weeks (day 28, and the
#: strip's day 19).
XMIN, XMAX = 0.5, 6 * WEEK
TICKS = ((1.0, "1 hour"), (24.0, "1 day"), (WEEK, "1 week"), (4 * WEEK, "4 weeks"))


def plot_onset(points: Sequence[Point], theme: str = "light", *, refs=None, narrow: bool = False):
    """Detail behind the headline: response rate (MADRS-defined) by trial arm."""
    return draw(onset_detail(points), theme, refs=refs, narrow=narrow)


def draw(data: OnsetDetail, theme: str = "light", *, refs=None, narrow: bool = False):
    from .arms import KEY, between, end_lines, end_panel, time_panel
    from .drawing import Recorder, figure_title, finish, refs_or_bib, time_axes_grid
    from .style import themed

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    with themed(theme) as t:
        fig, axes, end_ax, strip = time_axes_grid(
            len(data.panels),
            bool(data.ends),
            narrow=narrow,
            xlim=(XMIN, XMAX),
            ticks=TICKS,
            strip=True,
            end_lines=end_lines(f"{END_PANEL} ({TRANSFORM_WHAT})", data.ends, narrow=narrow),
        )
        fig.kt_data = data  # type: ignore[attr-defined]
        top = max(p.value for tp in data.panels for p in tp.rows)
        for ax, tp in zip(axes, data.panels, strict=True):
            time_panel(ax, tp, t, rec, refs, narrow=narrow, ylim=10 * ((top + 8) // 10 + 1))
            ax.set_ylabel("Response, %" if narrow else "Response, % of patients")
            loose = next((a for a in tp.arms if not a.joined), None)
            if loose is not None:
                between(ax, loose, tp, t)
        if data.ends and end_ax is not None:
            title = f"{END_PANEL} ({TRANSFORM_WHAT})"
            end_panel(end_ax, title, data.ends, t, rec, refs, narrow=narrow)
            end_ax.kt_panel = END_PANEL  # type: ignore[attr-defined]
        _times_strip(strip, data.times, t, rec, refs, narrow)
        figure_title(fig, data.title(), t, narrow=narrow, subtitle=KEY)
        return finish(fig, rec)


def _times_strip(ax, times: Sequence[Times], t, rec, refs, narrow: bool) -> None:
    """One line per pooled analysis, in grey (not a trial's colour): a thin bar from its
    first to its last reported time, a dot at each time with its time and a few words
    under it (a range of days drawn as a wider, paler band), and who it is above."""
    from .drawing import SMALL, cite, link_group, source_words, wrap

    ax.set_ylim(0, len(times))
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        wrap("Times reported by pooled analyses (not by the trials below)", 40 if narrow else 90),
        loc="left",
        fontsize=SMALL + 0.5,
        fontweight="bold",
        pad=4,
        linespacing=1.1,
    )
    col = t.muted
    for i, tm in enumerate(times):
        y = len(times) - 1 - i + (0.4 if narrow else 0.5)
        hours = [p.event_hours() for p in tm.rows]
        xs = [v for v, _, _ in hours]
        lo, hi = min(lo for _, lo, _ in hours), max(hi for _, _, hi in hours)
        (bar,) = ax.plot([lo, hi], [y, y], color=col, linewidth=2, zorder=2)
        bar.kt_points = tm.rows  # type: ignore[attr-defined]
        (dots,) = ax.plot(
            xs, [y] * len(xs), linestyle="none", marker="o", markersize=6, color=t.text, zorder=3
        )
        dots.kt_points = tm.rows  # type: ignore[attr-defined]
        for _, a, b in hours:
            if b > a:
                span = ax.plot(
                    [a, b], [y, y], color=col, linewidth=8, alpha=0.5, solid_capstyle="butt"
                )[0]
                span.kt_points = tm.rows  # type: ignore[attr-defined]
        ax.text(
            XMIN * 1.05,
            y + 0.14,
            wrap(f"{cite(tm.study_key, refs)}, {tm.who}: {tm.words()}", 54 if narrow else 116),
            ha="left",
            va="bottom",
            fontsize=SMALL,
            color=t.text,
            linespacing=1.1,
        )
        # Each time under its dot: the first starts at its dot, later ones end at theirs,
        # and two close times lean apart, so that their words never overlap.
        for k, (p, x) in enumerate(zip(tm.rows, xs, strict=True)):
            close_next = k + 1 < len(xs) and xs[k + 1] / x < 4
            close_prev = k > 0 and x / xs[k - 1] < 4
            if close_next:
                ha = "right"
            elif close_prev or k == 0:
                ha = "left"
            else:
                ha = "right"
            words = p.timepoint_label.replace("-", "\u2013")
            ax.annotate(
                words,
                (x, y),
                xytext=(0, -6),
                textcoords="offset points",
                ha=ha,
                va="top",
                fontsize=SMALL,
                color=t.text,
                linespacing=1.05,
            )
        text = f"{cite(tm.study_key, refs)}, {tm.who}: {tm.words()}"
        link_group(
            ax, xs, [y] * len(xs), tm.rows, refs, f"{text}. {source_words(tm.rows)}", join=True
        )
        rec.add(tm.rows)
