"""The lifecycle stage on plain values: found flags, the previous run's flags and responses in,
each flag's state out (new / open / escalated / resolved / unverifiable / acknowledged / waived /
expired) — no workbook, no history file."""
import dataclasses
import datetime as dt

import pandas as pd
import pytest

from campaignwatch.contract import TABLE_BY_KEY
from campaignwatch.flagcodes import CODES
from campaignwatch.flags import Found, Previous, flag_id
from campaignwatch.rules import CODE_FIELDS, CODE_TABLES, RULES
from campaignwatch.stages.lifecycle import lifecycle
from campaignwatch.stages.normalise import Records

AS_OF = dt.date(2026, 11, 26)
ALWAYS = lambda code, cid: True          # noqa: E731 - this run could have raised every flag
NEVER = lambda code, cid: False          # noqa: E731


def found(code="EXPENSE_NO_RECEIPT", cid="C1", key="", severity="medium", amount=100_00) -> Found:
    return Found(code=code, campaign_id=cid, key=key, owner="Ann", amount=amount, count=1, ids=("E1",),
                 evidence=(("Expenses", 2, "Expenses!H2"),), params={"where": f"{cid} Launch"}, severity=severity)


def previous(f: Found, status="open", first_seen=AS_OF - dt.timedelta(days=10), severity=None) -> dict:
    stored = Found(code=f.code, campaign_id=f.campaign_id, key=f.key, owner=f.owner, amount=f.amount,
                   ids=f.ids, params={"where": f.campaign_id}, severity=severity or f.severity)
    return {f.flag_id: Previous(found=stored, status=status, first_seen=first_seen, message="as kept in history")}


def responses(*rows) -> Records:
    """The responses table as normalise leaves it: (flag ID, decision, reason, until) per row."""
    df = pd.DataFrame([{"flag_id": fid, "decision": decision, "by": "Bob", "on": pd.Timestamp(AS_OF),
                        "reason": reason, "until": pd.Timestamp(until) if until else pd.NaT,
                        "campaign_id": None, "sheet_row": i + 2, "valid": True}
                       for i, (fid, decision, reason, until) in enumerate(rows)])
    keys = ("flag_id", "decision", "reason", "by", "on", "until")
    return Records(TABLE_BY_KEY["responses"], "Flag responses", df, frozenset(keys),
                   col0={k: i for i, k in enumerate(keys)})


def run(raised, prev=None, verifiable=ALWAYS, rec=None):
    return lifecycle(list(raised), prev or {}, verifiable=verifiable, responses=rec, as_of=AS_OF)


def test_a_flag_raised_for_the_first_time_is_new_and_first_seen_today():
    f = found()
    out = run([f])
    (flag,) = out.flags
    assert (flag.status, flag.first_seen, flag.is_new, flag.counts_open, out.new) == ("open", AS_OF, True, True, 1)
    assert flag.found is f and flag.flag_id == flag_id("EXPENSE_NO_RECEIPT", "C1", "") and out.gone == ()


def test_a_flag_still_raised_keeps_its_first_seen_and_is_not_new():
    f = found()
    out = run([f], previous(f))
    (flag,) = out.flags
    assert (flag.status, flag.first_seen, flag.previous_status, flag.is_new, out.new) == \
        ("open", AS_OF - dt.timedelta(days=10), "open", False, 0)
    assert not flag.escalated and flag.message() == f.message()      # a raised flag's message is its own


def test_a_flag_whose_severity_went_up_is_escalated():
    f = found(code="BURN_AHEAD", severity="high")
    (flag,) = run([f], previous(f, severity="medium")).flags
    assert flag.escalated and (flag.previous_severity, flag.severity) == ("medium", "high")


def test_a_flag_raised_again_after_being_unverifiable_is_open_and_not_new():
    f = found()
    out = run([f], previous(f, status="unverifiable"))
    assert (out.flags[0].status, out.flags[0].previous_status, out.flags[0].is_new, out.new) == \
        ("open", "unverifiable", False, 0)


def test_a_flag_no_longer_raised_is_resolved_when_the_run_could_have_raised_it():
    f = found()
    out = run([], previous(f))
    (gone,) = out.gone
    assert (gone.status, gone.previous_status, gone.flag_id, gone.first_seen) == \
        ("resolved", "open", f.flag_id, AS_OF - dt.timedelta(days=10))
    assert gone.message("en") == "as kept in history" and not gone.counts_open and out.flags == ()


def test_a_flag_no_longer_raised_is_unverifiable_when_the_run_could_not_have_raised_it():
    f = found()
    asked = []
    out = run([], previous(f), verifiable=lambda code, cid: asked.append((code, cid)) or False)
    assert [g.status for g in out.gone] == ["unverifiable"] and asked == [("EXPENSE_NO_RECEIPT", "C1")]


def test_acknowledged_waived_and_expired_responses():
    ack, waived, expired = found(cid="C1"), found(cid="C2"), found(cid="C3")
    rec = responses((ack.flag_id, "acknowledged", None, None),
                    (waived.flag_id.lower(), "waived", "agreed with finance", AS_OF + dt.timedelta(days=5)),
                    (expired.flag_id, "waived", "agreed", AS_OF - dt.timedelta(days=1)))
    out = run([ack, waived, expired], rec=rec)
    by = {f.campaign_id: f for f in out.flags}
    assert by["C1"].response["decision"] == "acknowledged" and by["C1"].counts_open
    assert by["C2"].waived and not by["C2"].counts_open and by["C2"].response["until"] == "2026-12-01"
    assert by["C3"].response["decision"] == "expired" and by["C3"].counts_open and not by["C3"].waived
    assert out.findings == ()


def test_responses_that_do_not_apply_are_findings_and_change_nothing():
    f = found()
    rec = responses(("FZZZZZZ", "acknowledged", None, None),                    # no such flag
                    (f.flag_id, "waived", "", AS_OF + dt.timedelta(days=5)),     # no reason
                    (f.flag_id, "waived", "because", None))                      # no end date
    out = run([f], rec=rec)
    assert [x.code for x in out.findings] == ["RESPONSE_UNKNOWN_FLAG", "RESPONSE_NO_REASON", "RESPONSE_NO_UNTIL"]
    assert [x.row for x in out.findings] == [2, 3, 4]
    assert out.flags[0].response is None and out.flags[0].counts_open


def test_a_response_to_a_flag_no_longer_raised_is_unknown():
    f = found()
    out = run([], previous(f), rec=responses((f.flag_id, "acknowledged", None, None)))
    assert [x.code for x in out.findings] == ["RESPONSE_UNKNOWN_FLAG"] and out.gone[0].response is None


def test_responses_that_cannot_be_read_are_a_fault_and_the_flags_stay_unanswered():
    class Broken:
        @property
        def ok(self):
            raise RuntimeError("boom")
    out = run([found()], rec=Broken())
    assert [x.part for x in out.faults] == ["responses"] and "boom" in out.faults[0].error
    assert out.flags[0].response is None and out.findings == ()


def test_the_stage_returns_new_values_and_changes_none_of_its_inputs():
    f = found()
    prev = previous(f, severity="low")
    before = dict(prev)
    out = run([f], prev)
    assert prev == before and out.flags[0].found == f
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.severity = "high"
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.flags[0].state.first_seen = AS_OF
    with pytest.raises(TypeError):
        f.params["where"] = "elsewhere"


def test_found_is_built_by_keyword_only_and_its_identity_is_derived():
    with pytest.raises(TypeError):
        Found("BUDGET_NEARLY_USED", "C1", "", None)          # noqa - positional arguments are refused
    f = Found(code="SELF_APPROVAL", campaign_id="C1", key="R7", ids=["R7"], evidence=[["Requests", 3, "Requests!F3"]])
    assert f.identity == ("SELF_APPROVAL", "C1", "R7") and f.flag_id == flag_id("SELF_APPROVAL", "C1", "R7")
    assert f.ids == ("R7",) and f.evidence == (("Requests", 3, "Requests!F3"),)
    assert f.severity == CODES["SELF_APPROVAL"].severity        # the catalogue's default until settings say


def test_every_code_is_declared_by_exactly_one_rule_with_its_tables():
    declared = [code for r in RULES for code in r.spec.codes]
    assert sorted(declared) == sorted(CODES) and len(declared) == len(set(declared))
    assert set(CODE_TABLES) == set(CODES) and all("campaigns" in t for t in CODE_TABLES.values())
    assert set(CODE_FIELDS) <= set(CODES)
