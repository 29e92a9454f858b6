"""Managers' answers on the Flag responses tab: each finding code of a response (unknown flag ID,
a waiver without a reason, a waiver without an end date) at its cell, and an answer that applies."""
from __future__ import annotations

import datetime as dt


from conftest import AS_OF, cli_json, contract_sheets, history_config, write_xlsx

D = lambda n: (AS_OF + dt.timedelta(days=n)).isoformat()  # noqa: E731
TABLES = {
    "campaigns": [{"campaign_id": "C1", "owner": "Ann", "start_date": D(-10), "end_date": D(10), "status": "executing",
                   "approved_by": "Bob", "approved_on": D(-20)}],
    "budget_lines": [{"campaign_id": "C1", "line_id": "L1", "planned_amount": 1000}],
    "expenses": [{"expense_id": "E1", "campaign_id": "C1", "line_id": "L1", "date": D(-5), "amount": 10,
                  "receipt_no": None}],
}


def sync(tmp_path, responses=None):
    tables = dict(TABLES, **({"responses": responses} if responses else {}))
    path = write_xlsx(tmp_path / "w.xlsx", contract_sheets(tables))
    _, doc = cli_json("--config", history_config(tmp_path), "sync", path, "--as-of", AS_OF, "--dry-run")
    return doc["sources"][0]


def flag_id(tmp_path) -> str:
    (flag,) = [f for f in sync(tmp_path)["flags"] if f["code"] == "EXPENSE_NO_RECEIPT"]
    assert (flag["campaign_id"], flag["ids"]) == ("C1", ["E1"])
    return flag["flag_id"]


def responses(src):
    return [(f["code"], f["row"], f["cell"], f["value"]) for f in src["findings"] if f["code"].startswith("RESPONSE_")]


def the_flag(src):
    (flag,) = [f for f in src["flags"] if f["code"] == "EXPENSE_NO_RECEIPT"]
    return flag


def test_an_unknown_flag_id_and_a_waiver_without_an_end_date_are_findings(tmp_path):
    fid = flag_id(tmp_path)
    src = sync(tmp_path, [
        {"flag_id": "FNOSUCH", "decision": "acknowledged", "reason": "seen", "by": "Bob", "on": D(0)},
        {"flag_id": fid, "decision": "waived", "reason": "receipt is on its way", "by": "Bob", "on": D(0)},
    ])
    assert responses(src) == [("RESPONSE_UNKNOWN_FLAG", 2, "'Flag responses'!A2", "FNOSUCH"),
                              ("RESPONSE_NO_UNTIL", 3, "Flag responses!3:3", "")]   # no Until column: the row
    assert the_flag(src)["response"] is None                   # the waiver does not apply


def test_a_waiver_without_a_reason_is_a_finding_and_does_not_apply(tmp_path):
    fid = flag_id(tmp_path)
    src = sync(tmp_path, [{"flag_id": fid, "decision": "waived", "reason": None, "by": "Bob", "on": D(0),
                           "until": D(30)}])
    assert responses(src) == [("RESPONSE_NO_REASON", 2, "'Flag responses'!C2", "")]
    assert the_flag(src)["response"] is None


def test_an_acknowledgement_and_a_full_waiver_apply(tmp_path):
    fid = flag_id(tmp_path)
    src = sync(tmp_path, [{"flag_id": fid.lower(), "decision": "acknowledged", "by": "Bob", "on": D(0)}])
    assert responses(src) == []
    assert (the_flag(src)["response"]["decision"], the_flag(src)["response"]["row"]) == ("acknowledged", 2)
    src = sync(tmp_path, [{"flag_id": fid, "decision": "waived", "reason": "fapiao comes Friday", "by": "Bob",
                           "on": D(0), "until": D(30)}])
    assert responses(src) == [] and the_flag(src)["response"]["until"] == D(30)


def test_a_waiver_without_a_reason_is_refused_even_when_another_row_has_one(tmp_path):
    fid = flag_id(tmp_path)
    src = sync(tmp_path, [{"flag_id": fid, "decision": "waived", "reason": None, "by": "Bob", "on": D(0), "until": D(30)},
                          {"flag_id": "FOTHER", "decision": "acknowledged", "reason": "seen", "by": "Bob", "on": D(0)}])
    assert ("RESPONSE_NO_REASON", 2, "'Flag responses'!C2", "") in responses(src)
    assert the_flag(src)["response"] is None
