"""Trust at the edges (issue 23): odd input, odd machines and rebuilds.

Each case ends in one line naming the file (and line), exit 1 and no crash banner, or in
a site that holds exactly what this build produced. The builds are tiny copies of the
book, shared between cases: bad inputs stop before anything is read, so they cost a
Sphinx start-up each.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_project_copy, myst_notebook, run_sphinx
from test_reproducible import differing_files

BANNER = ("sphinx-doc/sphinx/issues", "sphinx-err-", "Exception occurred")


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    output = result.stdout + result.stderr
    return [line for line in output.splitlines() if re.search(r": (ERROR|WARNING|CRITICAL):", line)]


def assert_clear_errors(result: subprocess.CompletedProcess[str], count: int) -> list[str]:
    """Exit 1, ``count`` lines in Sphinx's ``file:line: ERROR: ...`` form, no crash banner."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert not any(mark in output for mark in BANNER), output[-4000:]
    errors = error_lines(result)
    assert len(errors) == count, errors
    return errors


# ---------------------------------------------------------------- bad input, one line each


@pytest.mark.build
def test_a_chapter_not_in_utf8_and_markup_in_the_data_are_one_line_each(tmp_path: Path):
    """In parallel (``-j auto``, where Sphinx's crash banner hid the file), before any page
    is written."""
    index = "# Book\n\n```{toctree}\nchapter\n```\n"
    project = make_project_copy(tmp_path, index, {"chapter.md": "# Chapter\n"})
    (project / "chapter.md").write_bytes("# Chapter\n\nCafé au lait.\n".encode("cp1252"))
    data = project / "data" / "onset_timelines.csv"
    lines = data.read_text(encoding="utf-8").split("\n")
    assert ",Abstract," in lines[1]
    lines[1] = lines[1].replace(",Abstract,", ",<script>alert(1)</script>,", 1)
    data.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    result = run_sphinx(project, out, "html", "-j", "auto", "-D", "nb_execution_mode=off")
    chapter, markup = sorted(assert_clear_errors(result, 2))
    assert chapter.startswith(f"{project / 'chapter.md'}:3: ERROR: "), chapter
    assert "not UTF-8" in chapter and "0xe9" in chapter
    assert markup.startswith(f"{data}:2: ERROR: column 'source_location': "), markup
    assert "markup" in markup
    assert not (out / "index.html").exists(), "a page was published from bad input"


@pytest.mark.build
def test_a_malformed_doi_is_one_line_naming_its_line_in_the_bibliography(tmp_path: Path):
    project = make_project_copy(tmp_path, "# Book\n\nText.\n")
    bib = project / "references.bib"
    text = bib.read_text(encoding="utf-8")
    field = re.search(r"doi\s*= \{(10\.\d+/)([^}]*)\}", text)
    assert field is not None
    damaged = f"doi = {{https://doi.org/{field.group(1)} {field.group(2)}}}"
    bib.write_text(text[: field.start()] + damaged + text[field.end() :], encoding="utf-8")
    line = text.count("\n", 0, field.start()) + 1
    result = run_sphinx(project, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    (error,) = assert_clear_errors(result, 1)
    assert error.startswith(f"{bib}:{line}: ERROR: entry "), error
    assert "field 'doi'" in error and "https://doi.org/" in error


@pytest.mark.build
def test_an_unwritable_build_directory_is_one_line(tmp_path: Path):
    project = make_project_copy(tmp_path, "# Book\n\nText.\n")
    build = tmp_path / "_build"
    build.write_text("a file where the build directory should be\n")
    result = run_sphinx(project, build / "html", "html", "-D", "nb_execution_mode=off")
    (error,) = assert_clear_errors(result, 1)
    assert str(build) in error and "cannot write" in error, error


@pytest.mark.build
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line(tmp_path: Path):
    """The build's own files fill the disk (``/dev/full`` answers every write with ENOSPC)."""
    project = make_project_copy(tmp_path, "# Book\n\nText.\n")
    doctrees = tmp_path / "doctrees"
    doctrees.mkdir()
    (doctrees / "environment.pickle").symlink_to("/dev/full")
    out = tmp_path / "out"
    result = run_sphinx(project, out, "html", "-d", str(doctrees), "-D", "nb_execution_mode=off")
    (error,) = assert_clear_errors(result, 1)
    assert "environment.pickle" in error and "No space left on device" in error, error
    assert not (out / "index.html").exists()


# ---------------------------------------------------------------- rebuilds


PRINT_ROOT = "# Book\n\n```{toctree}\n/sources\n/glossary\n```\n"
GLOSSARY = """# Glossary

```{glossary}
response
  A fall of half the score.

remission
  Almost no symptoms.
```

## References

```{bibliography}
```
"""

TIMES_OUT = myst_notebook(
    "A notebook",
    'print("ran" + "first")',
    "import time\n\ntime.sleep(60)",
)

HOSTILE = (
    '<script>alert("x")</script> & <img src="https://tracker.example/p.png"> '
    "[click](https://tracker.example/c) {download}`x` $x$ \\textbf{2} | cell"
)

SOURCES = myst_notebook(
    "Sources",
    "from dataclasses import replace\n\n"
    "from ketamine_timelines import load_points, sources_table\n\n"
    f"hostile = replace(load_points()[0], source_location={HOSTILE!r})\n"
    'sources_table([hostile], caption="Escaped")',
)


@pytest.mark.build
def test_the_published_site_is_exactly_what_this_build_made(tmp_path: Path):
    """A notebook times out, then is fixed and renamed: the next (incremental) build
    publishes the same bytes as a clean build in another clone, with no page, report or
    search term left from the first, the glossary's index entries kept in the search
    index, and data text shown as text in the web page and the LaTeX."""
    env = {"BOOK_BASE_URL": "https://example.org/book", "BOOK_CELL_TIMEOUT": "3"}
    index = "# Book\n\nA {term}`response`.\n\n```{toctree}\n{pages}\nglossary\n```\n"
    (tmp_path / "a").mkdir()
    first = make_project_copy(
        tmp_path / "a",
        index.replace("{pages}", "nb"),
        {"nb.md": TIMES_OUT, "glossary.md": GLOSSARY, "docs/print/book.md": PRINT_ROOT},
    )
    shutil.copy(ROOT / "docs" / "print" / "titlepage.tex", first / "docs" / "print")

    # One execution cache for both clones: the second runs no notebook again (it is not
    # in .buildinfo's hash, whose absolute paths are the point of the second clone).
    cache = f"nb_execution_cache_path={tmp_path / 'cache'}"

    def build(project: Path, builder: str = "html") -> subprocess.CompletedProcess[str]:
        out, doctrees = project / "_build" / builder, project / "_build" / "doctrees" / builder
        return run_sphinx(project, out, builder, "-d", str(doctrees), "-D", cache, env=env)

    result = build(first)
    (error,) = assert_clear_errors(result, 1)
    line = TIMES_OUT.splitlines().index("import time") + 1
    assert error.startswith(f"{first / 'nb.md'}:{line}: ERROR: "), error
    assert "timed out after 3 s" in error, error
    site = first / "_build" / "html"
    assert (site / "reports").is_dir()  # MyST-NB's traceback of the failed run

    (first / "nb.md").unlink()  # fixed, under a new name
    (first / "sources.md").write_text(SOURCES, encoding="utf-8")
    (first / "index.md").write_text(index.replace("{pages}", "sources"), encoding="utf-8")
    result = build(first)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    second = tmp_path / "b" / "project"  # another clone of the same sources
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("_build"))
    result = build(second)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    clean = second / "_build" / "html"
    for gone in ("nb.html", "nb.ipynb", "_sources/nb.md.txt", "reports"):
        assert not (site / gone).exists(), f"{gone} stayed in the site"
    differences = differing_files(clean, site)
    assert not differences, f"incremental and clean builds differ in: {differences}"
    searchindex = (site / "searchindex.js").read_text(encoding="utf-8")
    assert '"response":[[' in searchindex  # the glossary's index entries (sphinx#12599)
    assert "ranfirst" not in searchindex

    # The base URL without its trailing slash: the 404 page's links stay inside the book.
    missing = (site / "404.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="(/[^"]*)"', missing)
    assert links and all(link.startswith("/book/") for link in links), links

    # Data text is text: in the page, and in the LaTeX of the PDF.
    from bs4 import BeautifulSoup

    page = BeautifulSoup((site / "sources.html").read_text(encoding="utf-8"), "html.parser")
    assert not [s for s in page.find_all("script") if "alert" in s.get_text()]
    assert not page.select('[src*="tracker.example"], [href*="tracker.example"]')
    table = page.select_one("table.kt-sources")
    assert table is not None, page
    shown = " ".join(table.get_text().split()).replace("\u201c", '"').replace("\u201d", '"')
    assert HOSTILE in shown, shown  # as text (Sphinx's smart quotes aside)
    result = build(second, "latex")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tex = (second / "_build" / "latex" / "ketamine-for-mental-health.tex").read_text()
    assert r"\textbf{2}" not in tex and r"\textbackslash{}textbf\{2\}" in tex
    assert r"\$x\$" in tex and r"\{download\}`x`" in tex and r"{[}click{]}" in tex


# ---------------------------------------------------------------- ten times the data


def ten_times(data: Path) -> int:
    """The data set ten times over: each row and nine copies of it, as another arm of the
    same study (a new row id and treatment), so that every copy is valid."""
    with data.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for copy in range(10):
        for row in rows:
            if copy:
                row = {**row, "row_id": f"{row['row_id']}c{copy}"}
                row["treatment"] = f"{row['treatment']} (copy {copy})"
            writer.writerow(row)
    data.write_text(out.getvalue(), encoding="utf-8")
    return 10 * len(rows)


@pytest.mark.build
def test_ten_times_the_data_builds(tmp_path: Path):
    page = "# Book\n\n```{timeline-figure} single-dose\n```\n\n```{bibliography}\n```\n"
    project = make_project_copy(tmp_path, page)
    assert ten_times(project / "data" / "onset_timelines.csv") == 2050
    result = run_sphinx(project, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Warning" not in output, output[-4000:]  # e.g. constrained_layout collapsing


def test_a_legend_of_many_studies_is_summarised():
    from matplotlib.lines import Line2D

    from ketamine_timelines.legend import MAX_ENTRIES, summarise

    many = [Line2D([], [], color=f"C{i % 10}", label=f"Study {i} et al. 2020") for i in range(40)]
    twice = [*many[:3], *many[:3]]
    assert [h.get_label() for h in summarise(twice)] == [h.get_label() for h in many[:3]]
    shown = summarise(many)
    assert len(shown) == MAX_ENTRIES
    assert shown[-1].get_label() == f"and {40 - MAX_ENTRIES + 1} more, in the sources table"


# ---------------------------------------------------------------- the preview server


NOX = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "--no-venv"]


def test_serve_says_the_port_is_busy_before_it_builds(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*NOX, "--envdir", str(tmp_path / "nox"), "-s", "serve", "--", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    errors = [line for line in output.splitlines() if f"port {port} is busy" in line]
    assert len(errors) == 1, output
    assert "Running Sphinx" not in output and "Serving on" not in output, output


def test_figure_tooltips_show_data_text_as_text():
    """SVG: each point's tooltip (its link's <title>) quotes the row's source location.
    A guard: display.link_titles escaped it before issue 23, and must keep doing so."""
    from dataclasses import replace

    from lxml import etree

    from ketamine_timelines import load_points
    from ketamine_timelines.display import render
    from ketamine_timelines.figures import get_spec

    points = [replace(p, source_location=HOSTILE) for p in load_points()]
    svg = render(get_spec("treatment-day").plot(points, "light"), "svg")
    tree = etree.fromstring(svg)
    names = {etree.QName(element).localname for element in tree.iter(etree.Element)}
    assert not names & {"script", "img", "foreignObject"}, names
    titles = [t.text or "" for t in tree.iter("{http://www.w3.org/2000/svg}title")]
    assert any(HOSTILE in title for title in titles), titles
