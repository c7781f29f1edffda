"""Reproducibility: identical builds from one commit, and a cache that knows about the data."""

from __future__ import annotations

import filecmp
import time
from pathlib import Path

import pytest

from book_date import source_date_epoch
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


SHOWS_A_VALUE = myst_notebook(
    "Shows a value",
    "from ketamine_timelines.data import load_points\n\n"
    'points = load_points("data/onset_timelines.csv", bib_path="references.bib")\n'
    'print("first value:", points[0].value)',
)


def test_a_data_edit_reaches_the_html_pages_after_an_epub_build(tmp_path: Path) -> None:
    """Warm HTML build; edit a data row; EPUB build; HTML build: the page shows the edit,
    and the landing page links the EPUB that now exists."""
    index = "# Book\n\n{book-download}`epub`\n\n```{toctree}\nshows-value\n```\n"
    project = make_project_copy(tmp_path, index, {"shows-value.md": SHOWS_A_VALUE})
    epub = tmp_path / "epub" / "ketamine-for-mental-health.epub"
    common = ["-D", f"nb_execution_cache_path={tmp_path / 'cache'}"]
    common += ["-D", f"book_epub_path={epub}"]

    def build(builder: str) -> None:
        out = tmp_path / builder
        extra = ["-d", str(tmp_path / f"doctrees-{builder}"), *common]
        result = run_sphinx(project, out, builder, *extra)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    data = project / "data" / "onset_timelines.csv"
    header, first, *rest = data.read_text(encoding="utf-8").split("\n")
    column = header.split(",").index("value")  # the first row's cells hold no comma
    old = float(first.split(",")[column])
    new = old + (0.01 if old < 0 else -0.01)
    build("html")
    page = tmp_path / "html" / "shows-value.html"
    assert f"first value: {old}" in page.read_text(encoding="utf-8")
    landing = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "EPUB: build it with nox -s epub" in landing
    cells = first.split(",")
    cells[column] = f"{new:g}"
    data.write_text("\n".join([header, ",".join(cells), *rest]), encoding="utf-8")
    build("epub")
    assert epub.exists()
    build("html")
    assert f"first value: {new:g}" in page.read_text(encoding="utf-8")
    download = (tmp_path / "html" / "shows-value.ipynb").read_text(encoding="utf-8")
    assert f"first value: {new:g}" in download
    landing = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "EPUB: build it with nox -s epub" not in landing
    assert 'href="downloads/ketamine-for-mental-health.epub"' in landing


def test_a_build_killed_mid_way_does_not_leave_old_pages(tmp_path: Path) -> None:
    """Edit the data, kill the build while it executes notebooks: the next build must
    still bring every page that reads the data up to date."""
    import os
    import subprocess
    import sys

    slow = myst_notebook(
        "Slow",
        "import os, time\n\nfrom ketamine_timelines.data import load_points\n\n"
        'load_points("data/onset_timelines.csv", bib_path="references.bib")\n'
        'time.sleep(float(os.environ.get("BOOK_TEST_SLEEP", "0")))',
    )
    index = "# Book\n\n```{toctree}\nshows-value\nzz-slow\n```\n"
    files = {"shows-value.md": SHOWS_A_VALUE, "zz-slow.md": slow}
    project = make_project_copy(tmp_path, index, files)
    out = tmp_path / "html"
    args = ["-d", str(tmp_path / "doctrees"), "-D", f"nb_execution_cache_path={tmp_path / 'c'}"]
    result = run_sphinx(project, out, "html", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    data = project / "data" / "onset_timelines.csv"
    header, first, *rest = data.read_text(encoding="utf-8").split("\n")
    cells = first.split(",")
    column = header.split(",").index("value")
    new = float(cells[column]) + (0.01 if float(cells[column]) < 0 else -0.01)
    cells[column] = f"{new:g}"
    data.write_text("\n".join([header, ",".join(cells), *rest]), encoding="utf-8")

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764028800", "BOOK_TEST_SLEEP": "60"}
    env["PYTHONPATH"] = str(ROOT / "_ext")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", *args]
    with subprocess.Popen(
        [*command, str(project), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as build:
        assert build.stdout is not None
        for line in build.stdout:
            if "zz-slow" in line and "Executing" in line:
                break
        build.kill()  # as a CI timeout would, in the middle of executing the notebooks
    result = run_sphinx(project, out, "html", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (out / "shows-value.html").read_text(encoding="utf-8")
    assert f"first value: {new:g}" in html


def test_figures_of_earlier_data_leave_the_published_images(tmp_path: Path) -> None:
    import re

    page = "# Book\n\n```{timeline-figure} onset\n```\n\n```{bibliography}\n```\n"
    project = make_project_copy(tmp_path, page)
    out = tmp_path / "html"
    data = project / "data" / "onset_timelines.csv"
    original = data.read_text(encoding="utf-8")
    header, first, *rest = original.split("\n")
    cells = first.split(",")
    cells[header.split(",").index("row_id")] = "r000"  # a change of the data, not of a value
    args = ["-d", str(tmp_path / "doctrees"), "-D", "nb_execution_mode=off"]
    for text in (original, "\n".join([header, ",".join(cells), *rest]), original):
        data.write_text(text, encoding="utf-8")
        result = run_sphinx(project, out, "html", *args)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The web book inlines its chapter figures (their points are links), so no figure file
    # needs publishing; none of an earlier data set may stay there either.
    linked = set(re.findall(r'src="_images/([^"]+)"', (out / "index.html").read_text()))
    images = out / "_images"
    published = (
        {p.name for p in images.iterdir() if p.name.startswith("onset-")}
        if images.is_dir()
        else set()
    )
    assert published == {name for name in linked if name.startswith("onset-")}
    assert "kt-point" in (out / "index.html").read_text()  # the figure is there, inline


@pytest.mark.parametrize("damage", ["deleted-notebook", "garbled-database"])
def test_a_damaged_execution_cache_heals(tmp_path: Path, damage: str) -> None:
    index = "# Book\n\n```{toctree}\nshows-value\n```\n"
    project = make_project_copy(tmp_path, index, {"shows-value.md": SHOWS_A_VALUE})
    cache = tmp_path / "cache"
    args = ["-d", str(tmp_path / "doctrees"), "-D", f"nb_execution_cache_path={cache}"]
    out = tmp_path / "html"
    result = run_sphinx(project, out, "html", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    if damage == "deleted-notebook":
        for notebook in (cache / "executed").glob("*/base.ipynb"):
            notebook.unlink()
    else:
        (cache / "global.db").write_bytes(b"not a database" * 100)
    notebook = project / "shows-value.md"
    notebook.write_text(notebook.read_text() + "\nA new paragraph.\n")  # read it again
    result = run_sphinx(project, out, "html", *args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "KeyError" not in output
    heal = [line for line in output.splitlines() if "execution cache" in line]
    assert len(heal) == 1, output[-4000:]
    assert "first value:" in (out / "shows-value.html").read_text(encoding="utf-8")


def test_two_builds_at_once_in_one_checkout_wait_for_each_other(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    page = "# Book\n\n```{timeline-figure} onset\n```\n\n```{bibliography}\n```\n"
    project = make_project_copy(tmp_path, page)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764028800", "PYTHONPATH": str(ROOT / "_ext")}
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", "-D"]
    command += ["nb_execution_mode=off", str(project), str(tmp_path / "_build" / "html")]
    builds = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [build.communicate(timeout=600)[0] for build in builds]
    assert [build.returncode for build in builds] == [0, 0], outputs
    waited = [out for out in outputs if "another build is running" in out]
    assert len(waited) == 1, outputs


def test_a_shallow_clone_builds(tmp_path: Path) -> None:
    """`git clone --depth 1` (CI, hosts) used to fail with "Git clone too shallow"."""
    import subprocess

    project = make_project_copy(tmp_path, "# Book\n\nText.\n")

    def git(*args: str, cwd: Path = project) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    git("init", "-q")
    for message in ("first", "second"):
        (project / "index.md").write_text(f"# Book\n\n{message} text.\n")
        git("add", "-A")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)
    clone = tmp_path / "clone"
    git("clone", "-q", "--depth", "1", project.as_uri(), str(clone), cwd=tmp_path)
    result = run_sphinx(clone, tmp_path / "out", "html", "-D", "nb_execution_mode=off")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "too shallow" not in output
    # Dated by its one commit, as a full clone is.
    stamp = time.strftime("%d %B %Y", time.gmtime(source_date_epoch(clone)))
    assert f"Last updated on {stamp}" in (tmp_path / "out" / "index.html").read_text()
