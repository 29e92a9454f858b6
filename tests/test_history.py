"""History in SQLite: a run recorded by sync reads back (runs, flags with first seen, approved plans),
a dry run changes nothing, and a schema-1 file is migrated without losing what it holds."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from conftest import AS_OF, cli_json, history_config
from campaignwatch.history import SCHEMA, SCHEMA_VERSION, History, open_history
from campaignwatch.workbook.template import write_template


@pytest.fixture
def synced(tmp_path):
    """The demo synced twice, a day apart."""
    path = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    cfg = history_config(tmp_path)
    for day in (0, 1):
        code, doc = cli_json("--config", cfg, "sync", path, "--as-of", AS_OF + dt.timedelta(days=day))
        assert code == 0
    return tmp_path / "history.sqlite", str(path), doc["sources"][0]


def test_runs_and_open_flags_read_back_what_sync_recorded(synced):
    db, source, last = synced
    h = History(db)
    runs = h.runs(source)
    assert [(r["as_of"], r["status"]) for r in runs] == [("2026-11-27", "ok"), ("2026-11-26", "ok")]
    flags = h.open_flags(source)
    opened = {f["flag_id"] for f in last["flags"] if f["status"] == "open"}
    assert set(flags) == opened
    assert {r["first_seen"] for r in flags.values()} == {"2026-11-26"}          # kept from the first run
    assert {r["last_seen"] for r in flags.values()} == {"2026-11-27"}
    plans = h.plans(source)
    assert plans and all(p.approvals for p in plans.values())


def test_a_dry_run_history_changes_nothing(synced):
    db, source, _ = synced
    before = db.read_bytes()
    h = History(db, dry_run=True)
    h.start_run(AS_OF, "sync")
    h.finish_run("ok")
    assert h.run_id is None and db.read_bytes() == before
    assert History(db.with_name("none.sqlite"), dry_run=True).db is None
    assert not db.with_name("none.sqlite").exists()


def test_a_schema_1_file_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    v1 = SCHEMA.replace(", over_budget INTEGER, blocked TEXT", "")
    v1 = v1[:v1.index("CREATE TABLE IF NOT EXISTS plan_versions")] + v1[v1.index("CREATE TABLE IF NOT EXISTS metrics"):]
    old.executescript(v1 + "PRAGMA user_version=1;")
    old.execute("INSERT INTO runs (started_at, as_of, command) VALUES ('2026-11-01T00:00:00', '2026-11-01', 'sync')")
    old.execute("INSERT INTO metrics (run_id, source, campaign_id, as_of, spend) VALUES (1, 'a.xlsx', 'C1', "
                "'2026-11-01', 12345)")
    old.commit()
    old.close()
    assert "over_budget" not in v1 and "plan_versions" not in v1
    db = open_history(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    row = db.execute("SELECT spend, over_budget, blocked FROM metrics").fetchone()
    assert tuple(row) == (12345, None, None)
    assert db.execute("SELECT count(*) FROM plan_versions").fetchone()[0] == 0
    db.close()


def test_a_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    sqlite3.connect(path).executescript(f"PRAGMA user_version={SCHEMA_VERSION + 1};")
    with pytest.raises(Exception, match="newer campaignwatch"):
        open_history(path)
