"""The formatted bibliography is kept between builds (_ext/book_bibcache.py), never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_project_copy, run_sphinx

pytestmark = pytest.mark.build

PAGE = "# Book\n\nAs {cite:t}`zarate2006` showed.\n\n```{bibliography}\n```\n"


def test_an_edit_to_the_bib_file_or_the_citations_reaches_the_bibliography(tmp_path: Path) -> None:
    project = make_project_copy(tmp_path, PAGE)
    out = tmp_path / "html"
    args = ["-d", str(tmp_path / "doctrees"), "-D", "nb_execution_mode=off"]

    def build() -> str:
        result = run_sphinx(project, out, "html", *args)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return (out / "index.html").read_text(encoding="utf-8")

    bib = project / "references.bib"
    text = bib.read_text(encoding="utf-8")
    entry = text.index("@article{zarate2006,")
    title = text.index("{", text.index("title", entry)) + 1
    assert "A randomized trial of an" in build()
    assert "A randomized trial of an" in build()  # the no-op rebuild, from the cache
    bib.write_text(text[:title] + "An edited title: " + text[title:], encoding="utf-8")
    assert "An edited title: a randomized trial" in build()
    bib.write_text(text, encoding="utf-8")  # and back: the cache does not keep the edit
    assert "An edited title" not in build()
    # A new citation in the text adds its entry.
    page = project / "index.md"
    page.write_text(PAGE.replace("showed.", "showed, as did {cite:t}`berman2000`."), "utf-8")
    html = build()
    assert "A randomized trial of an" in html and "Antidepressant effects of ketamine" in html
