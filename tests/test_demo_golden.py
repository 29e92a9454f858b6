"""The demo workbook raises every flag of SPEC §5; flags, amounts and figures pinned."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import AS_OF
from campaignwatch.config import defaults
from campaignwatch.flagcodes import CODES
from campaignwatch.history import History
from campaignwatch.sync import campaign_dicts, sync_source
from campaignwatch.workbook.template import write_template

# (code, campaign, line, amount in cents, count, ids, severity)
GOLDEN_FLAGS = [
    ("INCIDENT_NOT_ESCALATED", "C-01", None, None, 1, ("I-01",), "high"),
    ("OVERRUN_UNAPPROVED", "C-01", None, 950000, 2, ("E-0105", "E-0106"), "high"),
    ("OVERRUN_UNAPPROVED", "C-01", "L02", 950000, 2, ("E-0105", "E-0106"), "high"),
    ("EXPENSE_RECEIPT_REUSED", "C-02", None, 11500000, 2, ("E-0201", "E-0203"), "high"),
    ("RISK_HIGH_UNMITIGATED", "C-02", None, None, 1, ("K-01",), "high"),
    ("SPEND_BEFORE_APPROVAL", "C-03", None, 800000, 1, ("E-0301",), "high"),
    ("SELF_APPROVAL", "C-05", None, 8000000, 1, ("C-05",), "high"),
    ("SELF_APPROVAL", "C-05", None, 500000, 1, ("R-03",), "high"),
    ("EXPENSE_NO_RECEIPT", "C-01", None, 150000, 1, ("E-0106",), "medium"),
    ("KPI_OFF_TRACK", "C-01", None, None, 1, ("leads",), "medium"),
    ("OVERRUN_APPROVED_LATE", "C-01", "L01", 1000000, 2, ("E-0103", "R-01"), "medium"),
    ("TASK_OVERDUE", "C-01", None, None, 1, ("T-0102",), "medium"),
    ("BURN_AHEAD", "C-02", None, 17500000, 1, (), "medium"),
    ("FEEDBACK_UNANSWERED", "C-02", None, None, 1, ("F-01",), "medium"),
    ("KPI_OFF_TRACK", "C-02", None, None, 1, ("impressions",), "medium"),
    ("OVERRUN_PENDING", "C-02", "L02", 500000, 2, ("R-02", "E-0203"), "medium"),
    ("EXPENSE_OUTSIDE_WINDOW", "C-03", None, 800000, 1, ("E-0301",), "medium"),
    ("EXPENSE_DUPLICATE_SUSPECTED", "C-04", None, 4000000, 2, ("E-0402", "E-0403"), "medium"),
    ("EXPENSE_OUTSIDE_WINDOW", "C-04", None, 300000, 1, ("E-0404",), "medium"),
    ("KPI_MISSED", "C-04", None, None, 1, ("brand_awareness",), "medium"),
    ("KPI_MISSED", "C-04", None, None, 1, ("cpa",), "medium"),
    ("EXEC_PLAN_MISSING", "C-05", None, None, 1, ("C-05",), "medium"),
    ("TASK_NO_OWNER", "C-01", None, None, 1, ("T-0102",), "low"),
    ("BUDGET_MISMATCH", "C-02", None, 2000000, 1, ("C-02",), "low"),
    ("BUDGET_NEARLY_USED", "C-02", None, 17500000, 1, (), "low"),
    ("KPI_NO_RECENT_DATA", "C-02", None, None, 1, ("impressions",), "low"),
    ("KPI_NO_RECENT_DATA", "C-02", None, None, 1, ("satisfaction",), "low"),
    ("SUMMARY_OVERDUE", "C-04", None, None, 1, ("C-04",), "low"),
]

# campaign: planned, approved, authorized, committed, actual, spend, available (currency units)
GOLDEN_BUDGET = {
    "C-01": (150000, 10000, 160000, 28000, 141500, 169500, -9500),
    "C-02": (180000, 0, 180000, 60000, 115000, 175000, 5000),
    "C-03": (30000, 0, 30000, 0, 8000, 8000, 22000),
    "C-04": (80000, 0, 80000, 0, 63000, 63000, 17000),
    "C-05": (80000, 5000, 85000, 0, 0, 0, 85000),
    "C-06": (120000, 0, 120000, 0, 0, 0, 120000),
}


@pytest.fixture(scope="module", params=["en", "zh-CN"])
def demo_sync(request, tmp_path_factory):
    path = write_template(tmp_path_factory.mktemp("demo") / "demo.xlsx", lang=request.param, demo=True, as_of=AS_OF)
    return sync_source(path, defaults(), AS_OF, History(Path("/nonexistent/h.sqlite"), dry_run=True), dry_run=True)


def test_demo_flags_are_pinned(demo_sync):
    got = [(f.code, f.campaign_id, f.line_id, f.amount, f.count, tuple(f.ids), f.severity) for f in demo_sync.flags]
    assert got == GOLDEN_FLAGS


def test_demo_raises_every_flag_but_the_plan_change(demo_sync):
    # PLAN_CHANGED_AFTER_APPROVAL needs a second sync after an approved plan is edited
    assert {f.code for f in demo_sync.flags} == set(CODES) - {"PLAN_CHANGED_AFTER_APPROVAL"}


def test_demo_budget_figures_are_pinned(demo_sync):
    got = {c["campaign_id"]: tuple(c[k] for k in ("planned", "approved", "authorized", "committed", "actual",
                                                  "spend", "available"))
           for c in campaign_dicts(demo_sync.figures)}
    assert got == GOLDEN_BUDGET


def test_demo_kpi_figures_are_pinned(demo_sync):
    k = demo_sync.figures.kpis.set_index(["campaign_id", "kpi"])
    assert k.loc[("C-01", "leads"), "actual"] == 2150
    assert k.loc[("C-01", "leads"), "attainment"] == pytest.approx(2150 / 5000)
    # C-01 runs 61 days (both ends counted); 46 of them gone by the as-of date
    assert k.loc[("C-01", "leads"), "expected"] == pytest.approx(5000 * 46 / 61)
    assert k.loc[("C-01", "roi"), "actual"] == pytest.approx((520000 - 169500) / 169500)   # derived
    assert k.loc[("C-04", "cpa"), "attainment"] == pytest.approx(2 - 42 / 40)              # lower is better
    assert k.loc[("C-04", "brand_awareness"), "status"] == "red"
    assert k.loc[("C-02", "satisfaction"), "status"] == "grey"
    c = demo_sync.figures.campaigns
    assert c.loc["C-04", "kpi_score"] == pytest.approx((2 * 0.6 + 1.05 + 0.95) / 4)
    assert c.loc["C-02", "kpis_without_data"] == 1
