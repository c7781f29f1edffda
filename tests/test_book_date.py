"""The book's one date (_ext/book_date.py): the last commit's, in every kind of checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from book_date import source_date_epoch

COMMIT_EPOCH = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": f"@{COMMIT_EPOCH} +0000",
        "GIT_COMMITTER_DATE": f"@{COMMIT_EPOCH} +0000",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = tmp_path / "book"
    root.mkdir()
    (root / "index.md").write_text("# Book\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "index.md")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_the_last_commit_dates_the_book(repo: Path) -> None:
    os.utime(repo / "index.md", (COMMIT_EPOCH + 999, COMMIT_EPOCH + 999))
    assert source_date_epoch(repo) == COMMIT_EPOCH


def test_a_shallow_clone_has_the_same_date(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), str(clone))
    assert (clone / ".git" / "shallow").exists()
    assert source_date_epoch(clone) == COMMIT_EPOCH


def test_a_copy_outside_git_is_dated_by_its_newest_source(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))
    os.utime(copy / "index.md", (COMMIT_EPOCH + 60, COMMIT_EPOCH + 60))
    assert source_date_epoch(copy) == COMMIT_EPOCH + 60


def test_an_explicit_source_date_epoch_wins(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date_epoch(repo) == 1_700_000_000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch(repo)
