"""`campaignwatch check`: 0 when all is well, 2 for a setting, 3 for a source; it writes nothing.
Assertions are on exit codes, statuses and the subject of each check, not wording."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import AS_OF, ROOT
from campaignwatch.cli import main
from campaignwatch.doctor import FAIL, OK, WARN, check
from fake_sheets import key_file, shared_key

GOOD = '''[[sources]]
source = "demo.xlsx"

[[sources]]
source = "teams/*.xlsx"
team = "Online"

[dashboard]
path = "out/dashboard.xlsx"
'''


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def setup(tmp_path):
    """A demo workbook, a team folder with another one, and a config.toml naming both."""
    assert main(["init", str(tmp_path / "demo.xlsx"), "--demo", "--as-of", AS_OF.isoformat()]) == 0
    (tmp_path / "teams").mkdir()
    assert main(["init", str(tmp_path / "teams" / "online.xlsx"), "--as-of", AS_OF.isoformat()]) == 0
    cfg = tmp_path / "config.toml"
    cfg.write_text(GOOD, encoding="utf-8")
    return cfg


def run_check(cfg: Path, capsys) -> tuple[int, dict]:
    code = main(["--config", str(cfg), "check", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == code
    return code, doc


def failed(doc) -> set[str]:
    return {c["subject"] for c in doc["checks"] if c["status"] == FAIL}


def test_a_good_config_with_the_demo_workbook_is_0_and_nothing_is_written(setup, capsys):
    before = snapshot(setup.parent)
    code, doc = run_check(setup, capsys)
    assert code == 0 and failed(doc) == set()
    by_subject = {c["subject"]: c["status"] for c in doc["checks"]}
    assert by_subject["config"] == by_subject["demo.xlsx"] == by_subject["online.xlsx"] == OK
    assert by_subject["history.path"] == by_subject["dashboard.path"] == OK
    assert snapshot(setup.parent) == before                       # bytes and mtimes unchanged
    assert not (setup.parent / "campaignwatch-history.sqlite").exists()
    assert not (setup.parent / "out").exists() and not (setup.parent / "campaignwatch.log").exists()


def test_the_text_output_is_one_line_per_check(setup, capsys):
    assert main(["--config", str(setup), "check"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(check(str(setup)).checks)
    assert all(line[0] in "✓!✗" for line in lines)


def test_a_missing_source_is_3(setup, capsys):
    (setup.parent / "demo.xlsx").unlink()
    code, doc = run_check(setup, capsys)
    assert code == 3 and failed(doc) == {"demo.xlsx"}


def test_a_glob_matching_nothing_is_3(setup, capsys):
    (setup.parent / "teams" / "online.xlsx").unlink()
    code, doc = run_check(setup, capsys)
    assert code == 3 and failed(doc) == {"teams/*.xlsx"}


def test_a_file_that_is_not_a_workbook_or_has_no_tables_is_3(setup, capsys):
    (setup.parent / "demo.xlsx").write_text("not a workbook")
    from conftest import write_xlsx
    write_xlsx(setup.parent / "teams" / "online.xlsx", {"Notes": [["hello"], ["world"]]})
    code, doc = run_check(setup, capsys)
    assert code == 3 and failed(doc) == {"demo.xlsx", "online.xlsx"}


def test_a_bad_setting_is_2_naming_the_key(setup, capsys):
    setup.write_text(GOOD + '\n[schedule]\ntime = "25:00"\n[general]\ntimezone = "Mars/Base"\n')
    before = snapshot(setup.parent)
    code, doc = run_check(setup, capsys)
    assert code == 2 and failed(doc) == {"schedule.time", "general.timezone"}
    assert snapshot(setup.parent) == before


def test_a_bad_setting_wins_over_a_missing_source(setup, capsys):
    (setup.parent / "demo.xlsx").unlink()
    setup.write_text(GOOD + "\n[kpi]\ngreen_at = 0.5\namber_at = 0.6\n")
    code, doc = run_check(setup, capsys)
    assert code == 2 and failed(doc) == {"kpi.amber_at"}


def test_the_documented_config_toml_passes_the_config_part():
    report = check(str(ROOT / "config.toml"))
    assert report.checks[0].subject == "config" and report.checks[0].status == OK
    assert report.exit_code == 0
    assert not any(c.status == FAIL for c in report.checks)


def test_a_history_folder_that_cannot_be_written_is_2(setup, capsys, monkeypatch):
    import os
    from campaignwatch import doctor
    ro = setup.parent / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(doctor.os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))  # root writes anywhere
    setup.write_text(GOOD + '\n[history]\npath = "ro/history.sqlite"\n')
    code, doc = run_check(setup, capsys)
    assert code == 2 and failed(doc) == {"history.path"}


# -- the digest's channels ------------------------------------------------------------------

@pytest.mark.parametrize("settings, env, subject", [
    ('[email]\nto = ["boss@example.com"]\n', {}, "email.host"),
    ('[email]\nhost = "smtp.example.com"\nto = ["boss@example.com"]\n', {}, "email.sender"),
    ('[email]\nhost = "smtp.example.com"\nto = ["boss@example.com"]\nuser = "cw@example.com"\n', {},
     "email.password_env"),
    ('[digest]\nper_owner = true\n', {}, "email.host"),
])
def test_an_inconsistent_e_mail_channel_is_2(setup, settings, env, subject):
    setup.write_text(GOOD + "\n" + settings)
    report = check(str(setup), env=env)
    assert report.exit_code == 2 and {c.subject for c in report.checks if c.status == FAIL} == {subject}


def test_a_complete_e_mail_channel_and_robots_are_fine(setup):
    setup.write_text(GOOD + '\n[email]\nhost = "smtp.example.com"\nto = ["boss@example.com"]\n'
                            'user = "cw@example.com"\n[webhooks]\n'
                            'dingtalk_url = "https://oapi.dingtalk.com/robot/send?access_token=abc"\n'
                            'wecom_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"\n')
    report = check(str(setup), env={"CAMPAIGNWATCH_SMTP_PASSWORD": "x", "CAMPAIGNWATCH_DINGTALK_SECRET": "SEC1"})
    status = {c.subject: c.status for c in report.checks}
    assert report.exit_code == 0
    assert status["email"] == status["webhooks.dingtalk_url"] == status["webhooks.wecom_url"] == OK
    unsigned = check(str(setup), env={"CAMPAIGNWATCH_SMTP_PASSWORD": "x"})
    assert unsigned.exit_code == 0
    assert {c.subject: c.status for c in unsigned.checks}["webhooks.dingtalk_url"] == WARN


def test_no_channel_with_the_digest_on_is_a_warning(setup):
    report = check(str(setup), env={})
    assert report.exit_code == 0 and {c.subject: c.status for c in report.checks}["digest"] == WARN


# -- Google sources: the key, never the network -----------------------------------------------

def test_a_google_source_needs_a_service_account_key(setup, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    folder = setup.parent
    google = GOOD + '\n[[sources]]\nsource = "gsheet:1AbC_d-E"\n'
    setup.write_text(google)
    report = check(str(setup), env={})
    assert report.exit_code == 3 and {c.subject for c in report.checks if c.status == FAIL} == {"google.credentials"}
    (folder / "key.json").write_text('{"type": "authorized_user"}')
    setup.write_text(google + '\n[google]\ncredentials = "key.json"\n')
    assert check(str(setup), env={}).exit_code == 3
    key_file(folder / "key.json", shared_key(), "https://oauth2.googleapis.com/token").chmod(0o600)
    before = snapshot(folder)
    report = check(str(setup), env={})
    assert report.exit_code == 0, [c.line() for c in report.checks]
    assert {c.subject: c.status for c in report.checks}["google.credentials"] == OK
    assert snapshot(folder) == before
