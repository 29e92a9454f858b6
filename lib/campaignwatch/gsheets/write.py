"""Write generated tabs (`TabSpec`) into a Google Sheet — in one atomic `batchUpdate`.

Our tabs are recognised by **developer metadata** on the sheet (`campaignwatch-tab` = the
TabSpec key), not by title: a tab of the team's that has one of our names but not our
metadata stops the write with NAME_TAKEN, and tabs people made are never written.

One `spreadsheets.batchUpdate` (applied all or nothing by the API, so nobody ever sees a
half-written tab) does, per TabSpec:

* reuse our existing sheet (same sheetId, so links and bookmarks keep working) — resized,
  renamed if the language changed, unhidden, its old protection removed and every cell
  cleared (`updateCells` with fields `*`) — or `addSheet` a new one with our metadata;
* `updateCells` with the title lines, a blank row, the header (bold, white on dark blue) and
  the rows: text as `stringValue` (so `=SUM(A1)` stays text), numbers and Decimals as
  `numberValue`, dates as serial numbers with a date format, money `#,##0.00`, percent
  `0.0%`, red/amber/green/grey fills, links to the offending cells as `textFormatRuns`
  links (`#gid=…&range=E7`) on the text — never a formula;
* column widths, frozen rows down to the header, a basic filter on the header and a
  warning-only protected range (people are warned before they edit).

Our sheets that are no longer wanted (the Scorecard switched off, a copy of one of ours)
are deleted in the same request. With the metadata the read fetched, a sync costs three
Sheets requests: metadata, values, this batchUpdate.

When the request would exceed `MAX_BATCH_BYTES` (about 2 MB of JSON), the content goes
first into new *hidden* sheets (`campaignwatch-staging` metadata, titles `cw» ~RUN~key`,
which readers skip), over as many batchUpdates as needed; then one small final batchUpdate
deletes the old tabs and renames and unhides the new ones. Readers see the old tabs or the
new ones, never half of them. Staging sheets a crashed run left behind are deleted by the
next write.

A write retried after a timeout may have been applied already: if the retry is refused
(HTTP 400), the metadata is fetched again and the run's mark (in the protected ranges'
description) tells whether the tabs are there; a plan made on metadata that went stale
between read and write is made again once on fresh metadata.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import random
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from ..config import Config
from ..names import MARK, is_generated
from ..errors import NAME_TAKEN, REJECTED, SourceError
from ..tabspec import FILL_RGB, FILLS, FORMATS, HEADER_RGB, LINK_RGB, NUMFMT_CODES, TAB_RGB, TabSpec
from . import client
from .read import METADATA_FIELDS

TAB_KEY = "campaignwatch-tab"
STAGING_KEY = "campaignwatch-staging"
PROTECTION = "campaignwatch: generated tab, replaced on every run"
MAX_BATCH_BYTES = 2_000_000
MAX_TEXT = 50_000                       # Google Sheets' limit on characters in a cell
TAB_COLOR = TAB_RGB
NUMBER_TYPES = {"money": "NUMBER", "percent": "PERCENT", "date": "DATE", "datetime": "DATE_TIME",
                "int": "NUMBER", "number": "NUMBER"}
_EPOCH = dt.date(1899, 12, 30)
_FIRST = dt.date(1900, 1, 1)


def rgb(hex6: str) -> dict:
    hex6 = hex6[-6:]
    return {"red": int(hex6[0:2], 16) / 255, "green": int(hex6[2:4], 16) / 255, "blue": int(hex6[4:6], 16) / 255}


def number_format(fmt: str) -> dict | None:
    return {"type": NUMBER_TYPES[fmt], "pattern": NUMFMT_CODES[fmt]} if fmt in NUMBER_TYPES else None


TITLE_FORMAT = {"textFormat": {"bold": True, "fontSize": 13}}
HEADER_FORMAT = {"backgroundColorStyle": {"rgbColor": rgb(HEADER_RGB)},
                 "textFormat": {"bold": True, "foregroundColorStyle": {"rgbColor": rgb("FFFFFF")}},
                 "verticalAlignment": "MIDDLE", "wrapStrategy": "WRAP"}
FILL_STYLE = {f: {"rgbColor": rgb(FILL_RGB[f])} for f in FILLS}


# =========================================================================== public API

def write_tabs(source: str, tabs: list[TabSpec], cfg: Config) -> list[str]:
    """Replace our generated tabs in the Google Sheet `source` with `tabs`; returns the tab names written.

    Raises SourceError: NAME_TAKEN, and the client's AUTH / NOT_FOUND / FORBIDDEN / QUOTA /
    UNREACHABLE / REJECTED."""
    validate(tabs)
    sid, name = client.source_name(source)
    api = client.connect(cfg, name)
    meta = client.recall(sid)
    cached = meta is not None
    if meta is None:
        meta = api.metadata(sid, METADATA_FIELDS)
    run = secrets.token_hex(6)
    try:
        try:
            _apply(api, sid, meta, tabs, run)
        except SourceError as err:
            if err.code != REJECTED or not (cached or api.retried_after_timeout):
                raise
            meta = api.metadata(sid, METADATA_FIELDS)
            if written_by(meta, tabs, run):
                return [t.name for t in tabs]
            _apply(api, sid, meta, tabs, secrets.token_hex(6))
    except SourceError as err:
        if err.path is None:
            err.path = name
        raise
    return [t.name for t in tabs]


def clean_spreadsheet(source: str, cfg: Config) -> list[str]:
    """Remove every generated tab (and hidden staging tab) from the Google Sheet `source` in one
    batchUpdate; returns the tabs removed. Tabs people made are left alone."""
    sid, name = client.source_name(source)
    api = client.connect(cfg, name)
    try:
        sheets = existing(api.metadata(sid, METADATA_FIELDS))
        ours = [s for s in sheets if s.ours]
        if ours and len(ours) == len(sheets):
            raise SourceError(REJECTED, "removing the generated tabs would leave the spreadsheet without a tab")
        if ours:
            api.batch_update(sid, [{"deleteSheet": {"sheetId": s.id}} for s in ours])
    except SourceError as err:
        if err.path is None:
            err.path = name
        raise
    return [s.title for s in ours]


def _apply(api, sid: str, meta: dict, tabs: list[TabSpec], run: str) -> None:
    for body in plan(meta, tabs, run):
        if body:
            api.batch_update(sid, body)


def validate(tabs: list[TabSpec]) -> None:
    seen = set()
    for tab in tabs:
        if not is_generated(tab.name):
            raise ValueError(f"generated tab names must start with {MARK!r}: {tab.name!r}")
        if len(tab.name) > 100:
            raise ValueError(f"tab name longer than Google Sheets allows: {tab.name!r}")
        if tab.name.casefold() in seen:
            raise ValueError(f"two generated tabs are named {tab.name!r}")
        seen.add(tab.name.casefold())


# =========================================================================== what is there

@dataclass
class Existing:
    id: int
    title: str
    keys: list[str] = field(default_factory=list)          # our TAB_KEY values on it
    staging: bool = False
    protected: list[int] = field(default_factory=list)      # protectedRangeIds on it
    descriptions: list[str] = field(default_factory=list)

    @property
    def ours(self) -> bool:
        return bool(self.keys) or self.staging


def existing(meta: dict) -> list[Existing]:
    out = []
    for sheet in meta.get("sheets", []) or []:
        props = sheet.get("properties", {}) or {}
        sid = int(props.get("sheetId", 0))
        e = Existing(sid, str(props.get("title", "")))
        for dm in sheet.get("developerMetadata", []) or []:
            loc = dm.get("location", {}) or {}
            if loc.get("sheetId", sid) != sid:
                continue
            if dm.get("metadataKey") == TAB_KEY:
                e.keys.append(str(dm.get("metadataValue", "")))
            elif dm.get("metadataKey") == STAGING_KEY:
                e.staging = True
        for pr in sheet.get("protectedRanges", []) or []:
            if "protectedRangeId" in pr:
                e.protected.append(int(pr["protectedRangeId"]))
                e.descriptions.append(str(pr.get("description", "")))
        out.append(e)
    return out


def written_by(meta: dict, tabs: list[TabSpec], run: str) -> bool:
    """Whether every tab is in place and carries run `run`'s mark."""
    sheets = existing(meta)
    for tab in tabs:
        if not any(tab.key in s.keys and s.title == tab.name and any(run in d for d in s.descriptions)
                   for s in sheets):
            return False
    return True


# =========================================================================== the plan

def plan(meta: dict, tabs: list[TabSpec], run: str, max_bytes: int | None = None) -> list[list[dict]]:
    """The `requests` of each batchUpdate that puts `tabs` in place: one, or (too big for one) several."""
    limit = MAX_BATCH_BYTES if max_bytes is None else max_bytes
    sheets = existing(meta)
    for tab in tabs:
        holder = next((s for s in sheets if s.title.casefold() == tab.name.casefold()), None)
        if holder is not None and not holder.ours:
            raise SourceError(NAME_TAKEN, f"tab “{holder.title}”")
    links = {s.title: s.id for s in sheets if not s.ours}
    ids = IdMaker({s.id for s in sheets})
    single = _single(sheets, tabs, run, links, ids, chunk_bytes=max(limit // 2, 1))
    if _size(single) <= limit:
        return [single]
    return _staged(sheets, tabs, run, links, ids, limit)


def _single(sheets: list[Existing], tabs: list[TabSpec], run: str, links: dict, ids: IdMaker,
            chunk_bytes: int) -> list[dict]:
    reqs: list[dict] = []
    chosen: dict[str, Existing] = {}
    for tab in tabs:
        cands = [s for s in sheets if tab.key in s.keys and s not in chosen.values()]
        if cands:
            chosen[tab.key] = next((s for s in cands if s.title == tab.name), cands[0])
    keep = {s.id for s in chosen.values()}
    for s in sheets:
        if s.ours and s.id not in keep:
            reqs.append({"deleteSheet": {"sheetId": s.id}})
    titles = {s.title.casefold() for s in sheets}
    for key, s in chosen.items():            # renames go through a temporary title: no clash midway
        tab = next(t for t in tabs if t.key == key)
        if s.title != tab.name:
            tmp = f"{MARK}~{s.id}"
            while tmp.casefold() in titles:
                tmp += "~"
            titles.add(tmp.casefold())
            reqs.append({"updateSheetProperties": {"properties": {"sheetId": s.id, "title": tmp},
                                                   "fields": "title"}})
    for tab in tabs:
        s = chosen.get(tab.key)
        grid = _grid(tab)
        if s is not None:
            sheet_id = s.id
            reqs.append({"updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "title": tab.name, "hidden": False, "gridProperties": grid,
                               "tabColorStyle": {"rgbColor": rgb(TAB_COLOR)}},
                "fields": "title,hidden,gridProperties.rowCount,gridProperties.columnCount,"
                          "gridProperties.frozenRowCount,gridProperties.frozenColumnCount,tabColorStyle"}})
            reqs += [{"deleteProtectedRange": {"protectedRangeId": pid}} for pid in s.protected]
            reqs.append({"updateCells": {"range": {"sheetId": sheet_id}, "fields": "*"}})
        else:
            sheet_id = ids.new()
            reqs.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": tab.name, "gridProperties": grid,
                "tabColorStyle": {"rgbColor": rgb(TAB_COLOR)}}}})
            reqs.append(_metadata(TAB_KEY, tab.key, sheet_id))
        reqs += content(tab, sheet_id, run, links, chunk_bytes)
    return reqs


def _staged(sheets: list[Existing], tabs: list[TabSpec], run: str, links: dict, ids: IdMaker,
            limit: int) -> list[list[dict]]:
    work: list[dict] = [{"deleteSheet": {"sheetId": s.id}} for s in sheets if s.staging]
    final: list[dict] = [{"deleteSheet": {"sheetId": s.id}} for s in sheets if s.keys and not s.staging]
    for tab in tabs:
        sheet_id = ids.new()
        work.append({"addSheet": {"properties": {
            "sheetId": sheet_id, "title": f"{MARK}~{run}~{tab.key}", "hidden": True, "gridProperties": _grid(tab),
            "tabColorStyle": {"rgbColor": rgb(TAB_COLOR)}}}})
        work.append(_metadata(STAGING_KEY, f"{run}:{tab.key}", sheet_id))
        work += content(tab, sheet_id, run, links, max(limit // 2, 1))
        final.append({"updateSheetProperties": {"properties": {"sheetId": sheet_id, "title": tab.name,
                                                               "hidden": False}, "fields": "title,hidden"}})
        final.append({"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
            "metadataKey": STAGING_KEY, "metadataLocation": {"sheetId": sheet_id}}}}})
        final.append(_metadata(TAB_KEY, tab.key, sheet_id))
    batches: list[list[dict]] = []
    current: list[dict] = []
    size = _size([])
    for req in work:
        n = _req_size(req)
        if current and size + n > limit:
            batches.append(current)
            current, size = [], _size([])
        current.append(req)
        size += n
    if current:
        batches.append(current)
    batches.append(final)
    return batches


def _metadata(key: str, value: str, sheet_id: int) -> dict:
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": key, "metadataValue": value, "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT"}}}


def _req_size(req: dict) -> int:
    return len(json.dumps(req).encode("utf-8")) + 2


def _size(reqs: list[dict]) -> int:
    return len('{"requests": [], "includeSpreadsheetInResponse": false}') + sum(_req_size(r) for r in reqs)


class IdMaker:
    def __init__(self, taken: set[int]):
        self.taken = set(taken)
        self.rng = random.SystemRandom()

    def new(self) -> int:
        while True:
            n = self.rng.randrange(1, 2**31 - 1)
            if n not in self.taken:
                self.taken.add(n)
                return n


# =========================================================================== one tab's content

def ncols(tab: TabSpec) -> int:
    return max(len(tab.header), max((len(r) for r in tab.rows), default=0), len(tab.formats), 1)


def _grid(tab: TabSpec) -> dict:
    h = tab.header_row
    return {"rowCount": h + max(len(tab.rows), 1), "columnCount": ncols(tab), "frozenRowCount": h,
            "frozenColumnCount": 0}


def content(tab: TabSpec, sheet_id: int, run: str, links: dict[str, int], chunk_bytes: int) -> list[dict]:
    """updateCells (in chunks of rows), column widths, the filter and the warning-only protection."""
    reqs: list[dict] = []
    rows = row_data(tab, links)
    for start, chunk in _chunks(rows, chunk_bytes):
        reqs.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": start, "columnIndex": 0},
                                     "rows": chunk, "fields": "userEnteredValue,userEnteredFormat,textFormatRuns"}})
    n = ncols(tab)
    for c, chars in enumerate(tab.column_widths(n)):
        reqs.append({"updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": c, "endIndex": c + 1},
            "properties": {"pixelSize": round(chars * 7 + 10)}, "fields": "pixelSize"}})
    h = tab.header_row
    reqs.append({"setBasicFilter": {"filter": {"range": {
        "sheetId": sheet_id, "startRowIndex": h - 1, "endRowIndex": h + len(tab.rows),
        "startColumnIndex": 0, "endColumnIndex": n}}}})
    reqs.append({"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": sheet_id}, "description": f"{PROTECTION} (run {run})", "warningOnly": True}}})
    return reqs


def _chunks(rows: list[dict], limit: int):
    start, chunk, size = 0, [], 0
    for i, row in enumerate(rows):
        n = len(json.dumps(row).encode("utf-8")) + 2
        if chunk and size + n > limit:
            yield start, chunk
            start, chunk, size = i, [], 0
        chunk.append(row)
        size += n
    if chunk:
        yield start, chunk


def row_data(tab: TabSpec, links: dict[str, int]) -> list[dict]:
    """The sheet's rows as RowData: title lines, a blank row, the header, the records."""
    n = ncols(tab)
    out: list[dict] = []
    for i, line in enumerate(tab.title):
        if line is None or line == "":
            out.append({})
            continue
        cell = {"userEnteredValue": {"stringValue": str(line)[:MAX_TEXT]}}
        if i == 0:
            cell["userEnteredFormat"] = TITLE_FORMAT
        out.append({"values": [cell]})
    out.append({})
    header = []
    for c in range(n):
        text = tab.header[c] if c < len(tab.header) else None
        cell: dict = {"userEnteredFormat": HEADER_FORMAT}
        if text not in (None, ""):
            cell["userEnteredValue"] = {"stringValue": str(text)[:MAX_TEXT]}
        header.append(cell)
    out.append({"values": header})
    formats = [tab.formats[c] if c < len(tab.formats) and tab.formats[c] in FORMATS else "text" for c in range(n)]
    for ri, row in enumerate(tab.rows):
        values = []
        for c in range(n):
            v = row[c] if c < len(row) else None
            value, fmt = cell_value(v, formats[c])
            cell: dict = {}
            fmt_obj: dict = {}
            if value is not None:
                cell["userEnteredValue"] = value
                nf = number_format(fmt)
                if nf is not None and "numberValue" in value:
                    fmt_obj["numberFormat"] = nf
            fill = tab.fills.get((ri, c)) if tab.fills else None
            if fill in FILL_STYLE:
                fmt_obj["backgroundColorStyle"] = FILL_STYLE[fill]
            if fmt_obj:
                cell["userEnteredFormat"] = fmt_obj
            target = tab.links.get((ri, c)) if tab.links else None
            if target and value is not None and "stringValue" in value:
                uri = link_uri(target, links)
                if uri:
                    cell["textFormatRuns"] = [{"startIndex": 0, "format": {
                        "link": {"uri": uri}, "underline": True,
                        "foregroundColorStyle": {"rgbColor": rgb(LINK_RGB)}}}]
            values.append(cell)
        while values and not values[-1]:
            values.pop()
        out.append({"values": values} if values else {})
    return out


def cell_value(v, fmt: str) -> tuple[dict | None, str]:
    """(ExtendedValue or None for an empty cell, the format to show it with)."""
    if v is None:
        return None, fmt
    if isinstance(v, str):
        return ({"stringValue": v[:MAX_TEXT]} if v != "" else None), fmt
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return {"boolValue": bool(v)}, fmt
    if isinstance(v, Decimal):
        if v.is_nan():
            return None, fmt
        if not v.is_finite():
            return {"stringValue": "-∞" if v < 0 else "∞"}, "text"
        return {"numberValue": float(v)}, fmt
    if isinstance(v, dt.date):
        if v != v:  # noqa: PLR0124 - NaT is a date that is not equal to itself
            return None, fmt
        serial = date_serial(v)
        if serial is None:
            return {"stringValue": v.isoformat()}, "text"
        if fmt not in ("date", "datetime"):
            fmt = "datetime" if isinstance(v, dt.datetime) else "date"
        return {"numberValue": serial}, fmt
    if isinstance(v, numbers.Integral):
        return {"numberValue": int(v)}, fmt
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return None, fmt
        if math.isinf(f):
            return {"stringValue": "-∞" if f < 0 else "∞"}, "text"
        return {"numberValue": f}, fmt
    return {"stringValue": str(v)[:MAX_TEXT]}, fmt


def date_serial(v: dt.date) -> float | int | None:
    """Google Sheets serial number (days since 1899-12-30) of a date or datetime; None before 1900."""
    if isinstance(v, dt.datetime):
        v = v.replace(tzinfo=None)
        day = v.date()
        frac = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    else:
        day, frac = v, 0
    if day < _FIRST:
        return None
    days = (day - _EPOCH).days
    return days + frac if frac else days


def link_uri(target: str, links: dict[str, int]) -> str | None:
    """`'Tab'!E7` → `#gid=SHEETID&range=E7` for a tab of the spreadsheet; an http(s) URL stays as it is;
    None when there is no such tab, or for a link to a file (a Google Sheet cannot open local files)."""
    target = target.strip()
    head = target.split("#", 1)[0]
    if "://" in head:
        return target if head.lower().startswith(("https://", "http://")) else None
    if head.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")):
        return None
    target = target.lstrip("#")
    bang = target.rfind("!")
    if bang <= 0:
        return None
    sheet, ref = target[:bang], target[bang + 1:].replace("$", "")
    if len(sheet) >= 2 and sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    gid = links.get(sheet)
    return None if gid is None or not ref else f"#gid={gid}&range={ref}"



