"""Approvals across runs: the first approval, change approvals, cancelled plans with spend.

Small workbooks synced more than once with one history file (or none, or a dry run);
assertions on codes, campaigns, amounts in cents, statuses and expense IDs.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import redirect_stdout
from io import StringIO

from openpyxl import load_workbook

from conftest import AS_OF, write_xlsx
from campaignwatch.cli import main
from campaignwatch.config import defaults
from campaignwatch.history import SCHEMA_VERSION, History
from campaignwatch.sync import sync_source

D = lambda n: AS_OF + dt.timedelta(days=n)  # noqa: E731

CAMPAIGNS = ["campaign_id", "name", "owner", "start_date", "end_date", "status", "approved_by", "approved_on"]
CHANGE = "change_approved_on"          # column I when present
EXPENSES = ["expense_id", "campaign_id", "line_id", "date", "amount", "stage", "vendor", "receipt_no"]
SPEND = [["E1", "C1", "L1", D(-45), 100, "actual", "V1", "R1"],     # before the approval on D(-40)
         ["E2", "C1", "L1", D(-20), 200, "actual", "V2", "R2"],
         ["E3", "C1", "L1", D(-3), 300, "actual", "V3", "R3"]]
PLANNED = "PLAN_CHANGED_AFTER_APPROVAL"
BEFORE = "SPEND_BEFORE_APPROVAL"


def book(tmp_path, status="executing", change=False, change_on=None, approved_by="Bob", approved_on=D(-40)):
    header = CAMPAIGNS + ([CHANGE] if change else [])
    row = ["C1", "Promo", "Ann", D(-30), D(10), status, approved_by, approved_on] + ([change_on] if change else [])
    return write_xlsx(tmp_path / "w.xlsx", {
        "Campaigns": [header, row],
        "Budget lines": [["campaign_id", "line_id", "planned_amount"], ["C1", "L1", 1000]],
        "Expenses": [EXPENSES, *SPEND],
    })


def edit(path, cell, value, tab="Campaigns"):
    wb = load_workbook(path)
    wb[tab][cell] = value
    wb.save(path)


def sync(path, hist, as_of, dry_run=False):
    history = History(hist, dry_run=dry_run)
    try:
        result = sync_source(path, defaults(), as_of, history, dry_run=dry_run)
    finally:
        history.close()
    assert result.status == "ok", result.error
    return {(f.code, f.campaign_id): f for f in result.flags + result.gone
            if f.code in (PLANNED, BEFORE)}


def seen(flags):
    """(code, campaign) -> (status, amount in cents, IDs) of the approval flags."""
    return {k: (f.status, f.amount, tuple(f.ids)) for k, f in flags.items()}


# -- (a) a change approval confirms the change --------------------------------------------
def test_change_approval_resolves_the_plan_change_and_spend_stays_approved(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    assert seen(sync(path, hist, AS_OF)) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}
    edit(path, "E2", D(20))                                           # end date moved
    got = sync(path, hist, D(1))
    assert got[(PLANNED, "C1")].status == "open" and got[(PLANNED, "C1")].amount is None
    assert got[(BEFORE, "C1")].ids == ("E1",)
    edit(path, "I2", D(1))                                            # change approved the day it was detected
    got = sync(path, hist, D(2))
    assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",)), (PLANNED, "C1"): ("resolved", None, ("C1",))}
    assert seen(sync(path, hist, D(3))) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}   # the new baseline


def test_a_change_approval_already_used_does_not_confirm_the_next_change(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "E2", D(20))
    edit(path, "I2", D(1))
    assert (PLANNED, "C1") not in sync(path, hist, D(1))              # change and approval entered together
    edit(path, "E2", D(25))                                           # changed again, same change approval
    assert sync(path, hist, D(2))[(PLANNED, "C1")].status == "open"
    edit(path, "I2", D(2))
    assert sync(path, hist, D(3))[(PLANNED, "C1")].status == "resolved"


def test_a_change_approval_dated_before_the_change_was_detected_does_not_confirm_it(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "E2", D(20))
    sync(path, hist, D(1))                                            # detected on D(1)
    edit(path, "I2", AS_OF)
    assert sync(path, hist, D(2))[(PLANNED, "C1")].status == "open"
    edit(path, "I2", D(2))
    assert sync(path, hist, D(3))[(PLANNED, "C1")].status == "resolved"


def test_budget_change_carries_the_difference(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "C2", 1500, tab="Budget lines")
    assert seen(sync(path, hist, D(1)))[(PLANNED, "C1")] == ("open", 500_00, ("C1",))


# -- (b) approved_on overwritten with the later date, no change column --------------------
def test_overwritten_approval_date_keeps_the_first_approval(tmp_path):
    path, hist = book(tmp_path), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "E2", D(20))
    edit(path, "H2", D(1))                                            # "re-approved" by overwriting approved_on
    for day in (D(1), D(2)):
        got = sync(path, hist, day)
        assert seen(got)[(BEFORE, "C1")] == ("open", 100_00, ("E1",))    # E2, E3 were spent after approval
        assert got[(PLANNED, "C1")].status == "open"                     # still an unapproved change
    # what resolves it: the change approval date in the `Change approved on` column
    wb = load_workbook(path)
    wb["Campaigns"]["I1"], wb["Campaigns"]["I2"] = "Change approved on", D(2)
    wb.save(path)
    got = sync(path, hist, D(3))
    assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",)), (PLANNED, "C1"): ("resolved", None, ("C1",))}


def test_restoring_the_approved_plan_resolves_the_change(tmp_path):
    path, hist = book(tmp_path), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "E2", D(20))
    edit(path, "H2", D(1))
    assert sync(path, hist, D(1))[(PLANNED, "C1")].status == "open"
    edit(path, "E2", D(10))
    got = sync(path, hist, D(2))
    assert got[(PLANNED, "C1")].status == "resolved" and got[(BEFORE, "C1")].ids == ("E1",)


# -- (c) no history, dry run ------------------------------------------------------------------
def cli_sync(path, hist, as_of, *extra):
    cfg = path.parent / "config.toml"
    cfg.write_text(f'[history]\npath = "{hist}"\n')
    buf = StringIO()
    with redirect_stdout(buf):
        main(["--config", str(cfg), "sync", str(path), "--as-of", as_of.isoformat(), "--json", *extra])
    flags = json.loads(buf.getvalue())["sources"][0]["flags"]
    return {(f["code"], f["campaign_id"]): (f["status"], None if f["amount"] is None else round(f["amount"] * 100),
                                            tuple(f["ids"]))
            for f in flags if f["code"] in (PLANNED, BEFORE)}


def test_fresh_history_dry_run_with_change_approval(tmp_path):
    path, hist = book(tmp_path, change=True, change_on=D(-10)), tmp_path / "h.sqlite"
    assert cli_sync(path, hist, AS_OF, "--dry-run") == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}
    assert not hist.exists()
    assert seen(sync(path, hist, AS_OF)) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}      # fresh file


def test_dry_run_reads_an_older_history_without_migrating_it(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    db = sqlite3.connect(hist)
    db.executescript("DROP TABLE plan_versions; ALTER TABLE metrics DROP COLUMN over_budget;"
                     "ALTER TABLE metrics DROP COLUMN blocked; PRAGMA user_version=1;")
    db.close()
    edit(path, "E2", D(20))
    assert cli_sync(path, hist, D(1), "--dry-run")[(PLANNED, "C1")][0] == "open"
    db = sqlite3.connect(hist)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()
    assert sync(path, hist, D(1))[(PLANNED, "C1")].status == "open"          # a real run migrates it
    db = sqlite3.connect(hist)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT first_seen FROM plan_versions").fetchall()
    db.close()


# -- (d) approved, then cancelled or rejected, with spend ----------------------------------
def test_cancelled_after_approval_is_a_plan_change_not_spend_before_approval(tmp_path):
    path, hist = book(tmp_path, change=True), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    edit(path, "F2", "cancelled")
    got = sync(path, hist, D(1))
    assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",)), (PLANNED, "C1"): ("open", 500_00, ("C1",))}
    assert got[(PLANNED, "C1")].cell == "Campaigns!F2"
    edit(path, "I2", D(1))                                            # the cancellation approved
    got = sync(path, hist, D(2))
    assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",)), (PLANNED, "C1"): ("resolved", 500_00, ("C1",))}
    assert seen(sync(path, hist, D(3))) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}    # the cancelled baseline


def test_cancelled_or_rejected_after_approval_without_history(tmp_path):
    for status in ("cancelled", "已驳回"):
        got = sync(book(tmp_path, status=status), tmp_path / "none.sqlite", AS_OF, dry_run=True)
        assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",)), (PLANNED, "C1"): ("open", 500_00, ("C1",))}


def test_cancelled_after_approval_with_a_later_change_approval_without_history(tmp_path):
    got = sync(book(tmp_path, status="cancelled", change=True, change_on=D(-1)), tmp_path / "h.sqlite", AS_OF)
    assert seen(got) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}


def test_cancelled_never_approved_is_all_spend_before_approval(tmp_path):
    got = sync(book(tmp_path, status="cancelled", approved_by=None, approved_on=None), tmp_path / "h.sqlite", AS_OF)
    assert seen(got) == {(BEFORE, "C1"): ("open", 600_00, ("E1", "E2", "E3"))}


def test_approved_by_alone_counts_as_approved_and_all_spend_is_the_plan_change(tmp_path):
    got = sync(book(tmp_path, status="cancelled", approved_on=None), tmp_path / "h.sqlite", AS_OF)
    assert seen(got) == {(PLANNED, "C1"): ("open", 600_00, ("C1",))}


# -- (e) fields added to the fingerprint ----------------------------------------------------
def test_a_stored_fingerprint_lacking_a_field_raises_no_flag_and_is_completed(tmp_path):
    path, hist = book(tmp_path), tmp_path / "h.sqlite"
    sync(path, hist, AS_OF)
    db = sqlite3.connect(hist)
    (fp,) = db.execute("SELECT fingerprint FROM plans").fetchone()
    old = {k: v for k, v in json.loads(fp).items() if k not in ("end_date", "status")}   # an older fingerprint
    db.execute("UPDATE plans SET fingerprint=?", (json.dumps(old),))
    db.commit()
    db.close()
    edit(path, "E2", D(20))
    assert seen(sync(path, hist, D(1))) == {(BEFORE, "C1"): ("open", 100_00, ("E1",))}
    db = sqlite3.connect(hist)
    stored = json.loads(db.execute("SELECT fingerprint FROM plans").fetchone()[0])
    db.close()
    assert (stored["end_date"], stored["status"], stored["planned"]) == (str(D(20)), "approved", 1000_00)
    edit(path, "E2", D(25))                                           # from now on end dates are compared
    assert sync(path, hist, D(2))[(PLANNED, "C1")].status == "open"
