"""``nox -s bench`` runs wherever the checkout is (issue 24): no timing here.

nox points ``TMPDIR`` into the session's folder (``.nox/bench/tmp``), and Chrome puts its
singleton socket in ``TMPDIR``: from a checkout at a deep path the socket's path passed a
Unix socket's 107 bytes, Chrome stopped ("Socket path too long") and Lighthouse said
"Unable to connect to Chrome". The bench gives Lighthouse's Chrome a short ``TMPDIR``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

import bench  # tools/bench.py (pytest's pythonpath)
from conftest_browser import CHROMIUM, CHROMIUM_ARGS

PAGE = "data:text/html,<p>the bench page</p>"
#: Chrome's singleton socket, relative to TMPDIR.
SOCKET = "org.chromium.Chromium.XXXXXX/SingletonSocket"


@pytest.fixture
def deep_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR at least 100 characters long, as a deep checkout's nox session has."""
    deep = tmp_path / ("checkout-at-a-deep-path-" * 3) / ".nox" / "bench" / "tmp"
    deep.mkdir(parents=True)
    assert len(str(deep)) >= 100
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    return deep


def test_chrome_gets_a_short_temporary_directory(deep_tmpdir: Path) -> None:
    assert len(f"{deep_tmpdir}/{SOCKET}") > 107  # where Chrome would have failed
    with bench.chrome_tmpdir() as env:
        short = Path(env["TMPDIR"])
        assert short.is_dir() and deep_tmpdir not in short.parents
        assert len(f"{short}/{SOCKET}") <= 107
    assert not short.exists()  # removed with Chrome's profile in it


@pytest.mark.browser
def test_chrome_starts_with_the_bench_environment_from_a_deep_path(deep_tmpdir: Path) -> None:
    """Chrome as Lighthouse's launcher starts it (a profile folder in TMPDIR), for real."""
    if CHROMIUM is None:
        pytest.skip("Chromium not found (see README: System packages)")
    with bench.chrome_tmpdir() as env:
        profile = tempfile.mkdtemp(prefix="lighthouse.", dir=env["TMPDIR"])
        result = subprocess.run(
            [
                str(CHROMIUM),
                *CHROMIUM_ARGS,
                f"--user-data-dir={profile}",
                "--dump-dom",
                "data:text/html,<p>the bench page</p>",
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert "the bench page" in result.stdout, result.stderr[-2000:]
