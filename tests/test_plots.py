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
#: Words, not abbreviations: "1 d" and "wk" are not explained on the figure.
EXPECTED_TICKS = ["1 hour", "1 day", "1 week", "4 weeks", "12 weeks"]


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
    assert lo <= 1 and hi >= 12 * 168


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
            if isinstance(art, plt.Line2D) and not art.get_label().startswith("_"):
                assert list(art.get_ydata()) == pytest.approx([p.value for p in pts])
    assert drawn == set(src), "source_points lists rows that were not drawn"


def test_onset_detail_series(points, theme):
    fig = plot_onset(points, theme)
    strip, ax_a = fig.axes
    check_time_axis(ax_a)
    a = " ".join(labels(ax_a))
    for needle in (
        "IV ketamine, masked",
        "saline, masked",
        "esketamine 84 mg, the highest of 3 doses",  # review N3: the arm chosen, said
        "placebo spray",
        "new antidepressant + placebo spray",
    ):
        assert needle in a
    assert "SSRI/SNRI" not in a, "abbreviations are spelled out"
    assert "MADRS" in ax_a.get_ylabel() and "%" in ax_a.get_ylabel()
    # Onset times come from rows, not constants, and are drawn in the strip above the
    # panel: no line through the data that could read as an error bar (review m11).
    keys = {(p.study_key, p.measure) for p in fig.source_points}
    assert ("stassen2007", "time_to_onset_of_improvement") in keys
    assert ("kishimoto2016", "time_to_peak_effect") in keys
    events = {p.row_id for p in fig.source_points if p.measure.startswith("time_to_")}
    in_panel = {p.row_id for ln in ax_a.get_lines() for p in getattr(ln, "kt_points", ())}
    assert not events & in_panel
    stassen = next(p for p in fig.source_points if p.measure == "time_to_onset_of_improvement")
    # Stassen 2007 pooled drug AND placebo: never drawn as "antidepressant onset".
    assert stassen.drug_class == "drug_and_placebo_pooled"
    strip_text = " ".join(t.get_text().replace("\n", " ") for t in strip.texts)
    assert "on a drug or on placebo" in strip_text and "Antidepressants:" not in strip_text
    assert any(
        stassen in getattr(ln, "kt_points", ()) and 13 * 24 in ln.get_xdata()
        for ln in strip.get_lines()
    )
    # No open-marker legend: the figure draws no row read in a secondary summary (m12).
    legend = " ".join(t.get_text() for t in ax_a.get_legend().get_texts())
    assert "open marker" not in legend
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
    # One marker size per kind of mark: size encodes nothing (it used to grow with dose).
    sizes = {
        ln.get_markersize()
        for ln in ax.get_lines()
        if getattr(ln, "kt_points", None) and ln.get_linestyle() != "None"
    }
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
