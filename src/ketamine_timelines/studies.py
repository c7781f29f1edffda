"""Design and size of each study, as read in the evidence brief (EVIDENCE.md).

The CSV holds numbers; this holds the one-line description a sources table needs,
so readers can judge how much weight a point deserves.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Study:
    design: str
    size: str  # as reported: randomised, analysed or pooled, said in words


STUDIES: dict[str, Study] = {
    "berman2000": Study("randomised crossover trial, ketamine vs saline", "7 completed"),
    "murrough2013": Study("randomised trial, ketamine vs midazolam (2:1)", "73 randomised"),
    "lii2023": Study(
        "randomised trial, ketamine vs saline masked by surgical anaesthesia", "40 randomised"
    ),
    "jelovac2025": Study(
        "randomised trial, up to 8 infusions vs midazolam, inpatients", "65 randomised, 62 analysed"
    ),
    "anand2023": Study("randomised open-label trial, ketamine vs ECT", "403 randomised"),
    "kishimoto2016": Study("meta-analysis of 9 ketamine RCTs", "234 participants"),
    "newport2015": Study("meta-analysis of 7 trials", "147 ketamine-treated"),
    "han2016": Study("meta-analysis of 9 RCTs", "368 participants"),
    "mcgirr2015": Study("meta-analysis of 7 IV and 1 intranasal RCT", "183 participants"),
    "xu2016": Study("meta-analysis of 9 trials", "201 participants"),
    "dean2021": Study("Cochrane systematic review", "64 studies, 5299 participants"),
    "mcintyre2020": Study("meta-analysis (IV, intranasal, oral)", "5 intranasal studies"),
    "daly2018": Study(
        "randomised trial, delayed-start design, esketamine doses vs placebo", "67 randomised"
    ),
    "popova2019": Study(
        "randomised trial (TRANSFORM-2), esketamine vs placebo spray, both "
        "with a new antidepressant",
        "223 at day 28",
    ),
    "fedgchin2019": Study(
        "randomised trial (TRANSFORM-1), two fixed esketamine doses vs "
        "placebo spray, all with a new antidepressant",
        "342 at day 28",
    ),
    "ochsross2020": Study(
        "randomised trial (TRANSFORM-3), people aged 65 and over", "137 at day 28"
    ),
    "turkoz2021": Study("pooled analysis of TRANSFORM-1 and -2", "521 at day 2"),
    "canuso2018": Study(
        "randomised trial, esketamine vs placebo spray, imminent suicide risk", "68 randomised"
    ),
    "fu2020": Study("randomised trial (ASPIRE I), suicidal ideation", "226 randomised"),
    "ionescu2021": Study("randomised trial (ASPIRE II), suicidal ideation", "230 randomised"),
    "an2021": Study("meta-analysis of 6 intranasal RCTs", "858 participants"),
    "reif2023": Study(
        "randomised open-label, rater-blinded trial, esketamine vs quetiapine", "676 randomised"
    ),
    "taylor2006": Study("meta-analysis of SSRI vs placebo trials", "28 RCTs, 5872 participants"),
    "posternak2005": Study("meta-analysis of antidepressant trials", "47 studies"),
    "stassen2007": Study("pooled analysis, 7 antidepressants and placebo", "2848 patients"),
    "szegedi2003": Study("randomised trial, mirtazapine vs paroxetine", "212 patients"),
    "wagner2017": Study("meta-analysis of early improvement", "17 RCTs, 14779 patients"),
    "trivedi2006": Study("open-label citalopram, first step of STAR*D", "2876 outpatients"),
    "feder2021": Study("randomised trial, 6 infusions vs midazolam, PTSD", "30 randomised"),
    "rodriguez2013": Study(
        "randomised crossover trial, ketamine vs saline, OCD", "15 participants"
    ),
    "glue2018": Study("open-label maintenance study, GAD/social anxiety", "20 participants"),
    "taylor2018": Study(
        "randomised crossover trial, ketamine vs saline, social anxiety", "18 participants"
    ),
    "yale_bp2024": Study(
        "retrospective chart review of clinical infusions", "138 patients, 2342 infusions"
    ),
}
