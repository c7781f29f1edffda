"""The built HTML book, as a reader sees it: structure, content hygiene, citations, links."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.build

# The source article's section and subsection titles, in its order (sentence case is fine).
ARTICLE_TITLES = [
    "Introduction: The Emergence of Ketamine as a Mental Health Treatment",
    "The History of Ketamine",
    "The Shift in Perception: From Party Drug to Medical Treatment",
    "Understanding the Mechanisms: How Ketamine Works in the Brain",
    "The NMDA Receptor and Glutamate Modulation",
    "Neuroplasticity and the Effects of Ketamine on Brain Circuitry",
    "Ketamine's Role in Treating Depression and Anxiety",
    "Overview of Depression and Anxiety Disorders",
    "Ketamine as a Rapid-Acting Antidepressant",
    "Ketamine for Treatment-Resistant Depression",
    "Ketamine's Effectiveness in Reducing Anxiety Symptoms",
    "The Growing Body of Evidence: Clinical Trials and Research Findings",
    "Summary of Key Ketamine Studies and Trials",
    "Evidence of Ketamine's Long-Term Effects",
    "Exploring the Mechanisms of Ketamine's Antidepressant Effects",
    "Ketamine Clinics: Availability and Access to Treatment",
    "The Rise of Ketamine Clinics",
    "Requirements and Procedures for Ketamine Treatment",
    "Insurance Coverage and Affordability",
    "Ketamine vs. Traditional Treatments: Comparing Effectiveness and Side Effects",
    "Comparing Ketamine to SSRIs and other Antidepressants",
    "Side Effects and Safety Profile of Ketamine",
    "Considerations for Choosing Ketamine or Traditional Treatments",
    "The Future of Ketamine: Potential Applications and Ongoing Research",
    "Ketamine in the Treatment of PTSD and Substance Use Disorders",
    "Exploring Ketamine's Potential for other Mental Health Conditions",
    "Novel Approaches and Drug Development",
]
CHAPTER_TITLES = [ARTICLE_TITLES[i] for i in (0, 3, 6, 11, 15, 19, 23)] + ["Conclusion"]
DEBRIS = [
    "Leave a Comment",
    "Your email address will not be published",
    "Shopping Cart",
    "Open chat",
    "Can we help you?",
    "sustainability of its benefits are still being explored",
    "glow sticks",
]
ARTICLE_HOST_FREE = ("data:", "#", "mailto:")


def norm(text: str) -> str:
    """Compare headings as a reader does: case, apostrophes and spacing do not matter."""
    text = text.replace("\u2019", "'").replace("\u00b6", "").replace("#", "")
    return re.sub(r"\s+", " ", text).strip().casefold()


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def article(page: BeautifulSoup):
    return page.find("article") or page


def heading_text(tag) -> str:
    for extra in tag.select("a.headerlink, span.section-number"):
        extra.extract()
    return norm(tag.get_text())


def chapter_pages(book_build: Path) -> list[Path]:
    """Chapter pages in reading order, from the numbered toctree in the sidebar."""
    index = soup(book_build / "index.html")
    pages = []
    for link in index.select(".sidebar-tree a.reference.internal"):
        href = link.get("href", "")
        if href.startswith("docs/0") and "#" not in href:
            pages.append(book_build / href)
    return pages


def test_chapters_are_numbered_in_article_order(book_build: Path) -> None:
    pages = chapter_pages(book_build)
    assert len(pages) == len(CHAPTER_TITLES)
    for number, (page, title) in enumerate(zip(pages, CHAPTER_TITLES, strict=True), start=1):
        h1 = article(soup(page)).find("h1")
        assert h1.select_one("span.section-number").get_text().strip() == f"{number}."
        assert heading_text(h1) == norm(title)


def test_every_article_title_is_a_heading_in_order(book_build: Path) -> None:
    headings = []
    for page in chapter_pages(book_build):
        headings += [heading_text(h) for h in article(soup(page)).find_all(["h1", "h2"])]
    wanted = [norm(t) for t in ARTICLE_TITLES]
    positions = [headings.index(t) if t in headings else -1 for t in wanted]
    missing = [t for t, pos in zip(ARTICLE_TITLES, positions, strict=True) if pos < 0]
    assert not missing, f"article titles missing as headings: {missing}"
    assert positions == sorted(positions), "article titles are out of the article's order"
    for title in wanted:
        assert headings.count(title) == 1, f"{title!r} appears more than once"


def test_web_debris_is_gone(book_build: Path) -> None:
    for page in book_build.rglob("*.html"):
        text = soup(page).get_text(" ")
        for debris in DEBRIS:
            assert debris.casefold() not in text.casefold(), f"{debris!r} in {page.name}"


def test_no_long_paragraph_appears_twice(html_pages: dict[str, Path]) -> None:
    counts: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for name, path in html_pages.items():
        for para in article(soup(path)).find_all("p"):
            if para.find_parent("table") is not None:
                continue  # sources tables repeat a study's design by design: data, not prose
            if para.find_parent("figure") is not None:
                continue  # a figure shown in two chapters names its sources in both
            text = re.sub(r"\s+", " ", para.get_text(" ")).strip()
            if len(text) > 80:
                counts[text] += 1
                where.setdefault(text, []).append(name)
    repeated = {text: where[text] for text, count in counts.items() if count > 1}
    assert not repeated, f"paragraphs repeated: {repeated}"


def test_every_page_says_it_is_not_medical_advice(html_pages: dict[str, Path]) -> None:
    for name, path in html_pages.items():
        banner = soup(path).select_one(".announcement")
        assert banner is not None, name
        assert "not medical advice" in banner.get_text().casefold(), name


def _ids(page: BeautifulSoup) -> set[str]:
    return {tag["id"] for tag in page.find_all(id=True)}


def test_citations_link_to_bibliography_entries(book_build: Path) -> None:
    bib_page = book_build / "docs" / "bibliography.html"
    bib = soup(bib_page)
    entries = {tag["id"]: tag for tag in bib.select('[id^="cite-"]')}
    assert entries, "the bibliography lists no entries"
    citations = 0
    for page in chapter_pages(book_build):
        for link in article(soup(page)).select('a[href*="bibliography.html#cite-"]'):
            citations += 1
            fragment = urlsplit(link["href"]).fragment
            assert fragment in entries, f"{page.name}: citation to unknown entry {fragment}"
        chapter_cites = article(soup(page)).select('a[href*="bibliography.html#cite-"]')
        assert chapter_cites, f"{page.name} cites nothing"
    assert citations > 100


def test_citations_write_et_al_one_way(book_build: Path) -> None:
    # A shortened author list in references.bib ("and others") and a full list of three
    # or more must read the same in the text: "Rush et al., 2006" with "et al." in italics.
    styles = Counter()
    for page in chapter_pages(book_build):
        for link in article(soup(page)).select('a[href*="bibliography.html#cite-"]'):
            if "et al." in link.get_text():
                styles["italic" if link.find("em", string="et al.") else "plain"] += 1
    assert styles["italic"] > 20
    assert styles["plain"] == 0, f"{styles['plain']} citations have a plain 'et al.'"


#: Papers link to doi.org or PubMed; regulatory documents to the regulator itself.
PRIMARY_SOURCES = (
    "https://doi.org/",
    "https://pubmed.ncbi.nlm.nih.gov/",
    "https://dailymed.nlm.nih.gov/",
    "https://www.accessdata.fda.gov/",
    "https://www.fda.gov/",
    "https://www.ema.europa.eu/",
    "https://www.nice.org.uk/",
    "https://dhpp.hpfb-dgpsa.ca/",
    "https://www.cda-amc.ca/",
    "https://www.tga.gov.au/",
)


def test_bibliography_entries_link_to_doi_or_pubmed(book_build: Path) -> None:
    bib = soup(book_build / "docs" / "bibliography.html")
    entries = bib.select('[id^="cite-"]')
    for entry in entries:
        container = entry if entry.name != "span" else entry.parent
        hrefs = [a.get("href", "") for a in container.find_all("a")]
        if entry.name in {"dt", "span"}:
            sibling = entry.find_next_sibling("dd") or container.find_next_sibling()
            hrefs += [a.get("href", "") for a in sibling.find_all("a")] if sibling else []
        assert any(h.startswith(PRIMARY_SOURCES) for h in hrefs), (
            f"bibliography entry {entry.get('id')} has no DOI, PubMed or regulator link"
        )


def test_terms_resolve_to_the_glossary(book_build: Path) -> None:
    glossary = book_build / "docs" / "glossary.html"
    glossary_ids = _ids(soup(glossary))
    used = 0
    for page in book_build.rglob("*.html"):
        for term in soup(page).select("a.reference span.std-term"):
            link = term.find_parent("a")
            target = urlsplit(link["href"])
            assert target.path.endswith("glossary.html") or page == glossary, link
            assert target.fragment in glossary_ids, f"{page.name}: {link['href']}"
            used += 1
    assert used > 40


SITE_PREFIX = "/en/latest/"  # the path of conf.py's default html_baseurl


def _local_target(page: Path, url: str, root: Path) -> tuple[Path, str] | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(ARTICLE_HOST_FREE[:1]):
        return None
    path = unquote(parts.path)
    if path.startswith(SITE_PREFIX):  # the 404 page links absolutely, to work at any depth
        target = (root / path.removeprefix(SITE_PREFIX)).resolve()
    elif path.startswith("/"):
        return (root / "__absolute_path_outside_the_site__", "")
    else:
        target = page if not path else (page.parent / path).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def test_internal_links_and_images_resolve(book_build: Path) -> None:
    id_cache: dict[Path, set[str]] = {}
    broken = []
    for page in book_build.rglob("*.html"):
        if "_static" in page.parts:
            continue
        tree = soup(page)
        for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
            for element in tree.find_all(tag):
                url = element.get(attr)
                if not url or url.startswith(("mailto:", "data:", "javascript:")):
                    continue
                resolved = _local_target(page, url, book_build)
                if resolved is None:
                    continue
                target, fragment = resolved
                if not target.exists():
                    broken.append(f"{page.relative_to(book_build)}: {url}")
                    continue
                if fragment and target.suffix == ".html":
                    if target not in id_cache:
                        id_cache[target] = _ids(soup(target))
                    if fragment not in id_cache[target]:
                        broken.append(f"{page.relative_to(book_build)}: {url} (no #{fragment})")
    assert not broken, "\n".join(broken)


CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


def test_nothing_loads_from_another_host(book_build: Path) -> None:
    offenders = []
    for page in book_build.rglob("*.html"):
        tree = soup(page)
        for tag, attr in (
            ("script", "src"),
            ("link", "href"),
            ("img", "src"),
            ("iframe", "src"),
            ("source", "src"),
            ("video", "src"),
            ("audio", "src"),
        ):
            for element in tree.find_all(tag):
                url = element.get(attr, "")
                if tag == "link" and not set(element.get("rel", [])) & {
                    "stylesheet",
                    "preload",
                    "icon",
                    "modulepreload",
                    "prefetch",
                    "manifest",
                }:
                    continue
                if urlsplit(url).netloc or url.startswith("//"):
                    offenders.append(f"{page.name}: <{tag} {attr}={url}>")
        for style in tree.find_all(style=True):
            offenders += [
                f"{page.name}: style url({u})"
                for u in CSS_URL.findall(style["style"])
                if urlsplit(u).netloc
            ]
    for css in book_build.rglob("*.css"):
        for url in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            if urlsplit(url).netloc or url.startswith("//"):
                offenders.append(f"{css.name}: url({url})")
    assert not offenders, "\n".join(offenders)


def test_landing_page_has_the_safety_notice(book_build: Path) -> None:
    text = article(soup(book_build / "index.html")).get_text(" ")
    assert "not medical advice" in text.casefold()
    assert "988" in text and "116 123" in text


def test_source_view_links(html_pages: dict[str, Path], book_build: Path) -> None:
    page = html_pages["docs/01-introduction.html"]
    link = soup(page).select_one(".view-this-page a")
    assert link is not None
    target = (page.parent / link["href"]).resolve()
    assert target.exists() and "Introduction" in target.read_text(encoding="utf-8")


def test_code_blocks_have_copy_buttons(book_build: Path) -> None:
    static_files = {p.name for p in (book_build / "_static").iterdir()}
    assert "clipboard.min.js" in static_files and "copybutton.js" in static_files
