"""Privacy and accessibility of every page, as Chromium renders it (issue 5).

Each page of the built book is loaded once per theme by the session's survey
(``page_survey`` in tests/conftest_browser.py, shared with the CSP gate): every network
request is recorded, the light visit's DOM is inspected, and axe-core (bundled by the
axe-playwright-python package, so nothing is fetched) runs in both themes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest_browser import SURVEY_ADDRESSES, THEMES, BookSite, PageReport, every_page

pytestmark = [pytest.mark.browser, pytest.mark.build]

#: axe-core impact levels that fail the build; "minor" and "moderate" are reported only.
BLOCKING = {"serious", "critical"}
#: Schemes that never touch the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


@pytest.fixture(scope="module")
def survey(page_survey: dict[str, PageReport]) -> dict[str, PageReport]:
    """The session's survey of every page (tests/conftest_browser.py: page_survey)."""
    for name, report in page_survey.items():
        wanted = 404 if name == "(missing page)" else 200
        assert report.status == wanted, f"{name}: HTTP {report.status}"
        assert report.theme == {theme: theme for theme in THEMES}, f"{name}: {report.theme}"
    return page_survey


def test_every_page_is_surveyed(survey: dict[str, PageReport], book_build: Path) -> None:
    assert {"index.html", "search.html", "404.html", "docs/01-introduction.html"} <= set(survey)
    assert len(survey) == len(every_page(book_build)) + len(SURVEY_ADDRESSES)


def test_privacy_no_request_leaves_the_machine(
    survey: dict[str, PageReport], book_site: BookSite
) -> None:
    offenders = []
    for name, report in survey.items():
        assert report.requests, f"{name}: no requests recorded"
        for url in report.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname != book_site.host:
                offenders.append(f"{name}: {url}")
    assert not offenders, "requests to other hosts:\n" + "\n".join(sorted(set(offenders)))


def test_privacy_no_inline_script_or_javascript_urls(survey: dict[str, PageReport]) -> None:
    offenders = [
        f"{name}: {element}"
        for name, report in survey.items()
        for element in report.dom["handlers"] + report.dom["jsUrls"]
    ]
    assert not offenders, "inline event handlers or javascript: URLs:\n" + "\n".join(offenders)


def test_privacy_external_links_carry_noopener(survey: dict[str, PageReport]) -> None:
    offenders = [f"{name}: {a}" for name, report in survey.items() for a in report.dom["noRel"]]
    assert not offenders, "external links without rel=noopener:\n" + "\n".join(offenders)


def test_bibliography_links_carry_noreferrer(book_build: Path) -> None:
    """The htmlpolicy extension marks links at build time, not with JavaScript."""
    html = (book_build / "docs" / "bibliography.html").read_text(encoding="utf-8")
    assert 'href="https://doi.org/' in html
    assert 'rel="noopener noreferrer"' in html


@pytest.mark.parametrize("theme", THEMES)
def test_accessibility_axe_core(survey: dict[str, PageReport], theme: str) -> None:
    problems = []
    for name, report in survey.items():
        for violation in report.axe[theme]:
            if violation["impact"] not in BLOCKING:
                continue
            targets = "; ".join(
                f"{' '.join(node['target'])} ({node.get('failureSummary', '').strip()[:200]})"
                for node in violation["nodes"][:5]
            )
            problems.append(
                f"{name} [{theme}] {violation['id']} ({violation['impact']}): "
                f"{violation['help']}: {targets}"
            )
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


def test_accessibility_images_have_text_alternatives(survey: dict[str, PageReport]) -> None:
    offenders = [f"{name}: {el}" for name, r in survey.items() for el in r.dom["unlabelled"]]
    assert not offenders, "images without alt text or aria-label:\n" + "\n".join(offenders)


def test_accessibility_heading_levels_are_not_skipped(
    survey: dict[str, PageReport], html_pages: dict[str, Path]
) -> None:
    problems = []
    for name, report in survey.items():
        levels = [level for level, _ in report.dom["headings"]]
        if name in html_pages and 1 not in levels:
            problems.append(f"{name}: no level-1 heading")
        previous = 1
        for level, text in report.dom["headings"]:
            if level > previous + 1:
                problems.append(f"{name}: h{level} {text!r} follows h{previous}")
            previous = level
    assert not problems, "\n".join(problems)
