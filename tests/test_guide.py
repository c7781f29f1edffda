"""The patient guide, Table 5.1 and the printable handout, as a reader gets them (issue 19).

- The guide ("Start here") is first in every edition's navigation, is linked from the
  landing page's first phone screen, answers each question the issue lists (each section
  pointing to the chapter with the evidence), reads at grade 8 or below, and states
  numbers computed from the data set, never typed.
- Table 5.1 and the guide's country list state the same decisions, from one data file, and
  the table fits a phone without sideways scrolling.
- The handout fits one or two pages of A4 and of US Letter and says what the guide says.

Every test reads the session's builds (tests/conftest.py): the HTML book, the PDF (whose
LaTeX build also compiles the handout), the EPUB and the HTML build that links them.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import textstat  # 0.7.4, as tests/test_evidence_text.py measures the chapters
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader

from conftest import PDF_NAME, ROOT
from conftest_browser import THEMES, BookSite

pytestmark = pytest.mark.build

GUIDE = "docs/start-here.html"
GUIDE_SOURCE = ROOT / "docs" / "start-here.md"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAX_GRADE = 8.0
#: What the guide must answer (issue 19, item 1): a heading's words -> words its section
#: must hold. Each section but the first two and the last names the chapter behind it.
SECTIONS = {
    "short answers": ("more", "in every 100", "2 hours"),
    "what are ketamine and esketamine": ("anaesthetic", "off-label", "treatment-resistant"),
    "how fast does it work": ("in 100", "more", "day 28", "placebo"),
    "how long does one dose last": ("day",),
    "is it safe": (
        "blood pressure",
        "sleepy",
        "dissociation",
        "feel sick",
        "bladder",
        "misuse",
        "thinking",
        "not approved for children",
        "aneurysm",
        "breastfeeding",
        "MAOIs",
    ),
    "what happens on a treatment day": (
        "certified",
        "2 hours",
        "blood pressure",
        "next day",
        "eat for 2 hours",
        "30 minutes",
        "drip",
        "get home",
    ),
    "how many sessions": ("twice a week", "week 9", "4 weeks", "trials"),
    "what if it does not work": ("antidepressant", "talking therapy", "ECT", "TMS"),
    "where can i get it": (
        "United States",
        "European Union",
        "United Kingdom",
        "Canada",
        "Australia",
        "NICE",
        "insurer",
        "at home",
    ),
    "questions to ask your clinician": ("?",),
}
UNCHAPTERED = {"short answers", "questions to ask your clinician"}
CRISIS_LINES = ("988", "116 123")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def article(path: Path) -> Tag:
    page = soup(path)
    found = page.select_one("article[role=main]") or page.body
    assert found is not None
    return found


def text_of(element: Tag) -> str:
    """What a reader reads: citations out, one space between words."""
    element = BeautifulSoup(str(element), "lxml")
    for cite in element.select("span.bibtex-citation"):
        cite.decompose()
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(element.get_text(" ").split()))


def guide_sections(book_build: Path) -> dict[str, Tag]:
    found = {}
    for section in article(book_build / GUIDE).select("section section"):
        heading = section.find(["h2"])
        if heading is not None:
            found[" ".join(heading.get_text(" ").replace("#", "").split()).casefold()] = section
    return found


def section_for(sections: dict[str, Tag], words: str) -> Tag:
    matches = [s for heading, s in sections.items() if words in heading]
    assert len(matches) == 1, f"the guide has no one section on {words!r}: {list(sections)}"
    return matches[0]


def squash(text: str) -> str:
    """Letters and digits only: line breaks, hyphenation and spacing do not count."""
    text = text.replace("\u2019", "'").replace("\u00ad", "").replace("\u2018", "'")
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


# -- Structure and navigation ---------------------------------------------------------------


def test_guide_is_first_in_the_web_navigation(book_build: Path) -> None:
    for page in ("index.html", "docs/05-clinics.html"):
        links = soup(book_build / page).select(".sidebar-tree a.reference.internal")
        first = links[0].get("href", "")
        assert first.endswith("start-here.html"), f"{page}: first sidebar link is {first}"
    title = article(book_build / GUIDE).find("h1").get_text(" ")
    assert "patients and families" in title, title
    # Unnumbered: the chapters keep their numbers 1-8.
    assert article(book_build / GUIDE).select_one("h1 span.section-number") is None


def test_guide_has_every_section_and_points_to_its_evidence(book_build: Path) -> None:
    sections = guide_sections(book_build)
    missing = []
    for words, needed in SECTIONS.items():
        section = section_for(sections, words)
        text = text_of(section)
        missing += [f"{words}: {w!r}" for w in needed if w.casefold() not in text.casefold()]
        if words not in UNCHAPTERED:
            chapters = [
                a["href"]
                for a in section.select("a.reference.internal")
                if re.match(r"(\.\./)?(docs/)?0\d-", a.get("href", "").split("/")[-1])
            ]
            assert chapters, f"section {words!r} does not point to a chapter with the evidence"
    assert not missing, "the guide leaves questions unanswered: " + "; ".join(missing)


def test_guide_reads_at_grade_8_or_below(book_build: Path) -> None:
    """Every section of the guide, as the chapters' "In brief" boxes are measured: prose
    and list items, without citations, headings and the country list (data, like tables)."""
    from test_evidence_text import plain_text

    body = BeautifulSoup(str(article(book_build / GUIDE)), "lxml")
    for selector in ("span.bibtex-citation", "h1, h2, h3", "a.headerlink", ".kt-approvals-list"):
        for node in body.select(selector):
            node.decompose()
    grades = {"whole guide": textstat.flesch_kincaid_grade(plain_text(body))}
    for section in body.select("section section"):
        grades[section.get("id", "?")] = textstat.flesch_kincaid_grade(plain_text(section))
    too_hard = {name: grade for name, grade in grades.items() if grade > MAX_GRADE}
    assert not too_hard, f"grade above {MAX_GRADE}: {too_hard}"


def test_guide_gives_crisis_lines_wherever_it_mentions_suicide(book_build: Path) -> None:
    for section in [article(book_build / GUIDE), *guide_sections(book_build).values()]:
        text = text_of(section)
        if re.search(r"suicid", text, re.IGNORECASE):
            assert all(line in text for line in CRISIS_LINES), text[:300]


# -- Numbers computed from the data set -------------------------------------------------------


def answer_specs() -> list[str]:
    return re.findall(r"\{answer\}`([^`]+)`", GUIDE_SOURCE.read_text(encoding="utf-8"))


def per_100(value: str) -> int:
    return int(Decimal(value).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def data_rows() -> list[dict[str, str]]:
    with (ROOT / "data" / "onset_timelines.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_guide_numbers_are_the_data_sets(book_build: Path) -> None:
    """Each {answer} in the guide's source shows, in the page, what the content library
    computes from the data set; and the library agrees with the CSV read directly for the
    headline comparison (esketamine + new antidepressant, day 2 and day 28)."""
    from ketamine_timelines.answers import answer
    from ketamine_timelines.data import load_points

    specs = answer_specs()
    assert len(specs) >= 20, specs
    shown = [s.get_text() for s in article(book_build / GUIDE).select("span.kt-answer")]
    points = load_points()
    assert shown == [answer(points, spec) for spec in specs]
    # The CSV itself, without the library: TRANSFORM-1/2 pooled response (Turkoz 2021).
    rows = [
        r for r in data_rows() if r["study_key"] == "turkoz2021" and r["measure"] == "response_rate"
    ]
    for hours, name in (("24", "esketamine-day2"), ("648", "esketamine-day28")):
        arms = {r["arm"]: per_100(r["value"]) for r in rows if r["timepoint_hours"] == hours}
        extra = arms["drug"] - arms["control"]
        assert answer(points, f"{name}:extra") == str(extra)
        assert answer(points, f"{name}:drug") == str(arms["drug"])


def test_guide_types_no_responder_number_by_hand() -> None:
    """In every sentence on who responded or improved, no number stands before "more",
    "in 100" or "in every 100" outside a role: those numbers come from the data set."""
    text = re.sub(r"\{[a-z:-]+\}`[^`]*`", "ROLE", GUIDE_SOURCE.read_text(encoding="utf-8"))
    typed = [
        number
        for line in text.splitlines()
        if re.search(r"respond|improved", line)
        for number in re.findall(r"\b\d+(?:\.\d+)?\s+(?:more\b|in (?:every )?100\b)", line)
    ]
    assert not typed, f"numbers typed into the guide instead of computed: {typed}"


def test_an_unknown_answer_stops_the_build_naming_the_line(tmp_path: Path) -> None:
    from conftest import make_project_copy, run_sphinx

    project = make_project_copy(
        tmp_path,
        "# Test\n\nAbout {answer}`esketamine-day28:extra` more, and {answer}`nothing:extra`.\n",
    )
    result = run_sphinx(project, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    assert result.returncode != 0
    assert "index.md:3" in result.stderr and "unknown answer 'nothing'" in result.stderr


# -- One list of approvals: Table 5.1 and the guide ---------------------------------------------


def approvals() -> list[dict[str, str]]:
    with (ROOT / "data" / "approvals.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_table_and_guide_state_the_same_decisions(book_build: Path) -> None:
    table = article(book_build / "docs/05-clinics.html").select_one(
        "table#tab-esketamine-approvals, #tab-esketamine-approvals table"
    )
    assert table is not None
    rows = [squash(text_of(tr)) for tr in table.select("tbody tr")]
    listed = article(book_build / GUIDE).select_one(".kt-approvals-list")
    assert listed is not None, "the guide has no country list"
    items = [squash(text_of(li)) for li in listed.select("li li")]
    decisions = approvals()
    assert len(rows) == len(items) == len(decisions)
    for decision, row, item in zip(decisions, rows, items, strict=True):
        for column in ("date_label", "decision", "conditions"):
            fact = squash(decision[column])
            assert fact in row, f"Table 5.1 lacks {decision['row_id']} {column}"
            assert fact in item, f"the guide lacks {decision['row_id']} {column}"
    for region in ("Canada", "Australia", "NICE"):
        assert any(squash(region) in row for row in rows), f"Table 5.1 has no {region} row"


def test_a_bad_approvals_row_names_its_file_line_and_column(tmp_path: Path) -> None:
    from ketamine_timelines.approvals import load_approvals
    from ketamine_timelines.data import DataError

    lines = (ROOT / "data" / "approvals.csv").read_text(encoding="utf-8").splitlines()
    edits = [
        ("2019-03,March 2019", "2019-03,May 2019", "date_label"),
        (",approval,", ",approved,", "kind"),
        ("fda_spravato_letter2019;", "no_such_key;", "cite"),
    ]
    for good, bad, column in edits:
        broken = tmp_path / "approvals.csv"
        broken.write_text(f"{lines[0]}\n{lines[1].replace(good, bad)}\n", encoding="utf-8")
        with pytest.raises(DataError) as caught:
            load_approvals(broken, bib_path=ROOT / "references.bib")
        assert f"approvals.csv:2: column '{column}':" in str(caught.value), str(caught.value)


# -- The browser: the first phone screen, and Table 5.1 on a phone ------------------------------


@contextmanager
def tab(browser: Any, viewport: dict[str, int], theme: str) -> Iterator[Any]:
    context = browser.new_context(
        viewport=viewport, color_scheme=theme, reduced_motion="reduce", service_workers="block"
    )
    context.add_init_script(f"window.localStorage.setItem('theme', {json.dumps(theme)});")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("theme", THEMES)
def test_landing_page_links_the_guide_in_the_first_phone_screen(
    book_site: BookSite, chromium: Any, theme: str
) -> None:
    with tab(chromium, PHONE, theme) as page:
        page.goto(book_site.url("index.html"))
        link = page.locator("article a[href$='docs/start-here.html']").first
        assert link.is_visible(), "the landing page has no visible link to the guide"
        box = link.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (
            f"the guide link is not in the first 390x844 screen: {box}"
        )
        assert "patients and families" in link.locator("xpath=..").inner_text()
        # The notice stays on that screen too.
        notice = page.locator("article .admonition.important").first
        notice_box = notice.bounding_box()
        assert notice_box is not None and notice_box["y"] + notice_box["height"] <= PHONE["height"]
        assert "not medical advice" in notice.inner_text()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_approvals_table_needs_no_sideways_scrolling(
    book_site: BookSite, chromium: Any, viewport: dict[str, int]
) -> None:
    with tab(chromium, viewport, "light") as page:
        page.goto(book_site.url("docs/05-clinics.html"))
        table = page.locator("table.kt-approvals")
        table.scroll_into_view_if_needed()
        widths = table.evaluate(
            "(t) => { const w = t.closest('.table-wrapper') || t.parentElement;"
            " return [w.scrollWidth, w.clientWidth, document.documentElement.scrollWidth]; }"
        )
        assert widths[0] <= widths[1] + 1, f"Table 5.1 scrolls sideways: {widths}"
        assert widths[2] <= viewport["width"], f"the page scrolls sideways: {widths}"
        # Every cell of the key columns is on screen horizontally, and readable.
        for column in (1, 3, 4, 5):
            cells = page.locator(f"table.kt-approvals tbody td:nth-child({column})")
            for index in range(cells.count()):
                box = cells.nth(index).bounding_box()
                assert box is not None and box["x"] >= 0, (column, index, box)
                assert box["x"] + box["width"] <= viewport["width"], (column, index, box)
        size = page.locator("table.kt-approvals tbody td").first.evaluate(
            "(td) => parseFloat(getComputedStyle(td).fontSize)"
        )
        assert size >= 12, f"Table 5.1 text is {size}px"


# -- The printable handout ----------------------------------------------------------------------

HANDOUT_SIZES = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}


@pytest.mark.latex
@pytest.mark.parametrize("paper", sorted(HANDOUT_SIZES))
def test_handout_fits_its_paper(book_latex: Path, paper: str) -> None:
    reader = PdfReader(book_latex / f"handout-{paper}.pdf")
    assert 1 <= len(reader.pages) <= 2, f"the {paper} handout has {len(reader.pages)} pages"
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        want = HANDOUT_SIZES[paper]
        assert abs(width - want[0]) < 1 and abs(height - want[1]) < 1, (paper, width, height)
    log = (book_latex / f"handout-{paper}.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log, "a line of the handout runs into the margin"


@pytest.mark.latex
@pytest.mark.parametrize("paper", sorted(HANDOUT_SIZES))
def test_handout_says_what_the_guide_says(book_latex: Path, book_build: Path, paper: str) -> None:
    pdf = subprocess.run(
        ["pdftotext", str(book_latex / f"handout-{paper}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    printed = squash(pdf)
    guide = article(book_build / GUIDE)
    for cls in ("handout-facts", "handout-questions"):
        items = guide.select(f".{cls} li")
        assert len(items) >= 8, f"the guide's {cls} list has {len(items)} items"
        for item in items:
            assert squash(text_of(item)) in printed, f"the handout lacks: {text_of(item)}"
    for line in (*CRISIS_LINES, "not medical advice"):
        assert squash(line) in printed
    from ketamine_timelines.answers import answer
    from ketamine_timelines.data import load_points

    extra = answer(load_points(), "esketamine-day28:extra")
    assert f"{extra} more in 100 by day 28" in " ".join(pdf.split())


@pytest.mark.latex
def test_guide_links_the_handout_and_opens_the_pdf(book_downloads: Path, book_latex: Path) -> None:
    links = {a.get("href") for a in article(book_downloads / GUIDE).select("a.book-download")}
    for paper in HANDOUT_SIZES:
        assert f"../downloads/handout-{paper}.pdf" in links, links
        assert (book_downloads / "downloads" / f"handout-{paper}.pdf").read_bytes()[:5] == b"%PDF-"
    text = " ".join(p.extract_text() or "" for p in PdfReader(book_latex / PDF_NAME).pages[:12])
    contents = " ".join(text.split())
    assert contents.index("Start here: questions and answers") < contents.index("1 Introduction")


def test_epub_lists_the_guide_first(book_epub: Path) -> None:
    with zipfile.ZipFile(book_epub) as epub:
        nav_name = next(n for n in epub.namelist() if n.endswith("nav.xhtml"))
        nav = BeautifulSoup(epub.read(nav_name), "xml")
    entries = [" ".join(a.get_text(" ").split()) for a in nav.select("nav a")]
    first_chapter = next(i for i, e in enumerate(entries) if "Introduction" in e)
    guide = next(i for i, e in enumerate(entries) if e.startswith("Start here"))
    assert guide < first_chapter, entries[:5]
