"""Downloads: the PDF and EPUB linked from the landing page, and each executed notebook.

``{book-download}`pdf``` links the built PDF (or EPUB) when there is one, and says how to
build it when there is not; a page is re-read when that changes. After an HTML build the
PDF and EPUB are copied to ``downloads/`` and each notebook page gets its executed
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

DOWNLOAD_LABELS = {"pdf": "PDF", "epub": "EPUB"}


def _download_source(config: Any, kind: str) -> Path:
    return Path(config.book_pdf_path if kind == "pdf" else config.book_epub_path)


def _download_state_changed(env: BuildEnvironment) -> set[str]:
    """Docnames whose ``book-download`` roles saw a PDF/EPUB exist that now does not, or
    the other way round."""
    states: dict[str, dict[str, bool]] = getattr(env, "book_download_state", {})
    return {
        docname
        for docname, seen in states.items()
        if any(Path(path).exists() != existed for path, existed in seen.items())
    }


def _purge_download_state(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "book_download_state", {}).pop(docname, None)
    getattr(env, "book_stderr_docs", set()).discard(docname)


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
                f"book-download: unknown kind {kind!r} (use pdf or epub)", line=self.lineno
            )
            return [], [msg]
        source = _download_source(self.config, kind)
        # The text depends on whether the file exists: re-read the page when that changes.
        states = self.env.__dict__.setdefault("book_download_state", {})
        states.setdefault(self.env.docname, {})[str(source)] = source.exists()
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
            text = f"{DOWNLOAD_LABELS[kind]}: build it with nox -s {kind}"
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


def _without_run_times(text: str, app: Sphinx | None = None) -> str:
    """The executed notebook made reproducible: no per-cell run timestamps, and cell ids
    numbered in order (reading a MyST notebook draws random ones). With ``app``, also as a
    reader downloads it (book_notebooks.prepare_download: installs from this build's site)."""
    import json

    notebook = json.loads(text)
    if app is not None and "book_notebooks" in app.extensions:
        from book_notebooks import prepare_download

        notebook = prepare_download(app, notebook)
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
        source = _download_source(app.config, kind)
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
            # Unchanged since the last build: skip (reading the cache imports SQLAlchemy).
            if target.exists() and target.stat().st_mtime >= notebook.stat().st_mtime:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            text = _with_cached_outputs(app, notebook.read_text(encoding="utf-8"))
            target.write_text(_without_run_times(text, app), encoding="utf-8")


def pages_with_changed_downloads(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Pages whose download links would now read differently (a PDF built or deleted)."""
    return sorted(d for d in _download_state_changed(env) if d not in added and d in env.found_docs)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_role("book-download", BookDownloadRole())
    app.add_config_value("book_pdf_path", "_build/latex/ketamine-for-mental-health.pdf", "html")
    app.add_config_value("book_epub_path", "_build/epub/ketamine-for-mental-health.epub", "html")
    app.connect("build-finished", copy_downloads)
    app.connect("env-get-outdated", pages_with_changed_downloads)
    app.connect("env-purge-doc", _purge_download_state)
    app.connect("env-merge-info", _merge_download_state)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
