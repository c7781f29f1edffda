"""The figure registry: each figure's caption, alt text and data table computed from the
one object it draws, every caption number a drawn number, one link per series with a
tooltip and a target a phone can tap, and the same promises in the built HTML, PDF and
EPUB (one caption, no repeated sentence, no tooltips in print, a data table under each
figure)."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from bs4 import BeautifulSoup

from ketamine_timelines import load_points
from ketamine_timelines.computed import PARTLY_WORDS
from ketamine_timelines.display import render
from ketamine_timelines.drawing import HIT_PT
from ketamine_timelines.figure_onset import onset_headline, plot_onset_headline
from ketamine_timelines.figure_treatment_day import plot_treatment_day, treatment_day
from ketamine_timelines.figures import DATA_TITLE, FIGURES, figure
from ketamine_timelines.outputs import OUTPUT_ENV
from ketamine_timelines.style import MIN_FONT_PT, NARROW_WIDTH_IN

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])[-\u2212]?\d+(?:\.\d+)?")
#: Chapters that show a figure with the directive, and the figure each shows.
CHAPTER_FIGURES = {
    "docs/03-depression-and-anxiety": "onset",
    "docs/06-comparisons": "onset",
}


@pytest.fixture(scope="module")
def points():
    return load_points(ROOT / "data" / "onset_timelines.csv", ROOT / "references.bib")


def numbers_in(text: str) -> list[float]:
    return [float(n.replace("\u2212", "-")) for n in NUMBER.findall(text)]


def drawn_numbers(fig) -> set[float]:
    """Every number a figure shows: the values its data artists draw (y values, times in
    hours, days and weeks, n, ranges, the trial counts of the rows) and every number
    written in it (titles, labels, ticks)."""
    values: set[float] = set()
    fig.canvas.draw()  # tick labels are written at draw time
    for ax in fig.axes:
        # The axis range, in the units an alt text names it ("from 30 minutes to 8 weeks").
        for h in ax.get_xlim():
            values.update({h, h * 60, h / 24, h / 168})
        for ln in ax.get_lines():
            values.update(float(v) for v in getattr(ln, "kt_values", ()))
            for p in getattr(ln, "kt_points", ()):
                h = p.timepoint_hours
                values.update({p.value, h, h / 24, h / 168, h * 60})
                values.update(b for b in (p.n, p.uncertainty_low, p.uncertainty_high) if b)
                values.update(numbers_in(p.treatment + " " + p.timepoint_label))
    for text in fig.findobj(matplotlib.text.Text):
        values.update(numbers_in(text.get_text()))
    return values


def panels(fig) -> list[str]:
    return [ax.kt_panel for ax in fig.axes if hasattr(ax, "kt_panel")]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;])\s+", text) if s.strip()]


# ---------------------------------------------------------------- the headline


@pytest.mark.parametrize("narrow", [False, True])
def test_headline_panels_by_weight_of_evidence(points, narrow):
    fig = plot_onset_headline(points, "light", narrow=narrow)
    data = fig.kt_data
    assert [p.key for p in data.panels] == ["ketamine", "masked", "esketamine", "ssri"]
    assert all(ax.get_legend() is None for ax in fig.axes), "direct labels, no legend"
    # The small masked trial is drawn thin; pooled and large trials bold.
    drawn = {
        ax.kt_panel: [ln for ln in ax.get_lines() if getattr(ln, "kt_values", None)]
        for ax in fig.axes
        if hasattr(ax, "kt_panel")
    }
    small = data.panel("masked").title
    widths = {k: max(ln.get_linewidth() for ln in v) for k, v in drawn.items()}
    assert widths[small] < min(w for k, w in widths.items() if k != small)
    # One marker size for every series of a weight: size no longer encodes n.
    sizes = {ln.get_markersize() for k, v in drawn.items() if k != small for ln in v}
    assert len(sizes) == 1, sizes
    texts = " ".join(t.get_text().replace("\n", " ") for t in fig.findobj(matplotlib.text.Text))
    for needle in (
        "midazolam (a sedative that people can feel)",
        "hidden under anaesthesia",
        "Esketamine spray (a form of ketamine) + new antidepressant vs placebo spray",
        "do not compare heights between panels",  # each panel has its own comparison
        "Time after the first dose",
        "+7.9 at 24 h",  # TRANSFORM's day 2, as time after the first dose
    ):
        assert needle in texts, needle
    # One time per value label: beside an axis of time after the first dose, the source's
    # own day number as well read as a contradiction (cold read, round 2).
    assert "(day 2)" not in texts and "(day 28)" not in texts
    assert " AD" not in texts and "new AD" not in texts, "abbreviations are spelled out"
    assert "secondary summary" not in texts, "plain words for where a number was read"
    assert fig._suptitle.get_text().replace("\n", " ") == data.title()
    # The takeaway includes that the pooled lead, too, was gone by days 10-12.
    assert "gone by days 10\u201312" in data.title()
    # Within three lines on a phone, two on a laptop.
    assert len(fig._suptitle.get_text().splitlines()) <= (3 if narrow else 2)
    # "No data" wherever a panel has no number, the same way in every panel: hatched.
    for ax in fig.axes:
        if not hasattr(ax, "kt_panel"):
            continue
        panel = next(p for p in data.panels if p.title == ax.kt_panel)
        hatched = [a for a in ax.patches if a.get_hatch() and getattr(a, "kt_reference", 0)]
        assert len(hatched) == len(panel.no_data) > 0, ax.kt_panel
        assert "no data" in [t.get_text() for t in ax.texts], ax.kt_panel
    # The 4-week tick, on a phone too (its labels stand on two lines).
    fig.canvas.draw()
    ticks = [t.get_text().replace("\n", " ") for t in fig.axes[-1].get_xticklabels()]
    assert ticks == ["1 hour", "1 day", "1 week", "4 weeks"], ticks
    # Every text of the figure is at least the minimum size (10 CSS px on a phone).
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(sizes) >= MIN_FONT_PT
    plt.close(fig)


@pytest.mark.parametrize("narrow", [False, True])
def test_labels_sit_on_the_side_of_zero_of_their_numbers(points, narrow):
    """A value label never sits below 'no difference' for a gain (it would read as a
    harm), and every panel's axis range covers its data with room for the labels."""
    fig = plot_onset_headline(points, "light", narrow=narrow)
    fig.canvas.draw()
    for ax in fig.axes:
        if not hasattr(ax, "kt_panel"):
            continue
        lo, hi = ax.get_ylim()
        values = [v for ln in ax.get_lines() for v in getattr(ln, "kt_values", ())]
        assert lo <= min(values) and max(values) <= hi
        assert lo >= min(0, *values) - 15 and hi <= max(values) + 30, (ax.kt_panel, lo, hi)
        zero = ax.transData.transform((1, 0))[1]
        for text in ax.texts:
            value = numbers_in(text.get_text())
            if not text.get_text().startswith(("+", "\u2212")) or not value:
                continue
            box = text.get_window_extent()
            if value[0] > 0:
                assert box.y0 >= zero, (ax.kt_panel, text.get_text())
            else:
                assert box.y1 <= zero, (ax.kt_panel, text.get_text())
    plt.close(fig)


def test_headline_gaps_are_drug_minus_own_comparator(points):
    data = onset_headline(points)
    kt = data.panel("ketamine").comparisons
    assert [(c.versus.split(",")[0], c.gaps[0].value) for c in kt] == [
        ("vs placebo", pytest.approx(18.6)),
        ("vs midazolam", pytest.approx(20.6)),  # Cochrane SoF 2: 46.5% vs 25.9%
    ]
    lii = data.panel("masked").comparisons[0].gaps
    assert [g.value for g in lii][:2] == [pytest.approx(10), pytest.approx(-10)]
    assert lii[0].n == 40
    tr = data.panel("esketamine").comparisons[0]
    # Turkoz 2021: 17.3% vs 9.4% on day 2, 58.7% vs 45.2% on day 28: the gap widens.
    assert [g.value for g in tr.gaps] == [pytest.approx(7.9), pytest.approx(13.5)]
    assert [g.rows[1].arm for g in tr.gaps] == ["control", "control"]
    assert tr.gaps[0].n == 318 + 203
    ssri = data.panel("ssri")
    assert all(g.rows[0].study_key == "taylor2006" for g in ssri.comparisons[0].gaps)
    assert ssri.first_measured is not None and ssri.first_measured.hours == 168
    # The small dose-finding trial's best arm is no longer in the headline (review N3).
    assert "daly2018" not in {p.study_key for p in data.rows}


def test_caption_states_the_review_corrections(points):
    cap = FIGURES["onset"].caption(points)
    assert "7.9" in cap and "13.5" in cap and "day 2" in cap and "day 28" in cap
    assert "midazolam" in cap and "20.6" in cap  # N6: the active-placebo comparison
    assert "hid ketamine under anaesthesia" in cap  # N6: the masked trial
    assert PARTLY_WORDS in cap  # N5: the SSRI numbers' source, in plain words
    assert "their first measurement" in cap  # the SSRI line starts where measuring did
    assert "45 people" not in cap and "small esketamine trial" not in cap  # N3
    assert "not a head-to-head" in cap


# ---------------------------------------------------------------- every figure


@pytest.mark.parametrize("name", sorted(FIGURES))
@pytest.mark.parametrize("narrow", [False, True])
def test_caption_and_alt_numbers_are_drawn_numbers(points, name, narrow):
    spec = FIGURES[name]
    data = spec.data(points)
    fig = spec.draw(data, "light", narrow=narrow)
    allowed = drawn_numbers(fig)
    for text in (data.caption(), data.alt()):
        for x in numbers_in(text):
            assert any(abs(abs(x) - abs(v)) < 0.051 for v in allowed), f"{name}: {x} in {text!r}"
    # Counts are counted from the drawn rows ("from 6 studies").
    for m in re.finditer(r"from (\d+) studies", data.caption()):
        assert int(m.group(1)) == len(
            {p.study_key for p in fig.source_points if p.measure.endswith("rate")}
        )
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_one_caption_without_repeated_sentences(points, name):
    data = FIGURES[name].data(points)
    said = sentences(data.caption())
    assert len(said) == len(set(said)), said
    assert data.title() not in data.caption(), "the title line and the caption say it twice"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_alt_text_describes_exactly_the_panels_drawn(points, name):
    spec = FIGURES[name]
    data = spec.data(points)
    fig = spec.draw(data, "light")
    drawn = panels(fig)
    alt = data.alt()
    words = {1: "One panel", 2: "Two panels", 3: "Three panels", 4: "Four panels"}
    assert alt.startswith(words[len(drawn)]), (alt[:80], drawn)
    for title in drawn:
        assert title in alt, title
    assert "Two panels" not in alt or len(drawn) == 2  # N2: no panel that is not drawn
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_data_table_lists_every_drawn_row(points, name, monkeypatch):
    monkeypatch.setenv(OUTPUT_ENV, "book")  # the MyST the book's build renders
    data = FIGURES[name].data(points)
    table = data.table()
    assert {r.study_key for r in table} == {p.study_key for p in data.rows}
    listed = " ".join(f"{r.when} {r.number} {r.people}" for r in table)
    for p in data.rows:
        assert f"{p.value:g}" in listed or p.timepoint_label in listed, (name, p.row_id)
    md = figure(name, points).data_table
    assert md.startswith(f"::::{{dropdown}} {DATA_TITLE}")
    assert ":class-container: kt-data" in md
    assert all(line.count("|") == 6 for line in md.splitlines() if line.startswith("| "))
    # A reader's Jupyter gets the same table in CommonMark, citations linked (outputs.py).
    monkeypatch.delenv(OUTPUT_ENV)
    plain = figure(name, points).data_table
    assert plain.startswith(f"**{DATA_TITLE}**") and "{" not in plain and "](https://" in plain


def test_detail_counts_the_studies_it_draws(points):
    """Review N2: six studies' response rates are drawn, so the caption says six."""
    data = FIGURES["onset-detail"].data(points)
    assert "from 6 studies" in data.caption()
    assert "murrough2013" not in {p.study_key for p in data.rows}


def test_open_markers_are_explained_only_where_drawn(points):
    """Review m12: no figure tells readers about open markers for numbers read in a
    summary article unless it draws one (the notebook figures' open markers are
    comparison arms, and their key says so)."""
    for name, spec in FIGURES.items():
        data = spec.data(points)
        fig = spec.draw(data, "light")
        texts = " ".join(t.get_text().replace("\n", " ") for t in fig.findobj(matplotlib.text.Text))
        partly = any(p.is_partly for p in data.rows)
        assert (PARTLY_WORDS in texts) == partly, name
        plt.close(fig)


# ---------------------------------------------------------------- links


def test_every_series_is_one_link_with_a_tooltip(points):
    fig = plot_onset_headline(points, "light")
    groups = len(fig.kt_titles)
    svg = render(fig, "svg").decode()
    links = re.findall(r'<a href="([^"]+)"[^>]*><title>([^<]+)</title>', svg)
    assert len(links) == groups == svg.count("<a ")
    for url, title in links:
        assert url.startswith(("https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/")), url
        assert "per 100" in title or "ahead" in title, title
    assert 'rel="noopener noreferrer"' in svg
    assert "<script" not in svg


def test_hit_areas_are_a_phone_tap_target(points):
    """24 pt on a 4.2-inch figure shown in a 350-px column is 27.8 CSS px (>= 24)."""
    assert HIT_PT * 350 / (NARROW_WIDTH_IN * 72) >= 24


# ---------------------------------------------------------------- treatment day


@pytest.mark.parametrize("narrow", [False, True])
def test_treatment_day_compares_harms_with_harms(points, narrow):
    data = treatment_day(points)
    bp = next(s for s in data.spans if s.rows[0].study_key == "fda_spravato_label")
    assert bp.peak == pytest.approx(40 / 60, abs=1e-3) and bp.end == 4
    assert all(s.drug_class != "ssri_snri" for s in data.spans), "no benefit bar (N14)"
    fig = plot_treatment_day(points, "light", narrow=narrow)
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    joined = " ".join(t.replace("\n", " ") for t in texts)
    # The key names the colours drawn (a cold reader guessed them); every mark is named.
    for needle in (
        "Esketamine (nasal spray)",
        "IV ketamine (a drip)",
        "diamond: the peak",
        "not reported after the peak",
        "peak time not reported",  # the dissociation row has no diamond, and says why
        "generally passed by 1.5 hours",  # the source's own hedge
        "size of the rise not in this book\u2019s data",  # like for like, or say so
        "Not shown: when SSRIs",
    ):
        assert needle in joined.replace("\u00a0", " "), needle
    for source in ("prescribing label", "TRANSFORM-2", "clinic records"):
        assert source not in joined, "sources in plain words"
    # "Not reported" is never drawn as a length: no hatching, and after a peak with no
    # reported end nothing but words (cold reads took a bar, then a stub, for a duration).
    ax = fig.axes[0]
    assert not [a for a in ax.patches if a.get_hatch()]
    assert not [ln for ln in ax.get_lines() if ln.get_linestyle() not in ("-", "None")]
    iv = next(s for s in data.spans if s.end is None and s.peak is not None)
    drawn_to = [
        max(ln.get_xdata())
        for ln in ax.get_lines()
        if ln.get_linestyle() == "-" and getattr(ln, "kt_points", None) == iv.rows
    ]
    assert not drawn_to, "a peak-only row draws no line"
    # A number never parts from its unit at a line break.
    assert any("+16\u00a0mmHg" in t for t in texts)
    assert not any(re.search(r"\d\n(mmHg|systolic|hours|minutes)", t) for t in texts)
    # The note under the figure never leaves one word alone on its last line.
    note = next(t for t in texts if t.startswith("Not shown"))
    assert len(note.splitlines()[-1]) >= 12, note
    assert all(ln.get_marker() != "v" for ax in fig.axes for ln in ax.get_lines())
    plt.close(fig)


def test_notebook_figure_html_has_both_layouts_and_themes(points, monkeypatch):
    monkeypatch.setenv(OUTPUT_ENV, "book")  # the outputs the book's build renders
    fig = figure("treatment-day", points)
    html = fig.html()
    assert 'class="kt-fig-wide"' in html and 'class="kt-fig-narrow"' in html
    assert html.count("<svg") == 2 and "data-theme=dark" in html
    assert 'role="group"' in html and "<figcaption" in html
    md = fig.caption_markdown().data
    from ketamine_timelines.tables import markdown_text  # the caption, escaped for MyST

    assert "kt-caption" in md and markdown_text(fig.caption) in md
    assert "{cite:t}`fda_spravato_label`" in md
    assert fig.data_markdown().data == fig.data_table


def test_no_compiler_notes_in_reader_visible_columns(points):
    for p in points:
        for text in (p.source_location, p.treatment, p.timepoint_label):
            low = text.lower()
            assert "scraped" not in low and "clinic site" not in low, (p.row_id, text)


# ---------------------------------------------------------------- in every builder


def caption_checks(where: str, caption: str, table: str, figure_text: str = "") -> list[str]:
    """One caption whose numbers all stand in the figure's data table (or its own text)."""
    problems = []
    caption = caption.split(" Sources:")[0]  # the note naming the studies is no caption
    said = sentences(caption)
    if len(said) != len(set(said)):
        problems.append(f"{where}: a sentence is repeated in the caption")
    shown = set(numbers_in(table + " " + figure_text))
    for x in numbers_in(caption):
        if not any(abs(abs(x) - abs(v)) < 0.051 for v in shown) and x not in (100, 1, 2):
            problems.append(f"{where}: caption number {x} is not in the data table")
    return problems


@pytest.mark.build
def test_html_figures_have_one_computed_caption_and_a_data_table(book_build: Path, points):
    problems = []
    for page, name in CHAPTER_FIGURES.items():
        soup = BeautifulSoup((book_build / f"{page}.html").read_text(), "lxml")
        (fig,) = soup.select("figure.timeline-figure")
        caps = fig.select("figcaption")
        assert len(caps) == 1
        caption = caps[0].select_one(".caption-text").get_text(" ", strip=True)
        assert caption == FIGURES[name].caption(points).replace("'", "\u2019") or caption == (
            FIGURES[name].caption(points)
        )
        paragraphs = [p.get_text(" ", strip=True) for p in caps[0].select("p")]
        assert all(p.startswith(("Fig", "Sources:")) for p in paragraphs), paragraphs
        details = fig.find_next_sibling()
        assert details is not None and "kt-data" in details.get("class", []), page
        assert details.name == "details" and "Data behind Figure" in details.summary.get_text()
        problems += caption_checks(page, caption, details.get_text(" "))
    for page in ("notebooks/onset-timelines", "notebooks/side-effects-over-time"):
        soup = BeautifulSoup((book_build / f"{page}.html").read_text(), "lxml")
        for cap in soup.select(".kt-caption"):
            details = cap.find_next("details")
            assert details is not None and "kt-data" in details.get("class", []), page
            problems += caption_checks(page, cap.get_text(" "), details.get_text(" "))
    assert not problems, "\n".join(problems)


def test_a_legend_beside_the_computed_caption_is_refused(tmp_path: Path):
    """One caption per figure: the directive takes no content, and says where."""
    from conftest import make_project_copy, run_sphinx

    page = (
        "# Book\n\n```{timeline-figure} onset\n\nA hand-written legend.\n```\n\n"
        "```{bibliography}\n```\n"
    )
    project = make_project_copy(tmp_path, page)
    result = run_sphinx(project, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "index.md:3" in output and "Has content, but none permitted" in output, output[-2000:]


@pytest.mark.build
@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
def test_epub_figures_are_the_phone_layout_with_caption_and_data(book_epub: Path, points):
    """EPUB: every figure is the phone layout (its text measured at 600 px in Chromium by
    tests/test_figures_browser.py), with one caption and its data table open (no
    ``<details>``), and no page tells readers about tooltips."""
    problems = []
    with zipfile.ZipFile(book_epub) as epub:
        for name in epub.namelist():
            if not name.endswith(".xhtml"):
                continue
            soup = BeautifulSoup(epub.read(name), "lxml")
            if "tooltip" in soup.get_text(" ").casefold():
                problems.append(f"{name}: mentions tooltips")
            if soup.select("details"):
                problems.append(f"{name}: a <details> an e-reader may not open")
            captions = [
                *soup.select("figure.timeline-figure figcaption .caption-text"),
                *soup.select(".kt-caption"),
            ]
            for cap in captions:
                table = cap.find_next("div", class_="kt-data")
                if table is None:
                    problems.append(f"{name}: a figure without its data table")
                    continue
                problems += caption_checks(name, cap.get_text(" "), table.get_text(" "))
            for img in soup.select("img"):
                src = img.get("src", "")
                if "_images/" not in src or not src.endswith(".svg"):
                    continue
                path = os.path.normpath(str(Path(name).parent / src))
                svg = epub.read(path).decode()
                width = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1))
                if width > NARROW_WIDTH_IN * 72 + 1:
                    problems.append(f"{name}: {src} is the wide layout ({width} pt)")
    assert not problems, "\n".join(problems)


@pytest.mark.latex
def test_pdf_has_one_caption_per_figure_and_no_tooltips(book_latex: Path, points):
    from pypdf import PdfReader

    from conftest import PDF_NAME

    text = " ".join(p.extract_text() or "" for p in PdfReader(book_latex / PDF_NAME).pages)
    text = re.sub(r"\s+", " ", text)
    assert "tooltip" not in text.casefold()
    tex = (book_latex / PDF_NAME.replace(".pdf", ".tex")).read_text()
    for name in ("onset", "onset-detail", "single-dose", "treatment-day"):
        caption = FIGURES[name].caption(points)
        head = caption.split(" ")[:6]
        # The onset figure is in chapters 3 and 6 and its notebook; the others once.
        assert text.count(" ".join(head)) == (3 if name == "onset" else 1), name
    # "Data behind Figure 3.1" under the chapter figures, "this figure" in the notebooks.
    assert tex.count("Data behind") >= 6


def test_epub_notebook_figure_is_the_phone_layout(points):
    svg = figure("onset", points).epub_svg()
    assert re.search(r'<svg[^>]*\swidth="302.4pt"', svg), "the phone layout, 4.2 in wide"
    assert ' rel="' not in svg and '<a href="' not in svg, "SVG 1.1 links only (epubcheck)"
