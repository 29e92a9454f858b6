"""Every request the Google backend sends fits Google's own description of the Sheets API, and
every 5xx is retried — an HTML error page from Google's front end included.

The fake (tests/fake_sheets.py) checks every request it receives against the Sheets v4
discovery document that google-api-python-client ships (tests/discovery_check.py), so the
whole Google test suite runs with the check on; here: the flows end to end (init in both
languages, sync, a second sync in place, a language switch, writes over 2 MB staged through
hidden sheets, clean), the checker itself, and the token request.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

import discovery_check as dc
from conftest import AS_OF, FakeClock, cli_run as run, demo_tabs, gsheet_sync_json as sync_json, our_sheets, our_tabs
from fake_sheets import google_env  # noqa: F401 - fixture
from campaignwatch.config import load
from campaignwatch.gsheets import client, write as gwrite
from campaignwatch.names import MARK
from campaignwatch.errors import SourceError
from campaignwatch.tabspec import TabSpec

OURS = our_tabs()


# =========================================================================== the document

def test_the_discovery_document_is_the_one_google_api_python_client_ships():
    path = dc.document_path()
    assert path.is_file() and path.parts[-4:] == ("googleapiclient", "discovery_cache", "documents",
                                                  "sheets.v4.json")
    doc = dc.document()
    assert (doc["id"], doc["rootUrl"]) == ("sheets:v4", "https://sheets.googleapis.com/")
    names = {m[0] for m in dc.methods()}
    assert {"spreadsheets.get", "spreadsheets.batchUpdate", "spreadsheets.values.batchGet",
            "spreadsheets.developerMetadata.search"} <= names


# =========================================================================== every flow, every request

def big_tab(key: str, name: str, rows: int) -> TabSpec:
    """A generated tab whose content alone is well over 1 MB: every kind of cell the writer makes."""
    body = []
    fills, links = {}, {}
    for i in range(rows):
        body.append([f"C-{i:05d} — {'长文本' * 3} {'x' * 1000}", Decimal("1234.5") + i, i / 1000, AS_OF,
                     dt.datetime(2026, 11, 26, 9, 30), i, float(i) + 0.25, True if i % 2 else None,
                     float("inf") if i == 3 else "=SUM(A1)"])
        fills[(i, 0)] = ("red", "amber", "green", "grey")[i % 4]
        links[(i, 0)] = "'Expenses'!E7" if i % 3 else "https://example.invalid/doc"
    return TabSpec(key, name, ["Big tab", "generated"], ["Text", "Money", "Pct", "Date", "When", "Int", "Num",
                                                          "Bool", "Odd"],
                   ["text", "money", "percent", "date", "datetime", "int", "number", "text", "text"],
                   body, fills=fills, links=links)


@pytest.mark.slow
def test_every_request_of_init_sync_clean_and_a_big_write_fits_the_discovery_document(google_env):
    fake = google_env.fake
    google_env.write_config(timeout_seconds=60.0)           # the fake copies the whole book per batchUpdate
    cfg = load(str(google_env.config))
    for lang, sid in (("en", "init-en"), ("zh-CN", "init-zh")):
        fake.add_spreadsheet(sid, {"Sheet1": []})
        code, _, err = run("--config", google_env.config, "init", "--google", f"gsheet:{sid}", "--lang", lang)
        assert code == 0, err
    sid = fake.add_spreadsheet("flow", demo_tabs())
    assert sync_json(google_env, f"gsheet:{sid}")[0] == 0
    assert sync_json(google_env, f"gsheet:{sid}", as_of=AS_OF + dt.timedelta(days=1))[0] == 0
    assert sync_json(google_env, f"gsheet:{sid}", extra=("--lang", "zh-CN"))[0] == 0       # renames
    # over 2 MB: staged through hidden sheets over several batchUpdates, twice (the second replaces the first)
    tabs = [big_tab("summary", MARK + "Big one", 1000), big_tab("flags", MARK + "Big two", 500)]
    before = fake.count("batchUpdate")
    assert gwrite.write_tabs(f"gsheet:{sid}", tabs, cfg) == [MARK + "Big one", MARK + "Big two"]
    assert gwrite.write_tabs(f"gsheet:{sid}", tabs, cfg) == [MARK + "Big one", MARK + "Big two"]
    big = [e for e in fake.log if e["kind"] == "batchUpdate"][before:]
    assert sum(e["bytes"] for e in big) > 2 * gwrite.MAX_BATCH_BYTES
    assert len(big) >= 6 and all(e["bytes"] <= gwrite.MAX_BATCH_BYTES for e in big)
    assert not any(t.startswith(MARK + "~") for t in fake.titles(sid))
    assert sorted(gwrite.clean_spreadsheet(f"gsheet:{sid}", cfg)) == [MARK + "Big one", MARK + "Big two"]

    assert fake.violations == []
    assert all(e["status"] == 200 for e in fake.log)
    assert fake.checked == fake.count() + fake.token_requests         # every request was checked
    assert {e["kind"] for e in fake.log} == {"get", "batchGet", "batchUpdate"}
    assert set(fake.update_kinds) == {"addSheet", "deleteSheet", "updateSheetProperties", "updateCells",
                                      "repeatCell", "updateDimensionProperties", "setBasicFilter",
                                      "setDataValidation", "addProtectedRange", "deleteProtectedRange",
                                      "createDeveloperMetadata", "deleteDeveloperMetadata"}
    # the checker saw what matters: the request kinds, every ExtendedValue kind we write, links
    sent = json.dumps(fake.bodies)
    for needle in ('"stringValue"', '"numberValue"', '"boolValue"', '"textFormatRuns"', '"numberFormat"',
                   '"ONE_OF_LIST"', '"ONE_OF_RANGE"', '"NUMBER_BETWEEN"', '"DATE_TIME"', '"PERCENT"'):
        assert needle in sent, needle


def test_an_invalid_request_is_refused_and_named_by_path_and_field(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("x", {"A": [["a"]]})
    api = client.connect(load(str(google_env.config)), f"gsheet:{sid}")
    with pytest.raises(SourceError) as info:
        api.batch_update(sid, [{"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                                                "rows": [{"values": [{"userEnteredValue": {"numberValue": "12"}}]}],
                                                "fields": "userEnteredValue"}}])
    assert info.value.code == "rejected"
    assert fake.titles(sid) == ["A"] and fake.sheet(sid, "A")["cells"][(0, 0)] == {"userEnteredValue":
                                                                                    {"stringValue": "a"}}
    (found,) = fake.violations
    assert found.startswith("POST /v4/spreadsheets/x:batchUpdate (spreadsheets.batchUpdate): ")
    assert "requests[0].updateCells.rows[0].values[0].userEnteredValue.numberValue: expected a number" in found
    fake.violations.clear()                       # sent on purpose: do not fail the test at teardown


# =========================================================================== the checker itself

BATCH = "/v4/spreadsheets/s1:batchUpdate"


def batch(*requests, **extra) -> bytes:
    return json.dumps({"requests": list(requests), **extra}).encode()


@pytest.mark.parametrize("method, path, query, body, expected", [
    ("GET", "/v4/spreadsheets/s1", {"fields": ["sheets(properties(sheetId,titel))"]}, b"",
     "fields: sheets.properties.titel: no field 'titel' in SheetProperties"),
    ("GET", "/v4/spreadsheets/s1", {"includeGridData": ["no"]}, b"", "includeGridData='no': expected true or false"),
    ("GET", "/v4/spreadsheets/s1", {"valueRenderOption": ["FORMULA"]}, b"", "unknown query parameter"),
    ("GET", "/v4/spreadsheets/s1/values:batchGet", {"ranges": ["'A'"], "valueRenderOption": ["UNFORMATTED"]}, b"",
     "valueRenderOption='UNFORMATTED': not one of FORMATTED_VALUE, UNFORMATTED_VALUE, FORMULA"),
    ("GET", "/v4/spreadsheets/s1/values:batchGet", {"ranges": ["'A'"], "dateTimeRenderOption": ["SERIAL"]}, b"",
     "dateTimeRenderOption='SERIAL'"),
    ("GET", "/v4/spreadsheets/s1/values:batchGet", {"majorDimension": ["ROWS", "ROWS"]}, b"",
     "'majorDimension' given 2 times and is not repeated"),
    ("GET", "/v4/spreadsheets/s1/values:batchGet", {"majorDimension": ["DIMENSION_UNSPECIFIED"]}, b"",
     "the enum's default"),
    ("POST", "/v4/spreadsheets/s1", {}, b"", "spreadsheets.get is GET, not POST"),
    ("GET", "/v4/spreadsheets/s1:batchUpdate", {}, b"", "spreadsheets.batchUpdate is POST, not GET"),
    ("GET", "/v4/files/s1", {}, b"", "no such method"),
    ("GET", "/v4/spreadsheets/s1", {}, b"{}", "takes no request body"),
    ("POST", BATCH, {}, b"[1]", "must be a JSON object"),
    ("POST", BATCH, {}, batch({"frobnicate": {}}), "requests[0].frobnicate: no field 'frobnicate' in Request"),
    ("POST", BATCH, {}, batch({"addSheet": {}, "deleteSheet": {"sheetId": 1}}),
     "requests[0]: a Request must have exactly one kind set, got addSheet, deleteSheet"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"sheetId": "7"}}}),
     "requests[0].addSheet.properties.sheetId: expected an integer, got a string '7'"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"sheetId": 2**31}}}), "does not fit an int32"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"gridProperties": {"rowCount": 2.5}}}}),
     "rowCount: expected an integer, got a number 2.5"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"hidden": "false"}}}),
     "hidden: expected true or false"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"title": None}}}), "properties.title: null"),
    ("POST", BATCH, {}, batch({"addSheet": {"properties": {"tabColorStyle": {}}}}),
     "a ColorStyle must have exactly one kind set, got none"),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}, "fields": "*", "rows": [{"values": [
        {"userEnteredValue": {"stringValue": "a", "numberValue": 1}}]}]}}),
     "a ExtendedValue must have exactly one kind set, got stringValue, numberValue"),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}, "fields": "*", "rows": [{"values": [
        {"userEnteredValue": {"errorValue": {"type": "REF"}}}]}]}}), "ExtendedValue.errorValue is read-only"),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}, "fields": "userEnteredValue,notes"}}),
     "requests[0].updateCells.fields: notes: no field 'notes' in CellData"),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}}}), "needs a non-empty fields mask"),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}, "start": {"sheetId": 1}, "fields": "*"}}),
     "a UpdateCellsRequest has one of start, range, got start, range"),
    ("POST", BATCH, {}, batch({"updateCells": {"fields": "*"}}),
     "a UpdateCellsRequest has one of start, range, got none"),
    ("POST", BATCH, {}, batch({"repeatCell": {"range": {"sheetId": 1}, "cell": {},
                                              "fields": "userEnteredFormat.numberFormats"}}),
     "no field 'numberFormats' in CellFormat"),
    ("POST", BATCH, {}, batch({"updateSheetProperties": {"properties": {"sheetId": 1},
                                                         "fields": "gridProperties.rows"}}),
     "no field 'rows' in GridProperties"),
    ("POST", BATCH, {}, batch({"updateDimensionProperties": {"range": {"sheetId": 1, "dimension": "ROW"},
                                                             "properties": {"pixelSize": 3}, "fields": "pixelSize"}}),
     "'ROW' is not one of DIMENSION_UNSPECIFIED, ROWS, COLUMNS"),
    ("POST", BATCH, {}, batch({"setDataValidation": {"range": {"sheetId": 1}, "rule": {"condition": {
        "type": "ONE_OF_LIST", "values": [{"userEnteredValue": 5}]}}}}),
     "values[0].userEnteredValue: expected a string, got an integer 5"),
    ("POST", BATCH, {}, batch({"addProtectedRange": {"protectedRange": {"protectedRangeId": 4}}}),
     "ProtectedRange.protectedRangeId is read-only"),
    ("POST", BATCH, {}, batch({"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": "k", "visibility": "EVERYONE", "location": {"sheetId": 1, "spreadsheet": True}}}}),
     "'EVERYONE' is not one of"),
    ("POST", BATCH, {}, batch({"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": "k", "visibility": "DOCUMENT", "location": {"sheetId": 1, "spreadsheet": True}}}}),
     "a DeveloperMetadataLocation is one of sheetId, spreadsheet, dimensionRange, got sheetId, spreadsheet"),
    ("POST", BATCH, {}, batch({"deleteSheet": {"sheetId": 1}}, includeSpreadsheetInResponse="false"),
     "includeSpreadsheetInResponse: expected true or false"),
    ("POST", BATCH, {}, batch({"deleteSheet": {"sheetId": 1}}, responseRange=["A1"]),
     "responseRange: no field 'responseRange' in BatchUpdateSpreadsheetRequest"),
])
def test_the_checker_finds_what_the_api_would_not_take(method, path, query, body, expected):
    found = dc.check_request(method, path, query, body)
    assert any(expected in f for f in found), found


@pytest.mark.parametrize("method, path, query, body", [
    ("GET", "/v4/spreadsheets/s1", {"includeGridData": ["false"], "fields": ["sheets(properties(sheetId,title,"
                                    "gridProperties.rowCount),developerMetadata(metadataKey,location))"]}, b""),
    ("GET", "/v4/spreadsheets/s1/values:batchGet", {"ranges": ["'A'", "'B b'!A1:C3"], "majorDimension": ["ROWS"],
                                                    "valueRenderOption": ["UNFORMATTED_VALUE"],
                                                    "dateTimeRenderOption": ["SERIAL_NUMBER"]}, b""),
    ("POST", "/v4/spreadsheets/s1/developerMetadata:search", {},
     b'{"dataFilters": [{"developerMetadataLookup": {"metadataKey": "campaignwatch-tab"}}]}'),
    ("GET", "/v4/spreadsheets/s1/values/'A'!A1:B2", {}, b""),
    ("POST", BATCH, {}, batch({"updateCells": {"range": {"sheetId": 1}, "fields": "*"}},
                              {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
                                  "metadataKey": "k", "metadataLocation": {"sheetId": 1}}}}},
                              includeSpreadsheetInResponse=False)),
])
def test_the_checker_takes_what_the_api_takes(method, path, query, body):
    assert dc.check_request(method, path, query, body) == []


# =========================================================================== the token request

def test_the_token_request_is_google_auths_and_is_checked(google_env):
    fake = google_env.fake
    seen = []
    orig = fake._token

    def token(method, body):
        seen.append(body)
        return orig(method, body)
    fake._token = token
    sid = fake.add_spreadsheet("demo", demo_tabs())
    assert sync_json(google_env, f"gsheet:{sid}")[0] == 0
    (body,) = seen
    assert dc.check_token_request("POST", body) == [] and fake.violations == []
    assert fake.checked == fake.count() + 1
    bad = body + b"&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive"
    assert "form fields" in dc.check_token_request("POST", bad)[0]
    assert dc.check_token_request("GET", body) == ["GET token request: must be a POST"]


# =========================================================================== 5xx with an HTML body

def test_a_502_html_page_is_retried_and_the_sync_completes(google_env):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    clock = FakeClock()
    client.use_clock(clock)
    fake.fail_next(502, 2, html=True)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    assert code == 0 and doc["sources"][0]["status"] == "ok"
    assert [e["status"] for e in fake.log] == [502, 502, 200, 200, 200] and fake.count() == 5
    assert len(clock.sleeps) == 2
    assert sorted(our_sheets(fake, sid)) == sorted(OURS)


def test_a_persistent_503_html_page_is_unreachable_within_the_retry_budget(google_env, tmp_path):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    clock = FakeClock()
    client.use_clock(clock)
    fake.fail_next(503, 50, html=True)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and (src["status"], src["error_code"]) == ("failed", "unreachable")
    assert "HTTP 503 on 3 attempts" in src["error"] and "<" not in src["error"]
    assert fake.count() == 3 and len(clock.sleeps) == 2            # max_retries = 2: three attempts, no more
    fake.clear_faults()


@pytest.mark.parametrize("status, expected", [(404, "not_found"), (403, "forbidden"), (400, "rejected")])
def test_a_4xx_html_page_is_judged_by_its_status_and_not_retried(google_env, status, expected):
    fake = google_env.fake
    sid = fake.add_spreadsheet("demo", demo_tabs())
    fake.fail_next(status, 5, html=True)
    code, doc = sync_json(google_env, f"gsheet:{sid}")
    src = doc["sources"][0]
    assert code == 3 and src["error_code"] == expected and "<" not in src["error"]
    assert fake.count() == 1
    fake.clear_faults()


def test_the_status_decides_even_when_gspread_parsed_no_code():
    class Response:
        status_code = 503
    from gspread.exceptions import APIError
    err = APIError.__new__(APIError)
    err.response, err.error, err.code = Response(), {"code": -1, "message": "<html>", "status": "invalid JSON"}, -1
    assert client.http_status(err) == 503
    Response.status_code = None
    err.code = 429
    assert client.http_status(err) == 429

