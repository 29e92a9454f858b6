"""Rules on small workbooks worked out by hand: codes, campaigns, amounts, counts."""
from __future__ import annotations

import datetime as dt

from conftest import write_xlsx
from campaignwatch.config import defaults
from campaignwatch.pipeline import check_source
from campaignwatch.rules import Context, Thresholds, people_aliases, run_rules, verifiable
from campaignwatch.stages.compute import compute

AS_OF = dt.date(2026, 11, 26)
D = lambda n: AS_OF + dt.timedelta(days=n)  # noqa: E731

CAMPAIGNS = ["campaign_id", "name", "owner", "start_date", "end_date", "status", "approved_by", "approved_on",
             "summary_report"]
LINES = ["campaign_id", "line_id", "planned_amount"]
EXPENSES = ["expense_id", "campaign_id", "line_id", "date", "amount", "stage", "vendor", "receipt_no"]
REQUESTS = ["request_id", "campaign_id", "line_id", "amount", "requested_by", "decision", "approver", "decided_on"]


def run(tmp_path, sheets, cfg=None, **thresholds):
    cfg = cfg or defaults()
    result = check_source(write_xlsx(tmp_path / "w.xlsx", sheets), cfg, AS_OF)
    fig = compute(result.tables, AS_OF)
    t = Thresholds.from_config(cfg)
    for k, v in thresholds.items():
        setattr(t, k, v)
    ctx = Context(result.tables, fig, AS_OF, t, "en", {}, people_aliases(result.tables))
    return result, fig, run_rules(ctx, {})


def base(expenses, requests=()):
    return {
        "Campaigns": [CAMPAIGNS, ["C1", "Promo", "Ann", D(-10), D(10), "executing", "Bob", D(-20), None]],
        "Budget lines": [LINES, ["C1", "L1", 1000], ["C1", "L2", 1000]],
        "Expenses": [EXPENSES, *expenses],
        "Overrun requests": [REQUESTS, *requests],
    }


def overrun_flags(flags):
    return sorted(((f.code, f.line_id, f.amount) for f in flags if f.code.startswith("OVERRUN")),
                  key=lambda t: (t[0], t[1] or ""))


def test_line_over_but_campaign_within(tmp_path):
    _, fig, flags = run(tmp_path, base([["E1", "C1", "L1", D(-5), 1200, "actual", "V", "R1"]]))
    assert overrun_flags(flags) == [("OVERRUN_UNAPPROVED", "L1", 200_00)]
    assert int(fig.campaigns.loc["C1", "spend"]) == 1200_00


def test_committed_money_counts_towards_an_overrun(tmp_path):
    _, _, flags = run(tmp_path, base([["E1", "C1", "L1", D(-5), 900, "actual", "V", "R1"],
                                      ["E2", "C1", "L1", D(-4), 300, "committed", "V", None]]))
    assert overrun_flags(flags) == [("OVERRUN_UNAPPROVED", "L1", 200_00)]
    assert "EXPENSE_NO_RECEIPT" not in {f.code for f in flags}      # committed needs no receipt yet


def test_line_and_campaign_are_two_views(tmp_path):
    exp = [["E1", "C1", "L1", D(-5), 1500, "actual", "V", "R1"], ["E2", "C1", "L2", D(-5), 800, "actual", "V", "R2"]]
    req = [["Q1", "C1", "L1", 200, "Ann", "approved", "Bob", D(-6)], ["Q2", "C1", None, 50, "Ann", "pending", "Bob", None]]
    _, _, flags = run(tmp_path, base(exp, req))
    # line L1: E 500, A 200 → unapproved 300.  campaign: E 300, A 200, P 50 → unapproved 50, pending 50
    assert overrun_flags(flags) == [("OVERRUN_PENDING", None, 50_00), ("OVERRUN_UNAPPROVED", None, 50_00),
                                    ("OVERRUN_UNAPPROVED", "L1", 300_00)]


def test_tolerance_percentage_and_minimum(tmp_path):
    sheets = base([["E1", "C1", "L1", D(-5), 1050, "actual", "V", "R1"]])
    assert overrun_flags(run(tmp_path, sheets, overrun_tolerance_pct=5.0)[2]) == []          # 50 ≤ 5 % of 1000
    assert overrun_flags(run(tmp_path, sheets, overrun_tolerance_pct=4.9)[2]) == [("OVERRUN_UNAPPROVED", "L1", 50_00)]
    assert overrun_flags(run(tmp_path, sheets, overrun_tolerance_min=50.0)[2]) == []
    assert overrun_flags(run(tmp_path, sheets, overrun_tolerance_min=49.99)[2]) == [("OVERRUN_UNAPPROVED", "L1", 50_00)]


def test_one_cent_over_is_over(tmp_path):
    _, _, flags = run(tmp_path, base([["E1", "C1", "L1", D(-5), "1,000.01", "actual", "V", "R1"]]))
    assert overrun_flags(flags) == [("OVERRUN_UNAPPROVED", "L1", 1)]


def test_unreadable_rows_are_left_out_and_counted(tmp_path):
    result, fig, flags = run(tmp_path, base([["E1", "C1", "L1", D(-5), 900, "actual", "V", "R1"],
                                             ["E2", "C1", "L1", D(-5), "lots", "actual", "V", "R2"]]))
    assert fig.excluded_rows["expenses"] == 1
    assert int(fig.campaigns.loc["C1", "spend"]) == 900_00
    assert overrun_flags(flags) == []
    assert not verifiable(result.tables, "OVERRUN_UNAPPROVED", "C1")       # evidence of C1 is broken
    assert verifiable(result.tables, "TASK_OVERDUE", "C1") is False          # no tasks tab read


def test_grouped_record_flags_one_per_campaign(tmp_path):
    exp = [[f"E{i}", "C1", "L1", D(-5), 1, "actual", "V", None] for i in range(40)]
    _, _, flags = run(tmp_path, base(exp))
    nr = [f for f in flags if f.code == "EXPENSE_NO_RECEIPT"]
    assert [(f.campaign_id, f.count, f.amount) for f in nr] == [("C1", 40, 40_00)]
    assert [(f.campaign_id, f.count) for f in flags if f.code == "EXPENSE_DUPLICATE_SUSPECTED"] == [("C1", 40)]


def test_spend_before_approval_and_outside_window(tmp_path):
    sheets = base([["E1", "C1", "L1", D(-25), 10, "actual", "V", "R1"],      # before approval (D-20)
                   ["E2", "C1", "L1", D(-5), 10, "actual", "W", "R2"],
                   ["E3", "C1", "L1", D(30), 10, "committed", "X", None]])     # after end + 7 days grace
    _, _, flags = run(tmp_path, sheets)
    got = {f.code: (f.count, tuple(f.ids)) for f in flags}
    assert got["SPEND_BEFORE_APPROVAL"] == (1, ("E1",))
    assert got["EXPENSE_OUTSIDE_WINDOW"] == (2, ("E1", "E3"))


def test_self_approval_through_people_aliases(tmp_path):
    sheets = base([])
    sheets["Campaigns"][1][6] = "ann smith"
    sheets["People"] = [["name", "aliases", "superior"], ["Ann", "Ann Smith, 安", "Bob"]]
    _, _, flags = run(tmp_path, sheets)
    assert [(f.code, f.campaign_id) for f in flags if f.code == "SELF_APPROVAL"] == [("SELF_APPROVAL", "C1")]


def test_a_rule_can_be_switched_off_and_its_severity_changed(tmp_path):
    from campaignwatch.rules import run_rules as run_all
    result = check_source(write_xlsx(tmp_path / "w.xlsx", base([["E1", "C1", "L1", D(-5), 1200, "actual", "V", None]])),
                          defaults(), AS_OF)
    fig = compute(result.tables, AS_OF)
    ctx = Context(result.tables, fig, AS_OF, Thresholds(), "en")
    default = {f.code: f.severity for f in run_all(ctx, {})}
    assert default["EXPENSE_NO_RECEIPT"] == "medium" and default["OVERRUN_UNAPPROVED"] == "high"
    changed = {f.code: f.severity for f in run_all(ctx, {"EXPENSE_NO_RECEIPT": "off", "OVERRUN_UNAPPROVED": "low"})}
    assert "EXPENSE_NO_RECEIPT" not in changed and changed["OVERRUN_UNAPPROVED"] == "low"


def test_severity_setting_is_read_from_config(tmp_path):
    from campaignwatch.config import load
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[severity]\nEXPENSE_NO_RECEIPT = "off"\n[rules]\noverrun_tolerance_pct = 5\n')
    cfg = load(str(cfg_file))
    assert cfg["severity.EXPENSE_NO_RECEIPT"] == "off"
    assert cfg["rules.overrun_tolerance_pct"] == 5.0
    assert Thresholds.from_config(cfg).overrun_tolerance_pct == 5.0
