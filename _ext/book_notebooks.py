"""Notebooks that run anywhere, and the data set as a download of its own.

For the hosted book (the HTML builders) this extension

* builds the content library ``ketamine_timelines`` as a wheel with hatchling (the
  project's build backend), carrying the data set and the bibliography as package data,
  and publishes it at ``wheels/`` on the book's site. Its version is the project's plus
  a PEP 440 local label, the digest of what it carries (``0.1.0+3f9a1c2b7d10``), so the
  wheel's name changes whenever its code or data do;
* writes the install cell (the code cell tagged ``book-install``) of each notebook as a
  reader gets it: it installs that wheel, pinned by its SHA-256, from this build's
  ``html_baseurl`` when the package is missing or is not the version the notebook was
  built with, says so in one line, and says in one line what to do when the site cannot
  be reached. The page shows that code, and the ``.ipynb`` download carries it (the
  reader's edition, ``book_reader_edition``); in the repository the cell is a comment,
  since there the package is installed already;
* tells the kernels the build starts that their outputs are for the book
  (``KETAMINE_TIMELINES_OUTPUT=book``, see ``ketamine_timelines.outputs``);
* publishes the data set at ``data/``: the CSV, its codebook (data/README.md) and a
  Frictionless ``datapackage.json`` generated from ``ketamine_timelines.vocab`` and the
  codebook's column table, versioned with the book (release and commit);
* adds a "Run this notebook" panel to each notebook page.

Hatchling writes reproducible wheels (fixed file order and, from SOURCE_DATE_EPOCH, fixed
timestamps), so two clean builds publish byte-identical wheels.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import string
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

from book_builders import WEB_BUILDERS

LOGGER = logging.getLogger(__name__)

WHEEL_DIR = "wheels"
#: Files besides src/ that go into the wheel or its metadata.
WHEEL_INPUTS = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "data/onset_timelines.csv",
    "data/README.md",
    "references.bib",
)
DATA_DIR = "data"
#: Files of the data-set download: (source in the repository, name on the site).
DATA_FILES = (("data/onset_timelines.csv", "onset_timelines.csv"), ("data/README.md", "README.md"))
#: The tag of a notebook's install cell; the reader's edition of its code replaces it.
INSTALL_TAG = "book-install"
#: What a reader installs before opening a downloaded notebook.
READER_PACKAGES = "jupyterlab matplotlib numpy"
PANEL_ID = "run-this-notebook"

#: Column types beyond text (Frictionless table schema); every other column is a string.
NUMBER_COLUMNS = ("timepoint_hours", "value", "uncertainty_low", "uncertainty_high")
INTEGER_COLUMNS = ("n",)
URL_COLUMNS = ("read_at",)


# -- The wheel ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Wheel:
    """The published wheel: its file name, version and SHA-256."""

    name: str
    version: str
    sha256: str


def wheel_version(project: Path, digest: str) -> str:
    """The project's version with the digest of what the wheel carries as a PEP 440 local
    label: a wheel with other code or data has another version, hence another name."""
    with (project / "pyproject.toml").open("rb") as file:
        base = tomllib.load(file)["project"]["version"]
    return f"{base}+{digest[:12]}"


def build_wheel(project: Path, directory: Path, version: str | None = None) -> Path:
    """Build the content library's wheel into ``directory`` with hatchling's API, as
    ``version`` when given (the project's own configuration, with that version)."""
    from hatchling.builders.wheel import WheelBuilder

    config = None
    if version is not None:
        with (project / "pyproject.toml").open("rb") as file:
            config = tomllib.load(file)
        config["project"]["version"] = version
    builder = WheelBuilder(str(project), config=config)
    built = list(builder.build(directory=str(directory), versions=["standard"]))
    if len(built) != 1:
        raise RuntimeError(f"hatchling built {built!r}, expected one wheel")
    return Path(built[0])


def wheel_inputs_digest(project: Path) -> str:
    """Hash of everything the wheel is built from (its sources, data and metadata)."""
    digest = hashlib.sha256()
    files = sorted((project / "src").rglob("*.py")) + sorted((project / "src").rglob("py.typed"))
    files += [project / name for name in WHEEL_INPUTS]
    for path in files:
        digest.update(path.relative_to(project).as_posix().encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def publish_wheel(app: Sphinx) -> Wheel | None:
    """Build the wheel into the site's wheels/ folder, versioned by what it carries.

    Importing hatchling and building take a second; a build whose inputs are unchanged
    reuses the wheel it published last time (the stamp lives with the doctrees).
    """
    project = Path(app.srcdir)
    if not (project / "pyproject.toml").is_file():
        return None  # a test project without the library's packaging
    target = Path(app.outdir) / WHEEL_DIR
    stamp = Path(app.doctreedir) / "book-wheel.stamp"
    digest = wheel_inputs_digest(project)
    if stamp.is_file():
        previous, _, rest = stamp.read_text().strip().partition(" ")
        name, _, version = rest.partition(" ")
        if previous == digest and version and (target / name).is_file():
            sha = hashlib.sha256((target / name).read_bytes()).hexdigest()
            return Wheel(name, version, sha)
    version = wheel_version(project, digest)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(project, Path(tmp), version)
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.whl"):
            if old.name != wheel.name:
                old.unlink()
        shutil.copyfile(wheel, target / wheel.name)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{digest} {wheel.name} {version}\n")
    sha = hashlib.sha256((target / wheel.name).read_bytes()).hexdigest()
    return Wheel(wheel.name, version, sha)


def wheel_url(app: Sphinx, name: str) -> str:
    return app.config.html_baseurl.rstrip("/") + f"/{WHEEL_DIR}/{name}"


# -- The install cell -----------------------------------------------------------------------
#: The install cell as a reader gets it (the page shows it; the .ipynb download runs it).
#: One line when it installs, one line when it cannot; pip gets no chance to retry for
#: 15 s offline: a HEAD request with a short timeout comes first.
INSTALL_CELL = string.Template("""\
# The book's package, ketamine-timelines (its figures and its data set), from the website
# this notebook came from: installed when it is missing or is not the version this
# notebook was made with.
import importlib
import importlib.metadata
import subprocess
import sys
import urllib.request

WHEEL = $wheel
SHA256 = $sha256
VERSION = $version


class BookPackageError(Exception):
    def _render_traceback_(self):  # Jupyter shows this one line, without a traceback
        return [f"{type(self).__name__}: {self}"]


try:
    installed = importlib.metadata.version("ketamine-timelines")
except importlib.metadata.PackageNotFoundError:
    installed = None
if installed != VERSION:
    try:  # a quick look first: offline, pip would retry for 15 s before failing
        urllib.request.urlopen(urllib.request.Request(WHEEL, method="HEAD"), timeout=10).close()
    except OSError as error:
        raise BookPackageError(
            f"cannot reach {WHEEL} ({getattr(error, 'reason', error)}). Download that "
            "file and pip install it, or clone the book's repository and run: nox -s lab"
        ) from None
    was = f" in place of {installed}" if installed else ""
    print(f"Installing ketamine-timelines {VERSION}{was} from {WHEEL}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--retries", "0"]
    pip += ["--disable-pip-version-check", f"{WHEEL}#sha256={SHA256}"]  # pinned by hash
    result = subprocess.run(pip, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no message"]
        why = next((line for line in lines if line.startswith("ERROR:")), lines[-1])
        raise BookPackageError(f"pip could not install {WHEEL}: {why}")
    importlib.invalidate_caches()
    if "ketamine_timelines" in sys.modules:
        raise BookPackageError("installed: restart the kernel and run the notebook again")
""")


def install_code(app: Sphinx) -> str | None:
    """The install cell of this build's notebooks, or None without a published wheel."""
    wheel = _PUBLISHED.get(str(app.outdir))
    if wheel is None:
        return None
    return INSTALL_CELL.substitute(
        wheel=json.dumps(wheel_url(app, wheel.name)),
        sha256=json.dumps(wheel.sha256),
        version=json.dumps(wheel.version),
    )


def is_install_cell(metadata: dict[str, Any]) -> bool:
    return INSTALL_TAG in (metadata.get("tags") or [])


def show_install_cell(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The page shows the install cell that its .ipynb download carries (same address)."""
    if app.builder.name not in WEB_BUILDERS or not _is_notebook(app, docname):
        return
    code = install_code(app)
    if code is None:
        return
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") == "cell_code" and is_install_cell(cell.get("cell_metadata", {})):
            for block in cell.findall(nodes.literal_block):
                block.rawsource = code
                block[:] = [nodes.Text(code)]


# -- The data set -------------------------------------------------------------------------
def codebook_descriptions(codebook: str) -> dict[str, str]:
    """Column -> meaning, from the codebook's "| `column` | type | meaning |" table."""
    found = {}
    for line in codebook.splitlines():
        m = re.match(r"\|\s*`([a-z_]+)`\s*\|\s*([^|]*)\|\s*(.*?)\s*\|\s*$", line)
        if m:
            found[m.group(1)] = re.sub(r"[`*]", "", m.group(3)).strip()
    return found


def datapackage(codebook: str, *, version: str, commit: str | None) -> dict[str, Any]:
    """A Frictionless Data Package describing every column of the data set."""
    from ketamine_timelines import vocab

    meanings = codebook_descriptions(codebook)
    missing = [c for c in vocab.COLUMNS if c not in meanings]
    if missing:
        raise ValueError(f"data/README.md: no row in the Columns table for {', '.join(missing)}")
    fields = []
    for column in vocab.COLUMNS:
        field: dict[str, Any] = {"name": column, "description": meanings[column]}
        if column in NUMBER_COLUMNS:
            field["type"] = "number"
        elif column in INTEGER_COLUMNS:
            field["type"] = "integer"
        else:
            field["type"] = "string"
            if column in URL_COLUMNS:
                field["format"] = "uri"
        constraints: dict[str, Any] = {}
        if column in vocab.REQUIRED_COLUMNS:
            constraints["required"] = True
        if column == "row_id":
            constraints["unique"] = True
        if column in vocab.ENUMS:
            constraints["enum"] = sorted(vocab.ENUMS[column])
        if column == "n":
            constraints["minimum"] = 1
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": "ketamine-onset-timelines",
        "title": "Onset timelines of ketamine, esketamine and antidepressants",
        "description": (
            "One row per published number (response rates, changes, differences from "
            "control, times to onset), with its study, time point, scale and where in the "
            "source it was read. The codebook is README.md; study keys refer to the "
            "book's bibliography."
        ),
        "version": version,
        "resources": [
            {
                "name": "onset-timelines",
                "path": "onset_timelines.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "primaryKey": "row_id", "missingValues": [""]},
            }
        ],
    }
    if commit:
        package["sources"] = [{"title": f"Git commit {commit} of the book's repository"}]
    return package


def git_commit(srcdir: Path) -> str | None:
    if not (srcdir / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=srcdir, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def publish_data(app: Sphinx) -> None:
    srcdir, target = Path(app.srcdir), Path(app.outdir) / DATA_DIR
    if not all((srcdir / source).is_file() for source, _ in DATA_FILES):
        return
    target.mkdir(parents=True, exist_ok=True)
    for source, name in DATA_FILES:
        shutil.copyfile(srcdir / source, target / name)
    codebook = (srcdir / "data" / "README.md").read_text(encoding="utf-8")
    package = datapackage(codebook, version=app.config.release, commit=git_commit(srcdir))
    text = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    (target / "datapackage.json").write_text(text, encoding="utf-8")


# -- Publishing -----------------------------------------------------------------------------
_PUBLISHED: dict[str, Wheel] = {}  # outdir -> the wheel of this build


def publish_before_writing(app: Sphinx, env: Any) -> None:
    """Build the wheel once every page is read: the pages show its address and hash."""
    if app.builder.name not in WEB_BUILDERS:
        return
    wheel = publish_wheel(app)
    if wheel is not None:
        _PUBLISHED[str(app.outdir)] = wheel


def publish(app: Sphinx, exception: Exception | None) -> None:
    """Publish the data-set files."""
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    publish_data(app)


def check_install_cell(app: Sphinx, docname: str, source: list[str]) -> None:
    """A notebook that imports the library must begin with the install cell (a code cell
    tagged ``book-install``): a downloaded copy cannot run without it."""
    text = source[0]
    if "kernelspec" not in text or "ketamine_timelines" not in text:
        return
    if not (Path(app.srcdir) / "pyproject.toml").is_file():
        return  # no wheel to install from (a test project without the library's packaging)
    from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

    if not is_myst_markdown_notebook(text):
        return
    code = [c for c in read_myst_markdown_notebook(text).cells if c.cell_type == "code"]
    if not code or not is_install_cell(code[0].metadata):
        LOGGER.warning(
            "a notebook importing ketamine_timelines needs the install cell first, a code "
            "cell tagged %r (see notebooks/onset-timelines.md); a downloaded copy cannot "
            "run without it",
            INSTALL_TAG,
            location=docname,
            type="book",
            subtype="notebook",
        )


# -- The "Run this notebook" panel ----------------------------------------------------------
def _is_notebook(app: Sphinx, docname: str) -> bool:
    return "kernelspec" in app.env.metadata.get(docname, {})


def _link(text: str, uri: str, classes: list[str] | None = None, download: bool = False):
    ref = nodes.reference(text, text, refuri=uri, classes=classes or [])
    if download:
        ref["download"] = uri.rsplit("/", 1)[-1]
    return ref


def _joined(parts: list[nodes.Node], separator: str) -> list[nodes.Node | str]:
    joined: list[nodes.Node | str] = []
    for part in parts:
        joined += [separator, part] if joined else [part]
    return joined


def _item(*children: nodes.Node | str) -> nodes.list_item:
    para = nodes.paragraph()
    for child in children:
        para += nodes.Text(child) if isinstance(child, str) else child
    return nodes.list_item("", para)


def data_links(up: str, short: bool = False) -> list[nodes.Node | str]:
    """Links to the published data set, from a page ``up`` ("../" per level) below the root."""

    def one(text: str, name: str) -> nodes.reference:
        return _link(text, f"{up}{DATA_DIR}/{name}", ["data-download"], True)

    return [
        one("CSV", "onset_timelines.csv"),
        ", ",
        one("codebook", "README.md"),
        " and ",
        one("datapackage.json", "datapackage.json"),
        " (types and allowed values)" if short else " (every column's type and allowed values)",
    ]


class BookDataRole(SphinxRole):
    """``{book-data}`The data set```: the label, then links to the CSV, its codebook and
    datapackage.json as the HTML build publishes them (plain text in other builders)."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        label = self.text.strip()
        if self.env.app.builder.name not in WEB_BUILDERS:
            text = f"{label}: data/onset_timelines.csv in the book's repository"
            return [nodes.inline(text, text)], []
        up = "../" * self.env.docname.count("/")
        node = nodes.inline(classes=["book-data"])
        node += nodes.Text(f"{label}: ")
        for part in data_links(up):
            node += nodes.Text(part) if isinstance(part, str) else part
        return [node], []


def _github(repository: str) -> tuple[str, str] | None:
    m = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repository)
    return (m.group(1), m.group(2)) if m else None


def binder_url(repository: str, path: str) -> str | None:
    """Binder builds the repository (binder/) and opens the MyST notebook in JupyterLab."""
    github = _github(repository)
    if github is None:
        return None
    return (
        f"https://mybinder.org/v2/gh/{github[0]}/{github[1]}/HEAD"
        f"?urlpath={quote('lab/tree/' + path, safe='')}"
    )


def colab_url(repository: str, branch: str, docname: str) -> str | None:
    """Colab opens a notebook from GitHub by its path, and only an .ipynb: the reader's
    edition, which the GitHub Pages workflow publishes to ``branch`` (README: Hosting)."""
    github = _github(repository)
    if github is None or not branch:
        return None
    return (
        f"https://colab.research.google.com/github/{github[0]}/{github[1]}/blob/"
        f"{quote(branch)}/{quote(docname)}.ipynb"
    )


def run_panel(app: Sphinx, docname: str) -> nodes.Element:
    depth = docname.count("/")
    up = "../" * depth
    name = Path(docname).name + ".ipynb"
    source = Path(app.env.doc2path(docname)).relative_to(app.srcdir).as_posix()
    repo = app.config.book_repository_url.rstrip("/")

    panel = nodes.container(classes=["run-notebook"])
    panel += nodes.rubric("Run this notebook", "Run this notebook", ids=[PANEL_ID])
    steps = nodes.enumerated_list(enumtype="arabic")
    steps += _item(
        _link(f"Download the notebook ({name})", name, ["notebook-download-panel"], True),
        ", with its outputs, into an empty folder.",
    )
    install = f"pip install {READER_PACKAGES}"
    steps += _item("Once, with Python 3.11 or later: ", nodes.literal(install, install), ".")
    lab = f"jupyter lab {name}"
    steps += _item(
        "In that folder, run ",
        nodes.literal(lab, lab),
        " and choose Run > Run All Cells. The first cell installs the book's small "
        "plotting package, with its data set, from this website; nothing else is "
        "downloaded.",
    )
    panel += steps
    more = nodes.bullet_list()
    more += _item("The data: ", *data_links(up, short=True), ".")
    if repo:
        links: list[nodes.Node | str] = [
            "Source: ",
            _link("the book's repository", repo, ["notebook-repository"]),
        ]
        online = [
            _link(name, url, [f"notebook-{name.lower()}"])
            for name, url in (
                ("Binder", binder_url(repo, source)),
                ("Colab", colab_url(repo, app.config.book_colab_branch, docname)),
            )
            if url
        ]
        if online:
            links += [", or run it online on ", *_joined(online, " or ")]
        links.append(".")
        more += _item(*links)
    panel += more
    return panel


def download_line(docname: str) -> nodes.paragraph:
    """Under the title: the .ipynb download and a pointer to the panel at the end."""
    name = Path(docname).name + ".ipynb"
    para = nodes.paragraph(classes=["notebook-download"])
    text = f"Download this notebook with its outputs ({name})"
    para += _link(text, name, ["notebook-download-link"], True)
    para += nodes.Text("; to run it, see ")
    para += nodes.reference("", "Run this notebook", internal=True, refid=PANEL_ID)
    para += nodes.Text(".")
    return para


def add_run_panel(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The download under the title; the panel at the end of the page's first section."""
    if app.builder.name not in WEB_BUILDERS or not _is_notebook(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, download_line(docname))
    section += run_panel(app, docname)


def setup(app: Sphinx) -> dict[str, Any]:
    from ketamine_timelines.outputs import OUTPUT_ENV

    # The kernels this build starts make outputs for the book (MyST, themed inline SVG);
    # a reader's kernel, without this variable, makes plain ones (ketamine_timelines.outputs).
    os.environ[OUTPUT_ENV] = "book"
    # Where the book's sources live; the "Run this notebook" panel links it (and Binder).
    app.add_config_value("book_repository_url", "", "html")
    # The branch of that repository with the reader's editions (.ipynb) for "Open in Colab";
    # empty: no Colab link.
    app.add_config_value("book_colab_branch", "ipynb", "html")
    app.add_role("book-data", BookDataRole())
    app.setup_extension("book_reader_edition")
    app.connect("source-read", check_install_cell)
    app.connect("env-updated", publish_before_writing)
    app.connect("doctree-resolved", show_install_cell)
    app.connect("doctree-resolved", add_run_panel)
    app.connect("build-finished", publish, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
