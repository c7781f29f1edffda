"""Downloads: the PDF and EPUB linked from the landing page, the printable handout linked
from the patient guide, and each executed notebook.

``{book-download}`pdf``` links the built PDF (or EPUB, or ``handout-a4`` and
``handout-letter``) when there is one, and says how to build it when there is not; a page
is re-read when that changes. After an HTML build these files are copied to
``downloads/`` and each notebook page gets its executed
``.ipynb`` beside it, with outputs from the execution cache, made reproducible and
prepared for readers by ``book_notebooks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxRole

from book_builders import WEB_BUILDERS

DOWNLOAD_LABELS = {
    "pdf": "PDF",
    "epub": "EPUB",
    "handout-a4": "handout (A4)",
    "handout-letter": "handout (US Letter)",
}


def _download_source(config: Any, kind: str, srcdir: Any) -> Path:
    """The built file: configuration value ``book_<kind>_path`` (book_handout_a4_path...);
    a relative path is relative to the book's sources."""
    return Path(srcdir, getattr(config, f"book_{kind.replace('-', '_')}_path"))


def _session(kind: str) -> str:
    """The nox session that builds it (the handouts are built with the PDF)."""
    return "epub" if kind == "epub" else "pdf"


def _download_state_changed(env: BuildEnvironment) -> set[str]:
    """Docnames whose ``book-download`` roles would now read differently: a PDF/EPUB that
    existed now does not (or the other way round), or its configured path changed (the
    ``book_*_path`` values only rebuild HTML, so a warm build with ``-D book_pdf_path=...``
    would otherwise keep the old text)."""
    states: dict[str, dict[str, tuple[str, bool]]] = getattr(env, "book_download_state", {})
    changed = set()
    for docname, seen in states.items():
        for kind, (path, existed) in seen.items():
            source = _download_source(env.config, kind, env.srcdir)
            if str(source) != path or source.exists() != existed:
                changed.add(docname)
    return changed


def _purge_download_state(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "book_download_state", {}).pop(docname, None)


def _merge_download_state(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    theirs = getattr(other, "book_download_state", {})
    mine = env.__dict__.setdefault("book_download_state", {})
    mine.update({d: theirs[d] for d in docnames if d in theirs})


class BookDownloadRole(SphinxRole):
    """``{book-download}`pdf```: a link to the built PDF or EPUB, when one has been built.

    The HTML book never links to a file that is not there: without a PDF (no TeX Live on
    this machine), the role says how to build one instead. In the EPUB, which a reader
    has already downloaded, the role points to the web edition (``html_baseurl``).
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        kind = self.text.strip().lower()
        if kind not in DOWNLOAD_LABELS:
            msg = self.inliner.reporter.error(
                f"book-download: unknown kind {kind!r} (use {', '.join(DOWNLOAD_LABELS)})",
                line=self.lineno,
            )
            return [], [msg]
        source = _download_source(self.config, kind, self.env.srcdir)
        # The text depends on whether the file exists: re-read the page when that changes.
        states = self.env.__dict__.setdefault("book_download_state", {})
        states.setdefault(self.env.docname, {})[kind] = (str(source), source.exists())
        label = f"Download the {DOWNLOAD_LABELS[kind]}"
        if self.env.app.builder.name not in WEB_BUILDERS:
            # The EPUB (and any other edition) has no downloads of its own: its readers
            # get them from the web edition, at its address.
            base = self.config.html_baseurl
            text = f"{DOWNLOAD_LABELS[kind]}: from the web edition, {base}"
            ref = nodes.reference(base, base, refuri=base, classes=["book-download-web"])
            lead = f"{DOWNLOAD_LABELS[kind]}: from the web edition, "
            return [nodes.inline(text, "", nodes.Text(lead), ref)], []
        if not source.exists():
            text = f"{DOWNLOAD_LABELS[kind]}: build it with nox -s {_session(kind)}"
            return [nodes.inline(text, text, classes=["book-download-missing"])], []
        depth = self.env.docname.count("/")
        uri = "../" * depth + f"downloads/{source.name}"
        ref = nodes.reference(label, label, refuri=uri, classes=["book-download"])
        ref["download"] = source.name
        return [ref], []


def _is_notebook(env: BuildEnvironment, docname: str) -> bool:
    return "kernelspec" in env.metadata.get(docname, {}) or str(env.doc2path(docname)).endswith(
        ".ipynb"
    )


def _with_cached_outputs(app: Sphinx, text: str) -> str:
    """The notebook with its outputs from the execution cache.

    MyST-NB writes the notebook it read to jupyter_execute/; in "cache" mode the executed
    copy, with outputs, lives only in jupyter-cache, so the download takes them from there.
    """
    if app.config.nb_execution_mode != "cache":
        return text
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CachingError

    cache_path = app.config.nb_execution_cache_path or str(Path(app.outdir) / ".jupyter_cache")
    notebook = nbformat.reads(text, as_version=4)
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
    except (KeyError, CachingError):
        return text
    return nbformat.writes(merged)


def _without_run_times(text: str, app: Sphinx | None = None, docname: str = "") -> str:
    """The executed notebook made reproducible: no per-cell run timestamps, and cell ids
    numbered in order (reading a MyST notebook draws random ones). With ``app``, also as a
    reader downloads it (book_reader_edition: plain Markdown, PNG figures, and the install
    cell of this build's site)."""
    import json

    notebook = json.loads(text)
    if app is not None and "book_reader_edition" in app.extensions:
        from book_reader_edition import reader_edition

        notebook = reader_edition(app, docname, notebook)
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        cell.get("metadata", {}).pop("execution", None)
        if "id" in cell:
            cell["id"] = f"cell-{number}"
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def copy_downloads(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name not in WEB_BUILDERS:
        return
    import shutil

    outdir = Path(app.outdir)
    for kind in DOWNLOAD_LABELS:
        source = _download_source(app.config, kind, app.srcdir)
        if source.exists():
            (outdir / "downloads").mkdir(exist_ok=True)
            shutil.copyfile(source, outdir / "downloads" / source.name)
    executed = outdir.parent / "jupyter_execute"
    for docname in sorted(app.env.found_docs):
        if _is_notebook(app.env, docname):
            notebook = executed / f"{docname}.ipynb"
            if not notebook.exists():
                continue
            target = outdir / f"{docname}.ipynb"
            # The download follows the executed notebook and, through book_reader_edition,
            # the site's address, the wheel, the glossary and the bibliography: it is made
            # again when its key, kept beside the doctrees, says that one of them changed.
            # The executed notebook with its outputs is kept there too: reading the cache
            # imports SQLAlchemy, which a build that executed nothing should not pay for.
            merged = Path(app.doctreedir) / "book-downloads" / f"{docname}.ipynb"
            stamp = merged.with_suffix(".key")
            key = f"{notebook.stat().st_mtime_ns} {_edition_key(app, docname)}"
            if target.exists() and stamp.exists() and stamp.read_text() == key:
                continue
            if not merged.exists() or merged.stat().st_mtime < notebook.stat().st_mtime:
                merged.parent.mkdir(parents=True, exist_ok=True)
                text = _with_cached_outputs(app, notebook.read_text(encoding="utf-8"))
                merged.write_text(text, encoding="utf-8")
            text = _without_run_times(merged.read_text(encoding="utf-8"), app, docname)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            stamp.write_text(key)


def _edition_key(app: Sphinx, docname: str) -> str:
    if "book_reader_edition" not in app.extensions:
        return ""
    from book_reader_edition import edition_key

    return edition_key(app, docname)


def pages_with_changed_downloads(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages whose download links would now read differently (a PDF built or deleted)."""
    return sorted(d for d in _download_state_changed(env) if d not in added and d in env.found_docs)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("book-download", BookDownloadRole())
    app.add_config_value("book_pdf_path", "_build/latex/ketamine-for-mental-health.pdf", "html")
    app.add_config_value("book_epub_path", "_build/epub/ketamine-for-mental-health.epub", "html")
    app.add_config_value("book_handout_a4_path", "_build/latex/handout-a4.pdf", "html")
    app.add_config_value("book_handout_letter_path", "_build/latex/handout-letter.pdf", "html")
    app.connect("build-finished", copy_downloads)
    app.connect("env-get-outdated", pages_with_changed_downloads)
    app.connect("env-purge-doc", _purge_download_state)
    app.connect("env-merge-info", _merge_download_state)
    # env_version: the download state's shape changed (kind -> (path, existed)).
    return {
        "version": "1",
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
