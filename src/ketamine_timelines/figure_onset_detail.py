"""The detail behind the headline (``onset-detail``, notebook "Onset timelines"): response
rates arm by arm, each drug arm beside its own comparison arm, and the times pooled
analyses report, drawn in a strip above the panel (never as lines through the data).

Every mark, the caption, the alt text and the data table come from :class:`OnsetDetail`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .computed import DataRow, fmt, row_numbers, time_words
from .data import Point, select
from .timeaxis import WEEK

#: The panel, as the alt text names it.
PANEL = "response rates"
#: Pooled analyses whose reported times the strip draws.
TIMES_FROM = ("kishimoto2016", "stassen2007")

_EVENT_WORDS = {
    "time_to_superiority": "ahead of placebo from",
    "time_to_peak_effect": "largest lead at",
    "time_to_loss_of_superiority": "no longer ahead by",
    "time_to_onset_of_improvement": "improvement began, on average, at",
    "time_to_response": "response came, on average, at",
}


@dataclass(frozen=True)
class Arm:
    label: str  # legend text, without the study
    rows: tuple[Point, ...]
    marker: str
    joined: bool = True  # visits of one arm are joined; single results of trials are not
    group: str = ""  # arms of separate trials sharing one legend entry

    @property
    def study_key(self) -> str:
        return self.rows[0].study_key


@dataclass(frozen=True)
class Times:
    """Times one pooled analysis reports, drawn as one line of the strip."""

    who: str  # "IV ketamine vs placebo, 9 trials" / "drug or placebo, pooled"
    rows: tuple[Point, ...]

    @property
    def study_key(self) -> str:
        return self.rows[0].study_key

    def words(self) -> str:
        return "; ".join(f"{_EVENT_WORDS[p.measure]} {p.timepoint_label}" for p in self.rows)


@dataclass(frozen=True)
class OnsetDetail:
    arms: tuple[Arm, ...]
    times: tuple[Times, ...]

    @property
    def rows(self) -> tuple[Point, ...]:
        return tuple(
            dict.fromkeys(
                [*(p for a in self.arms for p in a.rows), *(p for t in self.times for p in t.rows)]
            )
        )

    @property
    def studies(self) -> list[str]:
        """Studies whose response rates are drawn (the strip's pooled times not counted)."""
        return list(dict.fromkeys(a.study_key for a in self.arms))

    def _arm(self, key: str, arm: str) -> Arm | None:
        return next(
            (a for a in self.arms if a.study_key == key and a.rows[0].arm == arm and a.joined),
            None,
        )

    def title(self) -> str:
        return (
            "Comparison arms improved too, so a drug arm's response rate alone overstates "
            "what the drug added"
        )

    def caption(self) -> str:
        s = [
            f"Response rates arm by arm, each drug arm beside its comparison arm, from "
            f"{len(self.studies)} studies."
        ]
        lii_d, lii_c = self._arm("lii2023", "drug"), self._arm("lii2023", "control")
        if lii_d and lii_c:
            d, c = lii_d.rows[0], lii_c.rows[0]
            s.append(
                f"In the masked trial, {fmt(d.value)}% responded with ketamine and "
                f"{fmt(c.value)}% with saline {time_words(d)}."
            )
        tk_d, tk_c = self._arm("turkoz2021", "drug"), self._arm("turkoz2021", "control")
        if tk_d and tk_c:
            s.append(
                "In the large esketamine trials, response rose in both arms, from "
                f"{fmt(tk_d.rows[0].value)}% and {fmt(tk_c.rows[0].value)}% "
                f"{time_words(tk_d.rows[0])} to {fmt(tk_d.rows[-1].value)}% and "
                f"{fmt(tk_c.rows[-1].value)}% {time_words(tk_d.rows[-1])}."
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
        arms = "; ".join(
            f"{a.label}: " + ", ".join(f"{fmt(p.value)}% {time_words(p)}" for p in a.rows)
            for a in self.arms
        )
        times = "; ".join(f"{t.who}: {t.words()}" for t in self.times)
        return (
            f"One panel of {PANEL} (percent of patients whose MADRS score fell by at "
            f"least half) on a logarithmic time axis from {fmt(XMIN * 60)} minutes to "
            f"{fmt(XMAX / WEEK)} weeks after the first "
            f"dose, with a strip above it of times reported by pooled analyses. Title: "
            f"{self.title()}. Arms: {arms}. Times: {times}."
        )

    def table(self) -> list[DataRow]:
        out = []
        for a in self.arms:
            for p in a.rows:
                out.append(
                    DataRow(
                        a.label,
                        p.timepoint_label,
                        f"{fmt(p.value)}% responded",
                        str(p.n or "not stated"),
                        p.study_key,
                        p.source_location,
                        p.is_partly,
                    )
                )
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

    daly_doses = len({p.treatment.split(" mg")[0] for p in rows("daly2018", arm="drug")})
    top = rows("daly2018", treatment=lambda s: s.startswith("esketamine 84"))
    candidates = [
        (rows("lii2023", arm="drug"), "IV ketamine, masked by anaesthesia", "o"),
        (rows("lii2023", arm="control"), "saline, masked by anaesthesia", "v"),
        (
            top,
            f"esketamine 84 mg, the highest of {daly_doses} doses, + current antidepressant",
            "s",
        ),
        (rows("daly2018", arm="control"), "placebo spray + current antidepressant", "^"),
        (
            rows("turkoz2021", arm="drug"),
            "esketamine + new antidepressant (TRANSFORM-1 and -2)",
            "p",
        ),
        (
            rows("turkoz2021", arm="control"),
            "new antidepressant + placebo spray (TRANSFORM-1 and -2)",
            "D",
        ),
    ]
    arms = [
        Arm(f"{label} (n = {r[0].n})" if r[0].n and len({p.n for p in r}) == 1 else label, r, mk)
        for r, label, mk in candidates
        if r
    ]
    # Day-28 results of the separate TRANSFORM trials: single markers, never joined.
    for key in ("popova2019", "fedgchin2019", "ochsross2020"):
        for p in rows(key):
            what = group = (
                "esketamine + new antidepressant"
                if p.arm == "drug"
                else "new antidepressant + placebo spray"
            )
            dose = p.treatment.split(" + ")[0].removeprefix("esketamine ").strip()
            if p.arm == "drug" and "mg" in dose and "flexible" not in dose:
                what = f"esketamine {dose.split(' mg')[0]} mg + new antidepressant"
            arms.append(
                Arm(
                    f"{what}, {p.timepoint_label}",
                    (p,),
                    "P" if p.arm == "drug" else "X",
                    joined=False,
                    group=f"{group}, {p.timepoint_label}, each trial on its own",
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
        times.append(Times("patients who improved, on a drug or on placebo", stas))
    return OnsetDetail(tuple(arms), tuple(times))


# ---------------------------------------------------------------------- drawing

XMIN, XMAX = 0.5, 16 * WEEK


def plot_onset(points: Sequence[Point], theme: str = "light", *, refs=None, narrow: bool = False):
    """Detail behind the headline: response rate (MADRS-defined) by trial arm."""
    return draw(onset_detail(points), theme, refs=refs, narrow=narrow)


def draw(data: OnsetDetail, theme: str = "light", *, refs=None, narrow: bool = False):
    import matplotlib.pyplot as plt

    from .drawing import (
        Recorder,
        cite,
        figure_title,
        finish,
        legend_below,
        partly_handle,
        refs_or_bib,
        series,
    )
    from .timeaxis import apply_time_axis

    refs = refs_or_bib(refs)
    rec = Recorder(refs)
    with themed_figure(theme) as t:
        fig, (strip, ax) = plt.subplots(
            2,
            1,
            figsize=(4.2, 12.5) if narrow else (8.4, 9.4),
            sharex=True,
            height_ratios=(2.4 if narrow else 1.3, 5.0),
            layout="constrained",
        )
        fig.kt_data = data  # type: ignore[attr-defined]
        ax.kt_panel = PANEL  # type: ignore[attr-defined]
        groups: dict[str, list[str]] = {}
        for a in data.arms:
            if a.group:
                groups.setdefault(a.group, []).append(cite(a.study_key, refs))
        for a in data.arms:
            label = f"{cite(a.study_key, refs)}: {a.label}"
            if a.group:
                # One legend entry for the single results of separate trials.
                who = groups.pop(a.group, None)
                label = f"{'; '.join(dict.fromkeys(who))}: {a.group}" if who else "_nolegend_"
            series(
                ax,
                a.rows,
                t,
                rec,
                label,
                line=a.joined,
                marker=a.marker,
                markersize=6.0 if a.joined else 7.0,
            )
        ax.set_ylim(0, 100)
        ax.set_ylabel("Response, % of patients\n(MADRS fell by at least 50%)")
        ax.grid(True, axis="y")
        apply_time_axis(ax, xmin=XMIN, xmax=XMAX)
        from .timeaxis import MAJOR_TICKS

        if narrow:
            from matplotlib.ticker import FixedFormatter

            labels = [lab for _, lab in MAJOR_TICKS]
            ax.xaxis.set_major_formatter(
                FixedFormatter([lab if lab != "4 weeks" else "" for lab in labels])
            )
        _times_strip(strip, data.times, t, rec, refs, narrow)
        handles = ax.get_legend_handles_labels()[0]
        if any(p.is_partly for a in data.arms for p in a.rows):
            handles.append(partly_handle(t))
        legend_below(ax, handles, ncol=2, bbox=-0.1 if narrow else -0.12, narrow=narrow)
        figure_title(fig, data.title(), t, narrow=narrow)
        return finish(fig, rec)


def themed_figure(theme: str):
    from .style import themed

    return themed(theme)


def _times_strip(ax, times: Sequence[Times], t, rec, refs, narrow: bool) -> None:
    """One line per pooled analysis: a bar from its first to its last reported time,
    a dot at each time, and the times in words above it."""
    from .drawing import SMALL, cite, link_group, source_words, wrap
    from .style import colour

    ax.set_ylim(0, len(times))
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", which="both", length=0)
    ax.set_title(
        "Times reported by pooled analyses",
        loc="left",
        fontsize=SMALL + 1,
        fontweight="bold",
    )
    for i, tm in enumerate(times):
        y = len(times) - 1 - i + 0.25
        col = colour(t, tm.rows[0].drug_class)
        hours = [p.event_hours() for p in tm.rows]
        xs = [v for v, _, _ in hours]
        lo, hi = min(lo for _, lo, _ in hours), max(hi for _, _, hi in hours)
        (bar,) = ax.plot([lo, hi], [y, y], color=col, linewidth=2.5, zorder=2)
        bar.kt_points = tm.rows  # type: ignore[attr-defined]
        (dots,) = ax.plot(
            xs, [y] * len(xs), linestyle="none", marker="o", markersize=6, color=col, zorder=3
        )
        dots.kt_points = tm.rows  # type: ignore[attr-defined]
        for _, a, b in hours:
            if b > a:
                span = ax.plot(
                    [a, b], [y, y], color=col, linewidth=7, alpha=0.45, solid_capstyle="butt"
                )[0]
                span.kt_points = tm.rows  # type: ignore[attr-defined]
        text = f"{cite(tm.study_key, refs)}, {tm.who}: {tm.words()}"
        ax.text(
            XMIN * 1.1,
            y + 0.18,
            wrap(text, 46 if narrow else 100),
            ha="left",
            va="bottom",
            fontsize=SMALL,
            color=t.text,
            linespacing=1.1,
        )
        link_group(
            ax, xs, [y] * len(xs), tm.rows, refs, f"{text}. {source_words(tm.rows)}", join=True
        )
        rec.add(tm.rows)
