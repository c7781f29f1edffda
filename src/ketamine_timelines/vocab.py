"""Controlled vocabularies for data/onset_timelines.csv (documented in data/README.md).

Kept in one place so the loader, the plots and the codebook cannot drift apart.
"""

from __future__ import annotations

COLUMNS: tuple[str, ...] = (
    "row_id",
    "study_key",
    "treatment",
    "arm",
    "drug_class",
    "population",
    "timepoint_hours",
    "timepoint_label",
    "measure",
    "scale",
    "value",
    "unit",
    "uncertainty_type",
    "uncertainty_low",
    "uncertainty_high",
    "n",
    "comparator",
    "source_location",
    "obtained",
    "confidence",
    "read_at",
    "note",
)
OPTIONAL_COLUMNS = frozenset({"uncertainty_low", "uncertainty_high", "n", "comparator", "note"})
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)
#: Columns of free text. Readers see them in tables, tooltips and legends, so they hold
#: plain text: the loader refuses markup in them (HTML, Markdown links, MyST roles, math,
#: LaTeX), and every place that shows them escapes them.
FREE_TEXT_COLUMNS = ("treatment", "timepoint_label", "comparator", "source_location", "note")

#: The longest time after the first dose that the data set holds: 2 years (17,520 h).
#: Its studies follow people for hours to months (the latest row is at 14 weeks); a time
#: beyond it is a unit slip (days or minutes written as hours), not a finding.
MAX_TIMEPOINT_HOURS = 2 * 365 * 24

ARMS = frozenset({"drug", "control"})
DRUG_CLASSES = frozenset(
    {
        "ketamine_iv",
        "ketamine_sc",
        "esketamine_in",
        "ssri_snri",
        "antidepressant_pooled",
        "drug_and_placebo_pooled",
        "placebo",
        "active_placebo",
        "other",
    }
)
POPULATIONS = frozenset(
    {
        "TRD",
        "TRD_older",
        "MDD",
        "MDD_surgical",
        "MDD_suicidal",
        "MDD_inpatient",
        "clinical_depression",
        "mixed",
        "PTSD",
        "OCD",
        "SAD",
        "GAD_SAD",
    }
)
RATE_MEASURES = frozenset(
    {
        "response_rate",
        "remission_rate",
        "early_improvement_rate",
        "late_outcome_share",
        "share_of_total_improvement",
    }
)
TIME_MEASURES = frozenset(
    {
        "time_to_superiority",
        "time_to_peak_effect",
        "time_to_loss_of_superiority",
        "time_to_onset_of_improvement",
        "time_to_response",
        "time_to_loss_of_response",
        "time_to_adverse_event_resolution",
    }
)
MEASURES = (
    RATE_MEASURES
    | TIME_MEASURES
    | frozenset(
        {
            "mean_total",
            "mean_change",
            "mean_percent_change",
            "mean_difference_vs_control",
            "rate_difference_vs_control",
            "standardised_effect_size",
            "odds_ratio",
            "relative_risk",
        }
    )
)
SCALES = frozenset(
    {
        "MADRS",
        "HDRS",
        "HDRS17",
        "HDRS21",
        "HDRS25",
        "HAMD6",
        "QIDS_SR16",
        "CADSS",
        "SBP",
        "DBP",
        "CAPS5",
        "YBOCS",
        "LSAS",
        "FQ",
        "HAMA",
        "mixed",
        "unspecified",
        "none",
    }
)
UNITS = frozenset(
    {"%", "% change", "pp", "points", "mmHg", "days", "h", "min", "ratio", "g", "SMD"}
)
UNCERTAINTY_TYPES = frozenset({"none", "SD", "SE", "CI95", "range"})
OBTAINED = frozenset({"reported", "computed", "read_off_figure"})
CONFIDENCE = frozenset({"verified", "partly"})

#: Score range (lowest, highest total) of each rating scale, from its items' maxima:
#: a mean score must lie inside it, a change or difference within its width. Scales
#: without a fixed total ("mixed", "unspecified", "none") are not checked; blood
#: pressure gets a physiological bound. Documented in data/README.md ("Ranges").
SCALE_RANGES: dict[str, tuple[float, float]] = {
    "MADRS": (0, 60),  # 10 items, 0-6
    "HDRS17": (0, 52),
    "HDRS21": (0, 64),
    "HDRS25": (0, 100),  # upper bound: 25 items, at most 4 points each
    "HDRS": (0, 100),  # version not stated: the widest HDRS bound
    "HAMD6": (0, 22),
    "QIDS_SR16": (0, 27),
    "CADSS": (0, 92),  # 23 items, 0-4
    "CAPS5": (0, 80),  # 20 items, 0-4
    "YBOCS": (0, 40),
    "LSAS": (0, 144),
    "FQ": (0, 120),  # main phobia total: 15 items, 0-8
    "HAMA": (0, 56),
    "SBP": (0, 300),  # mmHg
    "DBP": (0, 200),  # mmHg
}

ENUMS: dict[str, frozenset[str]] = {
    "arm": ARMS,
    "drug_class": DRUG_CLASSES,
    "population": POPULATIONS,
    "measure": MEASURES,
    "scale": SCALES,
    "unit": UNITS,
    "uncertainty_type": UNCERTAINTY_TYPES,
    "obtained": OBTAINED,
    "confidence": CONFIDENCE,
}

# Human-readable names used on axes and in tables.
SCALE_NAMES = {
    "MADRS": "MADRS",
    "HDRS": "HDRS (version not stated)",
    "HDRS17": "HDRS-17",
    "HDRS21": "HDRS-21",
    "HDRS25": "HDRS-25",
    "HAMD6": "HAM-D-6",
    "QIDS_SR16": "QIDS-SR16",
    "CADSS": "CADSS",
    "SBP": "systolic BP",
    "DBP": "diastolic BP",
    "CAPS5": "CAPS-5",
    "YBOCS": "Y-BOCS",
    "LSAS": "LSAS",
    "FQ": "Fear Questionnaire",
    "HAMA": "HAM-A",
    "mixed": "scales pooled",
    "unspecified": "scale not stated",
    "none": "",
}
DRUG_CLASS_NAMES = {
    "ketamine_iv": "IV ketamine",
    "ketamine_sc": "subcutaneous ketamine",
    "esketamine_in": "intranasal esketamine",
    "ssri_snri": "SSRI/SNRI",
    "antidepressant_pooled": "antidepressants (pooled)",
    "drug_and_placebo_pooled": "antidepressants and placebo (pooled)",
    "placebo": "placebo",
    "active_placebo": "active placebo (midazolam)",
    "other": "other",
}
