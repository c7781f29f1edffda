"""Bad input stops the build with an error that names the file and the line."""

from __future__ import annotations

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
    page = "```{timeline-figure} onset\n:alt: The onset figure.\n\nLegend.\n```\n"
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
