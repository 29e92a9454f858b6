"""A loopback Google Sheets API v4 (and OAuth token endpoint) for tests: no test reaches the internet.

`FakeSheets` runs `http.server` in a thread on 127.0.0.1 (port 0) and serves:

* `POST /token` — the service-account JWT-bearer grant: the assertion's RS256 signature is
  checked with the public key of an accepted service account, and so are `aud` (this
  endpoint, or Google's, which google-auth always names), `exp` and the `scope` claim (the
  spreadsheets scope, nothing more); answers
  `{"access_token", "expires_in", "token_type"}`;
* `GET /v4/spreadsheets/{id}` — properties, sheets[].properties (gridProperties included),
  developerMetadata, protectedRanges, basicFilter; `fields` is honoured (nested masks);
* `GET /v4/spreadsheets/{id}/values:batchGet` — `ranges` by tab name, UNFORMATTED values
  (numbers, strings, bools, error literals such as "#DIV/0!", dates as serial numbers);
* `POST /v4/spreadsheets/{id}:batchUpdate` — addSheet, deleteSheet, updateSheetProperties,
  updateCells, repeatCell, updateDimensionProperties, setBasicFilter, clearBasicFilter,
  setDataValidation, addProtectedRange, deleteProtectedRange, createDeveloperMetadata,
  deleteDeveloperMetadata — **all or nothing**: applied to a copy that replaces the state
  only when every request succeeded; a bad request gets a 400 in the API's error shape and
  nothing is applied. Unknown request kinds and unknown JSON field names are refused, as
  the real API refuses them.

Every API call needs a bearer token the fake issued. Calls are recorded (`log`,
`count()`, `update_kinds`); `fail_next(status, n)` answers the next n API calls with that
status (429 / 500 / 503 …; `html=True`: with an HTML error page as Google's front end does),
`stall_next(n, seconds)` sleeps before answering (longer than
the client's timeout). Cells are kept as the API keeps them (`userEnteredValue`,
`userEnteredFormat`, `textFormatRuns`, `note`, …); formulas are not evaluated — a cell
built with an error literal carries it as its effective value.

Every request it receives — the token request included — is checked first against Google's
own description of the API (`tests/discovery_check.py`: the Sheets v4 discovery document
google-api-python-client ships): one that does not fit gets a 400 and is kept in
`violations`, and the `google_env` fixture fails the test that sent it, listing the path and
the offending field.

`add_spreadsheet(sid, {tab: rows})` builds a spreadsheet from values as the API returns
them (numbers, strings, bools, error strings; `date`/`datetime` objects are stored as
serial numbers with a date format, as Sheets stores typed dates).

The `google_env` fixture (import it into a test module) generates an RSA key pair
(cryptography), writes a service-account JSON key whose `token_uri` points at the fake and
a config.toml with `[google] credentials` / `api_url` pointing there.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import math
import random
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import discovery_check

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUD = "https://oauth2.googleapis.com/token"     # google-auth always signs for this audience
ERROR_TYPES = {"#NULL!": "NULL_VALUE", "#DIV/0!": "DIVIDE_BY_ZERO", "#VALUE!": "VALUE", "#REF!": "REF",
               "#NAME?": "NAME", "#NUM!": "NUM", "#N/A": "N_A", "#ERROR!": "ERROR", "#LOADING!": "LOADING"}
ERROR_LITERAL = {v: k for k, v in ERROR_TYPES.items()}
EPOCH = dt.datetime(1899, 12, 30)

# field names the real API accepts (a subset: what campaignwatch could send); others are a 400
REQUEST_KINDS = {"addSheet", "deleteSheet", "updateSheetProperties", "updateCells", "repeatCell",
                 "updateDimensionProperties", "setBasicFilter", "clearBasicFilter", "setDataValidation",
                 "addProtectedRange", "deleteProtectedRange", "createDeveloperMetadata",
                 "deleteDeveloperMetadata"}
CELL_KEYS = {"userEnteredValue", "userEnteredFormat", "textFormatRuns", "note", "dataValidation",
             "hyperlink", "effectiveValue", "formattedValue", "effectiveFormat", "pivotTable"}
VALUE_KEYS = {"stringValue", "numberValue", "boolValue", "formulaValue", "errorValue"}
FORMAT_KEYS = {"numberFormat", "backgroundColor", "backgroundColorStyle", "borders", "padding",
               "horizontalAlignment", "verticalAlignment", "wrapStrategy", "textDirection", "textFormat",
               "hyperlinkDisplayType", "textRotation"}
TEXT_FORMAT_KEYS = {"foregroundColor", "foregroundColorStyle", "fontFamily", "fontSize", "bold", "italic",
                    "strikethrough", "underline", "link"}
SHEET_PROP_KEYS = {"sheetId", "title", "index", "sheetType", "gridProperties", "hidden", "tabColor",
                   "tabColorStyle", "rightToLeft"}
GRID_KEYS = {"rowCount", "columnCount", "frozenRowCount", "frozenColumnCount", "hideGridlines",
             "rowGroupControlAfter", "columnGroupControlAfter"}
RANGE_KEYS = {"sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex"}
CONDITIONS = {"NUMBER_BETWEEN", "NUMBER_GREATER", "NUMBER_LESS", "ONE_OF_LIST", "ONE_OF_RANGE",
              "TEXT_CONTAINS", "DATE_IS_VALID", "CUSTOM_FORMULA", "BOOLEAN", "NUMBER_EQ"}


class BadRequest(Exception):
    def __init__(self, message: str, code: int = 400, status: str = "INVALID_ARGUMENT"):
        super().__init__(message)
        self.code, self.status = code, status


def _unknown(obj: dict, allowed: set, where: str) -> None:
    if not isinstance(obj, dict):
        raise BadRequest(f"Invalid value at '{where}': expected an object")
    for k in obj:
        if k not in allowed:
            raise BadRequest(f'Invalid JSON payload received. Unknown name "{k}" at \'{where}\': Cannot find field.')


# --------------------------------------------------------------------------- field masks

def parse_fields(text: str) -> dict | None:
    """`a(b,c.d),e` → {"a": {"b": None, "c": {"d": None}}, "e": None}; None or "*" → everything."""
    text = (text or "").strip()
    if not text or text == "*":
        return None
    pos = 0

    def parse_list(end: str | None) -> dict:
        nonlocal pos
        out: dict = {}
        while pos < len(text):
            m = re.compile(r"\s*([A-Za-z_*][\w*]*(?:\.[A-Za-z_*][\w*]*)*)\s*").match(text, pos)
            if not m:
                raise BadRequest(f"Invalid field selection {text}")
            path = m.group(1).split(".")
            pos = m.end()
            sub = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(")")
            node = out
            for p in path[:-1]:
                node = node.setdefault(p, {}) if node.get(p, {}) is not None else node
            last = path[-1]
            if last in node and node[last] is None:
                pass
            elif sub is None:
                node[last] = None
            else:
                node[last] = {**(node.get(last) or {}), **sub}
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if end and pos < len(text) and text[pos] == end:
                pos += 1
                return out
        return out

    return parse_list(None)


def apply_fields(obj, mask):
    if mask is None or "*" in (mask or {}):
        return obj
    if isinstance(obj, list):
        return [apply_fields(x, mask) for x in obj]
    if isinstance(obj, dict):
        return {k: apply_fields(obj[k], sub) for k, sub in mask.items() if k in obj}
    return obj


# --------------------------------------------------------------------------- values

def serial(v: dt.date) -> float | int:
    if isinstance(v, dt.datetime):
        delta = v.replace(tzinfo=None) - EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    return (v - EPOCH.date()).days


def from_serial(v: float, with_time: bool):
    when = EPOCH + dt.timedelta(days=math.floor(v), seconds=round((v - math.floor(v)) * 86400))
    return when if with_time and when.time() != dt.time() else when.date()


def _json_number(v: float):
    return int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v


def effective(cell: dict):
    """A cell's value as UNFORMATTED_VALUE renders it (None: empty)."""
    ev = cell.get("effectiveValue")
    uv = ev if ev is not None else cell.get("userEnteredValue")
    if not uv:
        return None
    if "errorValue" in uv:
        return ERROR_LITERAL.get(uv["errorValue"].get("type"), "#ERROR!")
    if "stringValue" in uv:
        return uv["stringValue"]
    if "numberValue" in uv:
        return _json_number(uv["numberValue"])
    if "boolValue" in uv:
        return uv["boolValue"]
    if "formulaValue" in uv:
        return uv["formulaValue"]          # the fake does not calculate
    return None


@dataclass
class Fault:
    status: int = 0
    stall: float = 0.0
    retry_after: float | None = None
    apply: bool = False              # a stall after the request was carried out (the answer is lost)
    html: bool = False               # answer with the HTML error page of Google's front end, not JSON


# --------------------------------------------------------------------------- the fake

class FakeSheets:
    def __init__(self, validate: bool = True) -> None:
        self.validate = validate                     # check every request against the discovery document
        self.violations: list[str] = []              # what those checks found (a 400 was answered)
        self.checked = 0                             # requests checked against the discovery document
        self.lock = threading.RLock()
        self.books: dict[str, dict] = {}
        self.keys: dict[str, object] = {}            # client_email -> RSA public key
        self.tokens: dict[str, float] = {}           # token -> expiry (time.time())
        self.log: list[dict] = []                    # every API call (not the token endpoint)
        self.token_requests = 0
        self.update_kinds: Counter = Counter()
        self.bodies: list[dict] = []                 # batchUpdate bodies as received
        self.faults: list[Fault] = []
        self.forbidden: set[str] = set()
        self.rng = random.Random(7)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.released = threading.Event()

    # -- lifecycle
    def start(self, port: int = 0) -> FakeSheets:
        fake = self

        class Handler(_Handler):
            pass
        Handler.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       name="fake-sheets", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # -- set-up helpers
    def accept_key(self, client_email: str, public_key) -> None:
        self.keys[client_email] = public_key

    def fail_next(self, status: int, n: int = 1, retry_after: float | None = None, html: bool = False) -> None:
        """Answer the next n API calls with `status`: the API's JSON error, or with `html` the
        `text/html` error page Google's front end sends for some 502 / 503s."""
        with self.lock:
            self.faults += [Fault(status=status, retry_after=retry_after, html=html) for _ in range(n)]

    def stall_next(self, n: int = 1, seconds: float = 5.0, apply: bool = False) -> None:
        """Sleep `seconds` before answering the next n API calls; with `apply` the call is carried
        out first (a write that succeeded although the client timed out)."""
        with self.lock:
            self.faults += [Fault(stall=seconds, apply=apply) for _ in range(n)]

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def add_spreadsheet(self, sid: str | None = None, tabs: dict[str, list[list]] | None = None,
                        title: str = "Campaigns 2026") -> str:
        sid = sid or "fake" + secrets.token_hex(8)
        book = {"spreadsheetId": sid, "properties": {"title": title, "locale": "en_US", "timeZone": "Asia/Shanghai"},
                "sheets": [], "developerMetadata": [], "next_pr": 1000, "next_dm": 5000}
        for i, (name, rows) in enumerate((tabs or {"Sheet1": []}).items()):
            sheet = self._new_sheet(book, 0 if i == 0 else self.rng.randrange(1, 2**31 - 1), name,
                                    max(1000, len(rows)), max([26] + [len(r) for r in rows]))
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    cell = self.cell_for(v)
                    if cell:
                        sheet["cells"][(r, c)] = cell
            book["sheets"].append(sheet)
        with self.lock:
            self.books[sid] = book
        return sid

    @staticmethod
    def cell_for(v) -> dict | None:
        """A cell holding `v` the way Sheets stores what a person typed."""
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return {"userEnteredValue": {"boolValue": v}}
        if isinstance(v, (dt.date, dt.datetime)):
            kind = ("DATE_TIME", "yyyy-mm-dd hh:mm:ss") if isinstance(v, dt.datetime) else ("DATE", "yyyy-mm-dd")
            return {"userEnteredValue": {"numberValue": serial(v)},
                    "userEnteredFormat": {"numberFormat": {"type": kind[0], "pattern": kind[1]}}}
        if isinstance(v, (int, float)):
            return {"userEnteredValue": {"numberValue": v}}
        if isinstance(v, str) and v in ERROR_TYPES:
            return {"userEnteredValue": {"formulaValue": "=ERROR()"},
                    "effectiveValue": {"errorValue": {"type": ERROR_TYPES[v], "message": "error"}}}
        return {"userEnteredValue": {"stringValue": str(v)}}

    def _new_sheet(self, book, sheet_id: int, title: str, rows: int = 1000, cols: int = 26) -> dict:
        return {"properties": {"sheetId": sheet_id, "title": title, "index": len(book["sheets"]),
                               "sheetType": "GRID", "gridProperties": {"rowCount": rows, "columnCount": cols}},
                "cells": {}, "developerMetadata": [], "protectedRanges": [], "basicFilter": None,
                "validations": [], "dimensions": {}}

    # -- inspection helpers
    def book(self, sid: str) -> dict:
        return self.books[sid]

    def sheet(self, sid: str, title: str) -> dict:
        return next(s for s in self.books[sid]["sheets"] if s["properties"]["title"] == title)

    def titles(self, sid: str) -> list[str]:
        return [s["properties"]["title"] for s in self.books[sid]["sheets"]]

    def snapshot(self, sid: str, title: str) -> bytes:
        """The stored state of one tab, serialised: byte-for-byte comparable."""
        s = self.sheet(sid, title)
        flat = dict(s, cells=sorted([[list(k), v] for k, v in s["cells"].items()], key=lambda x: x[0]))
        return json.dumps(flat, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")

    def grid(self, sid: str, title: str) -> list[list]:
        """Effective values of a tab as python values: a number with a date format is a date."""
        s = self.sheet(sid, title)
        if not s["cells"]:
            return []
        nr = max(r for r, _ in s["cells"]) + 1
        nc = max(c for _, c in s["cells"]) + 1
        out = [[None] * nc for _ in range(nr)]
        for (r, c), cell in s["cells"].items():
            v = effective(cell)
            nf = ((cell.get("userEnteredFormat") or {}).get("numberFormat") or {}).get("type")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and nf in ("DATE", "DATE_TIME"):
                v = from_serial(v, nf == "DATE_TIME")
            out[r][c] = v
        return out

    def count(self, kind: str | None = None) -> int:
        with self.lock:
            return sum(1 for e in self.log if kind is None or e["kind"] == kind)

    def metadata_of(self, sid: str, title: str) -> list[dict]:
        return self.sheet(sid, title)["developerMetadata"]

    # -- dispatch (called from the handler threads)
    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, dict, dict]:
        if self.validate:
            found = (discovery_check.check_token_request(method, body) if path == "/token"
                     else discovery_check.check_request(method, path, query, body))
            with self.lock:
                self.checked += 1
            if found:
                with self.lock:
                    self.violations += found
                    if path != "/token":
                        self.log.append({"method": method, "path": path, "kind": "invalid", "query": query,
                                         "bytes": len(body), "status": 400})
                return 400, _error(400, "Invalid request: " + "; ".join(found), "INVALID_ARGUMENT"), {}
        if path == "/token":
            return self._token(method, body)
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(/values:batchGet|:batchUpdate)?", path)
        kind = {None: "get", "/values:batchGet": "batchGet", ":batchUpdate": "batchUpdate"}.get(
            m.group(2) if m else "", "other")
        entry = {"method": method, "path": path, "kind": kind, "query": query, "bytes": len(body), "status": None}
        with self.lock:
            self.log.append(entry)
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.stall and not fault.apply:
            self.released.wait(fault.stall)
            entry["status"] = "stalled"
            return 503, _error(503, "stalled", "UNAVAILABLE"), {}
        if fault is not None and fault.status:
            entry["status"] = fault.status
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.html:
                extra["Content-Type"] = "text/html; charset=UTF-8"
                return fault.status, html_error_page(fault.status), extra
            status = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(fault.status, "UNKNOWN")
            return fault.status, _error(fault.status, f"injected {fault.status}", status), extra
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self.lock:
            expiry = self.tokens.get(token)
        if expiry is None or expiry < time.time():
            entry["status"] = 401
            return 401, _error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                    "token, login cookie or other valid authentication credential.",
                               "UNAUTHENTICATED"), {}
        if m is None:
            entry["status"] = 404
            return 404, _error(404, "Requested entity was not found.", "NOT_FOUND"), {}
        sid = unquote(m.group(1))
        with self.lock:
            if sid not in self.books:
                entry["status"] = 404
                return 404, _error(404, "Requested entity was not found.", "NOT_FOUND"), {}
            if sid in self.forbidden:
                entry["status"] = 403
                return 403, _error(403, "The caller does not have permission", "PERMISSION_DENIED"), {}
            try:
                if kind == "get" and method == "GET":
                    out = self._get(sid, query)
                elif kind == "batchGet" and method == "GET":
                    out = self._batch_get(sid, query)
                elif kind == "batchUpdate" and method == "POST":
                    out = self._batch_update(sid, body)
                else:
                    raise BadRequest("Method not allowed", 405, "INVALID_ARGUMENT")
            except BadRequest as err:
                entry["status"] = err.code
                return err.code, _error(err.code, str(err), err.status), {}
        entry["status"] = 200
        if fault is not None and fault.stall:
            self.released.wait(fault.stall)
            entry["status"] = "applied, stalled"
        return 200, out, {}

    # -- token endpoint
    def _token(self, method: str, body: bytes):
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(body.decode("ascii", "replace")).items()}
        if method != "POST" or form.get("grant_type") != JWT_GRANT or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}, {}
        try:
            head_b64, claims_b64, sig_b64 = form["assertion"].split(".")
            claims = json.loads(_b64(claims_b64))
            header = json.loads(_b64(head_b64))
        except (ValueError, KeyError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT."}, {}
        key = self.keys.get(claims.get("iss"))
        if key is None or header.get("alg") != "RS256":
            return 400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"}, {}
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        try:
            key.verify(_b64(sig_b64), f"{head_b64}.{claims_b64}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, {}
        now = time.time()
        fresh = claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0) + 300
        if claims.get("aud") not in (GOOGLE_TOKEN_AUD, self.token_uri) or not fresh:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: bad aud, iat or exp."}, {}
        if claims.get("scope") != SCOPE:
            return 400, {"error": "invalid_scope", "error_description": f"Unexpected scope {claims.get('scope')!r}"}, {}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = now + 3600
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}

    # -- GET spreadsheet
    def _public(self, book: dict) -> dict:
        sheets = []
        for s in book["sheets"]:
            d = {"properties": copy.deepcopy(s["properties"])}
            if s["developerMetadata"]:
                d["developerMetadata"] = copy.deepcopy(s["developerMetadata"])
            if s["protectedRanges"]:
                d["protectedRanges"] = copy.deepcopy(s["protectedRanges"])
            if s["basicFilter"]:
                d["basicFilter"] = copy.deepcopy(s["basicFilter"])
            sheets.append(d)
        out = {"spreadsheetId": book["spreadsheetId"], "properties": copy.deepcopy(book["properties"]),
               "sheets": sheets, "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book['spreadsheetId']}/edit"}
        if book["developerMetadata"]:
            out["developerMetadata"] = copy.deepcopy(book["developerMetadata"])
        return out

    def _get(self, sid: str, query: dict) -> dict:
        if query.get("includeGridData", ["false"])[0].lower() == "true":
            raise BadRequest("includeGridData is not supported by the fake")
        return apply_fields(self._public(self.books[sid]), parse_fields(query.get("fields", [""])[0]))

    # -- values:batchGet
    def _batch_get(self, sid: str, query: dict) -> dict:
        book = self.books[sid]
        render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        out = []
        for rng in query.get("ranges", []):
            title = _range_title(rng)
            sheet = next((s for s in book["sheets"] if s["properties"]["title"] == title), None)
            if sheet is None:
                raise BadRequest(f"Unable to parse range: {rng}")
            grid = sheet["properties"]["gridProperties"]
            values: dict[int, dict[int, object]] = {}
            for (r, c), cell in sheet["cells"].items():
                v = effective(cell)
                if v is None:
                    continue
                if render == "FORMATTED_VALUE" and not isinstance(v, str):
                    v = str(v).upper() if isinstance(v, bool) else str(v)
                values.setdefault(r, {})[c] = v
            rows = []
            for r in range(max(values, default=-1) + 1):
                row = values.get(r, {})
                rows.append([row.get(c, "") for c in range(max(row, default=-1) + 1)])
            vr = {"range": f"{_quote(title)}!A1:{_col(grid['columnCount'] - 1)}{grid['rowCount']}",
                  "majorDimension": "ROWS"}
            if rows:
                vr["values"] = rows
            out.append(vr)
        return {"spreadsheetId": sid, "valueRanges": out}

    # -- batchUpdate
    def _batch_update(self, sid: str, body: bytes) -> dict:
        try:
            doc = json.loads(body)
        except ValueError:
            raise BadRequest("Invalid JSON payload received.") from None
        _unknown(doc, {"requests", "includeSpreadsheetInResponse", "responseRanges",
                       "responseIncludeGridData"}, "")
        reqs = doc.get("requests") or []
        if not reqs:
            raise BadRequest("Must specify at least one request.")
        self.bodies.append(doc)
        work = copy.deepcopy(self.books[sid])           # all or nothing
        replies = []
        for i, req in enumerate(reqs):
            if not isinstance(req, dict) or len(req) != 1:
                raise BadRequest(f"Invalid requests[{i}]: exactly one kind of request must be set.")
            (kind, args), = req.items()
            if kind not in REQUEST_KINDS:
                raise BadRequest(f'Invalid JSON payload received. Unknown name "{kind}" at \'requests[{i}]\': '
                                 "Cannot find field.")
            try:
                reply = getattr(self, "_r_" + kind)(work, args or {})
            except BadRequest as err:
                raise BadRequest(f"Invalid requests[{i}].{kind}: {err}", err.code, err.status) from None
            replies.append({kind: reply} if reply else {})
        self.books[sid] = work
        for req in reqs:
            self.update_kinds.update(req.keys())
        return {"spreadsheetId": sid, "replies": replies}

    # request kinds ------------------------------------------------------
    def _sheet_by_id(self, book: dict, sheet_id) -> dict:
        for s in book["sheets"]:
            if s["properties"]["sheetId"] == sheet_id:
                return s
        raise BadRequest(f"No grid with id: {sheet_id}")

    def _check_title(self, book: dict, title: str, except_id=None) -> None:
        if not isinstance(title, str) or not title.strip():
            raise BadRequest("Sheet title must not be empty.")
        if len(title) > 100:
            raise BadRequest("Sheet title is too long.")
        for s in book["sheets"]:
            if s["properties"]["title"].casefold() == title.casefold() and s["properties"]["sheetId"] != except_id:
                raise BadRequest(f'A sheet with the name "{title}" already exists. Please enter another name.')

    def _check_grid(self, props: dict) -> None:
        g = props["gridProperties"]
        _unknown(g, GRID_KEYS, "gridProperties")
        if g.get("rowCount", 1) < 1 or g.get("columnCount", 1) < 1:
            raise BadRequest("Grid must have at least one row and one column.")
        if g.get("frozenRowCount", 0) >= g.get("rowCount", 1000):
            raise BadRequest("You can't freeze all visible rows on the sheet.")
        if g.get("frozenColumnCount", 0) >= g.get("columnCount", 26):
            raise BadRequest("You can't freeze all visible columns on the sheet.")

    def _r_addSheet(self, book, args):
        props = copy.deepcopy(args.get("properties") or {})
        _unknown(props, SHEET_PROP_KEYS, "properties")
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self.rng.randrange(1, 2**31 - 1)
        if any(s["properties"]["sheetId"] == sheet_id for s in book["sheets"]):
            raise BadRequest(f"Sheet with id {sheet_id} already exists.")
        title = props.get("title") or f"Sheet{len(book['sheets']) + 1}"
        self._check_title(book, title)
        grid = {"rowCount": 1000, "columnCount": 26, **(props.get("gridProperties") or {})}
        sheet = self._new_sheet(book, sheet_id, title, grid["rowCount"], grid["columnCount"])
        sheet["properties"].update({k: v for k, v in props.items() if k not in ("sheetId", "title", "index")})
        sheet["properties"]["gridProperties"] = grid
        sheet["properties"]["sheetType"] = "GRID"
        self._check_grid(sheet["properties"])
        index = props.get("index", len(book["sheets"]))
        book["sheets"].insert(index, sheet)
        self._reindex(book)
        return {"properties": copy.deepcopy(sheet["properties"])}

    def _reindex(self, book):
        for i, s in enumerate(book["sheets"]):
            s["properties"]["index"] = i

    def _r_deleteSheet(self, book, args):
        sheet = self._sheet_by_id(book, args.get("sheetId"))
        if len(book["sheets"]) == 1:
            raise BadRequest("You can't remove all the sheets in a document.")
        book["sheets"].remove(sheet)
        if all(s["properties"].get("hidden") for s in book["sheets"]):
            raise BadRequest("You can't hide all the sheets in a document.")
        self._reindex(book)

    def _r_updateSheetProperties(self, book, args):
        _unknown(args, {"properties", "fields"}, "updateSheetProperties")
        props = args.get("properties") or {}
        _unknown(props, SHEET_PROP_KEYS, "properties")
        fields = args.get("fields")
        if not fields:
            raise BadRequest("At least one field must be specified.")
        sheet = self._sheet_by_id(book, props.get("sheetId"))
        target = sheet["properties"]
        paths = ["title", "index", "hidden", "tabColor", "tabColorStyle", "rightToLeft",
                 "gridProperties." + ",gridProperties.".join(GRID_KEYS)] if fields == "*" else fields.split(",")
        for path in ",".join(paths).split(","):
            path = path.strip()
            head, _, rest = path.partition(".")
            if head not in SHEET_PROP_KEYS or head in ("sheetId", "sheetType"):
                raise BadRequest(f"Invalid field mask: {path}")
            if head == "title":
                self._check_title(book, props.get("title", ""), target["sheetId"])
            if rest:
                src = (props.get(head) or {})
                dst = target.setdefault(head, {})
                if rest in src:
                    dst[rest] = src[rest]
                else:
                    dst.pop(rest, None)
            elif head in props:
                target[head] = copy.deepcopy(props[head])
            else:
                target.pop(head, None)
        grid = target["gridProperties"]
        grid.setdefault("rowCount", 1000)
        grid.setdefault("columnCount", 26)
        self._check_grid(target)
        for (r, c) in list(sheet["cells"]):          # a smaller grid drops what lay outside it
            if r >= grid["rowCount"] or c >= grid["columnCount"]:
                del sheet["cells"][(r, c)]
        if all(s["properties"].get("hidden") for s in book["sheets"]):
            raise BadRequest("You can't hide all the sheets in a document.")

    def _grid_range(self, book, rng: dict) -> tuple[dict, int, int, int, int]:
        _unknown(rng, RANGE_KEYS, "range")
        sheet = self._sheet_by_id(book, rng.get("sheetId", 0))
        g = sheet["properties"]["gridProperties"]
        r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", g["rowCount"])
        c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", g["columnCount"])
        if not (0 <= r0 <= r1 and 0 <= c0 <= c1):
            raise BadRequest("Invalid range.")
        self._limit(sheet, r1, c1)
        return sheet, r0, r1, c0, c1

    def _limit(self, sheet, r_end: int, c_end: int) -> None:
        g = sheet["properties"]["gridProperties"]
        if r_end > g["rowCount"] or c_end > g["columnCount"]:
            raise BadRequest(f"Range ({_quote(sheet['properties']['title'])}!{_col(c_end - 1)}{r_end}) exceeds grid "
                             f"limits. Max rows: {g['rowCount']}, max columns: {g['columnCount']}")

    def _check_cell(self, cell: dict) -> None:
        _unknown(cell, CELL_KEYS, "cell")
        uv = cell.get("userEnteredValue")
        if uv is not None:
            _unknown(uv, VALUE_KEYS, "userEnteredValue")
            if len(uv) != 1:
                raise BadRequest("Exactly one value kind must be set in userEnteredValue.")
            (k, v), = uv.items()
            ok = {"stringValue": isinstance(v, str), "formulaValue": isinstance(v, str),
                  "boolValue": isinstance(v, bool),
                  "numberValue": isinstance(v, (int, float)) and not isinstance(v, bool)}.get(k, False)
            if not ok:
                raise BadRequest(f"Invalid value at 'userEnteredValue.{k}'")
            if k == "stringValue" and len(v) > 50000:
                raise BadRequest("Your input contains more than the maximum of 50000 characters in a single cell.")
        fmt = cell.get("userEnteredFormat")
        if fmt is not None:
            _unknown(fmt, FORMAT_KEYS, "userEnteredFormat")
            if "textFormat" in fmt:
                _unknown(fmt["textFormat"], TEXT_FORMAT_KEYS, "userEnteredFormat.textFormat")
            nf = fmt.get("numberFormat")
            if nf is not None:
                _unknown(nf, {"type", "pattern"}, "numberFormat")
                if nf.get("type") not in ("TEXT", "NUMBER", "PERCENT", "CURRENCY", "DATE", "TIME", "DATE_TIME",
                                          "SCIENTIFIC"):
                    raise BadRequest(f"Invalid numberFormat.type {nf.get('type')!r}")
        runs = cell.get("textFormatRuns")
        if runs is not None:
            text = (uv or {}).get("stringValue")
            if text is None:
                raise BadRequest("textFormatRuns can only be set on a cell holding text.")
            for run in runs:
                _unknown(run, {"startIndex", "format"}, "textFormatRuns")
                _unknown(run.get("format", {}), TEXT_FORMAT_KEYS, "textFormatRuns.format")
                if not 0 <= run.get("startIndex", 0) < max(len(text), 1):
                    raise BadRequest("textFormatRuns.startIndex is out of the text.")
                link = run.get("format", {}).get("link")
                if link is not None:
                    _unknown(link, {"uri"}, "link")
        if cell.get("dataValidation") is not None:
            self._check_rule(cell["dataValidation"])

    def _check_rule(self, rule: dict) -> None:
        _unknown(rule, {"condition", "inputMessage", "strict", "showCustomUi"}, "rule")
        cond = rule.get("condition") or {}
        _unknown(cond, {"type", "values"}, "condition")
        if cond.get("type") not in CONDITIONS:
            raise BadRequest(f"Invalid condition type {cond.get('type')!r}")
        for v in cond.get("values", []):
            _unknown(v, {"userEnteredValue", "relativeDate"}, "condition.values")
        if cond["type"] == "ONE_OF_RANGE":
            ref = (cond.get("values") or [{}])[0].get("userEnteredValue", "")
            if not ref.startswith("="):
                raise BadRequest("ONE_OF_RANGE needs a range reference starting with '='.")

    def _set_fields(self, cell: dict | None, new: dict, fields: str) -> dict:
        cell = dict(cell or {})
        for path in (["*"] if fields.strip() == "*" else [p.strip() for p in fields.split(",")]):
            if path == "*":
                cell = copy.deepcopy(new)
                continue
            head, _, rest = path.partition(".")
            if head not in CELL_KEYS:
                raise BadRequest(f"Invalid field mask: {path}")
            if not rest:
                if head in new:
                    cell[head] = copy.deepcopy(new[head])
                else:
                    cell.pop(head, None)
                if head == "userEnteredValue":
                    cell.pop("effectiveValue", None)
                continue
            src, dst = new.get(head) or {}, dict(cell.get(head) or {})
            if rest in src:
                dst[rest] = copy.deepcopy(src[rest])
            else:
                dst.pop(rest, None)
            if dst:
                cell[head] = dst
            else:
                cell.pop(head, None)
        return cell

    def _r_updateCells(self, book, args):
        _unknown(args, {"rows", "fields", "start", "range"}, "updateCells")
        fields = args.get("fields")
        if not fields:
            raise BadRequest("At least one field must be specified.")
        rows = args.get("rows") or []
        if ("start" in args) == ("range" in args):
            raise BadRequest("Exactly one of start or range must be set.")
        if "range" in args:
            sheet, r0, r1, c0, c1 = self._grid_range(book, args["range"])
        else:
            st = args["start"]
            _unknown(st, {"sheetId", "rowIndex", "columnIndex"}, "start")
            sheet = self._sheet_by_id(book, st.get("sheetId", 0))
            r0, c0 = st.get("rowIndex", 0), st.get("columnIndex", 0)
            r1 = r0 + len(rows)
            c1 = c0 + max((len(r.get("values", [])) for r in rows), default=0)
            self._limit(sheet, r1, max(c1, c0 + 1))
        for i, row in enumerate(rows):
            _unknown(row, {"values"}, "rows")
            for j, cell in enumerate(row.get("values", [])):
                self._check_cell(cell)
                if r0 + i >= r1 or c0 + j >= c1:
                    raise BadRequest("More data than fits in the range.")
        cells = sheet["cells"]
        covered = set()
        for i, row in enumerate(rows):
            for j, new in enumerate(row.get("values", [])):
                key = (r0 + i, c0 + j)
                covered.add(key)
                cell = self._set_fields(cells.get(key), new, fields)
                if cell:
                    cells[key] = cell
                else:
                    cells.pop(key, None)
        if "range" in args:                       # the rest of the range is cleared for these fields
            for key in [k for k in cells if r0 <= k[0] < r1 and c0 <= k[1] < c1 and k not in covered]:
                cell = self._set_fields(cells[key], {}, fields) if fields.strip() != "*" else {}
                if cell:
                    cells[key] = cell
                else:
                    del cells[key]
            if fields.strip() == "*" or "dataValidation" in fields:
                sheet["validations"] = [v for v in sheet["validations"] if not _overlaps(v["range"], r0, r1, c0, c1)]

    def _r_repeatCell(self, book, args):
        _unknown(args, {"range", "cell", "fields"}, "repeatCell")
        fields = args.get("fields")
        if not fields:
            raise BadRequest("At least one field must be specified.")
        self._check_cell(args.get("cell") or {})
        sheet, r0, r1, c0, c1 = self._grid_range(book, args.get("range") or {})
        for r in range(r0, r1):
            for c in range(c0, c1):
                cell = self._set_fields(sheet["cells"].get((r, c)), args.get("cell") or {}, fields)
                if cell:
                    sheet["cells"][(r, c)] = cell
                else:
                    sheet["cells"].pop((r, c), None)

    def _r_updateDimensionProperties(self, book, args):
        _unknown(args, {"range", "properties", "fields", "dataSourceSheetRange"}, "updateDimensionProperties")
        rng = args.get("range") or {}
        _unknown(rng, {"sheetId", "dimension", "startIndex", "endIndex"}, "range")
        sheet = self._sheet_by_id(book, rng.get("sheetId", 0))
        dim = rng.get("dimension")
        if dim not in ("ROWS", "COLUMNS"):
            raise BadRequest("dimension must be ROWS or COLUMNS")
        props = args.get("properties") or {}
        _unknown(props, {"pixelSize", "hiddenByUser", "developerMetadata", "hiddenByFilter"}, "properties")
        if not args.get("fields"):
            raise BadRequest("At least one field must be specified.")
        g = sheet["properties"]["gridProperties"]
        limit = g["rowCount"] if dim == "ROWS" else g["columnCount"]
        lo, hi = rng.get("startIndex", 0), rng.get("endIndex", limit)
        if hi > limit or lo < 0 or lo > hi:
            raise BadRequest(f"Invalid dimension range: {lo}-{hi} (max {limit})")
        for k in range(lo, hi):
            sheet["dimensions"][f"{dim}:{k}"] = dict(props)

    def _r_setBasicFilter(self, book, args):
        _unknown(args, {"filter"}, "setBasicFilter")
        flt = args.get("filter") or {}
        _unknown(flt, {"range", "sortSpecs", "criteria", "filterSpecs"}, "filter")
        sheet, *_ = self._grid_range(book, flt.get("range") or {})
        sheet["basicFilter"] = copy.deepcopy(flt)

    def _r_clearBasicFilter(self, book, args):
        self._sheet_by_id(book, args.get("sheetId"))["basicFilter"] = None

    def _r_setDataValidation(self, book, args):
        _unknown(args, {"range", "rule", "filteredRowsIncluded"}, "setDataValidation")
        sheet, r0, r1, c0, c1 = self._grid_range(book, args.get("range") or {})
        rule = args.get("rule")
        sheet["validations"] = [v for v in sheet["validations"] if not _overlaps(v["range"], r0, r1, c0, c1)]
        if rule:
            self._check_rule(rule)
            sheet["validations"].append({"range": [r0, r1, c0, c1], "rule": copy.deepcopy(rule)})

    def _r_addProtectedRange(self, book, args):
        _unknown(args, {"protectedRange"}, "addProtectedRange")
        pr = copy.deepcopy(args.get("protectedRange") or {})
        _unknown(pr, {"protectedRangeId", "range", "namedRangeId", "description", "warningOnly",
                      "requestingUserCanEdit", "unprotectedRanges", "editors"}, "protectedRange")
        sheet, *_ = self._grid_range(book, pr.get("range") or {})
        if pr.get("warningOnly") and pr.get("editors"):
            raise BadRequest("A warning-only protected range cannot have editors.")
        pr.setdefault("protectedRangeId", book["next_pr"])
        book["next_pr"] += 1
        pr["requestingUserCanEdit"] = True
        sheet["protectedRanges"].append(pr)
        return {"protectedRange": copy.deepcopy(pr)}

    def _r_deleteProtectedRange(self, book, args):
        pid = args.get("protectedRangeId")
        for s in book["sheets"]:
            for pr in s["protectedRanges"]:
                if pr["protectedRangeId"] == pid:
                    s["protectedRanges"].remove(pr)
                    return
        raise BadRequest(f"No protected range with id: {pid}")

    def _r_createDeveloperMetadata(self, book, args):
        _unknown(args, {"developerMetadata"}, "createDeveloperMetadata")
        dm = copy.deepcopy(args.get("developerMetadata") or {})
        _unknown(dm, {"metadataId", "metadataKey", "metadataValue", "location", "visibility"}, "developerMetadata")
        if dm.get("visibility") not in ("DOCUMENT", "PROJECT"):
            raise BadRequest("developerMetadata.visibility must be DOCUMENT or PROJECT")
        if not dm.get("metadataKey"):
            raise BadRequest("developerMetadata.metadataKey must be set")
        loc = dm.get("location") or {}
        _unknown(loc, {"sheetId", "spreadsheet", "dimensionRange"}, "location")
        dm.setdefault("metadataId", book["next_dm"])
        book["next_dm"] += 1
        if "sheetId" in loc:
            sheet = self._sheet_by_id(book, loc["sheetId"])
            dm["location"] = {"locationType": "SHEET", "sheetId": loc["sheetId"]}
            sheet["developerMetadata"].append(dm)
        elif loc.get("spreadsheet"):
            dm["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
            book["developerMetadata"].append(dm)
        else:
            raise BadRequest("developerMetadata.location must be a sheet or the spreadsheet")
        return {"developerMetadata": copy.deepcopy(dm)}

    def _r_deleteDeveloperMetadata(self, book, args):
        flt = (args.get("dataFilter") or {}).get("developerMetadataLookup")
        if not flt:
            raise BadRequest("deleteDeveloperMetadata needs a dataFilter.developerMetadataLookup")
        _unknown(flt, {"metadataId", "metadataKey", "metadataValue", "metadataLocation", "visibility",
                       "locationType", "locationMatchingStrategy"}, "developerMetadataLookup")
        gone = []
        for holder in [book] + book["sheets"]:
            keep = []
            for dm in holder["developerMetadata"]:
                match = all(dm.get(k) == flt[k] for k in ("metadataId", "metadataKey", "metadataValue") if k in flt)
                loc = flt.get("metadataLocation")
                if loc and "sheetId" in loc and dm["location"].get("sheetId") != loc["sheetId"]:
                    match = False
                (gone if match else keep).append(dm)
            holder["developerMetadata"] = keep
        return {"deletedDeveloperMetadata": gone}


def _overlaps(rng, r0, r1, c0, c1) -> bool:
    a0, a1, b0, b1 = rng
    return a0 < r1 and r0 < a1 and b0 < c1 and c0 < b1


def _error(code: int, message: str, status: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


def html_error_page(status: int) -> bytes:
    """The kind of page Google's front end answers with when the API behind it is not reached."""
    title = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Server Error")
    return (f"<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error {status} ({title})!!1</title>\n"
            f"  <p><b>{status}.</b> <ins>That’s an error.</ins>\n  <p>The server encountered a temporary error and "
            f"could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>\n"
            ).encode("utf-8")


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _range_title(rng: str) -> str:
    rng = rng.strip()
    if rng.startswith("'"):
        m = re.match(r"'((?:[^']|'')*)'(?:!.*)?$", rng)
        if not m:
            raise BadRequest(f"Unable to parse range: {rng}")
        return m.group(1).replace("''", "'")
    return rng.split("!", 1)[0]


def _col(i: int) -> str:
    s, n = "", i + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeSheets = None  # set by FakeSheets.start

    def log_message(self, *args):          # quiet
        pass

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, doc, extra = self.fake.handle(method, parts.path, parse_qs(parts.query), self.headers, body)
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode("utf-8")
        extra = dict(extra)
        ctype = extra.pop("Content-Type", "application/json; charset=UTF-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True


# --------------------------------------------------------------------------- keys, config, fixture

def make_key():
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_file(path: Path, private_key, token_uri: str, email: str = "campaignwatch@cw-test.iam.gserviceaccount.com"
             ) -> Path:
    from cryptography.hazmat.primitives import serialization
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode("ascii")
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "cw-test", "private_key_id": secrets.token_hex(20),
        "private_key": pem, "client_email": email, "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com"}, indent=2))
    return path


@dataclass
class GoogleEnv:
    fake: FakeSheets
    config: Path
    key: Path
    folder: Path
    email: str
    private_key: object

    def write_config(self, **google) -> Path:
        """Rewrite config.toml with these [google] settings on top of the defaults of the tests."""
        # A generous timeout: under load (a busy core) the fake may take seconds to answer, and no test
        # waits for it — a stall is injected as a timeout (`inject_timeouts`), not waited out.
        settings = {"credentials": "key.json", "api_url": self.fake.url, "timeout_seconds": 30.0, "max_retries": 2,
                    "backoff_seconds": 0.01, "requests_per_minute": 1000, **google}
        lines = ["[history]", f'path = "{(self.folder / "history.sqlite").as_posix()}"', "", "[google]"]
        for k, v in settings.items():
            lines.append(f"{k} = {json.dumps(v)}")
        self.config.write_text("\n".join(lines) + "\n")
        return self.config


def inject_timeouts(monkeypatch, n: int = 1, when=None) -> list[str]:
    """The next `n` Sheets API calls (those for which `when(method, url)` is true) time out, at once:
    each is sent to the fake (which carries it out and logs it) and its answer is lost, so the client
    sees `requests.exceptions.ReadTimeout` — no test waits out a real timeout, so none fails on a
    busy machine. Injected at gspread's `HTTPClient.request`, under campaignwatch's retrying
    subclass. Returns the list of the calls that timed out ("METHOD url")."""
    import requests
    from gspread.http_client import HTTPClient
    real = HTTPClient.request
    stalled: list[str] = []

    def request(self, method, endpoint, *args, **kwargs):
        hit = len(stalled) < n and (when is None or when(method, endpoint))
        response = real(self, method, endpoint, *args, **kwargs)
        if not hit:
            return response
        stalled.append(f"{method.upper()} {endpoint}")
        raise requests.exceptions.ReadTimeout(f"injected: no answer to {method.upper()} {endpoint}")
    monkeypatch.setattr(HTTPClient, "request", request)
    return stalled


_KEY = None


def shared_key():
    global _KEY
    if _KEY is None:
        _KEY = make_key()
    return _KEY


@pytest.fixture
def google_env(tmp_path, monkeypatch):
    """A running fake, a service-account key for it and a config.toml pointing at both."""
    from campaignwatch.gsheets import client
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("CAMPAIGNWATCH_SHEETS_API_URL", raising=False)
    monkeypatch.delenv("CAMPAIGNWATCH_CONFIG", raising=False)
    discovery_check.document()                    # no google-api-python-client: say so here, not in the server
    fake = FakeSheets().start()
    private = shared_key()
    email = "campaignwatch@cw-test.iam.gserviceaccount.com"
    fake.accept_key(email, private.public_key())
    env = GoogleEnv(fake, tmp_path / "config.toml", key_file(tmp_path / "key.json", private, fake.token_uri, email),
                    tmp_path, email, private)
    env.write_config()
    client.reset()
    client.use_clock(None)
    try:
        yield env
    finally:
        client.reset()
        client.use_clock(None)
        fake.stop()
    if fake.violations:
        pytest.fail("requests that do not fit the Sheets v4 discovery document:\n" + "\n".join(fake.violations),
                    pytrace=False)


# --------------------------------------------------------------------------- run it by hand

def main(argv: list[str] | None = None) -> int:
    """`python tests/fake_sheets.py FOLDER`: serve the fake until Ctrl-C, to try campaignwatch without Google.

    Writes FOLDER/key.json (a service-account key the fake accepts) and FOLDER/config.toml
    pointing at it, creates one spreadsheet (empty, or with the demo campaigns) and prints its ID.
    """
    import argparse
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
    p = argparse.ArgumentParser(prog="fake_sheets.py", description=main.__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="where to write key.json and config.toml")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--id", default="try-campaignwatch", help="the spreadsheet's ID")
    p.add_argument("--demo", action="store_true", help="fill the spreadsheet with the demo campaigns (as of today)")
    args = p.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    import importlib.util
    fake = FakeSheets(validate=importlib.util.find_spec("googleapiclient") is not None).start(args.port)
    private = make_key()
    email = "campaignwatch@try-campaignwatch.iam.gserviceaccount.com"
    fake.accept_key(email, private.public_key())
    key_file(args.folder / "key.json", private, fake.token_uri, email)
    (args.folder / "config.toml").write_text(f'[google]\ncredentials = "key.json"\napi_url = "{fake.url}"\n')
    tabs = {"Sheet1": []}
    if args.demo:
        from campaignwatch.contract import TABLES
        from campaignwatch.workbook.demo import rows
        data = rows(dt.date.today(), "en")
        tabs = {t.tab("en"): [[c.header("en") for c in t.columns]] + [[r.get(c.key) for c in t.columns]
                                                                      for r in data.get(t.key, [])] for t in TABLES}
    sid = fake.add_spreadsheet(args.id, tabs)
    import signal

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"fake Sheets API at {fake.url} (token endpoint {fake.token_uri})", flush=True)
    print(f"spreadsheet gsheet:{sid}; key and config in {args.folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print(f"{fake.count()} Sheets API requests: " + ", ".join(f"{k} {v}" for k, v in sorted(
            Counter(e["kind"] for e in fake.log).items())), flush=True)
        print("tabs: " + ", ".join(fake.titles(sid)), flush=True)
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
