"""The render stage on figures and flags computed in memory (no file): each tab's rows, fills and
links for a small case worked out by hand — C1 over its line L1 by 200.00 with no request, C2 within."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from conftest import AS_OF, make_tables
from campaignwatch.render import RunInfo, render_tabs
from campaignwatch.rules import Context, Thresholds, run_rules
from campaignwatch.stages.compute import compute
from campaignwatch.stages.lifecycle import lifecycle
from campaignwatch.stages.validate import validate

D = lambda n: (AS_OF + dt.timedelta(days=n)).isoformat()  # noqa: E731


@pytest.fixture(scope="module")
def tabs():
    camp = lambda cid: {"campaign_id": cid, "name": f"Promo {cid}", "owner": "Ann", "start_date": D(-10),  # noqa: E731
                        "end_date": D(10), "status": "executing", "approved_by": "Bob", "approved_on": D(-20)}
    tables, findings = make_tables({
        "campaigns": [camp("C1"), camp("C2")],
        "budget_lines": [{"campaign_id": c, "line_id": "L1", "planned_amount": 1000} for c in ("C1", "C2")],
        "expenses": [{"expense_id": "E1", "campaign_id": "C1", "line_id": "L1", "date": D(-5), "amount": 1200,
                      "receipt_no": "R1"},
                     {"expense_id": "E2", "campaign_id": "C2", "line_id": "L1", "date": D(-5), "amount": "lots",
                      "receipt_no": "R2"}],
    })
    findings += validate(tables, AS_OF)
    fig = compute(tables, AS_OF)
    ctx = Context(tables, fig, AS_OF, Thresholds(), "en")
    found = run_rules(ctx, {})                      # what the rules found; the lifecycle stage makes flags of it
    flags = list(lifecycle(found, {}, verifiable=ctx.verifiable, responses=None, as_of=AS_OF).flags)
    info = RunInfo("w.xlsx", AS_OF, "2026-11-26 08:00", "en")
    excluded = {k: int((~r.df["valid"]).sum()) for k, r in tables.items()}
    return {t.key: t for t in render_tabs(info, fig, flags, findings, excluded, [], {"C1": "Campaigns!A2"})}


def column(tab, header):
    i = tab.header.index(header)
    return [r[i] for r in tab.rows]


def test_every_tab_is_built_in_order(tabs):
    assert list(tabs) == ["summary", "flags", "budget", "kpi", "validation", "scorecard", "runlog"]
    assert all(len(t.formats) == len(t.header) for t in tabs.values())


def test_summary_rows_fills_and_links(tabs):
    s = tabs["summary"]
    assert column(s, "Campaign ID") == ["C1", "C2"]
    assert column(s, "Spend") == [Decimal("1200.00"), Decimal("0.00")]
    assert column(s, "Available") == [Decimal("-200.00"), Decimal("1000.00")]
    assert s.fills[(0, 5)] == "red" and s.fills[(0, 13)] == "red"          # RAG, and the negative available
    assert s.links[(0, 0)] == "Campaigns!A2"
    assert any("1 rows that cannot be read" in line for line in s.title)


def test_flags_rows_link_to_their_cell(tabs):
    f = tabs["flags"]
    rows = [(r[f.header.index("Code")], r[f.header.index("Campaign")]) for r in f.rows]
    assert ("OVERRUN_UNAPPROVED", "C1") in rows and all(c == "C1" for code, c in rows if code.startswith("OVERRUN"))
    i = next(i for i, (code, _) in enumerate(rows) if code == "OVERRUN_UNAPPROVED")
    assert f.fills[(i, 1)] == "red"                                         # high
    assert f.links[(i, 14)] == "Expenses!E2"


def test_budget_has_a_line_and_a_campaign_row_per_campaign(tabs):
    b = tabs["budget"]
    assert [tuple(r[:2]) for r in b.rows] == [("C1", "L1"), ("C1", "(campaign)"), ("C2", "L1"), ("C2", "(campaign)")]
    assert b.fills[(0, 10)] == "red" and b.fills[(1, 10)] == "red"


def test_validation_lists_the_unreadable_cell_with_a_link(tabs):
    v = tabs["validation"]
    rows = [(r[1], r[2], r[3], r[5], r[6]) for r in v.rows]
    assert ("VALUE_UNREADABLE", "Expenses", 3, "Expenses!E3", "lots") in rows
    i = rows.index(("VALUE_UNREADABLE", "Expenses", 3, "Expenses!E3", "lots"))
    assert v.fills[(i, 0)] == "red" and v.links[(i, 5)] == "Expenses!E3"
