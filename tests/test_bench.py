"""The benchmark machinery (nox -s bench) on a tiny book: well-formed results, no timings."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import bench  # tools/bench.py
from conftest import myst_notebook

pytestmark = pytest.mark.build

CONF = """\
project = "Tiny"
extensions = ["myst_nb"]
exclude_patterns = ["_build"]
nb_execution_mode = "cache"
html_theme = "furo"
nitpicky = True
"""

INDEX = """\
# Tiny book

```{toctree}
page
nb
```
"""

PAGE = """\
# A page

Some prose.
"""

NOTEBOOK = myst_notebook("A notebook", "print(6 * 7)")


@pytest.fixture
def tiny_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    for name, text in {
        "conf.py": CONF,
        "index.md": INDEX,
        "page.md": PAGE,
        "nb.md": NOTEBOOK,
        ".gitignore": "_build/\n",
    }.items():
        path = book / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return book


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_bench_writes_results_for_a_tiny_book(tiny_book: Path, tmp_path: Path):
    out = tmp_path / "bench"
    before = {p: p.read_bytes() for p in tiny_book.rglob("*") if p.is_file()}

    code = bench.main(
        [
            "--source",
            str(tiny_book),
            "--out",
            str(out),
            "--runs",
            "1",
            "--only",
            "floor,noop,prose",
            "--prose-file",
            "page.md",
            "--page",
            "landing=index.html",
        ]
    )

    assert code == 0, (out / "results.md").read_text()
    # The book itself is never modified or built in place: the bench builds a copy.
    assert {p: p.read_bytes() for p in tiny_book.rglob("*") if p.is_file()} == before

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["schema"] == bench.SCHEMA
    assert results["runs"] == 1
    for key in ("created", "source", "versions", "cases", "targets", "sphinx_command"):
        assert key in results
    assert set(results["cases"]) == {"floor", "noop", "prose"}
    for name, case in results["cases"].items():
        assert case["status"] == "ok", (name, case)
        assert is_number(case["seconds"]) and case["seconds"] > 0
        assert len(case["samples"]) == case["runs"] == 1
        assert all(is_number(s) for s in case["samples"])
        assert is_number(case["ratio_to_floor"])
    assert results["cases"]["floor"]["ratio_to_floor"] == pytest.approx(1.0)
    # The notebook is not executed again by a rebuild or by a prose edit.
    assert results["cases"]["noop"]["executed"] == [[]]
    assert results["cases"]["prose"]["executed"] == [[]]
    assert results["cases"]["prose"]["edited"] == "page.md"

    targets = {t["name"]: t for t in results["targets"]}
    assert set(targets) == {"no-op rebuild", "prose edit", "prose edit: notebooks executed"}
    for target in targets.values():
        assert target["passed"] in (True, False)
        assert target["target"]
    assert targets["prose edit: notebooks executed"]["passed"] is True
    assert targets["no-op rebuild"]["value"] == results["cases"]["noop"]["ratio_to_floor"]

    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert markdown == bench.render_markdown(results)
    for label in ("floor", "no-op rebuild", "prose edit", "Targets"):
        assert label in markdown
    assert (out / "logs").is_dir()


def test_cold_build_detects_the_executed_notebook(tiny_book: Path, tmp_path: Path):
    out = tmp_path / "bench"
    bench.main(["--source", str(tiny_book), "--out", str(out), "--quick", "--only", "cold"])
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    cold = results["cases"]["cold"]
    assert cold["status"] == "ok", cold
    assert cold["executed"] == [["nb"]]
    assert cold["ratio_to_floor"] is None  # no floor measured: no ratio


def test_edit_data_row_changes_one_line_only(tmp_path: Path):
    data = tmp_path / "data.csv"
    data.write_text('id,value,note\nr1,1,"a, b"\nr2,2,plain\n', encoding="utf-8")
    row = bench.edit_data_row(data, 1)
    assert row == "r1"
    first = data.read_text(encoding="utf-8").splitlines()
    assert first[0] == "id,value,note" and first[2] == "r2,2,plain"
    assert first[1] == 'r1,1,"a, b (benchmark edit 1)"'
    bench.edit_data_row(data, 2)  # a second edit replaces the first, it does not pile up
    assert data.read_text(encoding="utf-8").splitlines()[1] == 'r1,1,"a, b (benchmark edit 2)"'


def test_options():
    opts = bench.parse_args(["--quick", "--source", "."])
    assert opts.runs == 1 and "setup" not in opts.only and "lighthouse" not in opts.only
    opts = bench.parse_args(["--runs", "7", "--only", "floor,cold", "--source", "."])
    assert opts.runs == 7 and opts.only == ("floor", "cold")
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "nonsense"])
