"""The shipped data set loads, and each kind of bad row is reported with file:line: column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ketamine_timelines import DataError, load_bib, load_points
from ketamine_timelines.vocab import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "onset_timelines.csv"
BIB = ROOT / "references.bib"


@pytest.fixture(scope="module")
def points():
    return load_points(DATA, BIB)


def test_shipped_csv_loads(points):
    assert len(points) > 150
    assert all(p.source_location and p.read_at for p in points)


def test_header_is_exact():
    with open(DATA, newline="") as fh:
        assert tuple(next(csv.reader(fh))) == COLUMNS


def test_every_study_key_is_in_references_bib(points):
    keys = set(load_bib(BIB))
    missing = sorted({p.study_key for p in points} - keys)
    assert not missing, f"keys not in references.bib: {missing}"


def test_default_paths_find_repo_files(points):
    assert len(load_points()) == len(points)


def test_row_ids_unique_and_partly_labelled(points):
    assert len({p.row_id for p in points}) == len(points)
    assert {p.confidence for p in points} == {"verified", "partly"}


def test_every_difference_lies_inside_its_interval(points):
    for p in points:
        if p.uncertainty_type in ("CI95", "range"):
            assert p.uncertainty_low <= p.value <= p.uncertainty_high, p.row_id


def test_an2021_sign_is_consistent(points):
    an = [
        p for p in points if p.study_key == "an2021" and p.measure == "mean_difference_vs_control"
    ]
    assert an and all(p.value < 0 and p.uncertainty_high < 0 for p in an)


def test_at_exit_rows_say_so(points):
    for p in points:
        if "exit" in p.timepoint_label:
            assert "not a fixed time point" in p.note


def test_day_conversions(points):
    # EVIDENCE.md convention: trial day N (day 1 = first dose) -> (N-1) x 24 h.
    for p in points:
        if p.study_key in (
            "turkoz2021",
            "popova2019",
            "fedgchin2019",
            "ochsross2020",
        ) and p.timepoint_label.startswith("day "):
            n = int(p.timepoint_label.split()[1])
            assert p.timepoint_hours == (n - 1) * 24, p.row_id


# ----------------------------------------------------------------- bad rows

GOOD = {
    "row_id": "r001",
    "study_key": "lii2023",
    "treatment": "ketamine",
    "arm": "drug",
    "drug_class": "ketamine_iv",
    "population": "MDD_surgical",
    "timepoint_hours": "24",
    "timepoint_label": "after the infusion",  # names no time: rows below move the hours
    "measure": "response_rate",
    "scale": "MADRS",
    "value": "60.0",
    "unit": "%",
    "uncertainty_type": "none",
    "uncertainty_low": "",
    "uncertainty_high": "",
    "n": "20",
    "comparator": "saline",
    "source_location": "Extended Data Table 1",
    "obtained": "reported",
    "confidence": "verified",
    "read_at": "https://example.org",
    "note": "",
}


def write_csv(path: Path, rows: list[dict[str, str]], header=COLUMNS) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())
    return path


BAD_ROWS = [
    ("missing field", {"source_location": ""}, "source_location", "missing value"),
    ("unknown study key", {"study_key": "nobody1999"}, "study_key", "unknown study key"),
    ("non-numeric value", {"value": "sixty"}, "value", "not a number"),
    ("non-numeric time", {"timepoint_hours": "1 day"}, "timepoint_hours", "not a number"),
    ("non-numeric n", {"n": "twenty"}, "n", "not an integer"),
    (
        "non-numeric uncertainty",
        {"uncertainty_type": "SD", "uncertainty_low": "wide"},
        "uncertainty_low",
        "not a number",
    ),
    ("negative time", {"timepoint_hours": "-2"}, "timepoint_hours", "negative time"),
    ("rate above 100", {"value": "160"}, "value", "outside 0-100"),
    ("rate below 0", {"value": "-1"}, "value", "outside 0-100"),
    ("unknown measure", {"measure": "vibes"}, "measure", "unknown measure"),
    ("unknown scale", {"scale": "MADRS-X"}, "scale", "unknown scale"),
    ("unknown arm", {"arm": "both"}, "arm", "unknown value"),
    ("unknown drug_class", {"drug_class": "ketamine_oral"}, "drug_class", "unknown value"),
    ("unknown obtained", {"obtained": "remembered"}, "obtained", "unknown value"),
    ("unknown confidence", {"confidence": "unverified"}, "confidence", "unknown value"),
    ("unknown uncertainty type", {"uncertainty_type": "IQR"}, "uncertainty_type", "unknown value"),
    (
        "value outside CI",
        {
            "measure": "mean_difference_vs_control",
            "unit": "points",
            "value": "-6.16",
            "uncertainty_type": "CI95",
            "uncertainty_low": "4.44",
            "uncertainty_high": "7.88",
        },
        "value",
        "outside its CI95",
    ),
]


@pytest.mark.parametrize(
    ("change", "column", "reason"), [pytest.param(c, col, r, id=i) for i, c, col, r in BAD_ROWS]
)
def test_bad_row_is_reported(tmp_path, change, column, reason):
    rows = [dict(GOOD), {**GOOD, "row_id": "r002", "timepoint_hours": "48", **change}]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: column '{column}': "), msg
    assert reason in msg
    assert exc.value.line == 3 and exc.value.column == column


def test_duplicate_row(tmp_path):
    path = write_csv(tmp_path / "dup.csv", [dict(GOOD), {**GOOD, "row_id": "r002"}])
    with pytest.raises(DataError, match=r"dup\.csv:3: column 'study_key': duplicate row"):
        load_points(path, BIB)


def test_wrong_header(tmp_path):
    header = [c for c in COLUMNS if c != "scale"]
    path = write_csv(tmp_path / "hdr.csv", [dict(GOOD)], header=header)
    with pytest.raises(DataError, match=r"hdr\.csv:1: column 'scale': wrong header"):
        load_points(path, BIB)


def test_repo_relative_path_in_message(tmp_path, monkeypatch):
    # Inside the repo the message names data/onset_timelines.csv, as editors see it.
    err = DataError(DATA, 7, "value", "boom")
    assert str(err) == "data/onset_timelines.csv:7: column 'value': boom"


# ------------------------------------------------- encodings, empty files, quotes, ranges


def test_a_byte_order_mark_is_accepted(tmp_path):
    # Excel's "CSV UTF-8" starts the file with a BOM, which used to hide 'row_id'.
    path = write_csv(tmp_path / "bom.csv", [dict(GOOD)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [p.row_id for p in load_points(path, BIB)] == ["r001"]


def test_a_windows_1252_file_is_reported_with_file_and_line(tmp_path):
    rows = [dict(GOOD), {**GOOD, "row_id": "r002", "timepoint_hours": "48", "note": "café"}]
    path = write_csv(tmp_path / "cp1252.csv", rows)
    path.write_bytes(path.read_text().encode("cp1252"))
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: not UTF-8: byte 0xe9"), msg
    assert "save the file as UTF-8" in msg


def test_a_file_with_only_its_header_is_refused(tmp_path):
    path = write_csv(tmp_path / "empty.csv", [])
    with pytest.raises(DataError, match=r"empty\.csv:1: no data rows"):
        load_points(path, BIB)


SCALE_CASES = [
    ("MADRS", "mean_total", "164", "value", "outside 0 to 60"),
    ("MADRS", "mean_total", "-1", "value", "outside 0 to 60"),
    ("MADRS", "mean_change", "-61", "value", "outside -60 to 60"),
    ("HDRS17", "mean_total", "53", "value", "outside 0 to 52"),
    ("QIDS_SR16", "mean_total", "28", "value", "outside 0 to 27"),
    ("QIDS_SR16", "mean_difference_vs_control", "-30", "value", "outside -27 to 27"),
    ("CADSS", "mean_total", "93", "value", "outside 0 to 92"),
    ("YBOCS", "mean_total", "41", "value", "outside 0 to 40"),
    ("CAPS5", "mean_total", "81", "value", "outside 0 to 80"),
    ("HAMA", "mean_total", "57", "value", "outside 0 to 56"),
]


@pytest.mark.parametrize(("scale", "measure", "value", "column", "reason"), SCALE_CASES)
def test_a_score_outside_its_scale_is_refused(tmp_path, scale, measure, value, column, reason):
    bad = {"row_id": "r002", "timepoint_hours": "48", "unit": "points"}
    bad |= {"scale": scale, "measure": measure, "value": value}
    path = write_csv(tmp_path / "range.csv", [dict(GOOD), {**GOOD, **bad}])
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    assert str(exc.value).startswith(f"{path}:3: column '{column}': "), str(exc.value)
    assert reason in str(exc.value)


def test_a_confidence_interval_outside_the_scale_is_refused(tmp_path):
    bad = {"row_id": "r002", "timepoint_hours": "48", "unit": "points", "measure": "mean_total"}
    bad |= {"value": "50", "uncertainty_type": "CI95", "uncertainty_low": "40"}
    bad |= {"uncertainty_high": "70"}
    path = write_csv(tmp_path / "ci.csv", [dict(GOOD), {**GOOD, **bad}])
    with pytest.raises(DataError, match=r"ci\.csv:3: column 'uncertainty_high': 70 is outside"):
        load_points(path, BIB)


def test_an_unbalanced_quote_is_reported_where_it_starts(tmp_path):
    rows = [dict(GOOD), {**GOOD, "row_id": "r002", "timepoint_hours": "48", "note": "a, b"}]
    rows += [{**GOOD, "row_id": f"r00{i}", "timepoint_hours": str(24 * i)} for i in (3, 4, 5)]
    rows[-1]["note"] = "x, y"  # a later quoted field, where the parser would stop
    path = write_csv(tmp_path / "quote.csv", rows)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"a, b"', '"a, b')  # line 3: the closing quote is lost
    path.write_text("".join(lines))
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    assert str(exc.value).startswith(f"{path}:3: column 'note': unbalanced quote"), str(exc.value)


# ------------------------------------------------- markup, impossible times (issue 23)

MARKUP = [
    ("source_location", "<script>alert(1)</script>", "an HTML tag"),
    ("source_location", 'Table 2 <img src="https://tracker.example/x.png">', "an HTML tag"),
    ("source_location", "Table 2 &lt;b&gt;", "an HTML entity"),
    ("treatment", "[ketamine](https://example.org)", "a Markdown link"),
    ("comparator", "![placebo](https://tracker.example/p.png)", "a Markdown link"),
    ("note", "see {download}`x`", "a MyST role or code"),
    ("timepoint_label", "day $1$", "math"),
    ("source_location", r"Table \textbf{2}", "a LaTeX command"),
    ("source_location", "javascript:alert(1)", "a javascript: address"),
]


@pytest.mark.parametrize(("column", "text", "kind"), MARKUP, ids=[m[2] for m in MARKUP])
def test_markup_in_free_text_is_refused_at_load(tmp_path, column, text, kind):
    bad = {"row_id": "r002", "timepoint_hours": "48", "timepoint_label": "day 2", column: text}
    path = write_csv(tmp_path / "markup.csv", [dict(GOOD), {**GOOD, **bad}])
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: column '{column}': "), msg
    assert "markup" in msg and kind in msg, msg


def test_plain_text_with_angle_brackets_and_stars_loads(tmp_path):
    # Comparisons and names the data set writes as plain text stay allowed.
    fine = {"row_id": "r002", "timepoint_hours": "48", "timepoint_label": "day 2"}
    fine |= {"note": "MADRS >= 50% fall; p < 0.05; STAR*D; 1_000 people", "comparator": "a / b"}
    path = write_csv(tmp_path / "fine.csv", [dict(GOOD), {**GOOD, **fine}])
    assert len(load_points(path, BIB)) == 2


def test_a_time_beyond_the_study_design_is_refused(tmp_path):
    bad = {"row_id": "r002", "timepoint_hours": "876000", "timepoint_label": "100 years"}
    path = write_csv(tmp_path / "far.csv", [dict(GOOD), {**GOOD, **bad}])
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: column 'timepoint_hours': 876000"), msg
    assert "2 years" in msg


@pytest.mark.parametrize(
    ("hours", "label"),
    [("24", "day 28"), ("2", "24 h"), ("168", "week 4"), ("30", "40 min"), ("500", "days 1-3")],
)
def test_a_time_that_disagrees_with_its_label_is_refused(tmp_path, hours, label):
    bad = {"row_id": "r002", "timepoint_hours": hours, "timepoint_label": label}
    path = write_csv(tmp_path / "label.csv", [dict(GOOD), {**GOOD, **bad}])
    with pytest.raises(DataError) as exc:
        load_points(path, BIB)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:3: column 'timepoint_hours': "), msg
    assert repr(label) in msg and "does not match" in msg, msg


@pytest.mark.parametrize(
    ("hours", "label"),
    [
        ("24", "day 2"),  # trial day N = (N-1) x 24 h
        ("48", "day 2"),  # day 0 = the infusion day
        ("3", "2-4 h"),  # a window, placed at its middle
        ("0.6667", "40 min"),
        ("2352", "at exit (up to 14 weeks)"),
        ("672", "end of treatment (up to 8 infusions)"),  # no time in the label
        ("0", "post-dose, treatment week 1"),
    ],
)
def test_the_data_sets_time_conventions_agree_with_their_labels(tmp_path, hours, label):
    fine = {"row_id": "r002", "timepoint_hours": hours, "timepoint_label": label}
    fine["treatment"] = "ketamine, second arm"  # not a duplicate of GOOD at 24 h
    path = write_csv(tmp_path / "fine.csv", [dict(GOOD), {**GOOD, **fine}])
    assert load_points(path, BIB)[1].timepoint_hours == float(hours)


# ------------------------------------------------- the bibliography reader (issue 23)


def bib_with(field: str) -> str:
    return (
        "@article{first2020,\n  title = {One},\n  year = {2020},\n  doi = {10.1000/one}\n}\n\n"
        f"@article{{second2021,\n  title = {{Two}},\n  year = {{2021}},\n  {field}\n}}\n"
    )


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("doi = {https://doi.org/10.1056/NEJMoa2302399}", "without https://doi.org/"),
        ("doi = {10.1056 NEJMoa2302399}", "a space"),
        ("doi = {NEJMoa2302399}", "begins with 10."),
        ("pmid = {PMC123}", "not a PubMed id"),
        ("eprint = {12 345}, eprinttype = {pubmed}", "not a PubMed id"),
    ],
    ids=["doi-url", "doi-space", "doi-prefix", "pmid-letters", "eprint-space"],
)
def test_a_malformed_doi_or_pmid_names_the_bib_line(field, reason):
    from ketamine_timelines.bib import BibError, parse_bibtex

    with pytest.raises(BibError) as exc:
        parse_bibtex(bib_with(field), "refs.bib")
    assert str(exc.value).startswith("refs.bib:10: entry 'second2021': field "), str(exc.value)
    assert reason in str(exc.value)


def test_the_shipped_bibliography_has_well_formed_dois_and_pmids():
    from ketamine_timelines.bib import parse_bibtex

    assert parse_bibtex(BIB.read_text(encoding="utf-8"), str(BIB))
