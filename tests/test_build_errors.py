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


#: Bad lines, each on its own page of one build: (the line, what its error says).
BAD_LINES = {
    "broken-doc-link": ("See {doc}`a-chapter-that-does-not-exist`.", "unknown document"),
    "broken-ref": ("See {ref}`no-such-label`.", "undefined label"),
    "unknown-citation": ("As shown before {cite:p}`nosuchkey2099`.", "nosuchkey2099"),
    "missing-image": ("![A figure](missing-figure.png)", "missing-figure.png"),
    "unknown-term": ("A {term}`word not in any glossary`.", "term not in glossary"),
}
FIGURE_PAGE = "```{timeline-figure} onset\n:alt: The onset figure.\n```\n"


@pytest.fixture(scope="module")
def bad_input_build(tmp_path_factory: pytest.TempPathFactory):
    """One build of a small book whose every page has one mistake (a page per bad line,
    and a page whose figure reads a data row with a malformed time): with --keep-going,
    Sphinx reports each at its file and line."""
    tmp_path = tmp_path_factory.mktemp("bad-input")
    pages = {f"{name}.md": PAGE.format(line=line) for name, (line, _) in BAD_LINES.items()}
    pages["figure.md"] = PAGE.format(line=FIGURE_PAGE)
    toctree = "\n".join([*BAD_LINES, "figure"])
    project = make_project_copy(tmp_path, f"# Book\n\n```{{toctree}}\n{toctree}\n```\n", pages)
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
    return project, result


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_bad_input_fails_naming_file_and_line(bad_input_build, case: str):
    project, result = bad_input_build
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    message = BAD_LINES[case][1]
    located = [line for line in output.splitlines() if f"{project / case}.md:5" in line]
    assert any(message.casefold() in line.casefold() for line in located), output


def test_a_malformed_data_row_fails_the_build(bad_input_build):
    project, result = bad_input_build
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    located = [line for line in output.splitlines() if f"{project / 'figure.md'}:" in line]
    assert any("onset_timelines.csv:2" in line and "timepoint_hours" in line for line in located)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(r": (ERROR|WARNING|CRITICAL):", line)]


def assert_one_clear_error(result, tmp_path: Path, *needles: str) -> str:
    """Exit non-zero with one ERROR line holding every needle; no Sphinx crash banner."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "sphinx-doc/sphinx/issues" not in output and "sphinx-err-" not in output, output
    errors = error_lines(output)
    assert len(errors) == 1, errors
    assert all(needle in errors[0] for needle in needles), errors[0]
    return errors[0]


def notebook_project(tmp_path: Path, *cells: str) -> Path:
    index = "# Book\n\n```{toctree}\nnb\n```\n"
    return make_project_copy(tmp_path, index, {"nb.md": myst_notebook("A notebook", *cells)})


def build_notebook(tmp_path: Path, project: Path):
    cache = f"nb_execution_cache_path={tmp_path / 'cache'}"
    return run_sphinx(project, tmp_path / "out", "html", "-D", cache)


def without_a_closing_quote(text: str) -> str:
    """The data with the closing quote of the first quoted note taken away."""
    lines = text.split("\n")
    number = next(i for i, line in enumerate(lines) if i and line.endswith('"'))
    lines[number] = lines[number][:-1]
    return "\n".join(lines)


def reads_data(folder: str) -> str:
    return (
        "from ketamine_timelines.data import load_points\n"
        f'load_points("{folder}/onset_timelines.csv", bib_path="references.bib")'
    )


RAISES = 'raise ValueError("this cell is broken on purpose")'
#: Damaged copies of the data set, each read by a notebook of its own: (damage, needles).
BAD_DATA = {
    "madrs-164": (lambda text: text.replace(",29.9,", ",164,", 1), [":111: column 'value': 164"]),
    "header-only": (lambda text: text.split("\n", 1)[0] + "\n", [":1: no data rows"]),
    "windows-1252": (
        lambda text: text.replace("Abstract", "Résumé", 1).encode("cp1252"),
        [":2: not UTF-8"],
    ),
    "unbalanced-quote": (without_a_closing_quote, ["column 'note': unbalanced quote"]),
}


@pytest.fixture(scope="module")
def failing_notebooks(tmp_path_factory: pytest.TempPathFactory):
    """One small book of notebooks that each fail in one way: a cell that raises, a cell
    that warns (writes to stderr), and one notebook per damaged copy of the data set.
    Built twice with nothing changed in between: each failure must be reported both times.
    """
    tmp_path = tmp_path_factory.mktemp("failing-notebooks")
    notebooks = {
        "nb-raises": myst_notebook("A notebook", "x = 1", RAISES),
        "nb-warns": myst_notebook("A notebook", 'import warnings\nwarnings.warn("careful")'),
    }
    notebooks |= {f"nb-{case}": myst_notebook("A notebook", reads_data(case)) for case in BAD_DATA}
    index = "# Book\n\n```{toctree}\n" + "\n".join(notebooks) + "\n```\n"
    files = {f"{name}.md": text for name, text in notebooks.items()}
    project = make_project_copy(tmp_path, index, files)
    text = (project / "data" / "onset_timelines.csv").read_text(encoding="utf-8")
    for case, (damage, _) in BAD_DATA.items():
        damaged = damage(text)
        data = project / case / "onset_timelines.csv"
        data.parent.mkdir()
        if isinstance(damaged, str):
            data.write_text(damaged, encoding="utf-8")
        else:
            data.write_bytes(damaged)
    cache = f"nb_execution_cache_path={tmp_path / 'cache'}"
    builds = [run_sphinx(project, tmp_path / "out", "html", "-D", cache) for _ in range(2)]
    return project, notebooks, builds


def one_error_of(result, notebook: str, *needles: str) -> str:
    """The run failed without a crash banner, and said one thing about ``notebook``."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "sphinx-doc/sphinx/issues" not in output and "sphinx-err-" not in output, output
    errors = [line for line in error_lines(output) if f"{notebook}.md:" in line]
    assert len(errors) == 1, errors
    assert all(needle in errors[0] for needle in needles), errors[0]
    return errors[0]


def test_each_failing_notebook_is_one_error(failing_notebooks) -> None:
    _, notebooks, builds = failing_notebooks
    for result in builds:
        assert len(error_lines(result.stdout + result.stderr)) == len(notebooks)


def test_a_failing_cell_is_one_error_at_its_line_not_a_crash(failing_notebooks):
    project, _, builds = failing_notebooks
    line = (project / "nb-raises.md").read_text().splitlines().index(RAISES) + 1
    for result in builds:  # the second time nothing changed: still an error, not a pass
        one_error_of(
            result, "nb-raises", f"nb-raises.md:{line}:", "ValueError: this cell is broken"
        )


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_read_by_a_notebook_is_one_clear_error(failing_notebooks, case: str):
    _, _, builds = failing_notebooks
    needles = BAD_DATA[case][1]
    one_error_of(builds[0], f"nb-{case}", "DataError", "onset_timelines.csv", *needles)


def test_a_cell_warning_fails_the_build(failing_notebooks):
    _, _, builds = failing_notebooks
    for result in builds:  # the second time nothing changed: still an error, not a pass
        one_error_of(result, "nb-warns", "stderr")


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
