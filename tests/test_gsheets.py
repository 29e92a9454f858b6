"""Google Sheets sources against the loopback fake API (tests/fake_sheets.py): no test reaches the internet.

Request counts, retries, quota, timeouts, the request budget, what is written (and what is
never written), init --google, and the failures a team meets when setting it up.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from conftest import (
    AS_OF, ROOT, FakeClock, cli_run as run, demo_tabs, gsheet_sync_json as sync_json, our_sheets, our_tabs,
)
from fake_sheets import FakeSheets, google_env, inject_timeouts, key_file, make_key  # noqa: F401 - google_env is a fixture
from campaignwatch.config import load
from campaignwatch.contract import TABLES
from campaignwatch.gsheets import client, write as gwrite
from campaignwatch.gsheets.read import read_spreadsheet
from campaignwatch.names import MARK
from campaignwatch.workbook.template import write_template

OURS = our_tabs()


# =========================================================================== reading

def test_read_is_two_requests_and_gives_the_xlsx_shaped_grid(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("sheet-1", {
        "Expenses": [["Expense ID", "Campaign ID", "Date", "Amount", "Paid"],
                     ["E1", "C1", dt.date(2026, 11, 1), "#DIV/0!", True],
                     [],
                     ["E2", "C1", 46300, 12.5],
                     ["E3", "C1", "2026/11/03", "#N/A", False, "extra"]],
        MARK + "Summary": [["left over"]],
    })
    book = read_spreadsheet(f"gsheet:{sid}", load(str(google_env.config)))
    assert (book.path, book.kind, book.date1904, book.generated) == ("gsheet:sheet-1", "gsheet", False,
                                                                     [MARK + "Summary"])
    (sheet,) = book.sheets
    assert sheet.name == "Expenses" and book.serial_dates
    from campaignwatch.pipeline import serials_to_dates      # the recognise stage does this for serial_dates
    from campaignwatch.read.recognise import recognise
    serials_to_dates(recognise(book))
    assert sheet.rows == [
        ["Expense ID", "Campaign ID", "Date", "Amount", "Paid", ""],
        ["E1", "C1", dt.date(2026, 11, 1), "", True, ""],
        ["", "", "", "", "", ""],
        ["E2", "C1", dt.date(2026, 10, 5), 12.5, "", ""],        # a serial in a date column is a date
        ["E3", "C1", "2026/11/03", "", False, "extra"],
    ]
    assert sheet.errors == {(1, 3): "#DIV/0!", (4, 3): "#N/A"}
    assert [e["kind"] for e in fake.log] == ["get", "batchGet"]
    meta, values = fake.log
    assert "sheets(properties" in meta["query"]["fields"][0] and "developerMetadata" in meta["query"]["fields"][0]
    assert values["query"]["ranges"] == ["'Expenses'"]                    # generated tabs are not fetched
    assert (values["query"]["valueRenderOption"], values["query"]["dateTimeRenderOption"],
            values["query"]["majorDimension"]) == (["UNFORMATTED_VALUE"], ["SERIAL_NUMBER"], ["ROWS"])
    assert fake.token_requests == 1


def test_validate_reads_a_sheet_by_its_link_and_writes_nothing(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("1AbC-xyz_09", demo_tabs())
    code, out, _ = run("--config", google_env.config, "validate",
                       f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0", "--as-of", AS_OF, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    assert [(f["code"], f["cell"], f["value"]) for f in doc["sources"][0]["findings"]] == \
        [("OPTIONAL_VALUE_UNREADABLE", "Expenses!K7", "half done")]
    assert fake.count() == 2 and fake.count("batchUpdate") == 0


# =========================================================================== sync: counts and what is written

def test_sync_is_three_requests_and_writes_our_tabs(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0
    src = doc["sources"][0]
    assert src["status"] == "ok" and src["written"] == "gsheet:demo" and len(src["flags"]) == 28
    assert [e["kind"] for e in fake.log] == ["get", "batchGet", "batchUpdate"]
    assert fake.token_requests == 1
    assert fake.titles(sid)[-7:] == OURS
    ours = our_sheets(fake, sid)
    assert sorted(ours) == sorted(OURS)
    summary = ours[MARK + "Summary"]
    assert summary["properties"]["gridProperties"]["frozenRowCount"] == 4          # title, title, blank, header
    assert summary["basicFilter"]["range"]["startRowIndex"] == 3
    assert [(p["warningOnly"], p["range"]) for p in summary["protectedRanges"]] == \
        [(True, {"sheetId": summary["properties"]["sheetId"]})]
    header = summary["cells"][(3, 0)]
    assert header["userEnteredValue"] == {"stringValue": "Campaign ID"}
    assert header["userEnteredFormat"]["textFormat"]["bold"] is True
    # money and percent formats, a status fill
    grid = fake.grid(sid, MARK + "Summary")
    col = {name: i for i, name in enumerate(grid[3])}
    c01 = summary["cells"][(4, col["Planned"])]
    assert c01["userEnteredValue"] == {"numberValue": 150000.0}
    assert c01["userEnteredFormat"]["numberFormat"] == {"type": "NUMBER", "pattern": "#,##0.00"}
    assert summary["cells"][(4, col["Utilisation"])]["userEnteredFormat"]["numberFormat"]["type"] == "PERCENT"
    assert "backgroundColorStyle" in summary["cells"][(4, col["RAG"])]["userEnteredFormat"]
    assert summary["cells"][(4, col["Start"])]["userEnteredFormat"]["numberFormat"]["type"] == "DATE"
    assert grid[4][col["Start"]] == AS_OF - dt.timedelta(days=45)
    # the evidence of a flag links to the offending cell of the team's tab — a link on text, not a formula
    flags = fake.sheet(sid, MARK + "Flags")
    expenses_id = fake.sheet(sid, "Expenses")["properties"]["sheetId"]
    links = [c for (r, c_), c in flags["cells"].items() if "textFormatRuns" in c]
    assert links and all("formulaValue" not in c["userEnteredValue"] for c in links)
    uris = {c["textFormatRuns"][0]["format"]["link"]["uri"] for c in links}
    assert f"#gid={expenses_id}&range=E6" in uris


def test_second_sync_replaces_our_tabs_in_place(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    sync_json(google_env, f"gsheet:{sid}")
    first = {t: s["properties"]["sheetId"] for t, s in our_sheets(fake, sid).items()}
    code, doc = sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=1))
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    assert fake.count() == 6 and fake.count("batchUpdate") == 2
    again = our_sheets(fake, sid)
    assert {t: s["properties"]["sheetId"] for t, s in again.items()} == first     # same sheets: links keep working
    assert fake.titles(sid).count(MARK + "Summary") == 1 and len(fake.titles(sid)) == 12 + 7
    for s in again.values():
        assert len(s["protectedRanges"]) == 1 and len(s["developerMetadata"]) == 1
    firsts = {f["first_seen"] for f in doc["sources"][0]["flags"] if f["code"] == "EXPENSE_RECEIPT_REUSED"}
    assert firsts == {AS_OF.isoformat()}
    runlog = fake.grid(sid, MARK + "Run log")
    assert [r[1] for r in runlog[4:]] == [(AS_OF + dt.timedelta(days=1)).isoformat(), AS_OF.isoformat()]


def test_user_tabs_are_byte_for_byte_unchanged(google_env):
    fake = google_env.fake
    tabs = demo_tabs()
    tabs["Notes"] = [["our own notes", 1, True, "#REF!"], ["=SUM(A1)", dt.date(2026, 1, 2)]]
    sid = fake.add_spreadsheet("demo", tabs)
    before = {t: fake.snapshot(sid, t) for t in fake.titles(sid)}
    sync_json(google_env, f"gsheet:{sid}")
    sync_json(google_env, f"gsheet:{sid}")
    assert {t: fake.snapshot(sid, t) for t in before} == before


def test_text_starting_with_formula_characters_stays_text(google_env):
    fake = google_env.fake
    tabs = demo_tabs()
    evil = ['=HYPERLINK("http://example.invalid","x")', "+1", "-2", "@cmd"]
    for i, text in enumerate(evil):
        tabs["Campaigns"][i + 1][1] = text                   # campaign names
    sid = fake.add_spreadsheet("demo", tabs)
    assert sync_json(google_env, f"gsheet:{sid}")[0] == 0
    summary = fake.sheet(sid, MARK + "Summary")
    names = [summary["cells"][(4 + i, 1)]["userEnteredValue"] for i in range(len(evil))]
    assert names == [{"stringValue": t} for t in evil]
    for s in our_sheets(fake, sid).values():
        assert not any("formulaValue" in (c.get("userEnteredValue") or {}) for c in s["cells"].values())


def test_a_team_tab_with_our_name_but_not_our_metadata_is_name_taken(google_env):
    fake = google_env.fake
    tabs = demo_tabs()
    tabs[MARK + "Flags"] = [["a tab someone made"]]
    sid = fake.add_spreadsheet("demo", tabs)
    before = fake.snapshot(sid, MARK + "Flags")
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 3
    src = doc["sources"][0]
    assert (src["status"], src["error_code"]) == ("failed", "name_taken")
    assert "gsheet:demo" in src["error"] and "rename that tab" in src["error"]
    assert fake.count("batchUpdate") == 0 and fake.snapshot(sid, MARK + "Flags") == before


def test_language_switch_renames_and_scorecard_off_deletes(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    sync_json(google_env, f"gsheet:{sid}")
    ids = {s["developerMetadata"][0]["metadataValue"]: s["properties"]["sheetId"]
           for s in our_sheets(fake, sid).values()}
    cfg = google_env.config.read_text() + '\n[output]\nscorecard = false\n'
    google_env.config.write_text(cfg)
    code, doc = sync_json(google_env, f"gsheet:{sid}", extra=("--lang", "zh-CN"))
    assert code == 0, doc
    ours = our_sheets(fake, sid)
    assert sorted(ours) == sorted(MARK + n for n in ("汇总", "预警", "预算执行", "KPI达成", "数据校验", "运行记录"))
    assert {s["developerMetadata"][0]["metadataValue"]: s["properties"]["sheetId"] for s in ours.values()} == \
        {k: v for k, v in ids.items() if k != "scorecard"}
    assert not any(t.startswith(MARK) and t not in ours for t in fake.titles(sid))


# =========================================================================== faults, quota, timeouts

def test_a_503_is_retried_and_the_sync_completes(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    fake.fail_next(503)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    assert fake.count() == 4 and [e["status"] for e in fake.log] == [503, 200, 200, 200]
    assert sorted(our_sheets(fake, sid)) == sorted(OURS)


def test_persistent_429_fails_that_source_with_quota_and_the_next_source_still_runs(google_env, tmp_path):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    xlsx = write_template(tmp_path / "demo.xlsx", demo=True, as_of=AS_OF)
    fake.fail_next(429, 50)
    clock = FakeClock()
    client.use_clock(clock)
    code, doc = sync_json(google_env, f"gsheet:{sid}", xlsx)
    assert code == 3
    g, x = doc["sources"]
    assert (g["status"], g["error_code"]) == ("failed", "quota")
    assert "quota" in g["error"] and "gsheet:demo" in g["error"]
    assert (x["status"], x["written"]) == ("ok", str(xlsx))
    assert fake.count() == 3                                     # max_retries = 2: three attempts, no more
    assert len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0] * 0.5     # backoff, with jitter
    fake.clear_faults()


def test_retry_after_is_honoured(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    fake.fail_next(429, 1, retry_after=7)
    clock = FakeClock()
    client.use_clock(clock)
    assert sync_json(google_env, f"gsheet:{sid}")[0] == 0
    assert clock.sleeps == [7.0]


def test_a_stall_beyond_the_timeout_is_retried(google_env, monkeypatch):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    inject_timeouts(monkeypatch, 1)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    assert fake.count() == 4


def test_a_persistent_stall_fails_cleanly_as_unreachable(google_env, monkeypatch):
    fake = google_env.fake
    google_env.write_config(timeout_seconds=30.0, max_retries=1)
    sid = fake.add_spreadsheet("demo", demo_tabs())
    inject_timeouts(monkeypatch, 5)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and (src["status"], src["error_code"]) == ("failed", "unreachable")
    assert "30 s" in src["error"] and fake.count() == 2
    fake.clear_faults()


def test_a_write_that_timed_out_but_was_applied_is_not_reported_as_failed(google_env, monkeypatch):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    # the first batchUpdate is carried out, and its answer lost
    inject_timeouts(monkeypatch, 1, when=lambda method, url: url.endswith(":batchUpdate"))
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    # get, batchGet, batchUpdate (applied, answer lost), batchUpdate (refused: already there), get (checks)
    assert [e["kind"] for e in fake.log] == ["get", "batchGet", "batchUpdate", "batchUpdate", "get"]
    assert fake.log[3]["status"] == 400
    assert sorted(our_sheets(fake, sid)) == sorted(OURS)
    assert len(fake.titles(sid)) == 12 + 7


def test_metadata_gone_stale_between_read_and_write_is_planned_again(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    sync_json(google_env, f"gsheet:{sid}")
    cfg = load(str(google_env.config))
    read_spreadsheet(f"gsheet:{sid}", cfg)                     # caches the metadata for the write
    book = fake.book(sid)                                      # meanwhile someone deletes our Summary tab
    book["sheets"] = [s for s in book["sheets"] if s["properties"]["title"] != MARK + "Summary"]
    from campaignwatch.tabspec import TabSpec
    tabs = [TabSpec(k, MARK + n, ["t"], ["A"], ["text"], [["x"]]) for k, n in
            (("summary", "Summary"), ("flags", "Flags"))]
    fake.log.clear()
    assert gwrite.write_tabs(f"gsheet:{sid}", tabs, cfg) == [MARK + "Summary", MARK + "Flags"]
    assert [(e["kind"], e["status"]) for e in fake.log] == [("batchUpdate", 400), ("get", 200), ("batchUpdate", 200)]
    assert sorted(our_sheets(fake, sid)) == [MARK + "Flags", MARK + "Summary"]


def test_request_budget_makes_syncs_wait_instead_of_exceeding(google_env):
    fake = google_env.fake
    google_env.write_config(requests_per_minute=5)
    sid = fake.add_spreadsheet("demo", demo_tabs())
    clock = FakeClock()
    client.use_clock(clock)
    stamps = []
    orig = client.BUDGET.acquire

    def acquire(per_minute):
        orig(per_minute)
        stamps.append(clock.now())
    client.BUDGET.acquire = acquire
    try:
        for day in range(3):                                   # three syncs in one process: one shared budget
            code, _ = sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=day))
            assert code == 0
    finally:
        del client.BUDGET.acquire
    assert fake.count() == 9 and len(stamps) == 9
    assert clock.sleeps == [60.0]                              # the 6th request waited a minute; none exceeded
    assert all(sum(1 for t in stamps if s <= t < s + 60) <= 5 for s in stamps)
    assert client.BUDGET.waits == [60.0]


# =========================================================================== set-up failures

def test_a_key_google_does_not_know_is_an_auth_failure_and_the_key_is_not_shown(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    other = make_key()
    key_file(google_env.key, other, fake.token_uri, google_env.email)      # same account, wrong key
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and src["error_code"] == "auth"
    assert "key.json" in src["error"] and str(google_env.folder) not in src["error"]
    secret = json.loads(google_env.key.read_text())["private_key"]
    body = secret.splitlines()[1]
    code, out, err = run("--config", google_env.config, "sync", f"gsheet:{sid}", "--as-of", AS_OF)
    assert code == 3 and body not in out + err and "PRIVATE KEY" not in out + err
    assert fake.count() == 0


@pytest.mark.parametrize("setup, expected", [
    ("missing_file", "the key file nokey.json does not exist"),
    ("no_setting", "no service-account key"),
    ("not_json", "notakey.json is not a service-account JSON key"),
])
def test_missing_or_broken_credentials(google_env, setup, expected):
    sid = google_env.fake.add_spreadsheet("demo", demo_tabs())
    if setup == "missing_file":
        google_env.write_config(credentials="nokey.json")
    elif setup == "no_setting":
        google_env.write_config(credentials="")
    else:
        (google_env.folder / "notakey.json").write_text('{"type": "authorized_user", "private_key": "x"}')
        google_env.write_config(credentials="notakey.json")
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and src["error_code"] == "auth" and expected in src["error"]


def test_google_application_credentials_and_the_api_url_variable(google_env, monkeypatch):
    sid = google_env.fake.add_spreadsheet("demo", demo_tabs())
    google_env.write_config(credentials="", api_url="http://127.0.0.1:9")     # nothing listens there
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(google_env.key))
    monkeypatch.setenv("CAMPAIGNWATCH_SHEETS_API_URL", google_env.fake.url)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0 and doc["sources"][0]["status"] == "ok"


def test_not_found_forbidden_and_unreachable(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("private", demo_tabs())
    fake.forbidden.add(sid)
    code, doc = sync_json(google_env, "gsheet:nope", f"gsheet:{sid}")
    missing, private = doc["sources"]
    assert code == 3
    assert missing["error_code"] == "not_found" and "gsheet:nope was not found" in missing["error"]
    assert private["error_code"] == "forbidden" and google_env.email in private["error"]
    google_env.write_config(api_url="http://127.0.0.1:9", max_retries=0)
    client.reset()
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 3 and doc["sources"][0]["error_code"] == "unreachable"


# =========================================================================== big writes

def test_a_write_too_big_for_one_request_goes_through_hidden_sheets(google_env, monkeypatch):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    sync_json(google_env, f"gsheet:{sid}")
    old = {t: fake.grid(sid, t) for t in OURS}
    seen = []                                                  # what a reader sees after every batchUpdate
    orig = fake._batch_update

    def spy(book_id, body):
        out = orig(book_id, body)
        seen.append({s["properties"]["title"]: fake.grid(sid, s["properties"]["title"])
                     for s in fake.book(sid)["sheets"]
                     if s["properties"]["title"].startswith(MARK) and not s["properties"].get("hidden")})
        return out
    fake._batch_update = spy
    monkeypatch.setattr(gwrite, "MAX_BATCH_BYTES", 40_000)
    fake.log.clear()
    code, doc = sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=1))
    assert code == 0, doc
    updates = [e for e in fake.log if e["kind"] == "batchUpdate"]
    assert len(updates) >= 3 and all(e["bytes"] <= 40_000 for e in updates)
    new = {t: fake.grid(sid, t) for t in OURS}
    assert new != old
    for state in seen:                     # old tabs, or new tabs — never a mixture, never half a tab
        assert state in (old, new)
    assert seen[-1] == new
    assert sorted(our_sheets(fake, sid)) == sorted(OURS)
    assert not any("~" in t for t in fake.titles(sid))         # no staging sheet left behind
    assert all(len(s["developerMetadata"]) == 1 for s in our_sheets(fake, sid).values())


# =========================================================================== init --google

def test_init_google_lays_the_missing_tabs_and_leaves_existing_ones(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("new", {"Sheet1": [["scratch"]], "活动": [["活动编号", "活动名称"], ["C1", "中秋"]]})
    before = {t: fake.snapshot(sid, t) for t in fake.titles(sid)}
    code, out, err = run("--config", google_env.config, "init", "--google", f"gsheet:{sid}")
    assert code == 0, err
    assert [e["kind"] for e in fake.log] == ["get", "batchUpdate"]
    added = [t.en for t in TABLES if t.key != "campaigns"]
    assert fake.titles(sid) == ["Sheet1", "活动", "Guide", *added]
    assert out.strip().endswith(f"gsheet:{sid}: Guide, " + ", ".join(added))
    assert {t: fake.snapshot(sid, t) for t in before} == before
    exp = fake.sheet(sid, "Expenses")
    assert exp["properties"]["gridProperties"]["frozenRowCount"] == 1
    assert [exp["cells"][(0, c)]["userEnteredValue"]["stringValue"] for c in range(3)] == \
        ["Expense ID", "Campaign ID", "Budget line"]
    assert exp["cells"][(0, 0)]["userEnteredFormat"]["textFormat"]["bold"] is True
    assert "note" in exp["cells"][(0, 0)]
    rules = {v["range"][2]: v["rule"] for v in exp["validations"]}
    assert rules[1]["condition"] == {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "='活动'!$A$2:$A$2000"}]}
    assert rules[5]["condition"]["type"] == "ONE_OF_LIST"
    assert [v["userEnteredValue"] for v in rules[5]["condition"]["values"]] == ["committed", "actual"]
    assert all(r["strict"] is False for r in rules.values()) and rules[5]["showCustomUi"] is True
    date_cell = exp["cells"][(1, 3)]["userEnteredFormat"]["numberFormat"]
    assert date_cell == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    # a second init finds everything there: one request, nothing added
    code, out, _ = run("--config", google_env.config, "init", "--google", f"gsheet:{sid}")
    assert code == 0 and "all were there" in out and fake.count() == 3


def test_init_google_then_sync_reads_the_laid_tabs(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("new", {"Sheet1": []})
    code, _, _ = run("--config", google_env.config, "init", "--google", f"gsheet:{sid}", "--lang", "zh-CN")
    assert code == 0 and "活动" in fake.titles(sid) and "使用说明" in fake.titles(sid)
    code, out, _ = run("--config", google_env.config, "validate", f"gsheet:{sid}", "--as-of", AS_OF, "--json")
    src = json.loads(out)["sources"][0]
    assert src["status"] == "ok" and src["language"] == "zh-CN"
    assert not [f for f in src["findings"] if f["code"] in ("TAB_MISSING", "HEADER_NOT_FOUND", "COLUMN_MISSING")]


def test_init_google_failure_is_one_sentence_and_exit_3(google_env):
    code, _, err = run("--config", google_env.config, "init", "--google", "gsheet:nope")
    assert code == 3 and err.startswith("campaignwatch: gsheet:nope was not found") and err.count("\n") == 1


# =========================================================================== the fake itself, and imports

def test_the_fake_applies_a_batch_all_or_nothing(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("x", {"A": [["a"]]})
    api = client.connect(load(str(google_env.config)), f"gsheet:{sid}")
    from campaignwatch.errors import SourceError
    with pytest.raises(SourceError) as info:
        api.batch_update(sid, [{"addSheet": {"properties": {"title": "B"}}},
                               {"updateCells": {"start": {"sheetId": 0, "rowIndex": 5000}, "fields": "*",
                                                "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}]}}])
    assert info.value.code == "rejected" and "exceeds grid limits" in info.value.detail
    assert fake.titles(sid) == ["A"]
    assert fake.log[-1]["status"] == 400


def test_campaignwatch_does_not_import_gspread_or_google_auth_at_start():
    code = ("import sys; import campaignwatch.cli, campaignwatch.pipeline, campaignwatch.sync, campaignwatch.report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gspread', 'google', 'requests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False,
                         env={"PYTHONPATH": str(ROOT / "lib"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_write_without_a_read_fetches_the_metadata_itself(google_env):
    """How the coordinator writes a dashboard kept in a Google Sheet: no read before the write."""
    fake = google_env.fake
    sid = fake.add_spreadsheet("dash", {"Notes": [["ours"]]})
    from campaignwatch.tabspec import TabSpec
    url = "https://docs.google.com/spreadsheets/d/other/edit"
    tab = TabSpec("dash_campaigns", MARK + "All campaigns", ["t", "u"], ["Campaign", "Where"], ["text", "text"],
                  [["C-01", "other › Expenses!E6"], ["C-02", "teams/a.xlsx › Expenses!E7"]],
                  links={(0, 1): url, (1, 1): "teams/a.xlsx#Expenses!E7"})
    cfg = load(str(google_env.config))
    assert gwrite.write_tabs(f"gsheet:{sid}", [tab], cfg) == [MARK + "All campaigns"]
    assert [e["kind"] for e in fake.log] == ["get", "batchUpdate"]
    cells = fake.sheet(sid, MARK + "All campaigns")["cells"]
    assert cells[(4, 1)]["textFormatRuns"][0]["format"]["link"] == {"uri": url}
    assert "textFormatRuns" not in cells[(5, 1)]                 # a file on someone's disk: no link from Google


def test_an_api_url_that_is_not_a_url_is_one_clear_failure(google_env, monkeypatch):
    sid = google_env.fake.add_spreadsheet("demo", demo_tabs())
    google_env.write_config(api_url="localhost:8085")          # refused when the settings load
    code, out, err = run("--config", google_env.config, "sync", f"gsheet:{sid}", "--json")
    assert code == 2 and out == "" and "google.api_url" in err
    google_env.write_config()
    monkeypatch.setenv("CAMPAIGNWATCH_SHEETS_API_URL", "localhost:8085")      # the variable is not checked up front
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and src["error_code"] == "unreachable" and "google.api_url" in src["error"]


def test_a_big_write_failing_midway_leaves_the_old_tabs_and_the_next_run_cleans_up(google_env, monkeypatch):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    sync_json(google_env, f"gsheet:{sid}")
    old = {t: fake.grid(sid, t) for t in OURS}
    monkeypatch.setattr(gwrite, "MAX_BATCH_BYTES", 40_000)
    orig = fake.handle

    def handle(method, path, query, headers, body):      # quota runs out after the first staging request
        if path.endswith(":batchUpdate") and fake.count("batchUpdate") == 2:
            fake.fail_next(429, 10)
        return orig(method, path, query, headers, body)
    fake.handle = handle
    code, doc = sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=1))
    assert code == 3 and doc["sources"][0]["error_code"] == "quota"
    staging = [s for s in fake.book(sid)["sheets"] if s["properties"]["title"].startswith(MARK + "~")]
    assert staging and all(s["properties"]["hidden"] for s in staging)
    assert {t: fake.grid(sid, t) for t in OURS} == old                 # what people see is untouched
    fake.handle = orig
    fake.clear_faults()
    code, doc = sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=1))
    assert code == 0
    assert not any(t.startswith(MARK + "~") for t in fake.titles(sid))
    assert sorted(our_sheets(fake, sid)) == sorted(OURS)


def test_clean_spreadsheet_removes_only_our_tabs(google_env):
    fake = google_env.fake
    tabs = demo_tabs()
    tabs[MARK + "Mine"] = [["a person's tab with our prefix"]]
    sid = fake.add_spreadsheet("demo", tabs)
    sync_json(google_env, f"gsheet:{sid}")
    fake.log.clear()
    removed = gwrite.clean_spreadsheet(f"gsheet:{sid}", load(str(google_env.config)))
    assert sorted(removed) == sorted(OURS)
    assert fake.titles(sid) == list(tabs)
    assert [e["kind"] for e in fake.log] == ["get", "batchUpdate"]


def test_clean_removes_our_tabs_and_restore_points_to_version_history(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    before = fake.titles(sid)
    sync_json(google_env, f"gsheet:{sid}")
    assert fake.titles(sid)[-7:] == OURS
    code, _, _ = run("--config", google_env.config, "clean", f"gsheet:{sid}")
    assert code == 0
    assert fake.titles(sid) == before
    code, _, err = run("--config", google_env.config, "restore", f"gsheet:{sid}")
    assert code == 2 and "Version history" in err
