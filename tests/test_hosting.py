"""The hosting configurations build the book the way a person does (nox), strictly.

Read the Docs (.readthedocs.yaml) and GitHub Pages (.github/workflows/pages.yml) must run
sessions that exist in noxfile.py, build with warnings as errors, install the system
packages the PDF needs, and use the Python version that pyproject.toml requires.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
RTD = ROOT / ".readthedocs.yaml"
PAGES = ROOT / ".github" / "workflows" / "pages.yml"
BUILD_SESSIONS = ["pdf", "epub", "docs"]
EXTRA_APT = {"epubcheck"}  # the EPUB session validates with it


@pytest.fixture(scope="module")
def noxfile() -> Any:
    """noxfile.py imported as nox imports it; its sessions are in nox's registry."""
    nox = pytest.importorskip("nox")
    spec = importlib.util.spec_from_file_location("book_noxfile", ROOT / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    nox.registry.reset()
    with mock.patch.dict(os.environ):
        # Importing sets environment defaults (SOURCE_DATE_EPOCH...): keep them local.
        spec.loader.exec_module(module)
    module.SESSIONS = dict(nox.registry.get())
    return module


@pytest.fixture(scope="module")
def rtd() -> dict[str, Any]:
    return yaml.safe_load(RTD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages() -> dict[str, Any]:
    return yaml.safe_load(PAGES.read_text(encoding="utf-8"))


def walk_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)


def rtd_commands(config: dict[str, Any]) -> list[str]:
    build = config["build"]
    return list(walk_strings(build.get("commands", []))) + list(walk_strings(build.get("jobs", {})))


def pages_commands(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def nox_sessions(command: str) -> list[list[str]]:
    """The sessions of every `nox -s A B` in a shell command (one list per nox call)."""
    calls = []
    for part in re.split(r"&&|\|\||;|\n", command):
        words = shlex.split(part)
        # `nox ...` or `python -m nox ...`; not `pip install nox`.
        starts = [i for i, w in enumerate(words) if w == "nox" and (i == 0 or words[i - 1] == "-m")]
        if not starts:
            continue
        args = words[starts[0] + 1 :]
        sessions: list[str] = []
        for flag in ("-s", "--session", "--sessions"):
            if flag in args:
                for word in args[args.index(flag) + 1 :]:
                    if word.startswith("-"):
                        break
                    sessions.append(word)
        calls.append(sessions)
    return calls


def apt_installed(command: str) -> set[str]:
    words = shlex.split(command.replace("\n", " "))
    if "apt-get" not in words or "install" not in words:
        return set()
    return {w for w in words[words.index("install") + 1 :] if not w.startswith("-")}


CONFIGS = {"readthedocs": (RTD, rtd_commands), "github-pages": (PAGES, pages_commands)}


@pytest.fixture(params=sorted(CONFIGS))
def commands(request: pytest.FixtureRequest) -> list[str]:
    path, extract = CONFIGS[request.param]
    return extract(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_hosting_runs_the_book_sessions_that_exist(commands: list[str], noxfile: Any) -> None:
    calls = [call for command in commands for call in nox_sessions(command)]
    assert calls, "no nox call"
    for sessions in calls:
        assert sessions, "a nox call without -s runs the default sessions (lint, tests)"
        unknown = [name for name in sessions if name not in noxfile.SESSIONS]
        assert not unknown, f"sessions not in noxfile.py: {unknown}"
    assert BUILD_SESSIONS in calls, f"expected `nox -s {' '.join(BUILD_SESSIONS)}`"


def test_hosting_builds_strictly(commands: list[str], noxfile: Any) -> None:
    """The book is built by the nox sessions, whose Sphinx runs are -n -W; never by hand."""
    for command in commands:
        if re.search(r"sphinx-build|-m sphinx\b", command):
            assert " -W" in command, f"a non-strict Sphinx build: {command}"
    assert {"-n", "-W", "--keep-going"} <= set(noxfile.SPHINX_STRICT)
    assert "SPHINX_STRICT" in inspect.getsource(noxfile.sphinx_build)
    for name in BUILD_SESSIONS:
        assert "sphinx_build(" in inspect.getsource(noxfile.SESSIONS[name].func), name


def test_hosting_installs_tex_live(noxfile: Any, rtd: dict[str, Any], pages: dict) -> None:
    wanted = apt_installed(noxfile.APT_TEX) | EXTRA_APT
    assert {"latexmk", "texlive-xetex"} <= wanted
    build = rtd["build"]
    assert wanted <= set(build.get("apt_packages", []))
    # Read the Docs ignores apt_packages when build.commands replaces its pipeline.
    assert "commands" not in build, "use build.jobs: apt_packages do not work with commands"
    installed = set().union(*(apt_installed(c) for c in pages_commands(pages)))
    assert wanted <= installed


def required_python() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    spec = SpecifierSet(pyproject["project"]["requires-python"])
    lower = [s.version for s in spec if s.operator in {">=", "=="}]
    assert lower, f"requires-python {spec} has no lower bound"
    return lower[0]


def test_python_versions_match_requires_python(rtd: dict[str, Any], pages: dict) -> None:
    python = required_python()
    assert str(rtd["build"]["tools"]["python"]) == python
    versions = [
        str(step["with"]["python-version"])
        for job in pages["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/setup-python")
    ]
    assert versions == [python]
    assert sys.version_info >= tuple(int(p) for p in python.split("."))


def test_readthedocs_publishes_html_pdf_and_epub(rtd: dict[str, Any]) -> None:
    assert rtd["version"] == 2
    assert rtd["build"]["os"] == "ubuntu-24.04"
    assert "sphinx" not in rtd, "a sphinx: key makes Read the Docs run its own build too"
    script = "\n".join(rtd_commands(rtd))
    for source, target in [
        ("_build/html/.", "$READTHEDOCS_OUTPUT/html/"),
        ("_build/latex/ketamine-for-mental-health.pdf", "$READTHEDOCS_OUTPUT/pdf/"),
        ("_build/epub/ketamine-for-mental-health.epub", "$READTHEDOCS_OUTPUT/epub/"),
    ]:
        assert re.search(rf"cp (-r )?{re.escape(source)} {re.escape(target)}", script), source


def test_github_pages_workflow(pages: dict[str, Any]) -> None:
    triggers = pages.get("on", pages.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    assert pages["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert build["runs-on"] == deploy["runs-on"] == "ubuntu-latest"
    steps = {str(step.get("uses", "")).split("@")[0]: step for step in build["steps"]}
    assert steps["actions/checkout"]["with"]["fetch-depth"] == 0  # "Last updated" dates
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    runner = next(s for s in build["steps"] if "nox" in s.get("run", ""))
    base_url = runner["env"]["BOOK_BASE_URL"]
    assert "steps.pages.outputs.base_url" in base_url and base_url.endswith("/")
    assert deploy["needs"] == "build"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["environment"]["name"] == "github-pages"


# -- One list of system packages (requirements/apt.txt) and the README's quick start ------
README = ROOT / "README.md"


def test_every_list_of_system_packages_agrees_with_requirements_apt(
    noxfile: Any, rtd: dict[str, Any], pages: dict
) -> None:
    everything = noxfile.apt_packages()
    built = set(noxfile.apt_packages("pdf", "epub"))  # what the hosts' `nox -s pdf epub` need
    assert {"latexmk", "chromium", "epubcheck"} <= set(everything)
    assert apt_installed(noxfile.APT_TEX) == set(noxfile.apt_packages("pdf"))
    assert set(rtd["build"]["apt_packages"]) == built
    assert set().union(*(apt_installed(c) for c in pages_commands(pages))) == built
    lines = README.read_text(encoding="utf-8").splitlines()
    readme = [apt_installed(line) for line in lines if line.startswith("sudo apt-get install")]
    assert readme == [set(everything)]
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "requirements/apt.txt" in script and "apt-get install" in script


def quick_start_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readmes_test_line_verbatim() -> None:
    lines = quick_start_lines()
    assert len(lines) == 2 and lines[0].endswith("-s docs -- --open")
    test_line = lines[1]
    assert re.search(r"nox .*-s tests$", test_line)
    assert test_line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # PEP 668: nothing is installed into the system's Python, only into a virtualenv.
    for line in lines:
        assert "venv" in line and "--python .venv/bin/python install" in line, line
