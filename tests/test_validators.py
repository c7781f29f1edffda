"""Checkers nobody on this project wrote, run over the books this test run built.

- DAISY Ace on the EPUB: no critical or serious violation, and the accessibility
  metadata of EPUB Accessibility 1.1 present.
- The W3C Nu HTML checker on every page of the HTML book: no error of the book's own
  making. The errors that the book's tools write are listed in UPSTREAM, each with where
  it comes from upstream; one that the list does not cover fails the test.

Both tools come from the npm registry (``npm ci --prefix tools --ignore-scripts``; see
tools/validators.py); a run without them skips these gates and says how to install them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import validators  # tools/validators.py (pytest's pythonpath)
from conftest_browser import CHROMIUM

pytestmark = [pytest.mark.build]

#: The metadata that EPUB Accessibility 1.1 asks for (Ace lists each as present or not).
ACCESSIBILITY_METADATA = {
    "schema:accessMode",
    "schema:accessModeSufficient",
    "schema:accessibilityFeature",
    "schema:accessibilityHazard",
    "schema:accessibilitySummary",
    "dcterms:conformsTo",
    "a11y:certifiedBy",
}

#: Nu checker errors that come from upstream code, with where they come from. No issue
#: about either was found in the trackers' search; the links point at the code.
UPSTREAM = {
    # MyST-NB (1.4.0) writes the "Show code cell source" toggle of every hidden notebook
    # cell as <p> elements inside <summary>, whose content model is phrasing content:
    # https://github.com/executablebooks/MyST-NB/blob/v1.4.0/myst_nb/sphinx_.py#L495-L502
    "MyST-NB: <p> in the <summary> of hidden cells": re.compile(
        r"^Element “p” not allowed as child of element “summary”"
    ),
    # Furo (2025.12.19) prefetches the logo with <link rel="prefetch" as="image">; HTML
    # allows "as" only with rel="preload" or "modulepreload" (see validator/validator#901
    # and whatwg/html#5229 for the discussion of "as" on prefetch):
    # https://github.com/pradyunsg/furo/blob/2025.12.19/src/furo/theme/furo/base.html#L35-L43
    "Furo: the logo's prefetch link": re.compile(
        r"^A “link” element with an “as” attribute must have a “rel” attribute that "
        r"contains the value “preload”"
    ),
}


@pytest.fixture(scope="session")
def ace_report(book_epub: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    missing = validators.ace_missing()
    if missing:
        pytest.skip(missing)
    if CHROMIUM is None:
        pytest.skip("Chromium not found: DAISY Ace runs in it")
    return validators.run_ace(book_epub, tmp_path_factory.mktemp("ace"), CHROMIUM)


def test_epub_has_no_serious_accessibility_violation(ace_report: dict[str, Any]) -> None:
    violations = validators.ace_violations(ace_report)
    serious = [v for v in violations if v["impact"] in {"critical", "serious"}]
    assert not serious, "\n".join(
        f"{v['impact']} {v['rule']} on {v['page']}: {v['what']}" for v in serious
    )


def test_epub_declares_its_accessibility(ace_report: dict[str, Any]) -> None:
    metadata = ace_report["a11y-metadata"]
    assert set(metadata["present"]) >= ACCESSIBILITY_METADATA, metadata
    assert not metadata["empty"], metadata


@pytest.fixture(scope="session")
def nu_messages(book_build: Path) -> list[dict[str, Any]]:
    missing = validators.vnu_missing()
    if missing:
        pytest.skip(missing)
    pages = sorted(p for p in book_build.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 15, pages
    return validators.run_vnu(pages)


def upstream_source(message: str) -> str | None:
    return next((name for name, rule in UPSTREAM.items() if rule.search(message)), None)


def test_html_has_no_validator_error_of_its_own(nu_messages: list[dict[str, Any]]) -> None:
    """Every page, the search and 404 pages included (each as its own file)."""
    errors = [m for m in nu_messages if m.get("type") in {"error", "non-document-error"}]
    ours = [m for m in errors if upstream_source(m["message"]) is None]
    assert not ours, "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}" for m in ours
    )


def test_every_id_is_unique_on_its_page(html_pages: dict[str, Path]) -> None:
    """The Nu checker's "Duplicate ID", checked without it: Furo copied every named
    table's id onto the table's wrapper (book_htmlpolicy.OneIdPerElement)."""
    from collections import Counter

    from bs4 import BeautifulSoup

    for name, page in html_pages.items():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        ids = Counter(tag["id"] for tag in soup.find_all(id=True))
        twice = sorted(i for i, n in ids.items() if n > 1)
        assert not twice, f"{name}: ids used twice: {twice}"
