"""Figures draw the expected series from data rows only (inspected, not pixel-compared)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from ketamine_timelines import (
    THEMES,
    contrast_ratio,
    load_points,
    plot_onset,
    plot_single_dose_course,
)

ROOT = Path(__file__).resolve().parents[1]
#: Words, not abbreviations: "1 d" and "wk" are not explained on the figure. The small
#: panels of the notebook figures write them on two lines, so that "1 week" and
#: "4 weeks" both fit on a phone (a cold reader missed the 4-week tick).
DETAIL_TICKS = ["1\nhour", "1\nday", "1\nweek", "4\nweeks"]
SINGLE_TICKS = ["1\nhour", "1\nday", "1\nweek"]


@pytest.fixture(scope="module")
def points():
    return load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")


@pytest.fixture(params=["light", "dark"])
def theme(request):
    return request.param


def labels(ax):
    return [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def time_axes(fig):
    return [ax for ax in fig.axes if ax.get_xscale() == "log"]


def check_time_axis(ax, ticks, last_hours):
    """A log time axis with the book's tick words that reaches past the last result."""
    ax.figure.canvas.draw()
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ticks
    assert all(not t.get_text() for t in ax.get_xticklabels(minor=True))
    lo, hi = ax.get_xlim()
    assert lo <= 1 and hi > last_hours


def panel_axes(fig):
    return [ax for ax in fig.axes if hasattr(ax, "kt_panel")]


def arm_lines(ax):
    """(name at its last point, drawn line) for each trial arm of a panel."""
    return {ln.get_label(): ln for ln in ax.get_lines() if getattr(ln, "kt_points", None)}


def check_traceable(fig):
    """Every data artist carries the rows it draws; series y values equal those rows."""
    src = {p.row_id: p for p in fig.source_points}
    assert src and all(p.source_location for p in src.values())
    drawn = set()
    for ax in fig.axes:
        for art in [*ax.get_lines(), *ax.patches, *ax.collections]:
            if getattr(art, "kt_reference", False):
                continue
            pts = getattr(art, "kt_points", None)
            assert pts is not None, f"untraceable artist {art!r}"
            assert all(p.row_id in src for p in pts)
            drawn.update(p.row_id for p in pts)
            if (
                isinstance(art, plt.Line2D)
                and not art.get_label().startswith("_")
                and len(art.get_ydata()) == len(pts)
            ):
                assert list(art.get_ydata()) == pytest.approx([p.value for p in pts])
    assert drawn == set(src), "source_points lists rows that were not drawn"


def test_onset_detail_series(points, theme):
    """One small panel per trial, each drug arm (filled, solid) beside its own comparison
    arm (open, dotted) in the trial's colour, named at its last point; the TRANSFORM
    trials' day-28 results paired trial by trial; the pooled times in a grey strip."""
    fig = plot_onset(points, theme)
    axes = panel_axes(fig)
    titles = [ax.kt_panel for ax in axes]
    assert len(axes) == 4, titles
    assert "hidden under anaesthesia" in titles[0]
    assert "the highest of 3 doses" in titles[1]  # review N3: the arm chosen, said
    assert "TRANSFORM-1 and -2 pooled" in titles[2] and "each TRANSFORM trial" in titles[3]
    for ax in axes[:3]:
        check_time_axis(ax, DETAIL_TICKS, 648)
        lines = arm_lines(ax)
        drug = [ln for ln in lines.values() if ln.kt_points[0].arm == "drug"]
        control = [ln for ln in lines.values() if ln.kt_points[0].arm == "control"]
        assert len(drug) == len(control) == 1, ax.kt_panel
        (d,), (c,) = drug, control
        # One colour per trial; the comparison arm open and dotted, never a look-alike.
        assert d.get_color() == c.get_color()
        assert d.get_markerfacecolor() == d.get_color()
        assert c.get_markerfacecolor() != c.get_color()
        assert d.get_linestyle() != c.get_linestyle() or d.get_linestyle() == "None"
        names = [t.get_text() for t in ax.texts]
        assert d.get_label() in names and c.get_label() in names, "named at its last point"
    # The pooled TRANSFORM results are not joined: no line implies a steady rise.
    assert all(ln.get_linestyle() == "None" for ln in arm_lines(axes[2]).values())
    assert "no data\nbetween" in [t.get_text() for t in axes[2].texts]
    # Day 28, trial by trial: each comparison arm with its own drug arm(s).
    ends = {p.row_id for ln in axes[3].get_lines() for p in getattr(ln, "kt_points", ())}
    for key in ("popova2019", "fedgchin2019", "ochsross2020"):
        arms = {p.arm for p in fig.source_points if p.study_key == key and p.row_id in ends}
        assert arms == {"drug", "control"}, key
    assert "SSRI/SNRI" not in " ".join(titles), "abbreviations are spelled out"
    # Onset times come from rows, not constants, and are drawn in the strip above the
    # panels: no line through the data that could read as an error bar (review m11).
    keys = {(p.study_key, p.measure) for p in fig.source_points}
    assert ("stassen2007", "time_to_onset_of_improvement") in keys
    assert ("kishimoto2016", "time_to_peak_effect") in keys
    events = {p.row_id for p in fig.source_points if p.measure.startswith("time_to_")}
    in_panels = {
        p.row_id for ax in axes for ln in ax.get_lines() for p in getattr(ln, "kt_points", ())
    }
    assert not events & in_panels
    (strip,) = [ax for ax in fig.axes if not hasattr(ax, "kt_panel")]
    stassen = next(p for p in fig.source_points if p.measure == "time_to_onset_of_improvement")
    # Stassen 2007 pooled drug AND placebo: never drawn as "antidepressant onset".
    assert stassen.drug_class == "drug_and_placebo_pooled"
    strip_text = " ".join(t.get_text().replace("\n", " ") for t in strip.texts)
    assert "on a drug or on placebo" in strip_text and "Antidepressants:" not in strip_text
    assert any(
        stassen in getattr(ln, "kt_points", ()) and 13 * 24 in ln.get_xdata()
        for ln in strip.get_lines()
    )

    # The strip is grey, not the colour of a trial drawn under it.
    def colours(ax):
        return {ln.get_color() for ln in ax.get_lines() if getattr(ln, "kt_points", None)}

    assert colours(strip) and not colours(strip) & set().union(*map(colours, axes))
    # No open-marker legend: the figure draws no row read in a secondary summary (m12).
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "summary article" not in texts
    check_traceable(fig)
    plt.close(fig)


def test_single_dose_course(points, theme):
    """After one dose, one panel per trial (the masked trial, nine trials pooled, the
    esketamine dose-finding trial); after repeated doses, a panel of each trial's drug
    arm(s) joined to its own comparison arm."""
    fig = plot_single_dose_course(points, theme)
    axes = panel_axes(fig)
    titles = [ax.kt_panel for ax in axes]
    assert len(axes) == 4, titles
    assert "Masked trial" in titles[0] and "9 trials pooled" in titles[1]
    assert "more than one dose" in titles[2], "the 'after one dose' caveat, on every layout"
    assert "After repeated doses" in titles[3]
    for ax in axes[:3]:
        check_time_axis(ax, SINGLE_TICKS, 336)
    # Lii and Han are told apart by colour and marker, not only by their panel.
    lii = arm_lines(axes[0])["ketamine"]
    han = arm_lines(axes[1])["ketamine arms"]
    assert lii.get_color() != han.get_color() and lii.get_marker() != han.get_marker()
    doses = arm_lines(axes[2])
    assert {"28 mg", "56 mg", "84 mg", "placebo spray"} <= set(doses)
    assert len({doses[d].get_marker() for d in ("28 mg", "56 mg", "84 mg")}) == 3
    # Each end-of-course drug arm is drawn with its trial's comparison arm.
    text = " ".join(t.get_text().replace("\n", " ") for t in axes[3].texts)
    for trial in ("ELEKT-D", "TRANSFORM-1", "TRANSFORM-2", "TRANSFORM-3"):
        assert trial in text, trial
    assert "ECT (an active treatment); self-rated scale" in text
    ends = [p for p in fig.source_points if p.timepoint_hours >= 3 * 168]
    for key in ("anand2023", "popova2019", "fedgchin2019", "ochsross2020"):
        assert {p.arm for p in ends if p.study_key == key} == {"drug", "control"}, key
    assert {p.value for p in ends if p.arm == "control"} >= {41.2, 52.0, 38.9, 13.3}
    assert all("Response" in ax.get_ylabel() for ax in axes[:3])
    # One marker size for every arm: size encodes nothing (it used to grow with dose).
    sizes = {ln.get_markersize() for ax in axes[:3] for ln in arm_lines(ax).values()}
    assert len(sizes) == 1, sizes
    used = {p.study_key for p in fig.source_points}
    assert {"lii2023", "han2016", "daly2018"} <= used
    check_traceable(fig)
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_theme_contrast(name):
    t = THEMES[name]
    assert contrast_ratio(t.text, t.background) >= 4.5
    assert contrast_ratio(t.muted, t.background) >= 3.0
    for cls, col in t.classes.items():
        assert contrast_ratio(col, t.background) >= 3.0, (name, cls, col)


def test_contrast_ratio_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_furo_backgrounds():
    assert THEMES["light"].background == "#ffffff"
    assert THEMES["dark"].background == "#131416"
