"""sync end to end on real .xlsx files: history, flag lifecycle, JSON, dry run, locks."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
import python_calamine as calamine
from openpyxl import load_workbook

from conftest import AS_OF, ROOT
from campaignwatch.cli import main
from campaignwatch.history import RunLock
from campaignwatch.names import MARK
from campaignwatch.workbook.template import write_template


@pytest.fixture
def demo(tmp_path):
    path = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[history]\npath = "{tmp_path / "h.sqlite"}"\n')
    return path, cfg


def sync_json(path, cfg, *extra, as_of=AS_OF, more=()):
    from io import StringIO
    from contextlib import redirect_stdout
    buf = StringIO()
    with redirect_stdout(buf):
        code = main(["--config", str(cfg), "sync", str(path), *more, "--as-of", as_of.isoformat(), "--json", *extra])
    return code, json.loads(buf.getvalue())


def edit(path, tab, cell, value):
    """A person edits the workbook (openpyxl stands in for Excel here)."""
    wb = load_workbook(path)
    wb[tab][cell] = value
    wb.save(path)


def test_sync_writes_generated_tabs_and_reports_flags(demo):
    path, cfg = demo
    code, doc = sync_json(path, cfg)
    assert code == 0
    src = doc["sources"][0]
    assert src["status"] == "ok" and src["written"]
    assert len(src["flags"]) == 28
    f = next(x for x in src["flags"] if x["code"] == "OVERRUN_UNAPPROVED" and x["line_id"] == "L02")
    assert (f["campaign_id"], f["amount"], f["ids"], f["status"], f["first_seen"]) == \
        ("C-01", 9500.0, ["E-0105", "E-0106"], "open", "2026-11-26")
    assert f["cell"] == "Expenses!E6" and f["flag_id"].startswith("F")
    c01 = next(c for c in src["campaigns"] if c["campaign_id"] == "C-01")
    assert (c01["spend"], c01["authorized"], c01["available"]) == (169500.0, 160000.0, -9500.0)
    book = calamine.CalamineWorkbook.from_path(str(path))
    ours = [n for n in book.sheet_names if n.startswith(MARK)]
    assert ours == [MARK + n for n in ("Summary", "Flags", "Budget", "KPI", "Validation", "Scorecard", "Run log")]
    summary = book.get_sheet_by_name(MARK + "Summary").to_python()
    assert [r[0] for r in summary[4:]] == ["C-01", "C-02", "C-03", "C-04", "C-05", "C-06"]
    flags = book.get_sheet_by_name(MARK + "Flags").to_python()
    assert len(flags) - 4 == 28


def test_second_sync_replaces_tabs_and_keeps_first_seen(demo):
    path, cfg = demo
    sync_json(path, cfg)
    code, doc = sync_json(path, cfg, as_of=AS_OF + dt.timedelta(days=1))
    assert code == 0
    names = calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    assert len([n for n in names if n.startswith(MARK)]) == 7
    firsts = {f["first_seen"] for f in doc["sources"][0]["flags"] if f["code"] == "EXPENSE_RECEIPT_REUSED"}
    assert firsts == {"2026-11-26"}


def test_plan_changed_after_approval_on_second_sync(demo):
    path, cfg = demo
    sync_json(path, cfg)
    edit(path, "Campaigns", "I2", AS_OF + dt.timedelta(days=30))      # C-01's end date moved
    code, doc = sync_json(path, cfg)
    changed = [f for f in doc["sources"][0]["flags"] if f["code"] == "PLAN_CHANGED_AFTER_APPROVAL"]
    assert [(f["campaign_id"], f["status"], f["cell"]) for f in changed] == [("C-01", "open", "Campaigns!I2")]
    assert str(AS_OF + dt.timedelta(days=30)) in changed[0]["message"]


def test_resolved_and_unverifiable(demo):
    path, cfg = demo
    sync_json(path, cfg)
    edit(path, "Expenses", "I7", "FP-9999")          # E-0106 gets its receipt
    edit(path, "Expenses", "E10", "unknown")         # E-0203 (C-02) can no longer be read
    code, doc = sync_json(path, cfg)
    by = {(f["code"], f["campaign_id"], f["line_id"]): f["status"] for f in doc["sources"][0]["flags"]}
    assert by[("EXPENSE_NO_RECEIPT", "C-01", None)] == "resolved"
    assert by[("EXPENSE_RECEIPT_REUSED", "C-02", None)] == "unverifiable"
    assert by[("OVERRUN_PENDING", "C-02", "L02")] == "unverifiable"
    assert by[("OVERRUN_UNAPPROVED", "C-01", "L02")] == "open"
    db = sqlite3.connect(cfg.parent / "h.sqlite")
    rows = dict(db.execute("SELECT code || ':' || campaign_id, status FROM flags WHERE status != 'open'").fetchall())
    assert rows["EXPENSE_NO_RECEIPT:C-01"] == "resolved"


def test_dry_run_writes_nothing(demo):
    path, cfg = demo
    before = path.read_bytes()
    code, doc = sync_json(path, cfg, "--dry-run")
    assert code == 0 and len(doc["sources"][0]["flags"]) == 28
    assert path.read_bytes() == before
    assert not (cfg.parent / "h.sqlite").exists()
    assert not (path.parent / ".campaignwatch-backups").exists()


def test_fail_on_high(demo):
    path, cfg = demo
    assert main(["--config", str(cfg), "sync", str(path), "--as-of", "2026-11-26", "--fail-on", "high"]) == 1


def test_one_bad_source_does_not_stop_the_others(demo, tmp_path):
    path, cfg = demo
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    code, doc = sync_json(path, cfg, more=[str(bad)])
    assert code == 3
    assert [s["status"] for s in doc["sources"]] == ["ok", "failed"]
    assert doc["sources"][1]["error_code"] == "not_a_workbook"


def test_locked_workbook_is_reported_not_written(demo):
    path, cfg = demo
    lock = path.parent / f".~lock.{path.name}#"
    lock.write_text(",Wang Fang,laptop,26.11.2026 09:00,file:///x;\n")
    before = path.read_bytes()
    code, doc = sync_json(path, cfg)
    assert code == 3
    src = doc["sources"][0]
    assert (src["status"], src["error_code"]) == ("failed", "locked")
    assert "Wang Fang" in src["error"]
    assert len(src["flags"]) == 28                 # still computed and reported
    assert path.read_bytes() == before


def test_second_run_is_refused_while_the_lock_is_held(demo):
    path, cfg = demo
    with RunLock(cfg.parent / "h.sqlite"):
        assert main(["--config", str(cfg), "sync", str(path)]) == 4


def test_two_processes_at_once_leave_a_sound_history(demo, tmp_path):
    path, cfg = demo
    other = tmp_path / "other.xlsx"
    shutil.copy(path, other)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    procs = [subprocess.Popen([sys.executable, "-m", "campaignwatch", "--config", str(cfg), "sync", str(p),
                               "--as-of", "2026-11-26"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for p in (path, other)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes in ([0, 0], [0, 4])
    db = sqlite3.connect(cfg.parent / "h.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM runs WHERE status='ok'").fetchone()[0] == codes.count(0)


def test_clean_and_restore(demo):
    path, cfg = demo
    original = {n for n in calamine.CalamineWorkbook.from_path(str(path)).sheet_names}
    sync_json(path, cfg)
    assert main(["clean", str(path)]) == 0
    assert set(calamine.CalamineWorkbook.from_path(str(path)).sheet_names) == original
    assert main(["restore", str(path)]) == 0      # back to the synced version
    assert any(n.startswith(MARK) for n in calamine.CalamineWorkbook.from_path(str(path)).sheet_names)
