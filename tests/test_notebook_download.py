"""A notebook downloaded from the book runs on its own, as a student would run it.

The book is built with a local base URL and served over HTTP (the session's
``local_site``); each notebook's .ipynb is downloaded into an empty folder and executed
with nbconvert in the session's student environment, which has only what the notebook
panel tells readers to install (JupyterLab, Matplotlib, NumPy). Any host other than the
book's server is unreachable during the run (a dead proxy, a dead package index), so a
request to a third-party host fails the test.

The environments are created with uv (pip installs from PyPI), once per session.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from urllib.request import urlopen

import pytest

from conftest import ROOT, LocalSite, make_venv

pytestmark = pytest.mark.notebook_download

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.md"))
MAX_NOTEBOOK_BYTES = 400_000
DEAD = "http://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture(scope="session")
def local_book(local_site: LocalSite) -> LocalSite:
    """The HTML book built for, and served at, http://127.0.0.1:PORT/en/latest/
    (tests/conftest.py: ``local_site``, with the session's execution cache)."""
    return local_site


def uv_venv(path: Path, *packages: str) -> Path:
    return make_venv(path, *packages)


@pytest.fixture(scope="session")
def reader_env(student_venv: Path) -> Path:
    """A student's environment: JupyterLab (with nbconvert and ipykernel), Matplotlib and
    NumPy, as the notebook panel says (tests/conftest.py: ``student_venv``)."""
    return student_venv


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
        if not key.upper().startswith(("PIP_", "PYTHON", "JUPYTER", "VIRTUAL_ENV", "UV_"))
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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_downloaded_notebook_runs_in_a_fresh_environment(
    name: str, local_book: LocalSite, reader_env: Path, tmp_path: Path
) -> None:
    # Start as a student does: the book's package is not installed yet.
    subprocess.run(
        [str(reader_env), "-m", "pip", "uninstall", "-q", "-y", "ketamine-timelines"],
        check=False,
        capture_output=True,
    )
    folder = tmp_path / "empty"
    folder.mkdir()
    start = time.perf_counter()
    notebook = download(f"{local_book.base}notebooks/{name}.ipynb", folder)
    result = subprocess.run(
        [
            str(reader_env.parent / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "--output",
            "executed.ipynb",
            notebook.name,
        ],
        cwd=folder,
        env=offline_env(reader_env, tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, f"{name}: nbconvert failed:\n{result.stderr[-4000:]}"
    executed = json.loads((folder / "executed.ipynb").read_text(encoding="utf-8"))
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"], name
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no PNG figure"
    # The kernel installed the book's wheel from the book's server into the fresh venv.
    assert any(path.endswith(".whl") for path in local_book.requests), local_book.requests
    site = next(reader_env.parent.parent.glob("lib/python*/site-packages"))
    assert (site / "ketamine_timelines" / "_data" / "onset_timelines.csv").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["executed.ipynb", notebook.name]
    print(f"{name}: download to figure in {seconds:.1f} s")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_downloaded_notebook_is_small_and_needs_no_build_tools(
    name: str, local_book: LocalSite
) -> None:
    path = local_book.root / "notebooks" / f"{name}.ipynb"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{name}.ipynb: {path.stat().st_size} B"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert not any("myst_nb" in source for source in code), "glue belongs to the build"
    wheel = next((local_book.root / "wheels").glob("*.whl")).name
    assert f"%pip install --quiet --no-deps {local_book.base}wheels/{wheel}" in code[0]
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            assert "application/pdf" not in output.get("data", {})
            assert not any(k.startswith("application/papermill") for k in output.get("data", {}))


def test_wheel_carries_the_data_and_installs_without_dependencies(local_book: LocalSite) -> None:
    wheel = next((local_book.root / "wheels").glob("ketamine_timelines-*.whl"))
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
    first = build_wheel(ROOT, tmp_path / "a").read_bytes()
    second = build_wheel(ROOT, tmp_path / "b").read_bytes()
    assert first == second


def test_data_set_downloads_describe_every_column(local_book: LocalSite) -> None:
    from ketamine_timelines import vocab

    data = local_book.root / "data"
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
        html = (local_book.root / page).read_text(encoding="utf-8")
        for name in ("onset_timelines.csv", "README.md", "datapackage.json"):
            assert f'data/{name}"' in html, f"{page} does not link {name}"


def test_run_panel_on_each_notebook_page(local_book: LocalSite) -> None:
    from bs4 import BeautifulSoup

    for name in NOTEBOOKS:
        page = local_book.root / "notebooks" / f"{name}.html"
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
        assert panel.select_one("a.notebook-repository[href^='https://']")
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


@pytest.fixture(scope="session")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment of `nox -s lab`: the package with its lab extra."""
    return uv_venv(tmp_path_factory.mktemp("lab") / "venv", "-e", f"{ROOT}[lab]")


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
