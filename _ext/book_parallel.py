"""How a build uses the cores: notebooks executed side by side, and parallel reading and
writing only when enough pages are outdated to pay for it.

* **Notebooks run concurrently.** MyST-NB executes a notebook when it reads it, one after
  another (in "cache" mode, on a cache miss). When two or more notebooks of a build must
  run, they are executed here first, side by side in forked processes (as many as
  ``-j``), before Sphinx reads anything, and stored in the execution cache exactly as
  MyST-NB stores them (the same reader, configuration, working directory and timeout);
  MyST-NB then finds each one in the cache. A notebook is only taken from the cache
  when its code matches (jupyter-cache's hash), so nothing stale can come of it; a
  notebook that fails here is left to MyST-NB, which runs it again and reports the
  failure as it always does.
* **Parallel only where it pays.** Sphinx 9 starts worker processes for any number of
  outdated pages under ``-j auto`` (Sphinx 7 required more than five): reading one
  edited chapter in a worker process costs more than reading it. Below
  ``PARALLEL_MIN_DOCS`` pages to read, the build reads and writes serially, by setting
  ``app.parallel`` (the ``-j`` value, which Sphinx consults before reading and again
  before writing) to 1 in ``env-before-read-docs``. ``book_parallel_min_docs`` (conf.py
  or ``-D``) sets the threshold.

``nox -s bench`` measures both (see README: Benchmarks).
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: From this many pages to read, parallel reading and writing pay on 2 cores
#: (``nox -s bench``'s threshold measurement; see README: Benchmarks).
PARALLEL_MIN_DOCS = 6


def notebooks_to_execute(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> list[Any]:
    """The notebooks among ``docnames`` that MyST-NB would execute (cache misses)."""
    from myst_nb.core.read import create_nb_reader

    jobs = []
    cache = None
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if path.suffix not in {".md", ".ipynb"} or not path.is_file():
            continue
        text = path.read_text(encoding=app.config.source_encoding)
        if path.suffix == ".md" and "kernelspec" not in text:
            continue  # not a notebook: spare the reader
        reader = create_nb_reader(str(path), env.myst_config, env.mystnb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        nb_config = _notebook_config(env, notebook)
        if nb_config is None or nb_config.execution_mode != "cache":
            continue
        if _excluded(path, nb_config.execution_excludepatterns):
            continue
        if cache is None:
            from jupyter_cache import get_cache

            cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")
        with suppress(KeyError):
            if cache.match_cache_notebook(notebook) is not None:
                continue
        jobs.append((docname, path, notebook, nb_config, reader.read_fmt))
    return jobs


def _notebook_config(env: BuildEnvironment, notebook: Any) -> Any:
    """MyST-NB's configuration for this notebook, with its own metadata's overrides and
    the kernel alias applied, as ``myst_nb.sphinx_.Parser.parse`` does."""
    import re

    from myst_nb.core.nb_to_tokens import nb_node_to_dict

    nb_config = env.mystnb_config
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    for pattern, alias in (nb_config.kernel_rgx_aliases or {}).items():
        if kernel is not None and re.fullmatch(pattern, kernel):
            notebook.metadata["kernelspec"]["name"] = alias
            break
    if nb_config.metadata_key in notebook.metadata:
        overrides = nb_node_to_dict(notebook.metadata[nb_config.metadata_key])
        overrides.pop("output_folder", None)
        try:
            nb_config = nb_config.copy(**overrides)
        except Exception:
            return None  # MyST-NB warns about it when it reads the notebook
    return nb_config


def _excluded(path: Path, patterns: Any) -> bool:
    from pathlib import PurePosixPath

    return any(PurePosixPath(path.as_posix()).match(p) for p in patterns or ())


def _execute(job: tuple[str, Path, Any, Any]) -> tuple[Any, float, str | None]:
    """In a worker process: execute one notebook as MyST-NB's cache client does (in the
    notebook's folder, or a temporary one with ``nb_execution_in_temp``)."""
    import tempfile
    from contextlib import nullcontext

    from jupyter_cache.executors.utils import single_nb_execution

    _, path, notebook, config = job
    folder = tempfile.TemporaryDirectory() if config.execution_in_temp else nullcontext(path.parent)
    try:
        with folder as cwd:
            result = single_nb_execution(
                notebook,
                cwd=os.path.abspath(str(cwd)),
                allow_errors=config.execution_allow_errors,
                timeout=config.execution_timeout,
                meta_override=True,
            )
    except Exception as exc:  # a dead kernel, say: MyST-NB will run it and report it
        return None, 0.0, f"{type(exc).__name__}: {exc}"
    if result.err is not None:
        return None, result.time, type(result.err).__name__
    return result.nb, result.time, None


def execute_notebooks_concurrently(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Execute the notebooks this build must run side by side, into the execution cache."""
    from sphinx.util.parallel import parallel_available

    if app.parallel < 2 or not parallel_available:
        return
    if getattr(env, "mystnb_config", None) is None or env.mystnb_config.execution_mode != "cache":
        return
    jobs = notebooks_to_execute(app, env, docnames)
    if len(jobs) < 2:
        return  # nothing to run side by side: MyST-NB runs it as it reads it
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    LOGGER.info("executing %d notebooks side by side: %s", len(jobs), ", ".join(j[0] for j in jobs))
    work = [(docname, path, notebook, config) for docname, path, notebook, config, _ in jobs]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(len(jobs), app.parallel), mp_context=context) as pool:
        results = list(pool.map(_execute, work))
    for (docname, path, _, config, read_fmt), (executed, seconds, error) in zip(
        jobs, results, strict=True
    ):
        if executed is None:
            LOGGER.info("%s: %s; reading it will run it again", docname, error)
            continue
        cache = get_cache(config.execution_cache_path or ".jupyter_cache")
        if read_fmt is not None:
            stage = cache.add_nb_to_project(str(path), read_data=read_fmt)
        else:
            stage = cache.add_nb_to_project(str(path))
        NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
        cache.cache_notebook_bundle(
            CacheBundleIn(executed, stage.uri, data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
        LOGGER.info("%s: executed in %.2f seconds", docname, seconds)


def choose_parallelism(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Read and write serially when too few pages are outdated for workers to pay."""
    threshold = app.config.book_parallel_min_docs
    if app.parallel > 1 and len(docnames) < threshold:
        LOGGER.verbose(
            "%d page(s) to read: reading and writing serially (parallel from %d)",
            len(docnames),
            threshold,
        )
        app.parallel = 1


def setup(app: Sphinx) -> dict[str, Any]:
    # Not an input of any page (rebuild ""): `nox -s bench` sets it to weigh the threshold.
    app.add_config_value("book_parallel_min_docs", PARALLEL_MIN_DOCS, "", types=[int])
    # After the other handlers of the event (priority 500), which may reorder the list.
    app.connect("env-before-read-docs", execute_notebooks_concurrently, priority=900)
    app.connect("env-before-read-docs", choose_parallelism, priority=910)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
