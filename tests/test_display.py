"""ThemedFigure output: both themes inline, unique ids, all formats, byte-for-byte stable."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from ketamine_timelines import (
    ThemedFigure,
    load_points,
    plot_onset,
    plot_single_dose_course,
    plot_treatment_day,
    sources_table,
)
from ketamine_timelines.outputs import OUTPUT_ENV

ROOT = Path(__file__).resolve().parents[1]
ALT = "Line chart of response rates over time after ketamine, esketamine and SSRIs."


@pytest.fixture(scope="module")
def points():
    return load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")


@pytest.fixture(autouse=True, scope="module")
def _book_outputs():
    """The outputs the book's build renders (test_outputs.py checks a reader's)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(OUTPUT_ENV, "book")
        yield


@pytest.fixture(autouse=True)
def _no_source_date(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def bundle(points):
    return ThemedFigure(lambda t: plot_onset(points, t), alt=ALT)._repr_mimebundle_()


def test_mime_types(bundle):
    assert set(bundle) == {
        "text/html",
        "application/pdf",
        "image/svg+xml",
        "image/png",
        "text/plain",
    }
    assert bundle["text/plain"] == ALT
    assert bundle["application/pdf"].startswith(b"%PDF")
    assert bundle["image/png"].startswith(b"\x89PNG")


def test_png_is_small_enough_for_a_notebook(bundle):
    # A palette PNG: the downloaded .ipynb stays far below 400 KB.
    assert bundle["image/png"][25] == 3, "colour type 3 (palette)"
    assert len(bundle["image/png"]) < 200_000


def test_png_is_150_dpi(bundle):
    # pHYs chunk: pixels per metre; 150 dpi = 5906 px/m.
    png = bundle["image/png"]
    i = png.index(b"pHYs")
    assert int.from_bytes(png[i + 4 : i + 8], "big") == 5906


def test_html_is_one_accessible_svg_that_follows_the_theme(bundle):
    html = bundle["text/html"]
    assert html.startswith('<svg class="kt-adaptive kt-')
    assert html.count("<svg") == 1, "one inline SVG serves both themes"
    # Its points are links, so the SVG is a labelled group (an img's children are hidden).
    assert html.count(f'role="group" aria-label="{ALT}"') == 1
    assert html.count(f"<title>{ALT}</title>") == 1
    assert "<?xml" not in html and "<!DOCTYPE" not in html
    # Every colour that differs between the themes is a custom property with the light
    # value as fallback, and the dark values are set for Furo's dark and auto modes.
    variables = set(re.findall(r"var\((--kt\d+), #[0-9a-fA-F]{6}\)", html))
    assert variables
    assert "body[data-theme=dark]" in html and "prefers-color-scheme:dark" in html
    assert all(f"{name}:#" in html for name in variables)


def test_adaptive_svg_matches_both_renderings(points):
    from ketamine_timelines.display import _HEX, adaptive_svg, render

    light = render(plot_onset(points, "light"), "svg").decode()
    dark = render(plot_onset(points, "dark"), "svg").decode()
    html = adaptive_svg(light, dark, alt=ALT)
    fallback = re.sub(r"var\(--kt\d+, (#[0-9a-fA-F]{6})\)", r"\1", html)
    dark_values = dict(re.findall(r"(--kt\d+):(#[0-9a-fA-F]{6})", html))
    as_dark = re.sub(r"var\((--kt\d+), #[0-9a-fA-F]{6}\)", lambda m: dark_values[m[1]], html)
    assert set(_HEX.findall(light)) - {"#000000"} <= set(_HEX.findall(fallback))
    assert set(_HEX.findall(dark)) <= set(_HEX.findall(as_dark))


def test_variants_that_differ_in_more_than_colour_stay_separate():
    from ketamine_timelines.display import adaptive_svg

    light = '<svg><title>a</title><path d="M 0 0" style="fill: #ffffff"/></svg>'
    dark = '<svg><title>a</title><path d="M 1 1" style="fill: #000000"/></svg>'
    assert adaptive_svg(light, dark, alt="a") is None


def test_html_ids_unique_and_references_resolve(bundle):
    html = bundle["text/html"]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids))
    refs = set(re.findall(r"url\(#([^)]+)\)", html)) | set(re.findall(r'href="#([^"]+)"', html))
    assert refs <= set(ids)
    # ids carry the figure's own prefix, so two figures on one page never collide
    assert all(i.startswith("kt-") for i in ids)


def test_text_stays_text(bundle):
    # svg.fonttype 'none': labels are <text>, not glyph paths.
    assert "<text" in bundle["text/html"]
    assert "Time after the first dose" in bundle["text/html"]


@pytest.mark.parametrize("plot", [plot_onset, plot_single_dose_course, plot_treatment_day])
def test_deterministic_and_dateless(points, plot):
    a = ThemedFigure(lambda t: plot(points, t), alt="a")
    b = ThemedFigure(lambda t: plot(points, t), alt="a")
    for theme in ("light", "dark"):
        assert a.svg(theme) == b.svg(theme)
        assert "<dc:date>" not in a.svg(theme)
    assert a.pdf() == b.pdf()
    assert b"CreationDate" not in a.pdf() and b"ModDate" not in a.pdf()


def test_figures_closed_after_rendering(points):
    plt.close("all")
    ThemedFigure(lambda t: plot_onset(points, t), alt="a")._repr_mimebundle_()
    assert plt.get_fignums() == []


def test_source_points_exposed(points):
    tf = ThemedFigure(lambda t: plot_onset(points, t), alt="a")
    tf.svg()
    assert tf.source_points and all(p.source_location for p in tf.source_points)


def test_sources_table(points):
    fig = plot_onset(points, "light")
    md = sources_table(fig.source_points, caption="Studies behind the onset figure").data
    plt.close(fig)
    assert md.startswith("```{table} Studies behind the onset figure")
    assert md.rstrip().endswith("```")
    studies = {p.study_key for p in fig.source_points}
    for key in studies:
        assert md.count(f"{{cite:t}}`{key}`") == 1
    assert "https://doi.org/10.1038/s44220-023-00140-x" in md
    partly = sources_table([p for p in points if p.is_partly]).data
    assert "read in a secondary source" in partly
    rows = [ln for ln in md.splitlines() if ln.startswith("| {cite:t}")]
    assert len(rows) == len(studies)
    assert all(ln.count("|") == 5 for ln in rows)  # four columns fit a phone and the PDF
