"""Run epubcheck, however the system installed it.

Debian's ``epubcheck`` package installs ``/usr/bin/epubcheck`` as a symbolic link to a
jar, which only runs directly where the kernel has a binfmt handler for jars; calling it
through ``java -jar`` works everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

INSTALL_HINT = "sudo apt-get install --no-install-recommends epubcheck"


def command() -> list[str] | None:
    """The argv prefix that runs epubcheck, or None when it is not installed."""
    found = shutil.which("epubcheck")
    if found is None:
        return None
    target = Path(found).resolve()
    if target.suffix == ".jar":
        java = shutil.which("java")
        return [java, "-jar", str(target)] if java else None
    return [str(target)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prefix = command()
    if prefix is None:
        print(f"epubcheck not found (or no java). Install it with: {INSTALL_HINT}")
        return 2
    return subprocess.run([*prefix, *argv], check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
