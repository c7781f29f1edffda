"""The build freezes its long-lived heap, and hands it back to in-process callers."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import types

import pytest

import book_gcfreeze as gcfreeze


@pytest.fixture
def clean_freeze():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_builder_start_freezes_what_is_alive(clean_freeze):
    assert gc.get_freeze_count() == 0
    gcfreeze.freeze_long_lived_heap(None)
    assert gc.get_freeze_count() > 1000  # modules, classes, the environment...


def test_in_process_callers_get_the_heap_back(clean_freeze):
    gcfreeze.freeze_long_lived_heap(None)
    gcfreeze.unfreeze(None, None)  # pytest is __main__ here, not Sphinx
    assert gc.get_freeze_count() == 0


def test_the_sphinx_command_line_is_recognised(monkeypatch):
    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name="sphinx.__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert gcfreeze.started_as_sphinx_build()

    plain = types.ModuleType("__main__")
    plain.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", plain)
    monkeypatch.setattr(sys, "argv", ["/usr/bin/sphinx-build", "-b", "html"])
    assert gcfreeze.started_as_sphinx_build()
    monkeypatch.setattr(sys, "argv", ["/usr/bin/python3", "script.py"])
    assert not gcfreeze.started_as_sphinx_build()


PROBE = """\
import gc
from pathlib import Path

def report(app, exc):
    Path(app.outdir, "freeze-count.txt").write_text(str(gc.get_freeze_count()))

def setup(app):
    app.connect("build-finished", report, priority=1000)  # after gcfreeze's handler
"""


def test_a_real_sphinx_build_keeps_its_heap_frozen_to_the_end(tmp_path):
    # `python -m sphinx`, as nox, the tests and the bench build the book: the process
    # exits right after the build, so the heap must still be frozen then.
    (tmp_path / "conf.py").write_text(
        'extensions = ["book_gcfreeze", "probe"]\nexclude_patterns = ["_build"]\n'
    )
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "index.rst").write_text("Title\n=====\n\nText.\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-b",
            "html",
            str(tmp_path),
            str(tmp_path / "_build"),
        ],
        check=True,
        env=env,
    )
    assert int((tmp_path / "_build" / "freeze-count.txt").read_text()) > 1000
