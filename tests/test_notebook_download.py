"""A notebook downloaded from the book runs on its own, as a student would run it.

The book is served over HTTP at the address it was built for; each notebook's .ipynb is
downloaded into an empty folder and opened in a real JupyterLab, driven by headless
Chromium, in a student's environment: a fresh virtual environment with what the "Run this
notebook" panel asks for (``pip install jupyterlab matplotlib numpy``), one for the whole
session. Any host other than the book's server is unreachable for its kernels (a dead
proxy, a dead package index), so a request to a third-party host fails the test.

The served book is the session's ``local_site`` (tests/conftest.py): its HTML build
rebuilt, warm, for the server's address, so the address a download installs from must
follow ``html_baseurl`` on a warm build too. It reuses the session's execution cache, so
no notebook runs twice in the build; each runs once in the student's JupyterLab.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from conftest import ROOT, LocalSite, make_project_copy, make_venv, myst_notebook, run_sphinx
from conftest_browser import url_prefix
from serve_book import BookSite, serve_book  # tools/serve_book.py

pytestmark = pytest.mark.notebook_download

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.md"))
MAX_NOTEBOOK_BYTES = 400_000
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
LAB_OVERRIDES = ROOT / "binder" / "overrides.json"
DEAD = "http://127.0.0.1:9"  # the discard port: nothing answers
#: MyST that a plain Jupyter would show as it is written.
RAW_MYST = re.compile(r"\{(term|cite:[tp]|cite|ref|doc|numref)\}`|^:::|```\{|\{container\}", re.M)
#: What the install cell prints when it installs: version, the one it replaces, address.
INSTALL_LINE = re.compile(
    r"^Installing ketamine-timelines (\S+)(?: in place of (\S+))? from (\S+)$"
)


def download(url: str, folder: Path) -> Path:
    target = folder / url.rsplit("/", 1)[-1]
    with urlopen(url, timeout=30) as response:
        target.write_bytes(response.read())
    return target


def offline_env(venv_python: Path, home: Path) -> dict[str, str]:
    """Only the book's server (127.0.0.1) is reachable: proxies and index are dead ends."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(
            ("PIP_", "PYTHON", "JUPYTER", "VIRTUAL_ENV", "UV_", "KETAMINE_")
        )
        and key.upper() not in {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    }
    env.update(
        PATH=f"{venv_python.parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        JUPYTER_PLATFORM_DIRS="1",
        HTTP_PROXY=DEAD,
        HTTPS_PROXY=DEAD,
        ALL_PROXY=DEAD,
        NO_PROXY="127.0.0.1",
        PIP_INDEX_URL=f"{DEAD}/simple/",
        PIP_CONFIG_FILE=os.devnull,
        PIP_FIND_LINKS="",
        PIP_NO_INPUT="1",
    )
    return env


def uninstall_book_package(python: Path) -> None:
    """Start as a student does: the book's package is not installed yet."""
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "-q", "-y", "ketamine-timelines"],
        check=False,
        capture_output=True,
    )


def installed_version(python: Path) -> str | None:
    result = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, importlib.metadata as m; print(m.version(sys.argv[1]))",
            "ketamine-timelines",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def nbconvert(python: Path, notebook: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python.parent / "jupyter"), "nbconvert", *args, notebook.name],
        cwd=notebook.parent,
        env=offline_env(python, home),
        capture_output=True,
        text=True,
        check=False,
    )


def figures_in(notebook: dict[str, Any]) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )


def stream_lines(cell: dict[str, Any]) -> list[str]:
    text = "".join(
        "".join(o.get("text", "")) for o in cell.get("outputs", []) if o["output_type"] == "stream"
    )
    return text.splitlines()


# -- JupyterLab in Chromium -----------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def jupyterlab(python: Path, folder: Path, home: Path) -> Iterator[str]:
    """JupyterLab from ``python``'s environment on ``folder``, offline but for 127.0.0.1;
    yields its address. No token: only this machine can reach it, for the test's length."""
    port = _free_port()
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            str(python.parent / "jupyter"),
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={folder}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        env=offline_env(python, home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urlopen(f"{url}/api", timeout=5):
                    break
            except (URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    log_text = (home / "jupyterlab.log").read_text()
                    pytest.fail(f"JupyterLab did not start:\n{log_text}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


#: Rendered Markdown: JupyterLab's own renderer, or jupyterlab-myst's (`nox -s lab`).
MARKDOWN = ".jp-Notebook .jp-RenderedMarkdown, .jp-Notebook .jp-MarkdownCell .myst"
FIGURES_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output img')]
  .filter(img => img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0)
  .map(img => img.getAttribute('src').slice(0, 22))"""
PROMPTS_JS = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
  .map(p => p.textContent.trim())"""


def open_notebook(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(f"() => document.querySelector('{MARKDOWN}')", timeout=60_000)
    page.wait_for_timeout(1500)  # images decode, Markdown renders


def run_all(page: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # Every code cell has run: its prompt shows a number, never "*" or nothing.
    page.wait_for_function(
        f"() => ({PROMPTS_JS})().every(text => /^\\[\\d+\\]:$/.test(text))", timeout=300_000
    )
    page.wait_for_timeout(1500)


def rendered_markdown(page: Any) -> str:
    return "\n".join(page.locator(MARKDOWN).all_inner_texts())


@pytest.mark.browser
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_downloaded_notebook_in_jupyterlab_untrusted_then_run_all(
    name: str,
    local_site: LocalSite,
    student_venv: Path,
    chromium: Any,
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    """Downloaded into an empty folder and opened in JupyterLab: the figures show before
    anything runs (an untrusted notebook: PNG, not sanitised HTML), no MyST shows as
    written; after Run All (in a fresh environment: the first cell installs the book's
    package from the book's site, saying so in one line) each figure shows once, and the
    notebook, saved, reopens trusted the same."""
    uninstall_book_package(student_venv)
    folder, home = tmp_path / "empty", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    start = time.perf_counter()
    notebook = download(f"{local_site.base}notebooks/{name}.ipynb", folder)
    figures = figures_in(json.loads(notebook.read_text(encoding="utf-8")))
    assert figures >= 1, f"{name}.ipynb carries no PNG figure"
    with jupyterlab(student_venv, folder, home) as lab:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            open_notebook(page, f"{lab}/lab/tree/{notebook.name}")
            shown = page.evaluate(FIGURES_JS)
            assert len(shown) == figures and all(s.startswith("data:image/png") for s in shown)
            text = rendered_markdown(page)
            assert not RAW_MYST.search(text), RAW_MYST.search(text)
            assert "Unknown" not in text and page.locator(".jp-OutputArea-output svg").count() == 0
            assert page.locator(".jp-RenderedMarkdown table").count() >= 1, "no sources table"
            page.screenshot(path=str(screenshot_dir / f"jupyterlab-{name}-before.png"))

            run_all(page)
            shown = page.evaluate(FIGURES_JS)
            seconds = time.perf_counter() - start
            assert len(shown) == figures, f"{name}: {len(shown)} figures shown, {figures} made"
            assert page.locator(".jp-OutputArea-output svg").count() == 0
            stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            assert page.locator(stderr).count() == 0, page.locator(stderr).all_inner_texts()
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            lines = [line for output in outputs for line in output.splitlines()]
            installs = [line for line in lines if INSTALL_LINE.match(line)]
            assert len(installs) == 1, outputs[:3]
            assert local_site.base in installs[0]
            assert not RAW_MYST.search(rendered_markdown(page))
            # The install cell's line and the first figure, as the reader sees them.
            page.locator(".jp-CodeCell").first.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot_dir / f"jupyterlab-{name}-after.png"))

            # Saved, the notebook is trusted (signed); reopened, it shows the same.
            page.keyboard.press("Control+s")
            page.wait_for_timeout(1500)
            open_notebook(page, f"{lab}/lab/tree/{notebook.name}")
            assert len(page.evaluate(FIGURES_JS)) == figures
        finally:
            context.close()
    line = f"{name}: download to figure after Run All, in a fresh environment: {seconds:.1f} s"
    print(line)
    # Beside the screenshots, for people to read after a run (the README points here).
    with (screenshot_dir / "jupyterlab-times.txt").open("a", encoding="utf-8") as times:
        times.write(line + "\n")
    # The kernel installed the book's wheel from the book's server, and nothing else.
    assert any(path.endswith(".whl") for path in local_site.requests), local_site.requests
    site = next(student_venv.parent.parent.glob("lib/python*/site-packages"))
    assert (site / "ketamine_timelines" / "_data" / "onset_timelines.csv").is_file()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_reader_edition_is_plain_jupyter(name: str, local_site: LocalSite) -> None:
    """The download is CommonMark and PNG: glossary terms link to the book's glossary,
    citations to the paper; a figure is a PNG alone; it installs from the book's site."""
    path = local_site.root / "notebooks" / f"{name}.ipynb"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{name}.ipynb: {path.stat().st_size} B"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}
    markdown = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert "application/pdf" not in data
            assert not any(k.startswith("application/papermill") for k in data)
            if "image/png" in data:
                assert set(data) == {"image/png", "text/plain"}, set(data)
            markdown.append("".join(data.get("text/markdown", "")))
    text = "\n".join(markdown)
    assert not RAW_MYST.search(text), RAW_MYST.search(text)
    assert f"]({local_site.base}docs/glossary.html#term-" in text
    assert re.search(r"\[[A-Z][^\]]+ \(\d{4}\)\]\(https://(doi\.org|pubmed)", text)
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert not any("myst_nb" in source for source in code), "glue belongs to the build"
    wheel = next((local_site.root / "wheels").glob("*.whl"))
    version = wheel.name.split("-")[1]
    assert f'WHEEL = "{local_site.base}wheels/{wheel.name}"' in code[0]
    assert f'VERSION = "{version}"' in code[0] and "#sha256={SHA256}" in code[0]
    assert local_site.old_base not in path.read_text(encoding="utf-8")


def test_page_shows_the_install_cell_of_its_download(local_site: LocalSite) -> None:
    """The HTML page's code and error text name the address the download installs from:
    the one this (warm) build was made for, not the one the build before it named."""
    from bs4 import BeautifulSoup

    for name in NOTEBOOKS:
        notebook = json.loads((local_site.root / "notebooks" / f"{name}.ipynb").read_text())
        install = "".join(notebook["cells"][1]["source"])
        assert "BookPackageError" in install, f"{name}: the install cell is not the second cell"
        page = (local_site.root / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        shown = [
            pre.get_text() for pre in BeautifulSoup(page, "html.parser").select("div.cell pre")
        ]
        assert install.strip() in [code.strip() for code in shown], name
        assert local_site.old_base.rstrip("/") + "/wheels" not in page


def test_version_follows_the_data(tmp_path: Path) -> None:
    """The wheel's version, hence its file name, follows what it carries."""
    from book_notebooks import wheel_inputs_digest, wheel_version

    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "references.bib"):
        shutil.copyfile(ROOT / name, project / name)
    shutil.copytree(ROOT / "data", project / "data")
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    before = wheel_version(project, wheel_inputs_digest(project))
    with (project / "data" / "onset_timelines.csv").open("a", encoding="utf-8") as data:
        data.write("\n")
    after = wheel_version(project, wheel_inputs_digest(project))
    assert before != after and before.split("+")[0] == after.split("+")[0]


def test_offline_the_install_cell_says_what_to_do_in_one_line(
    book_site: BookSite, student_venv: Path, tmp_path: Path
) -> None:
    """A notebook from the book built for its public address, run where that address
    cannot be reached: one line naming the address and what to do, before pip starts."""
    uninstall_book_package(student_venv)
    folder = tmp_path / "empty"
    folder.mkdir()
    notebook = download(book_site.url("notebooks/onset-timelines.ipynb"), folder)
    start = time.perf_counter()
    result = nbconvert(
        student_venv,
        notebook,
        tmp_path,
        "--to",
        "notebook",
        "--execute",
        "--allow-errors",
        "--output",
        "executed.ipynb",
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    executed = json.loads((folder / "executed.ipynb").read_text(encoding="utf-8"))
    install = next(c for c in executed["cells"] if c["cell_type"] == "code")
    errors = [o for o in install["outputs"] if o["output_type"] == "error"]
    assert len(errors) == 1 and len(errors[0]["traceback"]) == 1, install["outputs"]
    line = errors[0]["traceback"][0]
    import runpy

    public = runpy.run_path(str(ROOT / "conf.py"))["html_baseurl"]
    assert "\n" not in line and line.startswith(f"BookPackageError: cannot reach {public}wheels/")
    assert "/wheels/ketamine_timelines-" in line and "nox -s lab" in line and "pip install" in line
    assert not stream_lines(install), "pip was started"
    timing = install["metadata"].get("execution", {})
    cell = (
        datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
    ).total_seconds()
    print(f"offline: the install cell answered in {cell:.2f} s ({seconds:.1f} s in all): {line}")


DATA_EDIT_NOTEBOOK = myst_notebook(
    "Shows a value",
    "# the install cell",
    "from ketamine_timelines import load_points\n\nprint('first value:', load_points()[0].value)",
).replace(
    "```{code-cell} ipython3\n# the install cell",
    "```{code-cell} ipython3\n:tags: [book-install]\n# the install cell",
)


def test_a_data_edit_is_a_new_version_upgraded_with_one_line(
    local_site: LocalSite, student_venv: Path, tmp_path: Path
) -> None:
    """A student has the package a notebook installed; the data set changes and the book
    is rebuilt; the new download says in one line that it replaces the old version, and
    shows the new number."""
    old_wheel = next((local_site.root / "wheels").glob("*.whl"))
    subprocess.run(
        [str(student_venv), "-m", "pip", "install", "-q", "--no-deps", str(old_wheel)], check=True
    )
    old = installed_version(student_venv)
    # A small copy of the book, with the library's packaging, and one edited number.
    index = "# Book\n\n```{toctree}\nshows-value\n```\n"
    project = make_project_copy(tmp_path, index, {"shows-value.md": DATA_EDIT_NOTEBOOK})
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(ROOT / name, project / name)
    shutil.copyfile(ROOT / "data" / "README.md", project / "data" / "README.md")
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    data = project / "data" / "onset_timelines.csv"
    header, first, *rest = data.read_text(encoding="utf-8").split("\n")
    column = header.split(",").index("value")  # the first row's cells hold no comma
    cells = first.split(",")
    new_value = float(cells[column]) + 0.5
    cells[column] = f"{new_value:g}"
    data.write_text("\n".join([header, ",".join(cells), *rest]), encoding="utf-8")
    outdir = tmp_path / "html"
    outdir.mkdir()
    with serve_book(outdir, url_prefix()) as site:
        result = run_sphinx(
            project,
            outdir,
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            "-D",
            f"html_baseurl={site.url()}",
            "-D",
            f"nb_execution_cache_path={tmp_path / 'cache'}",
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        folder = tmp_path / "empty"
        folder.mkdir()
        notebook = download(site.url("shows-value.ipynb"), folder)
        run = nbconvert(
            student_venv,
            notebook,
            tmp_path,
            "--to",
            "notebook",
            "--execute",
            "--output",
            "executed.ipynb",
        )
    assert run.returncode == 0, run.stderr[-3000:]
    executed = json.loads((folder / "executed.ipynb").read_text(encoding="utf-8"))
    install, shows = (c for c in executed["cells"] if c["cell_type"] == "code")
    lines = stream_lines(install)
    assert len(lines) == 1, lines
    match = INSTALL_LINE.match(lines[0])
    assert match and match.group(2) == old and match.group(1) != old, lines[0]
    assert match.group(3).startswith(site.url("wheels/"))
    assert installed_version(student_venv) == match.group(1)
    assert stream_lines(shows) == [f"first value: {new_value:g}"]


def test_myst_without_a_plain_form_is_an_error_naming_the_notebook(tmp_path: Path) -> None:
    """The reader's edition has no plain form for a role such as {kbd}: the build stops
    with one error naming the notebook's file and the cell's line."""
    notebook = myst_notebook("Keys", "print(1)") + "\nPress {kbd}`Ctrl+Enter` to run it.\n"
    project = make_project_copy(
        tmp_path, "# Book\n\n```{toctree}\nkeys\n```\n", {"keys.md": notebook}
    )
    result = run_sphinx(
        project,
        tmp_path / "html",
        "html",
        "-d",
        str(tmp_path / "doctrees"),
        "-D",
        f"nb_execution_cache_path={tmp_path / 'cache'}",
    )
    assert result.returncode != 0
    line = notebook.splitlines().index("Press {kbd}`Ctrl+Enter` to run it.") + 1
    assert re.search(
        rf"keys\.md:{line}: (WARNING|ERROR): reader's edition of the \.ipynb: the role "
        r"\{kbd\} has no plain-Markdown form",
        result.stderr,
    ), result.stderr[-3000:]


def test_nbconvert_renders_the_download_with_its_figures(
    local_site: LocalSite, student_venv: Path, tmp_path: Path
) -> None:
    """nbconvert's HTML of each download (what a course page or a CI log shows): every
    figure is an <img>, each table a table, no MyST as written."""
    from bs4 import BeautifulSoup

    folder = tmp_path / "downloads"
    folder.mkdir()
    notebooks = [download(f"{local_site.base}notebooks/{n}.ipynb", folder) for n in NOTEBOOKS]
    result = subprocess.run(  # one nbconvert for all three: it takes seconds to start
        [str(student_venv.parent / "jupyter"), "nbconvert", "--to", "html"]
        + [n.name for n in notebooks],
        cwd=folder,
        env=offline_env(student_venv, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for notebook in notebooks:
        figures = figures_in(json.loads(notebook.read_text(encoding="utf-8")))
        page = notebook.with_suffix(".html").read_text(encoding="utf-8")
        html = BeautifulSoup(page, "html.parser")
        outputs = html.select(".jp-OutputArea-output")
        assert len([i for o in outputs for i in o.select("img[src^='data:image/png']")]) == figures
        assert html.select(".jp-RenderedMarkdown table"), notebook.name
        assert not RAW_MYST.search(html.get_text()), notebook.name


def test_colab_branch_is_the_one_the_pages_workflow_publishes() -> None:
    """The panel's Colab link opens the branch that the GitHub Pages workflow pushes the
    built notebooks to (Colab opens an .ipynb from GitHub by path, and nothing else)."""
    import runpy

    import yaml

    branch = runpy.run_path(str(ROOT / "conf.py"))["book_colab_branch"]
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    build, colab = workflow["jobs"]["build"], workflow["jobs"]["colab"]
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-a"))
    assert upload["with"]["path"] == "_build/html/notebooks/*.ipynb"
    assert colab["needs"] == "build" and colab["permissions"] == {"contents": "write"}
    script = "\n".join(s.get("run", "") for s in colab["steps"])
    assert f"git init -q -b {branch}" in script and script.rstrip().endswith(f" {branch}")


def test_wheel_carries_the_data_and_installs_without_dependencies(local_site: LocalSite) -> None:
    wheel = next((local_site.root / "wheels").glob("ketamine_timelines-*.whl"))
    assert re.fullmatch(r"ketamine_timelines-0\.1\.0\+[0-9a-f]{12}-py3-none-any\.whl", wheel.name)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    for name in ("onset_timelines.csv", "references.bib", "README.md"):
        assert f"ketamine_timelines/_data/{name}" in names
    requires = {
        line.split(":", 1)[1].split(">")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert requires <= {"matplotlib", "numpy", "ipython"}, requires


def test_wheel_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from book_notebooks import build_wheel  # _ext/ (pytest's pythonpath)

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")
    first = build_wheel(ROOT, tmp_path / "a", "0.1.0+0123456789ab").read_bytes()
    second = build_wheel(ROOT, tmp_path / "b", "0.1.0+0123456789ab").read_bytes()
    assert first == second


def test_data_set_downloads_describe_every_column(local_site: LocalSite) -> None:
    from ketamine_timelines import vocab

    data = local_site.root / "data"
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    resource = package["resources"][0]
    fields = resource["schema"]["fields"]
    header = next(csv.reader(io.StringIO((data / resource["path"]).read_text(encoding="utf-8"))))
    assert [f["name"] for f in fields] == header == list(vocab.COLUMNS)
    assert all(f["description"] for f in fields)
    for field in fields:
        if field["name"] in vocab.ENUMS:
            assert field["constraints"]["enum"] == sorted(vocab.ENUMS[field["name"]])
    assert (data / "README.md").read_bytes() == (ROOT / "data" / "README.md").read_bytes()
    # Linked from the landing page and from each notebook page.
    for page in ["index.html", *(f"notebooks/{n}.html" for n in NOTEBOOKS)]:
        html = (local_site.root / page).read_text(encoding="utf-8")
        for name in ("onset_timelines.csv", "README.md", "datapackage.json"):
            assert f'data/{name}"' in html, f"{page} does not link {name}"


def test_run_panel_on_each_notebook_page(local_site: LocalSite) -> None:
    from bs4 import BeautifulSoup

    for name in NOTEBOOKS:
        page = local_site.root / "notebooks" / f"{name}.html"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        panel = soup.select_one("article .run-notebook")
        assert panel is not None, name
        text = " ".join(panel.get_text(" ").split())
        assert "Run this notebook" in text and "pip install jupyterlab matplotlib numpy" in text
        assert panel.select_one(f'a.notebook-download-panel[href="{name}.ipynb"]')
        # Under the title: the download (one per page) and a link to the panel.
        top = soup.select("article a.notebook-download-link")
        assert len(top) == 1 and top[0]["href"] == f"{name}.ipynb", name
        assert soup.select_one("article p.notebook-download a[href='#run-this-notebook']")
        repository = panel.select_one("a.notebook-repository[href^='https://github.com/']")
        assert repository is not None
        # Colab opens an .ipynb from GitHub by path: the reader's edition on its branch.
        colab = panel.select_one("a.notebook-colab")
        owner_repo = repository["href"].removeprefix("https://github.com/")
        assert colab["href"] == (
            f"https://colab.research.google.com/github/{owner_repo}/blob/ipynb/"
            f"notebooks/{name}.ipynb"
        )
        # Launch links are plain links: nothing on the page loads from those hosts.
        assert not soup.select("[src*='mybinder'], [src*='colab']")


def test_bibliography_reader_agrees_with_pybtex() -> None:
    from pybtex.database import parse_file

    from ketamine_timelines.bib import parse_bibtex

    bib = ROOT / "references.bib"
    theirs = parse_file(str(bib), bib_format="bibtex").entries
    ours = parse_bibtex(bib.read_text(encoding="utf-8"), str(bib))
    assert list(ours) == list(theirs)
    for key, entry in theirs.items():
        for role in ("author", "editor"):
            names = [" ".join(p.prelast_names + p.last_names) for p in entry.persons.get(role, [])]
            assert ours[key].persons.get(role, []) == names, key
        fields = {k.lower(): v for k, v in entry.fields.items()}
        assert {k: v for k, v in ours[key].fields.items() if k not in ("author", "editor")} == (
            fields
        ), key


def test_bibliography_reader_names_file_and_line(tmp_path: Path) -> None:
    from ketamine_timelines.bib import BibError, parse_bibtex

    with pytest.raises(BibError, match=r"refs.bib:3: entry 'a': expected a field"):
        parse_bibtex("@article{a,\n  title = {T},\n  year 2000\n}\n", "refs.bib")


# -- nox -s lab -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment of `nox -s lab`: the package with its lab extra, and its settings."""
    python = make_venv(tmp_path_factory.mktemp("lab") / "venv", "-e", f"{ROOT}[lab]")
    settings = python.parent.parent / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LAB_OVERRIDES, settings / "overrides.json")
    return python


LAB_ROUND_TRIP = """
import pathlib, sys
from jupyter_server.services.contents.largefilemanager import LargeFileManager
from jupytext.sync_contentsmanager import build_sync_jupytext_contents_manager_class

manager = build_sync_jupytext_contents_manager_class(LargeFileManager)(root_dir=sys.argv[1])
for path in sorted(pathlib.Path(sys.argv[1], "notebooks").glob("*.md")):
    relative = path.relative_to(sys.argv[1]).as_posix()
    model = manager.get(relative)
    # What JupyterLab adds when it opens and saves a notebook.
    model["content"].metadata["language_info"] = {"name": "python"}
    for cell in model["content"].cells:
        cell.metadata["trusted"] = True
    manager.save(model, relative)
"""


def test_lab_has_the_myst_extension_and_saving_keeps_notebooks_unchanged(
    lab_env: Path, tmp_path: Path
) -> None:
    listing = subprocess.run(
        [str(lab_env.parent / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATH": f"{lab_env.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    lines = (listing.stdout + listing.stderr).splitlines()
    myst = [line for line in lines if "jupyterlab-myst" in line and "enabled" in line]
    assert myst and "OK" in myst[0], "\n".join(lines)
    assert "is not compatible" not in listing.stdout + listing.stderr
    # JupyterLab reads and writes the notebooks through jupytext's contents manager, with
    # the [tool.jupytext] configuration of pyproject.toml.
    copy = tmp_path / "book"
    shutil.copytree(ROOT / "notebooks", copy / "notebooks")
    shutil.copyfile(ROOT / "pyproject.toml", copy / "pyproject.toml")
    subprocess.run([str(lab_env), "-c", LAB_ROUND_TRIP, str(copy)], check=True)
    for path in sorted((ROOT / "notebooks").glob("*.md")):
        saved = (copy / "notebooks" / path.name).read_text(encoding="utf-8")
        assert saved == path.read_text(encoding="utf-8"), f"saving {path.name} changed it"


@pytest.mark.browser
def test_lab_renders_the_myst_notebooks_without_unknown_directives(
    lab_env: Path, chromium: Any, screenshot_dir: Path, tmp_path: Path
) -> None:
    """`nox -s lab` opens each MyST notebook as a notebook (jupytext) and jupyterlab-myst
    renders every role and directive it uses: no "Unknown Directive" or "Unknown Role".
    (Citations show their keys, marked "Citation Not Found": jupyterlab-myst does not read
    BibTeX files, jupyter-book/jupyterlab-myst#127; the downloads cite by DOI instead.)"""
    with jupyterlab(lab_env, ROOT, tmp_path) as lab:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            for name in NOTEBOOKS:
                # ?reset: a fresh workspace, so the notebooks opened before are not
                # restored as hidden tabs whose cells would match the selectors first.
                open_notebook(page, f"{lab}/lab/tree/notebooks/{name}.md?reset")
                page.wait_for_timeout(1500)
                text = rendered_markdown(page)
                assert "Unknown" not in text, (name, text[:2000])
                assert not re.search(r"\{(term|cite:[tp])\}`", text), name
                page.screenshot(path=str(screenshot_dir / f"nox-lab-{name}.png"))
        finally:
            context.close()
