"""Reproducibility: identical builds from one commit, and a cache that knows about the data."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from conftest import ROOT, make_project_copy, myst_notebook, run_sphinx

pytestmark = pytest.mark.build


def differing_files(left: Path, right: Path) -> list[str]:
    """Relative paths whose bytes differ (or that exist on one side only)."""
    out = []
    comparison = filecmp.dircmp(left, right, ignore=[".doctrees"])
    stack = [("", comparison)]
    while stack:
        prefix, cmp = stack.pop()
        out += [prefix + name for name in cmp.left_only + cmp.right_only]
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        out += [prefix + name for name in mismatch + errors]
        stack += [(f"{prefix}{name}/", sub) for name, sub in cmp.subdirs.items()]
    return sorted(out)


def test_two_clean_builds_are_byte_identical(book_build: Path, tmp_path: Path) -> None:
    """A second build, from an empty output and an empty execution cache, equals the first.

    The session's build reads in parallel (``-j auto``) and this one serially (``-j 1``).
    """
    again = tmp_path / "html"
    result = run_sphinx(
        ROOT,
        again,
        "html",
        "-j",
        "1",
        "-d",
        str(tmp_path / "doctrees"),
        "-D",
        f"nb_execution_cache_path={tmp_path / 'cache'}",
    )
    assert result.returncode == 0, result.stderr[-4000:]
    differences = differing_files(book_build, again)
    assert not differences, f"builds differ in: {differences[:20]}"


NOTEBOOK = myst_notebook(
    "Reads the data",
    "from ketamine_timelines.data import load_points\n\n"
    'points = load_points("data/onset_timelines.csv", bib_path="references.bib")\n'
    'print(len(points), "rows")',
)


def test_changing_the_data_re_executes_the_notebooks_that_read_it(tmp_path: Path) -> None:
    index = "# Book\n\n```{toctree}\nreads-data\nprose\n```\n"
    project = make_project_copy(
        tmp_path, index, {"reads-data.md": NOTEBOOK, "prose.md": "# Prose\n\nText.\n"}
    )
    cache = tmp_path / "cache"
    out = tmp_path / "out"

    def build() -> str:
        result = run_sphinx(project, out, "html", "-v", "-D", f"nb_execution_cache_path={cache}")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout + result.stderr

    first = build()
    assert "Executing" in first and "reads-data" in first
    prose = project / "prose.md"
    prose.write_text(prose.read_text() + "\nMore prose.\n")
    second = build()
    assert "Executing" not in second, "a prose edit re-executed a notebook"
    data = project / "data" / "onset_timelines.csv"
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    data.write_text("".join(lines[:-1]), encoding="utf-8")  # drop the last row
    third = build()
    assert "Executing" in third and "reads-data" in third, third[-3000:]
    html = (out / "reads-data.html").read_text(encoding="utf-8")
    assert f"{len(lines) - 2} rows" in html
