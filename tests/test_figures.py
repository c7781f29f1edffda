"""The figure registry: one message per headline figure, captions and alt text computed
from the rows drawn, and every plotted point a link with a tooltip in the SVG itself."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from ketamine_timelines import load_points
from ketamine_timelines.display import render
from ketamine_timelines.figures import FIGURES, figure
from ketamine_timelines.outputs import OUTPUT_ENV
from ketamine_timelines.plots import onset_comparisons, plot_onset_headline, plot_treatment_day
from ketamine_timelines.style import MIN_FONT_PT

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


@pytest.fixture(scope="module")
def points():
    return load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")


def drawn_values(fig) -> set[float]:
    """Every number the figure's data artists draw (y values, x positions in hours, n)."""
    values: set[float] = set()
    for ax in fig.axes:
        for ln in ax.get_lines():
            values.update(float(v) for v in getattr(ln, "kt_values", ()))
            for p in getattr(ln, "kt_points", ()):
                values.update({p.value, p.timepoint_hours, p.timepoint_hours / 24})
                values.update({p.timepoint_hours / 168} | ({p.n} if p.n else set()))
    return values


@pytest.mark.parametrize("narrow", [False, True])
def test_headline_one_measure_direct_labels(points, narrow):
    fig = plot_onset_headline(points, "light", narrow=narrow)
    (ax,) = fig.axes
    assert ax.get_legend() is None, "direct labels, no legend"
    names = {c.name for c in onset_comparisons(points)}
    assert names == {
        "IV ketamine vs placebo",
        "Esketamine vs placebo spray",
        "Esketamine + new antidepressant vs new antidepressant",
        "SSRI vs placebo",
    }
    texts = " ".join(t.get_text().replace("\\n", " ") for t in ax.texts)
    assert "SSRI" in texts and "placebo" in texts and "people" in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2 hours", "1 day", "1 week", "4 weeks"]
    # Every text of the figure is at least the minimum size (10 CSS px on a phone).
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(sizes) >= MIN_FONT_PT
    plt.close(fig)


def test_headline_gaps_are_drug_minus_own_comparator(points):
    comps = {c.name: c for c in onset_comparisons(points)}
    tr = comps["Esketamine + new antidepressant vs new antidepressant"]
    # Turkoz 2021: 17.3% vs 9.4% on day 2, 58.7% vs 45.2% on day 28: the gap widens.
    assert [g.value for g in tr.gaps] == [pytest.approx(7.9), pytest.approx(13.5)]
    assert [g.rows[1].arm for g in tr.gaps] == ["control", "control"]
    assert tr.gaps[0].n == 318 + 203
    ssri = comps["SSRI vs placebo"]
    assert all(g.rows[0].study_key == "taylor2006" for g in ssri.gaps)
    assert ssri.gaps[0].hours == 168


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_caption_and_alt_numbers_come_from_rows_drawn(points, name):
    spec = FIGURES[name]
    fig = spec.plot(points, "light")
    allowed = drawn_values(fig)
    # Counts of people and trials named in the data (n, "7 trials") are drawn values too;
    # the count of studies is the only computed number that is not a value.
    allowed |= {float(len({p.study_key for p in fig.source_points}))}
    for text in (spec.caption(points), spec.alt(points)):
        for raw in NUMBER.findall(text):
            x = float(raw)
            if x in (1, 8, 10, 16, 50, 100) or 1990 <= x <= 2030:
                # Axis words ("per 100 people", "1 hour", "10 minutes", "8 weeks",
                # "16 weeks", "50%") and years of the studies cited, not data.
                continue
            assert any(abs(x - v) < 0.051 for v in allowed), f"{name}: {raw} in {text!r}"
    plt.close(fig)


def test_captions_state_the_turkoz_widening_gap(points):
    cap = FIGURES["onset"].caption(points)
    assert "7.9" in cap and "13.5" in cap and "day 2" in cap and "day 28" in cap
    assert "not a head-to-head" in cap


def test_every_point_links_to_its_source_with_a_tooltip(points):
    fig = plot_onset_headline(points, "light")
    svg = render(fig, "svg").decode()
    links = re.findall(r'<a href="([^"]+)"[^>]*><title>([^<]+)</title>', svg)
    assert len(links) == sum(len(c.gaps) for c in onset_comparisons(points))
    for url, title in links:
        assert url.startswith(("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/")), url
        assert ":" in title and "Source:" in title and "per 100 people" in title
    assert 'rel="noopener noreferrer"' in svg
    assert "<script" not in svg


def test_treatment_day_shows_label_time_course(points):
    fig = plot_treatment_day(points, "light")
    spans = fig.kt_spans
    bp = next(s for s in spans if s.rows[0].study_key == "fda_spravato_label")
    assert bp.peak == pytest.approx(40 / 60, abs=1e-3) and bp.end == 4
    ssri = next(s for s in spans if s.drug_class == "ssri_snri")
    assert ssri.start == 168 and ssri.end == 6 * 168
    plt.close(fig)


def test_notebook_figure_html_has_both_layouts_and_themes(points, monkeypatch):
    monkeypatch.setenv(OUTPUT_ENV, "book")  # the outputs the book's build renders
    fig = figure("treatment-day", points)
    html = fig.html()
    assert 'class="kt-fig-wide"' in html and 'class="kt-fig-narrow"' in html
    assert html.count("<svg") == 2 and "data-theme=dark" in html
    assert 'role="group"' in html and "<figcaption" in html
    md = fig.caption_markdown().data
    assert "kt-caption" in md and fig.caption in md and "{cite:t}`fda_spravato_label`" in md


def test_no_compiler_notes_in_reader_visible_columns(points):
    for p in points:
        for text in (p.source_location, p.treatment, p.timepoint_label):
            low = text.lower()
            assert "scraped" not in low and "clinic site" not in low, (p.row_id, text)
