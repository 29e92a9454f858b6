"""The coordinator's night: configured sources, dashboard, nightly lock, responses."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import python_calamine as calamine
from openpyxl import load_workbook

from conftest import AS_OF, ROOT, run_cli
from campaignwatch.names import MARK
from campaignwatch.workbook.template import write_template


@pytest.fixture
def night(tmp_path):
    """Three team workbooks — one fine, one open in LibreOffice, one corrupt — and a dashboard."""
    teams = tmp_path / "teams"
    teams.mkdir()
    write_template(teams / "a-online.xlsx", demo=True, as_of=AS_OF)
    write_template(teams / "b-brand.xlsx", demo=True, as_of=AS_OF, lang="zh-CN")
    (teams / ".~lock.b-brand.xlsx#").write_text(",Chen Chen,desk-7,26.11.2026 08:00,file:///b;\n")
    (teams / "c-broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    cfg = tmp_path / "config.toml"
    cfg.write_text('''
[history]
path = "history.sqlite"
[dashboard]
path = "dashboard.xlsx"
[digest]
enabled = false
[log]
path = "logs/nightly.log"
[[sources]]
source = "teams/*.xlsx"
team = "Marketing"
''')
    return tmp_path, cfg


def test_sync_without_arguments_processes_configured_sources_and_dashboard(night):
    root, cfg = night
    before = (root / "teams" / "b-brand.xlsx").read_bytes()
    code, out = run_cli("--config", str(cfg), "sync", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 3                                     # not every source succeeded
    doc = json.loads(out)
    got = {os.path.basename(s["source"]): (s["status"], s["error_code"]) for s in doc["sources"]}
    assert got == {"a-online.xlsx": ("ok", None), "b-brand.xlsx": ("failed", "locked"),
                   "c-broken.xlsx": ("failed", "truncated")}
    assert (root / "teams" / "b-brand.xlsx").read_bytes() == before       # the open workbook is not written
    book = calamine.CalamineWorkbook.from_path(str(root / "dashboard.xlsx"))
    assert book.sheet_names == [MARK + n for n in ("All campaigns", "Open flags", "Waivers", "Totals",
                                                   "Week over week", "Sources")]
    campaigns = book.get_sheet_by_name(MARK + "All campaigns").to_python()[4:]
    # both readable workbooks contribute their campaigns (the locked one was read, just not written)
    assert sorted({r[0] for r in campaigns}) == ["a-online.xlsx", "b-brand.xlsx"]
    assert len(campaigns) == 12
    flags = book.get_sheet_by_name(MARK + "Open flags").to_python()[4:]
    assert len(flags) == 56
    assert flags[0][0] == "high"                          # most severe first
    sources = book.get_sheet_by_name(MARK + "Sources").to_python()[4:]
    assert [(r[0], r[3]) for r in sources] == [("a-online.xlsx", "ok"), ("b-brand.xlsx", "failed"),
                                               ("c-broken.xlsx", "failed")]
    assert "Chen Chen" in sources[1][4]


def test_nightly_once_does_the_same_under_the_lock(night):
    root, cfg = night
    code, _ = run_cli("--config", str(cfg), "nightly", "--once", "--as-of", AS_OF.isoformat())
    assert code == 3
    assert (root / "dashboard.xlsx").exists()
    log = (root / "logs" / "nightly.log").read_text(encoding="utf-8")
    assert "a-online.xlsx" in log and "c-broken.xlsx" in log and "dashboard written" in log


def test_a_second_nightly_refuses_while_the_first_holds_the_lock(night):
    root, cfg = night
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    first = subprocess.Popen([sys.executable, "-m", "campaignwatch", "--config", str(cfg), "nightly"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = root / "history.sqlite.nightly.lock"
        for _ in range(200):
            if lock.exists() and lock.read_text().strip():
                break
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "campaignwatch", "--config", str(cfg), "nightly", "--once"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 4
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "stopped" in err


def respond(path, rows):
    wb = load_workbook(path)
    ws = wb["Flag responses"]
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_managers_acknowledge_and_waive_flags(tmp_path):
    path = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[history]\npath = "h.sqlite"\n')
    code, out = run_cli("--config", str(cfg), "sync", str(path), "--as-of", AS_OF.isoformat(), "--json")
    flags = {(f["code"], f["campaign_id"], f["line_id"]): f["flag_id"] for f in json.loads(out)["sources"][0]["flags"]}
    waived = flags[("OVERRUN_UNAPPROVED", "C-01", "L02")]
    acked = flags[("EXPENSE_NO_RECEIPT", "C-01", None)]
    expired = flags[("TASK_OVERDUE", "C-01", None)]
    respond(path, [
        [waived, "waived", "Budget transfer agreed in the weekly meeting", "李强", AS_OF, "2026-12-31"],
        [acked, "已知悉", None, "王芳", AS_OF, None],
        ["FNOPE00", "waived", "typo", "李强", AS_OF, "2026-12-31"],          # row 4: unknown flag
        [flags[("SUMMARY_OVERDUE", "C-04", None)], "豁免", "later", "李强", AS_OF, None],   # row 5: no end date
        [expired, "waived", "old", "李强", "2026-10-01", "2026-11-01"],     # the waiver has lapsed
    ])
    code, out = run_cli("--config", str(cfg), "sync", str(path), "--as-of", AS_OF.isoformat(), "--json",
                        "--fail-on", "high")
    src = json.loads(out)["sources"][0]
    by_id = {f["flag_id"]: f for f in src["flags"]}
    assert by_id[waived]["response"]["decision"] == "waived" and by_id[waived]["status"] == "open"
    assert by_id[acked]["response"]["decision"] == "acknowledged"
    assert by_id[expired]["response"]["decision"] == "expired"
    findings = sorted((f["code"], f["row"]) for f in src["findings"] if f["table"] == "responses")
    assert findings == [("RESPONSE_NO_UNTIL", 5), ("RESPONSE_UNKNOWN_FLAG", 4)]
    summary = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(MARK + "Summary").to_python()
    c01 = next(r for r in summary if r[0] == "C-01")
    assert c01[19] == 2          # open high flags of C-01: incident and the campaign overrun; the waived one is out


def test_dashboard_links_back_to_each_source_row(night):
    import zipfile
    root, cfg = night
    run_cli("--config", str(cfg), "sync", "--as-of", AS_OF.isoformat())
    with zipfile.ZipFile(root / "dashboard.xlsx") as z:
        rels = [n for n in z.namelist() if n.startswith("xl/worksheets/_rels/")]
        texts = "".join(z.read(n).decode() for n in rels)
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/cw_sheet"))
    assert 'Target="teams/a-online.xlsx" TargetMode="External"' in texts
    assert "location=\"Expenses!E6\"" in sheets or "location=\"'Expenses'!E6\"" in sheets
    from openpyxl import load_workbook
    ws = load_workbook(root / "dashboard.xlsx")[MARK + "All campaigns"]
    assert ws["P5"].hyperlink.target == "teams/a-online.xlsx"
    assert ws["P5"].hyperlink.location == "'Campaigns'!A2"


def test_nightly_sends_the_digest_and_the_week_report_comes_from_that_run(night):
    """The digest of the run goes out by e-mail (a real local SMTP server) and the weekly
    report is built from the history that run wrote."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.mails = []

        async def handle_DATA(self, server, session, envelope):
            self.mails.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        root, cfg = night
        text = cfg.read_text().replace("[digest]\nenabled = false", "[digest]\nenabled = true")
        cfg.write_text(text + f'''
[email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "campaignwatch@example.com"
to = ["coordinator@example.com"]
''')
        code, _ = run_cli("--config", str(cfg), "nightly", "--once", "--as-of", AS_OF.isoformat())
        assert code == 3
    finally:
        smtp.stop()
    assert len(inbox.mails) == 1
    rcpt, body = inbox.mails[0]
    assert rcpt == ["coordinator@example.com"]
    import re
    ids = set(re.findall(r"\bF[A-Z2-7]{6}\b", body))
    assert len(ids) >= 28                         # every new flag of the good workbook is listed
    assert "c-broken.xlsx" in body and "b-brand.xlsx" in body          # and the sources that failed
    out = root / "week.html"
    code, _ = run_cli("--config", str(cfg), "report", "--week", "--as-of", AS_OF.isoformat(), "--out", str(out))
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert ids & set(re.findall(r"\bF[A-Z2-7]{6}\b", html))
    assert "C-01" in html


def test_an_unexpected_fault_in_one_source_does_not_stop_the_others(night, monkeypatch):
    """A bug met on one workbook is that source's failure (code internal), not a traceback."""
    import campaignwatch.stages.compute as sync_mod      # the compute stage calls it from there
    root, cfg = night
    real = sync_mod.compute
    calls = []

    def compute(tables, as_of, kpi=None):
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("boom")
        return real(tables, as_of, kpi)
    monkeypatch.setattr(sync_mod, "compute", compute)
    code, out = run_cli("--config", str(cfg), "sync", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 3
    got = {os.path.basename(s["source"]): (s["status"], s["error_code"]) for s in json.loads(out)["sources"]}
    assert got["a-online.xlsx"] == ("failed", "internal")
    assert got["b-brand.xlsx"] == ("failed", "locked")          # processed all the same, flags computed
    assert (root / "dashboard.xlsx").exists()
