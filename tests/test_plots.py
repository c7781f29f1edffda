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
    plot_side_effect_window,
    plot_single_dose_course,
)

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_TICKS = ["40 min", "4 h", "1 d", "1 wk", "4 wk", "12 wk"]


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


def check_time_axis(ax):
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == EXPECTED_TICKS
    assert all(not t.get_text() for t in ax.get_xticklabels(minor=True))
    lo, hi = ax.get_xlim()
    assert lo <= 40 / 60 and hi >= 12 * 168


def check_traceable(fig):
    """Every data artist carries the rows it draws; series y values equal those rows."""
    src = {p.row_id: p for p in fig.source_points}
    assert src and all(p.source_location for p in src.values())
    drawn = set()
    for ax in fig.axes:
        for art in [*ax.get_lines(), *ax.patches]:
            if getattr(art, "kt_reference", False):
                continue
            pts = getattr(art, "kt_points", None)
            assert pts is not None, f"untraceable artist {art!r}"
            assert all(p.row_id in src for p in pts)
            drawn.update(p.row_id for p in pts)
            if isinstance(art, plt.Line2D) and not art.get_label().startswith("_"):
                assert list(art.get_ydata()) == pytest.approx([p.value for p in pts])
    assert drawn == set(src), "source_points lists rows that were not drawn"


def test_onset_detail_series(points, theme):
    fig = plot_onset(points, theme)
    (ax_a,) = fig.axes
    check_time_axis(ax_a)
    a = " ".join(labels(ax_a))
    for needle in (
        "IV ketamine, masked",
        "saline, masked",
        "esketamine 84 mg",
        "placebo spray",
        "new SSRI/SNRI + placebo spray",
    ):
        assert needle in a
    assert "MADRS" in ax_a.get_ylabel() and "%" in ax_a.get_ylabel()
    # Onset markers come from rows, not constants.
    keys = {(p.study_key, p.measure) for p in fig.source_points}
    assert ("stassen2007", "time_to_onset_of_improvement") in keys
    assert ("kishimoto2016", "time_to_peak_effect") in keys
    stassen = next(p for p in fig.source_points if p.measure == "time_to_onset_of_improvement")
    # Stassen 2007 pooled drug AND placebo: never drawn as "antidepressant onset".
    assert stassen.drug_class == "drug_and_placebo_pooled"
    legend = " ".join(t.get_text() for t in ax_a.get_legend().get_texts())
    assert "drug or placebo" in legend and "Antidepressants:" not in legend
    assert any(
        getattr(ln, "kt_points", ()) == (stassen,) and ln.get_xdata()[0] == pytest.approx(13 * 24)
        for ln in ax_a.get_lines()
    )
    check_traceable(fig)
    plt.close(fig)


def test_single_dose_course(points, theme):
    fig = plot_single_dose_course(points, theme)
    (ax,) = fig.axes
    check_time_axis(ax)
    text = " ".join(labels(ax))
    for needle in ("Lii", "Han", "esketamine 28 mg", "esketamine 84 mg", "TRANSFORM-3", "ECT"):
        assert needle in text
    # Each end-of-course drug arm is drawn with its trial's comparison arm.
    ends = [p for p in fig.source_points if p.timepoint_hours >= 3 * 168]
    for key in ("anand2023", "popova2019", "fedgchin2019", "ochsross2020"):
        assert {p.arm for p in ends if p.study_key == key} == {"drug", "control"}, key
    assert {p.value for p in ends if p.arm == "control"} >= {41.2, 52.0, 38.9, 13.3}
    assert "Response" in ax.get_ylabel() and "MADRS" in ax.get_ylabel()
    used = {p.study_key for p in fig.source_points}
    assert {"lii2023", "han2016", "daly2018"} <= used
    check_traceable(fig)
    plt.close(fig)


def test_side_effect_window(points, theme):
    fig = plot_side_effect_window(points, theme)
    ax_a, ax_b = fig.axes[:2]
    check_time_axis(ax_a)
    assert "mmHg" in ax_a.get_ylabel()
    assert "CADSS" in ax_b.get_ylabel()
    # No curves: every BP and CADSS series is markers only.
    for ax in (ax_a, ax_b):
        for ln in ax.get_lines():
            pts = getattr(ln, "kt_points", ())
            if ln.get_label() and not ln.get_label().startswith("_") and pts:
                assert ln.get_linestyle() == "None"
    yale = [p for p in fig.source_points if p.study_key == "yale_bp2024"]
    assert {p.scale for p in yale} == {"SBP", "DBP"}
    assert all(p.timepoint_hours == pytest.approx(40 / 60, abs=1e-3) for p in yale)
    texts = " ".join(t.get_text() for t in ax_a.texts + ax_b.texts)
    assert "no line" in texts and "Two points only" in texts
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
