"""One small workbook per flag code, built to raise it: `sync --dry-run --json` names the code, the
campaign and the records (expenses, requests, tasks, …), and a campaign that keeps the rule does not
get the flag. Dates are relative to AS_OF (2026-11-26); thresholds are the defaults."""
from __future__ import annotations

import datetime as dt

from conftest import AS_OF, cli_json, contract_sheets, history_config, write_xlsx

D = lambda n: (AS_OF + dt.timedelta(days=n)).isoformat()  # noqa: E731


def campaign(cid, start=-10, end=10, status="executing", approved_on=-20, **more):
    return {"campaign_id": cid, "name": f"Promo {cid}", "owner": "Ann", "start_date": D(start), "end_date": D(end),
            "status": status, "approved_by": "Bob", "approved_on": D(approved_on) if approved_on is not None else None,
            **more}


def expense(eid, cid, amount, day=-5, line="L1", receipt=None, vendor=None, stage="actual"):
    return {"expense_id": eid, "campaign_id": cid, "line_id": line, "date": D(day), "amount": amount,
            "stage": stage, "vendor": vendor or f"V-{eid}", "receipt_no": receipt if receipt is not None else f"R-{eid}"}


def lines(*cids, planned=1000):
    return [{"campaign_id": cid, "line_id": "L1", "planned_amount": planned} for cid in cids]


def sync(tmp_path, tables) -> list[dict]:
    path = write_xlsx(tmp_path / "w.xlsx", contract_sheets(tables))
    code, doc = cli_json("--config", history_config(tmp_path), "sync", path, "--as-of", AS_OF, "--dry-run")
    (src,) = doc["sources"]
    assert src["status"] == "ok", src
    return src["flags"]


def raised(tmp_path, tables, code) -> list[tuple[str, list[str]]]:
    """(campaign, record IDs) of every flag with `code`, by campaign."""
    return sorted((f["campaign_id"], f["ids"]) for f in sync(tmp_path, tables) if f["code"] == code)


def by_line(tmp_path, tables, code) -> list[tuple[str, str, list[str], float]]:
    """(campaign, budget line or "" for the campaign as a whole, record IDs, amount) of every flag with `code`."""
    return sorted((f["campaign_id"], f["line_id"] or "", f["ids"], f["amount"]) for f in sync(tmp_path, tables)
                  if f["code"] == code)


# =========================================================================== budget

def test_overrun_unapproved(tmp_path):
    t = {"campaigns": [campaign("C1"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 800), expense("E2", "C1", 300, day=-4), expense("E3", "C2", 900)]}
    assert by_line(tmp_path, t, "OVERRUN_UNAPPROVED") == [("C1", "", ["E2"], 100.0),     # the campaign, and
                                                          ("C1", "L1", ["E2"], 100.0)]   # its one line


def test_overrun_pending(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "expenses": [expense("E1", "C1", 1200)],
         "overrun_requests": [{"request_id": "Q1", "campaign_id": "C1", "line_id": "L1", "amount": 200,
                               "decision": "pending", "approver": "Bob"}]}
    assert by_line(tmp_path, t, "OVERRUN_PENDING") == [("C1", "", ["Q1", "E1"], 200.0), ("C1", "L1", ["Q1", "E1"], 200.0)]
    assert raised(tmp_path, t, "OVERRUN_UNAPPROVED") == []


def test_overrun_approved_late(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "expenses": [expense("E1", "C1", 1200, day=-5)],
         "overrun_requests": [{"request_id": "Q1", "campaign_id": "C1", "line_id": "L1", "amount": 200,
                               "decision": "approved", "approver": "Bob", "decided_on": D(-2)}]}
    assert by_line(tmp_path, t, "OVERRUN_APPROVED_LATE") == [("C1", "", ["E1", "Q1"], 200.0),
                                                             ("C1", "L1", ["E1", "Q1"], 200.0)]
    t["overrun_requests"][0]["decided_on"] = D(-6)                 # approved before the spend: fine
    assert raised(tmp_path, t, "OVERRUN_APPROVED_LATE") == []


def test_budget_nearly_used(tmp_path):
    t = {"campaigns": [campaign("C1"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 850), expense("E2", "C2", 500)]}
    flags = [f for f in sync(tmp_path, t) if f["code"] == "BUDGET_NEARLY_USED"]
    assert [(f["campaign_id"], f["amount"]) for f in flags] == [("C1", 850.0)]


def test_budget_mismatch(tmp_path):
    t = {"campaigns": [campaign("C1", budget=1500), campaign("C2", budget=1000)], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 10), expense("E2", "C2", 10)]}
    flags = [f for f in sync(tmp_path, t) if f["code"] == "BUDGET_MISMATCH"]
    assert [(f["campaign_id"], f["ids"], f["amount"]) for f in flags] == [("C1", ["C1"], 500.0)]


def test_burn_ahead(tmp_path):
    # 20 days, 1 gone (5 %) and 50 % spent: burn index 10 ≥ 1.5; C2 spends 2 % (below the 20 % minimum)
    t = {"campaigns": [campaign("C1", start=-1, end=18), campaign("C2", start=-1, end=18)],
         "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 500, day=-1), expense("E2", "C2", 20, day=-1)]}
    assert [cid for cid, _ in raised(tmp_path, t, "BURN_AHEAD")] == ["C1"]


def test_spend_before_approval(tmp_path):
    t = {"campaigns": [campaign("C1", approved_on=-3), campaign("C2", status="draft", approved_on=None),
                       campaign("C3")],
         "budget_lines": lines("C1", "C2", "C3"),
         "expenses": [expense("E1", "C1", 10, day=-5), expense("E2", "C1", 10, day=-2),
                      expense("E3", "C2", 10), expense("E4", "C3", 10)]}
    assert raised(tmp_path, t, "SPEND_BEFORE_APPROVAL") == [("C1", ["E1"]), ("C2", ["E3"])]


def test_self_approval(tmp_path):
    t = {"campaigns": [campaign("C1", approved_by="Ann"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 10), expense("E2", "C2", 10)],
         "overrun_requests": [{"request_id": "Q1", "campaign_id": "C2", "amount": 5, "requested_by": "Cai",
                               "decision": "approved", "approver": "Cai", "decided_on": D(-1)}]}
    assert raised(tmp_path, t, "SELF_APPROVAL") == [("C1", ["C1"]), ("C2", ["Q1"])]


def test_plan_changed_after_approval(tmp_path):
    """A first sync (written) remembers the approved plan; the end date moved without a change approval."""
    t = {"campaigns": [campaign("C1"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 10), expense("E2", "C2", 10)]}
    path = write_xlsx(tmp_path / "w.xlsx", contract_sheets(t))
    cfg = history_config(tmp_path)
    assert cli_json("--config", cfg, "sync", path, "--as-of", AS_OF)[0] == 0
    t["campaigns"][0]["end_date"] = D(30)
    write_xlsx(path, contract_sheets(t))
    _, doc = cli_json("--config", cfg, "sync", path, "--as-of", AS_OF, "--dry-run")
    got = [(f["campaign_id"], f["ids"]) for f in doc["sources"][0]["flags"] if f["code"] == "PLAN_CHANGED_AFTER_APPROVAL"]
    assert got == [("C1", ["C1"])]


# =========================================================================== expenses

def test_expense_no_receipt(tmp_path):
    t = {"campaigns": [campaign("C1"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 10, receipt=""), expense("E2", "C1", 10, receipt="", stage="committed"),
                      expense("E3", "C2", 10)]}
    assert raised(tmp_path, t, "EXPENSE_NO_RECEIPT") == [("C1", ["E1"])]


def test_expense_receipt_reused(tmp_path):
    t = {"campaigns": [campaign("C1"), campaign("C2")], "budget_lines": lines("C1", "C2"),
         "expenses": [expense("E1", "C1", 10, receipt="FP 1"), expense("E2", "C1", 20, receipt="fp1"),
                      expense("E3", "C2", 10, receipt="FP2")]}
    assert raised(tmp_path, t, "EXPENSE_RECEIPT_REUSED") == [("C1", ["E1", "E2"])]


def test_expense_outside_window(tmp_path):
    # C1 runs D-10 … D+10 with 7 days' grace either side
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "expenses": [expense("E1", "C1", 10, day=-18), expense("E2", "C1", 10, day=-17),
                      expense("E3", "C1", 10, day=18, stage="committed")]}
    assert raised(tmp_path, t, "EXPENSE_OUTSIDE_WINDOW") == [("C1", ["E1", "E3"])]


def test_expense_duplicate_suspected(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "expenses": [expense("E1", "C1", 10, vendor="Acme"), expense("E2", "C1", 10, vendor="Acme"),
                      expense("E3", "C1", 10, vendor="Other"), expense("E4", "C1", 11, vendor="Acme")]}
    assert raised(tmp_path, t, "EXPENSE_DUPLICATE_SUSPECTED") == [("C1", ["E1", "E2"])]


# =========================================================================== KPIs

def kpis(cid, kpi, target, actuals):
    return ([{"campaign_id": cid, "kpi": kpi, "target": target}],
            [{"campaign_id": cid, "kpi": kpi, "date": D(d), "value": v} for d, v in actuals])


def test_kpi_off_track(tmp_path):
    # halfway through, 10 of 1000 leads: far below the 500 expected by now
    targets, actuals = kpis("C1", "Leads", 1000, [(-1, 10)])
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"), "kpi_targets": targets, "kpi_actuals": actuals}
    assert raised(tmp_path, t, "KPI_OFF_TRACK") == [("C1", ["leads"])]


def test_kpi_missed(tmp_path):
    targets, actuals = kpis("C1", "Leads", 1000, [(-15, 400)])
    t = {"campaigns": [campaign("C1", start=-30, end=-10, status="completed", summary_report="r.docx")],
         "budget_lines": lines("C1"), "kpi_targets": targets, "kpi_actuals": actuals}
    assert raised(tmp_path, t, "KPI_MISSED") == [("C1", ["leads"])]


def test_kpi_no_recent_data(tmp_path):
    targets, actuals = kpis("C1", "Leads", 1000, [(-9, 500)])        # last actual 9 days ago (> 7)
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"), "kpi_targets": targets, "kpi_actuals": actuals}
    assert raised(tmp_path, t, "KPI_NO_RECENT_DATA") == [("C1", ["leads"])]
    t["kpi_actuals"].append({"campaign_id": "C1", "kpi": "Leads", "date": D(-1), "value": 10})
    assert raised(tmp_path, t, "KPI_NO_RECENT_DATA") == []


# =========================================================================== execution

def task(tid, cid, due, owner="Dee", status="in progress"):
    return {"task_id": tid, "campaign_id": cid, "task": "do it", "owner": owner, "due": D(due), "status": status}


def test_task_overdue(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "tasks": [task("T1", "C1", -1), task("T2", "C1", -1, status="done"), task("T3", "C1", 0)]}
    assert raised(tmp_path, t, "TASK_OVERDUE") == [("C1", ["T1"])]


def test_task_no_owner(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "tasks": [task("T1", "C1", 5, owner=None), task("T2", "C1", 5), task("T3", "C1", 5, owner=None, status="done")]}
    assert raised(tmp_path, t, "TASK_NO_OWNER") == [("C1", ["T1"])]


def test_exec_plan_missing(tmp_path):
    # C1 approved, starting in 5 days (within 14), no tasks; C2 has one; C3 starts in 30 days
    t = {"campaigns": [campaign("C1", start=5, end=30, status="approved"), campaign("C2", start=5, end=30, status="approved"),
                       campaign("C3", start=30, end=60, status="approved")],
         "budget_lines": lines("C1", "C2", "C3"), "tasks": [task("T1", "C2", 20)]}
    assert raised(tmp_path, t, "EXEC_PLAN_MISSING") == [("C1", ["C1"])]


def test_incident_not_escalated(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "incidents": [
             {"incident_id": "I1", "campaign_id": "C1", "occurred_at": f"{D(-5)} 09:00", "reported_at": f"{D(-3)} 09:00"},
             {"incident_id": "I2", "campaign_id": "C1", "occurred_at": f"{D(-5)} 09:00", "reported_at": f"{D(-5)} 18:00"},
             {"incident_id": "I3", "campaign_id": "C1", "occurred_at": f"{D(-5)} 09:00", "reported_at": None},
             {"incident_id": "I4", "campaign_id": "C1", "occurred_at": f"{AS_OF} 08:00", "reported_at": None}]}
    assert raised(tmp_path, t, "INCIDENT_NOT_ESCALATED") == [("C1", ["I1", "I3"])]


def test_feedback_unanswered(tmp_path):
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "feedback": [{"feedback_id": "F1", "campaign_id": "C1", "received_on": D(-4), "response": None},
                      {"feedback_id": "F2", "campaign_id": "C1", "received_on": D(-4), "response": "thanks"},
                      {"feedback_id": "F3", "campaign_id": "C1", "received_on": D(-2), "response": None}]}
    assert raised(tmp_path, t, "FEEDBACK_UNANSWERED") == [("C1", ["F1"])]


def test_risk_high_unmitigated(tmp_path):
    risk = lambda rid, p, i, **more: {"risk_id": rid, "campaign_id": "C1", "probability": p, "impact": i,  # noqa: E731
                                      "mitigation": None, "owner": "Dee", **more}
    t = {"campaigns": [campaign("C1")], "budget_lines": lines("C1"),
         "risks": [risk("K1", 3, 5), risk("K2", 3, 4), risk("K3", 5, 5, mitigation="plan B"),
                   risk("K4", 5, 5, status="closed")]}
    assert raised(tmp_path, t, "RISK_HIGH_UNMITIGATED") == [("C1", ["K1"])]


def test_summary_overdue(tmp_path):
    t = {"campaigns": [campaign("C1", start=-60, end=-20, status="completed"),
                       campaign("C2", start=-60, end=-20, status="completed", summary_report="r.docx"),
                       campaign("C3", start=-60, end=-10, status="completed")],
         "budget_lines": lines("C1", "C2", "C3")}
    assert raised(tmp_path, t, "SUMMARY_OVERDUE") == [("C1", ["C1"])]
