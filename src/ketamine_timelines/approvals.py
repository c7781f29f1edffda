"""Read and validate data/approvals.csv: the book's one list of regulatory decisions.

Table 5.1 (chapter 5), the patient guide's country list and the printable handout are all
rendered from this file, so the three cannot disagree. Each row is one decision by one
regulator or health-technology body, with its date, what it covers, its conditions, the
bibliography keys readers see, and its provenance (where the fact was read and how),
which readers never see. The codebook is ``data/README.md``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .bib import load_bib
from .data import DataError
from .paths import default_bib_path, repo_root

APPROVALS_RELPATH = Path("data") / "approvals.csv"

COLUMNS = (
    "row_id",
    "region",
    "authority",
    "date",
    "date_label",
    "kind",
    "decision",
    "conditions",
    "cite",
    "verification",
    "read_at",
    "note",
)
OPTIONAL = frozenset({"date", "note"})
#: Regions in the order readers meet them (the guide lists them so).
REGIONS = ("US", "EU", "UK", "Canada", "Australia")
KINDS = frozenset({"approval", "safety programme", "controlled substance", "funding advice"})
#: How a row's facts were checked (provenance; readers never see it):
#: regulator-site = read on the regulator's or agency's own web pages;
#: copy-of-document = part read in a verbatim copy of the regulator's document on
#: another site (``note`` says which part); earlier-review = checked against the label,
#: REMS page or EMA page by the book's November and December 2026 reviews.
VERIFICATION = frozenset({"regulator-site", "copy-of-document", "earlier-review"})
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Decision:
    """One row of data/approvals.csv."""

    row_id: str
    region: str
    authority: str
    date: str  # YYYY-MM, or "" for a standing fact ("Current")
    date_label: str
    kind: str
    decision: str
    conditions: str
    cite: tuple[str, ...]
    verification: str
    read_at: str
    note: str
    line: int = 0


def default_approvals_path() -> Path:
    root = repo_root()
    if root is None:
        raise FileNotFoundError(f"cannot find {APPROVALS_RELPATH} (not in a checkout)")
    return root / APPROVALS_RELPATH


def load_approvals(
    path: str | Path | None = None, bib_path: str | Path | None = None
) -> list[Decision]:
    """Every row, validated; a bad cell raises DataError naming file, line and column."""
    path = Path(path) if path is not None else default_approvals_path()
    bib_keys = frozenset(load_bib(bib_path if bib_path is not None else default_bib_path()))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(path, 1, None, f"not UTF-8 ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = tuple(next(reader))
    except StopIteration:
        raise DataError(path, 1, None, "empty file") from None
    if header != COLUMNS:
        raise DataError(path, 1, None, f"wrong header; expected {','.join(COLUMNS)}")
    rows: list[Decision] = []
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(path, line, None, f"unreadable row: {exc}") from None
        if not fields:
            continue
        if len(fields) != len(COLUMNS):
            raise DataError(
                path, line, None, f"{len(fields)} fields in this row, expected {len(COLUMNS)}"
            )
        row = dict(zip(COLUMNS, (f.strip() for f in fields), strict=True))
        rows.append(_decision(row, path, line, bib_keys, seen))
    if not rows:
        raise DataError(path, 1, None, "no rows: the file has only its header")
    return rows


def _decision(
    row: dict[str, str], path: Path, line: int, bib_keys: frozenset[str], seen: dict[str, int]
) -> Decision:
    def err(column: str, message: str) -> DataError:
        return DataError(path, line, column, message)

    for column in COLUMNS:
        if column not in OPTIONAL and not row[column]:
            raise err(column, "missing value (required column is empty)")
    if row["row_id"] in seen:
        raise err("row_id", f"duplicate row_id (line {seen[row['row_id']]})")
    seen[row["row_id"]] = line
    if row["region"] not in REGIONS:
        raise err("region", f"unknown region {row['region']!r}; allowed: {', '.join(REGIONS)}")
    if row["kind"] not in KINDS:
        raise err("kind", f"unknown kind {row['kind']!r}; allowed: {', '.join(sorted(KINDS))}")
    if row["verification"] not in VERIFICATION:
        allowed = ", ".join(sorted(VERIFICATION))
        raise err(
            "verification", f"unknown verification {row['verification']!r}; allowed: {allowed}"
        )
    if row["date"]:
        match = re.fullmatch(r"(\d{4})-(\d{2})", row["date"])
        if not match or not 1 <= int(match[2]) <= 12:
            raise err("date", f"not a month as YYYY-MM: {row['date']!r}")
        wanted = f"{_MONTHS[int(match[2]) - 1]} {match[1]}"
        if row["date_label"] != wanted:
            raise err(
                "date_label", f"{row['date_label']!r} does not match date (expected {wanted!r})"
            )
    keys = tuple(k.strip() for k in row["cite"].split(";") if k.strip())
    for key in keys:
        if key not in bib_keys:
            raise err("cite", f"unknown citation key {key!r} (not in references.bib)")
    for url in row["read_at"].split(" ; "):
        if not url.startswith("https://"):
            raise err("read_at", f"not an https address: {url!r}")
    return Decision(
        row_id=row["row_id"],
        region=row["region"],
        authority=row["authority"],
        date=row["date"],
        date_label=row["date_label"],
        kind=row["kind"],
        decision=row["decision"],
        conditions=row["conditions"],
        cite=keys,
        verification=row["verification"],
        read_at=row["read_at"],
        note=row["note"],
        line=line,
    )


def by_region(decisions: list[Decision]) -> dict[str, list[Decision]]:
    """Rows grouped by region, in REGIONS order; within a region, in file order."""
    grouped: dict[str, list[Decision]] = {region: [] for region in REGIONS}
    for decision in decisions:
        grouped[decision.region].append(decision)
    return {region: rows for region, rows in grouped.items() if rows}
