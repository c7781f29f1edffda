"""Bad input stops the build with an error that names the file and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import make_project_copy, myst_notebook, run_sphinx

pytestmark = pytest.mark.build

PAGE = """# A small book

Some text.

{line}

More text.
"""


def build_page(tmp_path: Path, bad_line: str, extra: dict[str, str] | None = None):
    project = make_project_copy(tmp_path, PAGE.format(line=bad_line), extra)
    result = run_sphinx(project, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    return project, result


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("See {doc}`a-chapter-that-does-not-exist`.", "unknown document"),
        ("See {ref}`no-such-label`.", "undefined label"),
        ("As shown before {cite:p}`nosuchkey2099`.", "nosuchkey2099"),
        ("![A figure](missing-figure.png)", "missing-figure.png"),
        ("A {term}`word not in any glossary`.", "term not in glossary"),
    ],
    ids=["broken-doc-link", "broken-ref", "unknown-citation", "missing-image", "unknown-term"],
)
def test_bad_input_fails_naming_file_and_line(tmp_path: Path, bad_line: str, message: str):
    project, result = build_page(tmp_path, bad_line)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message.casefold() in output.casefold(), output
    assert f"{project / 'index.md'}:5" in output, output


def test_a_notebook_cell_that_raises_fails_the_build(tmp_path: Path):
    notebook = myst_notebook(
        "A notebook", "x = 1", 'raise ValueError("this cell is broken on purpose")'
    )
    index = "# Book\n\n```{toctree}\nnb\n```\n"
    project = make_project_copy(tmp_path, index, {"nb.md": notebook})
    result = run_sphinx(
        project, tmp_path / "out", "html", "-D", f"nb_execution_cache_path={tmp_path / 'cache'}"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "nb.md" in output and "this cell is broken on purpose" in output, output
    assert "cell" in output.casefold()


def test_a_malformed_data_row_fails_the_build(tmp_path: Path):
    page = "```{timeline-figure} onset\n:alt: The onset figure.\n```\n"
    project = make_project_copy(tmp_path, PAGE.format(line=page))
    data = project / "data" / "onset_timelines.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("timepoint_hours")] = "soon"
    lines[1] = ",".join(row)
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_sphinx(
        project,
        tmp_path / "out",
        "html",
        "-D",
        "nb_execution_mode=off",
        env={"KETAMINE_TIMELINES_DATA": str(data)},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "onset_timelines.csv:2" in output and "timepoint_hours" in output, output


def assert_one_clear_error(result, tmp_path: Path, *needles: str) -> str:
    """Exit non-zero with one ERROR line holding every needle; no Sphinx crash banner."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "sphinx-doc/sphinx/issues" not in output and "sphinx-err-" not in output, output
    errors = [
        line for line in output.splitlines() if re.search(r": (ERROR|WARNING|CRITICAL):", line)
    ]
    assert len(errors) == 1, errors
    assert all(needle in errors[0] for needle in needles), errors[0]
    return errors[0]


def notebook_project(tmp_path: Path, *cells: str) -> Path:
    index = "# Book\n\n```{toctree}\nnb\n```\n"
    return make_project_copy(tmp_path, index, {"nb.md": myst_notebook("A notebook", *cells)})


def build_notebook(tmp_path: Path, project: Path):
    cache = f"nb_execution_cache_path={tmp_path / 'cache'}"
    return run_sphinx(project, tmp_path / "out", "html", "-D", cache)


def test_a_failing_cell_is_one_error_at_its_line_not_a_crash(tmp_path: Path):
    project = notebook_project(tmp_path, "x = 1", 'raise ValueError("broken on purpose")')
    result = build_notebook(tmp_path, project)
    lines = (project / "nb.md").read_text().splitlines()
    line = lines.index('raise ValueError("broken on purpose")') + 1
    assert_one_clear_error(result, tmp_path, f"nb.md:{line}:", "ValueError: broken on purpose")
    again = build_notebook(tmp_path, project)  # nothing changed: still an error, not a pass
    assert_one_clear_error(again, tmp_path, f"nb.md:{line}:", "ValueError: broken on purpose")


def without_a_closing_quote(text: str) -> str:
    """The data with the closing quote of the first quoted note taken away."""
    lines = text.split("\n")
    number = next(i for i, line in enumerate(lines) if i and line.endswith('"'))
    lines[number] = lines[number][:-1]
    return "\n".join(lines)


READS_DATA = (
    "from ketamine_timelines.data import load_points\n"
    'load_points("data/onset_timelines.csv", bib_path="references.bib")'
)


@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (lambda text: text.replace(",29.9,", ",164,", 1), [":111: ERROR: column 'value': 164"]),
        (lambda text: text.split("\n", 1)[0] + "\n", [":1: ERROR: no data rows"]),
        (
            lambda text: text.replace("Abstract", "Résumé", 1).encode("cp1252"),
            [":2: ERROR: not UTF-8"],
        ),
        (lambda text: without_a_closing_quote(text), ["column 'note': unbalanced quote"]),
    ],
    ids=["madrs-164", "header-only", "windows-1252", "unbalanced-quote"],
)
def test_bad_data_read_by_a_notebook_is_one_clear_error(tmp_path: Path, damage, needles):
    """The data set is checked before any notebook runs (_ext/book_inputs.py): one line
    naming the data file's line, not one per notebook that reads it."""
    project = notebook_project(tmp_path, READS_DATA)
    data = project / "data" / "onset_timelines.csv"
    text = data.read_text(encoding="utf-8")
    damaged = damage(text)
    if isinstance(damaged, str):
        data.write_text(damaged, encoding="utf-8")
    else:
        data.write_bytes(damaged)
    result = build_notebook(tmp_path, project)
    data = str(project / "data" / "onset_timelines.csv")
    error = assert_one_clear_error(result, tmp_path, *needles)
    assert error.startswith(data + ":"), error
    assert not (tmp_path / "out" / "nb.html").exists()  # nothing read, nothing published


def test_a_cell_warning_fails_the_build_with_its_text(tmp_path: Path):
    project = notebook_project(tmp_path, "x = 1", 'import warnings\nwarnings.warn("careful")')
    line = (project / "nb.md").read_text().splitlines().index('warnings.warn("careful")') + 1
    needles = (f"nb.md:{line}:", "stderr", "UserWarning: careful")
    result = build_notebook(tmp_path, project)
    error = assert_one_clear_error(result, tmp_path, *needles)
    assert "ipykernel_" not in error  # the kernel's temporary file is no part of the text
    again = build_notebook(tmp_path, project)  # nothing changed: still an error, not a pass
    assert_one_clear_error(again, tmp_path, *needles)


def test_no_local_path_reaches_a_published_file(book_build: Path) -> None:
    """Pages, notebook downloads, sources and the search index name no path of the
    machine that built them (a cell's warning used to carry the kernel's temporary file)."""
    import os
    import tempfile

    from conftest import ROOT

    local = [str(ROOT), tempfile.gettempdir() + "/", os.path.expanduser("~") + "/", "ipykernel_"]
    offenders = []
    published = {".html", ".ipynb", ".txt", ".js", ".xml"}
    for path in book_build.rglob("*"):
        if path.suffix in published and "_static" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{path.relative_to(book_build)}: {p}" for p in local if p in text]
    assert not offenders, "\n".join(offenders[:20])
