"""Notebooks that run anywhere, and the data set as a download of its own.

For the hosted book (the HTML builders) this extension

* builds the content library ``ketamine_timelines`` as a wheel with hatchling (the
  project's build backend), carrying the data set and the bibliography as package data,
  and publishes it at ``wheels/`` on the book's site. A notebook's first cell installs
  it from there with ``--no-deps`` when it is missing, so a downloaded notebook needs
  Matplotlib, NumPy and Jupyter, and contacts no host but the book's own;
* rewrites that first cell in each ``.ipynb`` download to the wheel's address on this
  build's ``html_baseurl`` (the source names the production site), and drops outputs no
  notebook viewer shows (the PDF rendering of a figure);
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
import re
import shutil
import subprocess
import tempfile
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
#: The address of the wheel in a notebook's install cell, whatever site it names.
WHEEL_URL = re.compile(r"\S+/" + WHEEL_DIR + r"/ketamine_timelines-[^\s\"'/]+\.whl")
#: Outputs a downloaded notebook does not carry: the PDF no notebook viewer shows, the
#: EPUB's SVG and the web book's inline SVG. A downloaded notebook is untrusted, so
#: JupyterLab shows each figure's PNG anyway, once.
DOWNLOAD_DROPS_MIME = ("application/pdf", "image/svg+xml", "text/html")
#: What a reader installs before opening a downloaded notebook.
READER_PACKAGES = "jupyterlab matplotlib numpy"
PANEL_ID = "run-this-notebook"

#: Column types beyond text (Frictionless table schema); every other column is a string.
NUMBER_COLUMNS = ("timepoint_hours", "value", "uncertainty_low", "uncertainty_high")
INTEGER_COLUMNS = ("n",)
URL_COLUMNS = ("read_at",)


# -- The wheel ----------------------------------------------------------------------------
def build_wheel(project: Path, directory: Path) -> Path:
    """Build the content library's wheel into ``directory`` with hatchling's API."""
    from hatchling.builders.wheel import WheelBuilder

    builder = WheelBuilder(str(project))
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


def publish_wheel(app: Sphinx) -> str | None:
    """Build the wheel into the site's wheels/ folder; return its file name.

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
        previous, _, name = stamp.read_text().strip().partition(" ")
        if previous == digest and (target / name).is_file():
            return name
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(project, Path(tmp))
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.whl"):
            if old.name != wheel.name:
                old.unlink()
        shutil.copyfile(wheel, target / wheel.name)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{digest} {wheel.name}\n")
    return wheel.name


def wheel_url(app: Sphinx, name: str) -> str:
    return app.config.html_baseurl.rstrip("/") + f"/{WHEEL_DIR}/{name}"


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


# -- The .ipynb download --------------------------------------------------------------------
_PUBLISHED: dict[str, str] = {}  # outdir -> wheel file name of this build


def prepare_download(app: Sphinx, notebook: dict[str, Any]) -> dict[str, Any]:
    """A notebook as a reader downloads it: installs from this build's site, no PDF outputs."""
    wheel = _PUBLISHED.get(str(app.outdir))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code" and wheel:
            source = "".join(cell.get("source", ""))
            if WHEEL_URL.search(source):
                cell["source"] = WHEEL_URL.sub(wheel_url(app, wheel), source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in DOWNLOAD_DROPS_MIME:
                data.pop(mime, None)
    return notebook


def publish(app: Sphinx, exception: Exception | None) -> None:
    """Build the wheel and the data-set files (before copy_downloads writes notebooks)."""
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    name = publish_wheel(app)
    if name:
        _PUBLISHED[str(app.outdir)] = name
    publish_data(app)


def check_install_cell(app: Sphinx, docname: str, source: list[str]) -> None:
    """A notebook that imports the library must install it when it is missing."""
    text = source[0]
    if "kernelspec" not in text or "from ketamine_timelines" not in text:
        return
    if not (Path(app.srcdir) / "pyproject.toml").is_file():
        return  # no wheel to install from (a test project without the library's packaging)
    if not WHEEL_URL.search(text):
        LOGGER.warning(
            "%s: a notebook importing ketamine_timelines needs the install cell first "
            "(see notebooks/onset-timelines.md); a downloaded copy cannot run without it",
            app.env.doc2path(docname),
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


def binder_url(repository: str, path: str) -> str | None:
    m = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repository)
    if not m:
        return None
    return (
        f"https://mybinder.org/v2/gh/{m.group(1)}/{m.group(2)}/HEAD"
        f"?urlpath={quote('lab/tree/' + path, safe='')}"
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
        binder = binder_url(repo, source)
        if binder:
            links += [", or run it online on ", _link("Binder", binder, ["notebook-binder"])]
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
    # Where the book's sources live; the "Run this notebook" panel links it (and Binder).
    app.add_config_value("book_repository_url", "", "html")
    app.add_role("book-data", BookDataRole())
    app.connect("source-read", check_install_cell)
    app.connect("doctree-resolved", add_run_panel)
    app.connect("build-finished", publish, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
