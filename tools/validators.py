"""Run the checkers that nobody on this project wrote over the built book.

- **DAISY Ace** (``@daisy/ace-cli``, the reference EPUB accessibility checker) on the EPUB,
  with the system's Chromium (puppeteer downloads no browser of its own);
- **the W3C Nu HTML checker** (``vnu-jar``) on every page of the HTML book, with the
  system's Java.

Both come from the npm registry, pinned in ``tools/package.json`` and its lockfile::

    npm ci --prefix tools --ignore-scripts

(``--ignore-scripts``: puppeteer's would download a browser and vnu-jar's a Java; the
system's are used instead). The tests (``tests/test_validators.py``) find them here;
``python tools/validators.py ace BOOK.epub`` and ``python tools/validators.py nu DIR``
run them by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
NODE_MODULES = TOOLS / "node_modules"
ACE = NODE_MODULES / ".bin" / "ace-cli"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
NPM_INSTALL = "npm ci --prefix tools --ignore-scripts"
#: @daisy/ace-cli 1.4.6 declares Node.js 20 or newer.
NODE_MAJOR = 20


def node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    match = re.match(r"v(\d+)", out.stdout.strip())
    return int(match.group(1)) if match else None


def ace_missing() -> str | None:
    """Why DAISY Ace cannot run here, or None."""
    major = node_major()
    if major is None or major < NODE_MAJOR:
        found = "no node on PATH" if major is None else f"node {major}"
        return f"DAISY Ace needs Node.js {NODE_MAJOR} or newer ({found})"
    if not ACE.exists():
        return f"DAISY Ace is not installed; install it with: {NPM_INSTALL}"
    return None


def vnu_missing() -> str | None:
    """Why the Nu HTML checker cannot run here, or None."""
    if shutil.which("java") is None:
        return "the Nu HTML checker needs Java (Debian: default-jre-headless)"
    if not VNU_JAR.exists():
        return f"the Nu HTML checker is not installed; install it with: {NPM_INSTALL}"
    return None


def run_ace(epub: Path, outdir: Path, chromium: Path) -> dict[str, Any]:
    """Ace's JSON report (``report.json``) on ``epub``, run with ``chromium``."""
    env = {
        **os.environ,
        "PUPPETEER_EXECUTABLE_PATH": str(chromium),
        "PUPPETEER_SKIP_DOWNLOAD": "1",
    }
    tempdir = outdir / "tmp"
    tempdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            str(ACE),
            "--silent",
            "--force",
            "--outdir",
            str(outdir),
            "--tempdir",
            str(tempdir),
            str(epub),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    report = outdir / "report.json"
    if result.returncode != 0 or not report.exists():
        raise RuntimeError(f"Ace failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(report.read_text(encoding="utf-8"))


def ace_violations(report: dict[str, Any]) -> list[dict[str, str]]:
    """One dict per violation: impact, rule, page, and what Ace says."""
    found = []
    for page in report.get("assertions", []):
        for check in page.get("assertions", []):
            test = check["earl:test"]
            found.append(
                {
                    "impact": test["earl:impact"],
                    "rule": test["dct:title"],
                    "page": page["earl:testSubject"]["url"],
                    "what": check["earl:result"].get("dct:description", ""),
                }
            )
    return found


def run_vnu(pages: list[Path]) -> list[dict[str, Any]]:
    """The Nu checker's messages (errors, warnings, infos) on ``pages``, one JVM for all."""
    java = shutil.which("java")
    if java is None or not pages:
        return []
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", *map(str, pages)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(result.stderr)["messages"]
    except (json.JSONDecodeError, KeyError) as error:
        raise RuntimeError(f"the Nu checker failed:\n{result.stderr[-3000:]}") from error


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in {"ace", "nu"}:
        print("usage: python tools/validators.py ace BOOK.epub | nu HTML_DIR")
        return 2
    tool, target = argv[0], Path(argv[1])
    if tool == "ace":
        missing = ace_missing()
        chromium = next(
            filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
            None,
        )
        if missing or chromium is None:
            print(missing or "Chromium is not installed")
            return 2
        with tempfile.TemporaryDirectory() as tmp:
            violations = ace_violations(run_ace(target, Path(tmp), Path(chromium)))
        for v in violations:
            print(f"{v['impact']:9} {v['rule']:32} {v['page']}: {v['what']}")
        print(f"{len(violations)} violations")
        return 1 if violations else 0
    missing = vnu_missing()
    if missing:
        print(missing)
        return 2
    pages = sorted(p for p in target.rglob("*.html") if "_static" not in p.parts)
    errors = [m for m in run_vnu(pages) if m.get("type") == "error"]
    for m in errors:
        print(f"{m.get('url', '')}:{m.get('lastLine', '')}: {m['message']}")
    print(f"{len(errors)} errors in {len(pages)} pages")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
