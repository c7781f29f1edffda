"""The skipped-gates summary: one line naming the gates a run skipped for a missing
system package, and the command that installs them; with CI=true, a skipped gate fails.

Loaded by tests/conftest.py (its hooks are imported at the end of that file).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

APT_LIST = Path(__file__).resolve().parents[1] / "requirements" / "apt.txt"
#: A gate, the words of a skip reason that mean it lacks its tool, and the need that
#: requirements/apt.txt lists for the packages it needs.
GATES = {
    "browser": (("chromium",), "browser"),
    "pdf": (("tex live", "latexmk", "xelatex"), "pdf"),
    "epub": (("epubcheck",), "epub"),
    "pdf pages": (("pdftoppm", "poppler"), "poppler-utils"),
    # The checkers from the npm registry (tools/package.json): their system packages
    # (Node.js, npm, Java) from apt, then the npm install line.
    "epub accessibility": (("daisy ace",), "validators"),
    "html validator": (("nu html checker",), "validators"),
}
#: Gates whose tools come from the npm registry; how to install them.
NPM_GATES = {"epub accessibility", "html validator"}
NPM_INSTALL = "npm ci --prefix tools --ignore-scripts"
SKIPPED: Counter[str] = Counter()


def gate_of(reason: str) -> str | None:
    reason = reason.casefold()
    gates = (gate for gate, (words, _) in GATES.items() if any(w in reason for w in words))
    return next(gates, None)


def apt_packages(need: str) -> list[str]:
    packages = []
    for line in APT_LIST.read_text(encoding="utf-8").splitlines():
        name, _, comment = line.partition("#")
        if name.strip() and (need in comment.split() or need == name.strip()):
            packages.append(name.strip())
    return packages


def summary_line(skipped: Counter[str]) -> str:
    gates = ", ".join(f"{gate} ({n} test{'s' * (n != 1)})" for gate, n in sorted(skipped.items()))
    packages = dict.fromkeys(p for gate in sorted(skipped) for p in apt_packages(GATES[gate][1]))
    install = "sudo apt-get install --no-install-recommends " + " ".join(packages)
    if NPM_GATES & set(skipped):
        install += f", then {NPM_INSTALL}"
    return f"skipped gates: {gates}; install what they need with: {install}"


def _note(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        gate = gate_of(str(report.longrepr[2]))
        if gate is not None:
            SKIPPED[gate] += 1


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note(report)


def in_ci() -> bool:
    return os.environ.get("CI", "").casefold() in {"true", "1", "yes"}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SKIPPED and in_ci() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary, so that the line ends the run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if SKIPPED and reporter is not None:
        line = summary_line(SKIPPED)
        if in_ci():
            line += " (CI=true: a skipped gate fails the run)"
        reporter.write_line(line, yellow=not in_ci(), red=in_ci(), bold=True)
