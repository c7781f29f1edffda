"""sitemap.xml lists every page of the book, after a full build and after an edit."""

from __future__ import annotations

import runpy
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, run_sphinx

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_urls(outdir: Path) -> list[str]:
    tree = ET.parse(outdir / "sitemap.xml")
    return [loc.text for loc in tree.getroot().findall("s:url/s:loc", NS)]


@pytest.mark.build
def test_book_sitemap_lists_every_page(book_build: Path, html_pages: dict[str, Path]) -> None:
    base = runpy.run_path(str(ROOT / "conf.py"))["html_baseurl"].rstrip("/") + "/"
    expected = sorted(base + page for page in html_pages if page != "404.html")
    urls = sitemap_urls(book_build)
    assert sorted(urls) == expected
    assert len(urls) == len(set(urls))
    assert any(u.endswith("docs/03-depression-and-anxiety.html") for u in urls)


CONF = """\
extensions = ["book_sitemap"]
html_baseurl = "https://example.org/book/"
exclude_patterns = ["_build"]
"""


def test_an_edit_keeps_every_page_in_the_sitemap(tmp_path: Path) -> None:
    # sphinx-sitemap 2.9 rewrote the sitemap with only the pages the build wrote.
    (tmp_path / "conf.py").write_text(CONF)
    (tmp_path / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   one\n   two\n")
    for name in ("one", "two"):
        (tmp_path / f"{name}.rst").write_text(f"{name.title()}\n===\n\nText.\n")
    out = tmp_path / "_build"
    for edit in range(2):
        if edit:
            (tmp_path / "two.rst").write_text("Two\n===\n\nEdited text.\n")
        result = run_sphinx(tmp_path, out, "html", "-q")
        assert result.returncode == 0, result.stderr
        assert sitemap_urls(out) == [
            "https://example.org/book/index.html",
            "https://example.org/book/one.html",
            "https://example.org/book/two.html",
        ]


def test_dirhtml_links_are_directories(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text(CONF)
    (tmp_path / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   one\n")
    (tmp_path / "one.rst").write_text("One\n===\n\nText.\n")
    result = run_sphinx(tmp_path, tmp_path / "_build", "dirhtml", "-q")
    assert result.returncode == 0, result.stderr
    assert sitemap_urls(tmp_path / "_build") == [
        "https://example.org/book/",
        "https://example.org/book/one/",
    ]
