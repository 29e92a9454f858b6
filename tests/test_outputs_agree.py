"""Every output tells the same story: the Run log, the weekly report, the dashboard and the
digest agree on what was written, which campaigns are over budget, each campaign's team and
the time of the run (in general.timezone, with the zone shown)."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3

import pytest
import python_calamine as calamine
from openpyxl import load_workbook

from conftest import AS_OF, run_cli
from campaignwatch import clock
from campaignwatch.changes import RunChanges, SourceOutcome
from campaignwatch.history import SCHEMA, SCHEMA_VERSION, open_history
from campaignwatch.names import MARK
from campaignwatch.notify.digest import compose
from campaignwatch.weekly import build_weekly
from campaignwatch.workbook.template import write_template

FROZEN = dt.datetime(2026, 11, 25, 22, 30, tzinfo=dt.timezone.utc)


def setup(tmp_path, *, timezone="Asia/Shanghai", team=None, dashboard=False):
    """The demo workbook, with C-04's budget split so its line L01 (50,000) is overspent
    (63,000, no request) while the campaign stays within its 80,000: a line-level
    OVERRUN_UNAPPROVED only. C-01 has both a line and a campaign OVERRUN_UNAPPROVED."""
    path = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    wb = load_workbook(path)
    ws = wb["Budget lines"]
    assert (ws["A7"].value, ws["B7"].value) == ("C-04", "L01") and ws["A10"].value is None
    ws["D7"] = 50000
    for col, value in zip("ABCD", ("C-04", "L02", "Printing", 30000)):
        ws[f"{col}10"] = value
    wb.save(path)
    text = f'[general]\ntimezone = "{timezone}"\n[history]\npath = "{tmp_path / "h.sqlite"}"\n'
    if dashboard:
        text += f'[dashboard]\npath = "{tmp_path / "dash.xlsx"}"\n'
    if dashboard:        # the dashboard is rebuilt when the configured sources are synced
        text += f'[[sources]]\nsource = "{path}"\n' + (f'team = "{team}"\n' if team else "")
    cfg = tmp_path / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    return path, cfg


def sheet(path, name) -> list[list]:
    return calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(MARK + name).to_python()


def over_card(doc: str) -> int:
    cards = re.findall(r'<div class="n">(\d+)</div><div class="l">([^<]*)', doc)
    return next(int(n) for n, label in cards if label == "Campaigns over budget")


# -- 1. the Run log row of this run ----------------------------------------------------------

def test_run_log_row_of_this_run_says_written_and_history_agrees(tmp_path):
    path, cfg = setup(tmp_path)
    for _ in range(2):
        code, out = run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat(), "--json")
        assert code == 0 and json.loads(out)["sources"][0]["written"]
        runs = sheet(path, "Run log")[4:]
        assert [r[9] for r in runs] == ["yes"] * len(runs)        # this run's row (first) included
    assert len(runs) == 2
    db = sqlite3.connect(tmp_path / "h.sqlite")
    assert [r[0] for r in db.execute("SELECT written FROM source_runs ORDER BY run_id")] == [1, 1]
    db.close()


def test_dry_run_writes_nothing_and_records_not_written(tmp_path, monkeypatch):
    import campaignwatch.render as sync          # the render stage calls render_tabs from there
    path, cfg = setup(tmp_path)
    seen = []
    real = sync.render_tabs
    monkeypatch.setattr(sync, "render_tabs", lambda *a: seen.append(a[5]) or real(*a))
    before = path.read_bytes()
    code, out = run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat(), "--json", "--dry-run")
    assert code == 0 and json.loads(out)["sources"][0]["written"] is None
    assert seen[0][0]["written"] is False                          # the (unwritten) row says not written
    assert path.read_bytes() == before and not (tmp_path / "h.sqlite").exists()


# -- 2. one definition of "over budget" --------------------------------------------------------

def test_weekly_headline_counts_line_level_overruns_and_leaves_waived_ones_out(tmp_path):
    path, cfg = setup(tmp_path)
    code, out = run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat(), "--json")
    flags = json.loads(out)["sources"][0]["flags"]
    unapproved = {(f["campaign_id"], f["line_id"]): f["flag_id"] for f in flags if f["code"] == "OVERRUN_UNAPPROVED"}
    assert set(unapproved) == {("C-01", None), ("C-01", "L02"), ("C-04", "L01")}
    db = sqlite3.connect(tmp_path / "h.sqlite")
    assert dict(db.execute("SELECT campaign_id, over_budget FROM metrics")) == \
        {"C-01": 1, "C-02": 0, "C-03": 0, "C-04": 1, "C-05": 0, "C-06": 0}
    db.close()
    assert over_card(build_weekly(tmp_path / "h.sqlite", AS_OF, "en")) == 2          # C-01 and C-04 (line only)

    # C-01's two overrun flags are waived: it is no longer counted; C-04 still is
    wb = load_workbook(path)
    for fid in (unapproved[("C-01", None)], unapproved[("C-01", "L02")]):
        wb["Flag responses"].append([fid, "waived", "transfer agreed", "李强", AS_OF, "2026-12-31"])
    wb.save(path)
    assert run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat())[0] == 0
    assert over_card(build_weekly(tmp_path / "h.sqlite", AS_OF, "en")) == 1


def test_weekly_reads_a_history_from_before_over_budget_was_recorded(tmp_path):
    path, cfg = setup(tmp_path)
    run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat())
    db = sqlite3.connect(tmp_path / "h.sqlite")
    db.execute("UPDATE metrics SET over_budget=NULL")          # as a version-1 file migrated
    db.commit()
    db.close()
    assert over_card(build_weekly(tmp_path / "h.sqlite", AS_OF, "en")) == 2     # from the open flags instead


def test_history_of_version_1_is_migrated(tmp_path):
    old = tmp_path / "old.sqlite"
    db = sqlite3.connect(old)
    db.executescript(SCHEMA.replace(" over_budget INTEGER, blocked TEXT,", "") + "PRAGMA user_version=1;")
    db.close()
    db = open_history(old)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert "over_budget" in [r[1] for r in db.execute("PRAGMA table_info(metrics)")]
    db.close()


def test_dashboard_and_digest_count_the_same_over_budget_campaigns(tmp_path):
    path, cfg = setup(tmp_path, dashboard=True)
    assert run_cli("--config", cfg, "sync", "--as-of", AS_OF.isoformat())[0] == 0
    totals = sheet(tmp_path / "dash.xlsx", "Totals")
    assert totals[3][-1] == "Over budget"
    source_row = next(r for r in totals[4:] if r[0] == "source")
    assert source_row[-1] == 2
    from campaignwatch.changes import collect
    from campaignwatch.config import load
    from campaignwatch.history import History
    from campaignwatch.sync import sync_source
    c = load(str(cfg))
    history = History(tmp_path / "h.sqlite")
    try:
        r = sync_source(path, c, AS_OF, history, dry_run=True)
    finally:
        history.close()
    assert collect([r], AS_OF).outcomes[0].over_budget == 2


# -- 3. each campaign's own team ------------------------------------------------------------------

def test_dashboard_uses_each_campaigns_team_and_the_configured_one_only_as_fallback(tmp_path):
    path, cfg = setup(tmp_path, team="Marketing", dashboard=True)
    wb = load_workbook(path)
    assert wb["Campaigns"]["A4"].value == "C-03"
    wb["Campaigns"]["C4"] = None                                   # C-03 has no team of its own
    wb.save(path)
    assert run_cli("--config", cfg, "sync", "--as-of", AS_OF.isoformat())[0] == 0
    campaigns = {r[2]: r[1] for r in sheet(tmp_path / "dash.xlsx", "All campaigns")[4:]}
    assert campaigns == {"C-01": "Online", "C-02": "Brand", "C-03": "Marketing", "C-04": "Brand",
                         "C-05": "Sales", "C-06": "Online"}
    teams = {r[1]: r[2] for r in sheet(tmp_path / "dash.xlsx", "Totals")[4:] if r[0] == "team"}
    assert teams == {"Brand": 2, "Marketing": 1, "Online": 2, "Sales": 1}


# -- 4. times in general.timezone, with the zone shown -------------------------------------------

def test_stamp_shows_wall_clock_offset_and_zone():
    assert clock.stamp(FROZEN, "Asia/Shanghai") == "2026-11-26 06:30 +08:00 (Asia/Shanghai)"
    assert clock.stamp(FROZEN, "America/New_York") == "2026-11-25 17:30 -05:00 (America/New_York)"
    assert clock.stamp("2026-11-26T06:30:00+08:00", "America/New_York") == "2026-11-25 17:30 -05:00 (America/New_York)"
    assert clock.stamp(FROZEN, "Mars/Olympus") == "2026-11-25 22:30 +00:00 (UTC)"
    assert clock.stamp(None, "UTC") is None


@pytest.mark.parametrize("zone, shown", [("Asia/Shanghai", "2026-11-26 06:30 +08:00 (Asia/Shanghai)"),
                                         ("America/New_York", "2026-11-25 17:30 -05:00 (America/New_York)")])
def test_every_output_shows_the_run_time_in_the_configured_zone(tmp_path, monkeypatch, zone, shown):
    monkeypatch.setattr(clock, "instant", lambda: FROZEN)
    path, cfg = setup(tmp_path, timezone=zone, dashboard=True)
    assert run_cli("--config", cfg, "sync", "--as-of", AS_OF.isoformat())[0] == 0
    for name in ("Summary", "Flags", "Run log"):
        assert shown in sheet(path, name)[1][0], name                  # the title row
    assert sheet(path, "Run log")[4][0] == shown                       # this run's row
    db = sqlite3.connect(tmp_path / "h.sqlite")
    started = db.execute("SELECT started_at FROM runs").fetchone()[0]
    db.close()
    assert clock.stamp(started, zone) == shown                         # history keeps the same moment
    for name in ("All campaigns", "Totals"):
        assert shown in sheet(tmp_path / "dash.xlsx", name)[1][0], name
    assert shown in build_weekly(tmp_path / "h.sqlite", AS_OF, "en", timezone=zone)
    out = tmp_path / "week.html"
    assert run_cli("--config", cfg, "report", "--week", "--as-of", AS_OF.isoformat(), "--out", out)[0] == 0
    assert shown in out.read_text(encoding="utf-8")
    m = compose(RunChanges(AS_OF, [SourceOutcome("demo.xlsx", "ok", open_flags=3, over_budget=2)]), "en",
                clock.stamp(clock.now(zone), zone))
    assert shown in m.text and shown in m.markdown and shown in m.html


def test_run_log_shows_earlier_runs_in_the_configured_zone(tmp_path, monkeypatch):
    path, cfg = setup(tmp_path, timezone="America/New_York")
    monkeypatch.setattr(clock, "instant", lambda: FROZEN)
    run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat())
    monkeypatch.setattr(clock, "instant", lambda: FROZEN + dt.timedelta(days=1))
    run_cli("--config", cfg, "sync", path, "--as-of", AS_OF.isoformat())
    assert [r[0] for r in sheet(path, "Run log")[4:]] == ["2026-11-26 17:30 -05:00 (America/New_York)",
                                                           "2026-11-25 17:30 -05:00 (America/New_York)"]
