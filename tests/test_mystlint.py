"""The MyST source linter flags what it promises to, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketamine_timelines.mystlint import lint_text, main

CLEAN = "# Title\n\nText with {cite:p}`key` and {term}`SSRI`.\n\n## Section\n\nMore.\n"


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("# T\n\nThe dose is $0.5$ mg.\n", "M001", 3),
        ("# T\n\n<script src='x.js'></script>\n", "M002", 3),
        ("# T\n\n# Another title\n", "M003", 3),
        ("# T\n\n### Skipped a level\n", "M003", 3),
        ("# T \n", "M004", 1),
        ("# T\n\nSee [x](http://example.org).\n", "M005", 3),
        ("# T\n\n```{figur} a.png\n```\n", "M007", 3),
        ("# T\n\nA {cit:p}`key` typo.\n", "M007", 3),
    ],
)
def test_findings_name_the_line(text: str, code: str, line: int) -> None:
    findings = list(lint_text(Path("page.md"), text))
    assert [(f.code, f.line) for f in findings] == [(code, line)]
    assert str(findings[0]).startswith(f"page.md:{line}: {code}")


def test_clean_page_and_code_are_not_flagged() -> None:
    code_block = (
        "# T\n\n```python\nprice = '$5 and $6'\n```\n\n```{code-cell} ipython3\nx = '$a$'\n```\n"
    )
    assert list(lint_text(Path("page.md"), CLEAN)) == []
    assert list(lint_text(Path("page.md"), code_block)) == []


def test_chapters_need_key_points(tmp_path: Path) -> None:
    findings = list(lint_text(Path("docs/01-x.md"), CLEAN))
    assert [f.code for f in findings] == ["M006"]


def test_the_book_sources_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[1]
    assert main([str(root / "index.md"), str(root / "docs"), str(root / "notebooks")]) == 0
