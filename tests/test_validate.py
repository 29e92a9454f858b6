"""The validate stage on records held in memory: each check of `stages.validate.CHECKS` on its own,
with the code, the cell and the record it names, and which rows it leaves out of the figures."""
from __future__ import annotations

import datetime as dt

from conftest import AS_OF, make_tables
from campaignwatch.stages import validate as V

CAMPAIGN = {"campaign_id": "C1", "start_date": "2026-11-01", "end_date": "2026-11-30", "status": "executing"}


def tables(**by_table):
    """Tables from {table: [records]}, with a campaign C1 unless campaigns are given."""
    by_table.setdefault("campaigns", [CAMPAIGN])
    return make_tables(by_table)[0]


def expense(eid, cid="C1", amount=10, date="2026-11-01", **more):
    return {"expense_id": eid, "campaign_id": cid, "date": date, "amount": amount, **more}


def got(findings):
    return [(f.code, f.table, f.row, f.cell, f.value) for f in findings]


def valid(t, table, id_col):
    return dict(zip(t[table].df[id_col], t[table].df["valid"]))


def test_checks_is_the_explicit_list_and_validate_runs_them_all_in_order():
    assert [c.__name__ for c in V.CHECKS] == ["duplicate_ids", "unknown_references", "end_before_start",
                                              "due_before_start", "future_dates", "negative_amounts"]
    t = tables(expenses=[expense("E1", cid="C9"), expense("E1", amount=-5)])
    assert [f.code for f in V.validate(t, AS_OF)] == ["DUPLICATE_ID", "UNKNOWN_CAMPAIGN", "NEGATIVE_AMOUNT"]


def test_duplicate_id_keeps_the_first_and_leaves_out_the_copy():
    t = tables(expenses=[expense("E1"), expense("E2"), expense("E1", amount=99)])
    findings = V.duplicate_ids(t, AS_OF)
    assert got(findings) == [("DUPLICATE_ID", "expenses", 4, "Expenses!A4", "E1")]
    assert findings[0].params["first_row"] == 2
    assert t["expenses"].df["valid"].tolist() == [True, True, False]


def test_duplicate_id_over_two_columns_names_the_last():
    t = tables(budget_lines=[{"campaign_id": "C1", "line_id": "L1", "planned_amount": 1},
                             {"campaign_id": "C2", "line_id": "L1", "planned_amount": 1},
                             {"campaign_id": "C1", "line_id": "L1", "planned_amount": 2}],
               campaigns=[CAMPAIGN, {**CAMPAIGN, "campaign_id": "C2"}])
    assert got(V.duplicate_ids(t, AS_OF)) == [("DUPLICATE_ID", "budget_lines", 4, "'Budget lines'!B4", "L1")]


def test_unknown_campaign_leaves_the_row_out():
    t = tables(expenses=[expense("E1"), expense("E2", cid="C9")])
    findings = V.unknown_references(t, AS_OF)
    assert got(findings) == [("UNKNOWN_CAMPAIGN", "expenses", 3, "Expenses!B3", "C9")]
    assert findings[0].params["campaigns_tab"] == "Campaigns"
    assert valid(t, "expenses", "expense_id") == {"E1": True, "E2": False}


def test_unknown_budget_line_of_a_known_campaign_leaves_the_row_out():
    t = tables(budget_lines=[{"campaign_id": "C1", "line_id": "L1", "planned_amount": 100}],
               expenses=[expense("E1", line_id="L1"), expense("E2", line_id="L7"), expense("E3")])
    findings = V.unknown_references(t, AS_OF)
    assert got(findings) == [("UNKNOWN_BUDGET_LINE", "expenses", 3, "Expenses!E3", "L7")]
    assert findings[0].params["campaign_id"] == "C1"
    assert valid(t, "expenses", "expense_id") == {"E1": True, "E2": False, "E3": True}


def test_references_step_aside_without_a_campaigns_tab():
    t, _ = make_tables({"expenses": [expense("E1", cid="C9")]})
    assert V.unknown_references(t, AS_OF) == []


def test_end_before_start_leaves_the_campaign_out():
    t = tables(campaigns=[CAMPAIGN, {**CAMPAIGN, "campaign_id": "C2", "start_date": "2026-12-20",
                                     "end_date": "2026-12-10"}])
    findings = V.end_before_start(t, AS_OF)
    assert got(findings) == [("END_BEFORE_START", "campaigns", 3, "Campaigns!C3", "2026-12-10")]
    assert findings[0].params["start"] == "2026-12-20"
    assert valid(t, "campaigns", "campaign_id") == {"C1": True, "C2": False}


def test_due_before_start_is_a_warning_and_the_task_is_kept():
    t = tables(tasks=[{"task_id": "T1", "campaign_id": "C1", "start": "2026-11-10", "due": "2026-11-05"},
                      {"task_id": "T2", "campaign_id": "C1", "start": "2026-11-10", "due": "2026-11-15"}])
    findings = V.due_before_start(t, AS_OF)
    assert got(findings) == [("DUE_BEFORE_START", "tasks", 2, "Tasks!D2", "2026-11-05")]
    assert findings[0].severity == "warning"
    assert valid(t, "tasks", "task_id") == {"T1": True, "T2": True}


def test_future_dates_of_things_that_happened_only():
    later = (AS_OF + dt.timedelta(days=1)).isoformat()
    t = tables(expenses=[expense("E1", date=later), expense("E2", date=AS_OF.isoformat())],
               tasks=[{"task_id": "T1", "campaign_id": "C1", "due": later}],            # a due date may be ahead
               incidents=[{"incident_id": "I1", "campaign_id": "C1", "occurred_at": f"{later} 09:30"}])
    findings = V.future_dates(t, AS_OF)
    assert got(findings) == [("FUTURE_DATE", "expenses", 2, "Expenses!C2", later),
                             ("FUTURE_DATE", "incidents", 2, "Incidents!C2", f"{later} 09:30")]
    assert findings[0].params["as_of"] == "2026-11-26"
    assert t["expenses"].df["valid"].all()


def test_negative_amounts_are_warnings_and_kept():
    t = tables(expenses=[expense("E1", amount=-120.5), expense("E2")],
               overrun_requests=[{"request_id": "Q1", "campaign_id": "C1", "amount": -1}])
    findings = V.negative_amounts(t, AS_OF)
    assert got(findings) == [("NEGATIVE_AMOUNT", "expenses", 2, "Expenses!D2", "-120.5"),
                             ("NEGATIVE_AMOUNT", "overrun_requests", 2, "'Overrun requests'!C2", "-1")]
    assert {f.severity for f in findings} == {"warning"}
    assert t["expenses"].df["valid"].all()


def test_table_order_is_the_contracts_then_the_row():
    t = tables(expenses=[expense("E1", cid="C9"), expense("E1")],
               campaigns=[CAMPAIGN, {**CAMPAIGN, "campaign_id": "C2", "start_date": "2026-12-20",
                                     "end_date": "2026-12-10"}])
    ordered = V.table_order(V.validate(t, AS_OF))
    assert [(f.code, f.table, f.row) for f in ordered] == [
        ("END_BEFORE_START", "campaigns", 3), ("UNKNOWN_CAMPAIGN", "expenses", 2), ("DUPLICATE_ID", "expenses", 3)]
