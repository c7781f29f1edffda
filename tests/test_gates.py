"""The test run names the gates it skipped and how to install what they need; in CI a
skipped gate fails the run. Chromium is found wherever the system puts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import conftest_browser
from conftest_gates import summary_line

TESTS = Path(__file__).resolve().parent
SKIPPING = """
import pytest

def test_browser():
    pytest.skip("Chromium not found (looked for chromium on PATH)")

def test_pdf():
    pytest.skip("TeX Live is not installed (see README: System packages)")

def test_plain():
    pass
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text("from conftest_gates import *  # noqa: F403\n")
    (tmp_path / "test_some_gates.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_a_run_names_its_skipped_gates_in_one_line(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("skipped gates:")]
    assert result.stdout.strip().splitlines()[-1] == lines[0]  # the run ends with it
    assert lines == [
        "skipped gates: browser (1 test), pdf (1 test); install what they need with: "
        "sudo apt-get install --no-install-recommends chromium latexmk texlive-xetex "
        "texlive-latex-extra texlive-fonts-recommended fonts-freefont-otf fonts-dejavu-core"
    ], result.stdout


def test_in_ci_a_skipped_gate_fails_the_run(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout
    assert "CI=true: a skipped gate fails the run" in result.stdout


def test_summary_of_one_gate() -> None:
    from collections import Counter

    line = summary_line(Counter({"epub": 3}))
    assert line.endswith(
        "epub (3 tests); install what they need with: "
        "sudo apt-get install --no-install-recommends epubcheck"
    )


def test_summary_of_a_gate_whose_tool_comes_from_npm() -> None:
    from collections import Counter

    line = summary_line(Counter({"epub accessibility": 2}))
    assert line.endswith(
        "epub accessibility (2 tests); install what they need with: "
        "sudo apt-get install --no-install-recommends nodejs npm default-jre-headless, "
        "then npm ci --prefix tools --ignore-scripts"
    ), line


@pytest.mark.parametrize("name", ["chromium-browser", "google-chrome"])
def test_chromium_is_found_under_other_names(tmp_path: Path, monkeypatch, name: str) -> None:
    browser = tmp_path / name
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert conftest_browser.find_chromium() == browser


def test_chromium_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(browser))
    assert conftest_browser.find_chromium() == browser
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CHROMIUM")
    assert conftest_browser.find_chromium() is None
