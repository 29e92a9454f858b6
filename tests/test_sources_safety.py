"""Issue 10 (1, 4, 9): sources that match nothing, workbooks that are not ours, files we may not
write, every failure as one sentence, restore only from a workbook, and locks left overnight.

Assertions are on exit codes, error codes and file bytes, not on wording.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import AS_OF, ROOT, write_xlsx
from campaignwatch.config import SETTINGS
from campaignwatch.names import tab_name
from campaignwatch.write import safety
from campaignwatch.workbook.template import write_template


def cli(*args, cwd=None, prefix=()):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    env.pop("CAMPAIGNWATCH_CONFIG", None)
    return subprocess.run([*prefix, sys.executable, "-m", "campaignwatch", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=180)


def one_sentence(proc) -> bool:
    """stderr is one line of campaignwatch's, no traceback (nightly's timestamped log lines aside)."""
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln[:4].isdigit()]
    return len(lines) == 1 and lines[0].startswith("campaignwatch: ") and "Traceback" not in proc.stderr


def sync_json(*args, cwd=None):
    proc = cli(*args, "--as-of", AS_OF.isoformat(), "--json", cwd=cwd)
    return proc, json.loads(proc.stdout) if proc.stdout.strip() else None


def dash_rows(path: Path, key: str) -> list[dict]:
    """The rows of a dashboard tab, as {header: value}, below its header row."""
    ws = load_workbook(path, read_only=True)[tab_name(key, "en")]
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r and r[0] in ("Source", "Severity"))
    head = rows[at]
    return [dict(zip(head, r)) for r in rows[at + 1:] if any(v is not None for v in r)]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- 1. a glob that matches nothing fails `missing`; the dashboard keeps its last known state ----

def test_a_glob_that_matches_nothing_fails_missing_and_the_dashboard_keeps_its_last_state(tmp_path):
    teams = tmp_path / "teams"
    teams.mkdir()
    write_template(teams / "a-online.xlsx", demo=True, as_of=AS_OF)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[history]\npath = "history.sqlite"\n[dashboard]\npath = "dashboard.xlsx"\n'
                   '[[sources]]\nsource = "teams/*.xlsx"\nteam = "Marketing"\n')
    proc, doc = sync_json("--config", str(cfg), "sync")
    assert proc.returncode in (0, 1), proc.stderr
    dash = tmp_path / "dashboard.xlsx"
    campaigns = sorted(r["Campaign ID"] for r in dash_rows(dash, "dash_campaigns"))
    flags_before = {r["Flag ID"] for r in dash_rows(dash, "dash_flags")}
    assert campaigns and flags_before

    (teams / "a-online.xlsx").rename(tmp_path / "moved-away.xlsx")      # the glob now matches nothing
    proc, doc = sync_json("--config", str(cfg), "sync")
    assert proc.returncode == 3
    [src] = doc["sources"]
    assert (src["status"], src["error_code"]) == ("failed", "missing")
    rows = dash_rows(dash, "dash_campaigns")
    assert sorted(r["Campaign ID"] for r in rows) == campaigns        # kept, not rebuilt without them
    assert all(r["Cannot be read"] for r in rows)                      # each marked as not read this run
    assert {r["Flag ID"] for r in dash_rows(dash, "dash_flags")} == flags_before
    [source] = dash_rows(dash, "dash_sources")
    assert source["Status"] == "failed" and source["Open flags"] == len(flags_before)


def test_nightly_once_fails_on_a_glob_that_matches_nothing(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[history]\npath = "history.sqlite"\n[digest]\nenabled = false\n[log]\npath = "n.log"\n'
                   '[[sources]]\nsource = "teams/*.xlsx"\n')
    assert cli("--config", str(cfg), "nightly", "--once").returncode == 3


# -- 1. a workbook with no contract table is `not_campaign` and is not written ----------------

def test_a_workbook_that_is_not_ours_fails_not_campaign_and_is_not_written(tmp_path):
    book = write_xlsx(tmp_path / "holiday-plan.xlsx", {"Sheet1": [["Day", "Where"], ["Mon", "Beach"]],
                                                         "Notes": [["anything"]]})
    before = tree(tmp_path)
    proc, doc = sync_json("sync", str(book), cwd=tmp_path)
    assert proc.returncode == 3
    assert (doc["sources"][0]["status"], doc["sources"][0]["error_code"]) == ("failed", "not_campaign")
    assert book.read_bytes() == before[book.name]
    assert not (tmp_path / safety.BACKUP_DIR_NAME).exists()
    proc, doc = sync_json("validate", str(book), cwd=tmp_path)
    assert proc.returncode == 3 and doc["sources"][0]["error_code"] == "not_campaign"


# -- 1. a file we may not write: `permission`, before any write, never replaced ---------------

def test_a_read_only_workbook_is_never_replaced_even_by_root(tmp_path):
    book = tmp_path / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    os.chmod(book, 0o444)
    before, ino = book.read_bytes(), book.stat().st_ino
    proc, doc = sync_json("sync", str(book), cwd=tmp_path)
    assert proc.returncode == 3
    assert (doc["sources"][0]["status"], doc["sources"][0]["error_code"]) == ("failed", "permission")
    assert cli("clean", str(book), cwd=tmp_path).returncode == 3
    assert (book.read_bytes(), book.stat().st_ino) == (before, ino)
    assert stat.S_IMODE(book.stat().st_mode) == 0o444
    assert not [p for p in tmp_path.iterdir() if ".cw-tmp-" in p.name]
    assert not (tmp_path / safety.BACKUP_DIR_NAME).exists()          # nothing written, not even a backup


def test_check_writable_judges_the_mode_bits(tmp_path):
    from campaignwatch.errors import SourceError
    f = tmp_path / "x.xlsx"
    f.write_bytes(b"x")
    safety.check_writable(f)
    safety.check_writable(tmp_path / "new.xlsx")                      # does not exist yet: the folder decides
    for mode in (0o444, 0o464, 0o400):
        os.chmod(f, mode)
        with pytest.raises(SourceError) as err:
            safety.check_writable(f)
        assert err.value.code == "permission"


def _unprivileged() -> tuple[str, ...] | None:
    """setpriv as uid/gid 65534 (nobody), able to import campaignwatch's dependencies, else None.

    When the Python installation lives in a folder nobody may read (a private home), the
    read-only capability CAP_DAC_READ_SEARCH is kept so the imports work; writing is still
    judged as uid 65534."""
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    for extra in ((), ("--inh-caps", "+dac_read_search", "--ambient-caps", "+dac_read_search")):
        prefix = (setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", *extra)
        try:
            ok = subprocess.run([*prefix, sys.executable, "-c", "import pandas, defusedxml, campaignwatch.cli"],
                                capture_output=True, env=env, timeout=120).returncode == 0
        except OSError:
            return None
        if ok:
            return prefix
    return None


@pytest.fixture
def nobody():
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("setpriv (or a Python that uid 65534 can run) is not available")
    folder = Path(tempfile.mkdtemp(prefix="cw-nobody-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield prefix, folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _shared_history(folder: Path) -> Path:
    hist = folder / "hist"
    hist.mkdir()
    os.chmod(hist, 0o777)
    cfg = folder / "config.toml"
    cfg.write_text(f'[history]\npath = "{hist / "history.sqlite"}"\n')
    os.chmod(cfg, 0o644)
    return cfg


@pytest.mark.parametrize("folder_mode", [0o755, 0o777], ids=["folder-not-writable", "file-not-writable"])
def test_a_workbook_the_running_user_may_not_write_is_never_replaced(nobody, folder_mode):
    prefix, root = nobody
    cfg = _shared_history(root)
    teams = root / "teams"
    teams.mkdir()
    book = teams / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    os.chmod(book, 0o644)                                              # root's; nobody may read it only
    os.chmod(teams, folder_mode)
    before, ino = book.read_bytes(), book.stat().st_ino
    proc = cli("--config", str(cfg), "sync", str(book), "--as-of", AS_OF.isoformat(), "--json",
               cwd=root, prefix=prefix)
    assert proc.returncode == 3, proc.stderr
    src = json.loads(proc.stdout)["sources"][0]
    assert (src["status"], src["error_code"]) == ("failed", "permission")
    assert (book.read_bytes(), book.stat().st_ino) == (before, ino)
    assert sorted(p.name for p in teams.iterdir()) == ["team.xlsx"]     # no temp file, no backup


# -- 4. every command, every failure, one sentence ---------------------------------------------

def test_sync_in_a_read_only_folder_is_one_sentence_and_exit_2(nobody):
    prefix, root = nobody
    book = root / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    os.chmod(book, 0o644)
    for args in (("sync", str(book)), ("report", "--week"), ("init", "new.xlsx")):
        proc = cli(*args, cwd=root, prefix=prefix)
        assert proc.returncode == 2, (args, proc.stderr)
        assert one_sentence(proc), (args, proc.stderr)


@pytest.fixture
def blocked(tmp_path):
    """A config whose history is a folder: no database can be opened there, not even by root."""
    book = tmp_path / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    (tmp_path / "blocker").write_text("a file, not a folder")
    (tmp_path / "history.d").mkdir()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[history]\npath = "history.d"\n[log]\npath = "nightly.log"\n'
                   '[digest]\nenabled = false\n[[sources]]\nsource = "team.xlsx"\n')
    return tmp_path, cfg, book


@pytest.mark.parametrize("args", [("sync",), ("sync", "team.xlsx"), ("nightly", "--once"), ("report", "--week"),
                                  ("check",)])
def test_an_unusable_history_folder_is_one_sentence_and_exit_2(blocked, args):
    root, cfg, book = blocked
    before = book.read_bytes()
    proc = cli("--config", str(cfg), *args, cwd=root)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    if args != ("check",):                      # check reports every problem, one line each, on stdout
        assert one_sentence(proc), proc.stderr
    assert book.read_bytes() == before


@pytest.mark.parametrize("args", [("report", "--week"), ("sync",), ("nightly", "--once"), ("check",)])
def test_a_corrupt_history_file_is_one_sentence_and_exit_2(blocked, args):
    root, cfg, book = blocked
    (root / "history.sqlite").write_bytes(os.urandom(8192))
    cfg.write_text(cfg.read_text().replace("history.d", "history.sqlite"))
    proc = cli("--config", str(cfg), *args, cwd=root)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    if args != ("check",):
        assert one_sentence(proc), proc.stderr


def test_unwritable_output_paths_are_one_sentence_and_exit_2(blocked):
    root, cfg, book = blocked
    cfg.write_text(cfg.read_text().replace("history.d", "history.sqlite"))
    assert cli("--config", str(cfg), "sync", "--as-of", AS_OF.isoformat(), cwd=root).returncode in (0, 1)
    for args in (("report", "--week", "--as-of", AS_OF.isoformat(), "--out", "blocker/week.html"),
                 ("init", "blocker/new.xlsx")):
        proc = cli("--config", str(cfg), *args, cwd=root)
        assert proc.returncode == 2 and one_sentence(proc), (args, proc.stderr)


def test_restore_refuses_a_backup_that_is_not_a_workbook_of_the_same_kind(tmp_path):
    book = tmp_path / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    before = book.read_bytes()
    (tmp_path / "junk.txt").write_text("not a workbook")
    (tmp_path / "junk.xlsx").write_text("not a workbook either")
    shutil.copy(book, tmp_path / "other.xlsm")                           # a workbook, but of another kind
    import zipfile
    with zipfile.ZipFile(tmp_path / "empty.xlsx", "w") as zf:           # a zip, but no workbook in it
        zf.writestr("[Content_Types].xml", "<Types/>")
    for junk in ("junk.txt", "junk.xlsx", "other.xlsm", "empty.xlsx"):
        proc = cli("restore", str(book), "--backup", str(tmp_path / junk), cwd=tmp_path)
        assert proc.returncode == 3, (junk, proc.stderr)
        assert one_sentence(proc), proc.stderr
        assert book.read_bytes() == before
    assert not (tmp_path / safety.BACKUP_DIR_NAME).exists()
    good = tmp_path / "good.xlsx"
    write_template(good, as_of=AS_OF)
    assert cli("restore", str(book), "--backup", str(good), cwd=tmp_path).returncode == 0
    assert book.read_bytes() == good.read_bytes()


# -- 9. a lock left overnight is still a lock ---------------------------------------------------

def test_the_default_honours_a_lock_for_three_days():
    setting = {s.key: s for s in SETTINGS}["output.stale_lock_hours"]
    assert setting.default == 72 == safety.DEFAULT_STALE_HOURS
    from campaignwatch.config import load
    assert load(str(ROOT / "config.toml"))["output.stale_lock_hours"] == 72       # the example config.toml


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


@pytest.mark.parametrize("lock_name,content", [
    (".~lock.team.xlsx#", b",Chen Chen,desk-7,26.11.2026 18:00,file:///c;\n"),
])
def test_a_lock_left_overnight_is_still_a_lock_and_says_who_and_how_long(tmp_path, lock_name, content):
    book = tmp_path / "team.xlsx"
    write_template(book, demo=True, as_of=AS_OF)
    before = book.read_bytes()
    lock = tmp_path / lock_name
    lock.write_bytes(content)
    _age(lock, (2 * 24 + 3) * 3600 + 120)                               # open since two days and three hours
    proc, doc = sync_json("sync", str(book), cwd=tmp_path)
    assert proc.returncode == 3
    src = doc["sources"][0]
    assert (src["status"], src["error_code"]) == ("failed", "locked")
    assert "Chen Chen" in src["error"] and "2 days 3 hours" in src["error"]
    assert book.read_bytes() == before
    text = cli("sync", str(book), "--as-of", AS_OF.isoformat(), cwd=tmp_path)
    assert text.returncode == 3 and "Chen Chen" in text.stdout and "2 days 3 hours" in text.stdout
    _age(lock, 73 * 3600)                                               # older than 72 h: left over from a crash
    proc, doc = sync_json("sync", str(book), cwd=tmp_path)
    assert proc.returncode in (0, 1) and doc["sources"][0]["status"] == "ok"
    assert book.read_bytes() != before


@pytest.mark.parametrize("seconds,said", [(0, "less than a minute"), (59, "less than a minute"), (60, "1 minute"),
                                          (5 * 3600, "5 hours"), (3600 + 120, "1 hour 2 minutes"),
                                          (86400, "1 day"), ((2 * 24 + 3) * 3600 + 59, "2 days 3 hours")])
def test_lock_age_as_people_say_it(seconds, said):
    assert safety.describe_age(seconds) == said
