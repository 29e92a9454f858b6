"""`campaignwatch init --google SPREADSHEET`: lay the contract's tabs into an existing Google Sheet.

Mirrors `workbook/template.py`: one tab per table with the header in the chosen language
(bold, white on dark blue, needed columns red, a hint note on every header cell), a frozen
header row, column widths, date and money formats, dropdowns (`ONE_OF_LIST` for every
enumeration, `ONE_OF_RANGE` on the campaigns tab's IDs for campaign-ID columns, scores 1–5)
that only warn (`strict: false`: people may type something else and `validate` will say
so), and the guide tab. A table whose tab is already there — recognised by name in either
language, as the reader recognises it — is left alone, as is every other tab.

Two Sheets requests: the metadata, then one `batchUpdate` (none when every tab is there).
"""
from __future__ import annotations

from ..config import Config
from ..contract import ENUMS, TABLES, Column, Table
from ..headers import match_tab
from ..errors import SourceError
from ..workbook.template import FORMATS as TEMPLATE_FORMATS
from ..workbook.template import GUIDE, VALIDATION_ROWS, hint
from . import client
from ..a1 import quote_tab
from .read import METADATA_FIELDS
from .write import HEADER_FORMAT, IdMaker, rgb

NEEDED_RGB = "C00000"
NUMBER_TYPES = {"date": "DATE", "datetime": "DATE_TIME", "money": "NUMBER", "number": "NUMBER", "score": "NUMBER"}


def init_spreadsheet(source: str, cfg: Config, lang: str = "en") -> list[str]:
    """Add the contract's missing tabs (and the guide) to the Google Sheet `source`; returns the tabs added."""
    sid, name = client.source_name(source)
    api = client.connect(cfg, name)
    try:
        meta = api.metadata(sid, METADATA_FIELDS)
        requests, added = plan(meta, lang)
        if requests:
            api.batch_update(sid, requests)
    except SourceError as err:
        if err.path is None:
            err.path = name
        raise
    return added


def plan(meta: dict, lang: str) -> tuple[list[dict], list[str]]:
    sheets = [s.get("properties", {}) or {} for s in meta.get("sheets", []) or []]
    titles = [str(p.get("title", "")) for p in sheets]
    present: dict[str, str] = {}
    for title in titles:
        table = match_tab(TABLES, title)
        if table is not None:
            present.setdefault(table.key, title)
    taken = {t.casefold() for t in titles}
    ids = IdMaker({int(p.get("sheetId", 0)) for p in sheets})
    campaigns_tab = present.get(TABLES[0].key, TABLES[0].tab(lang))
    requests: list[dict] = []
    added: list[str] = []
    guide_title = GUIDE[lang][0]
    if not any(t.casefold() in {g[0].casefold() for g in GUIDE.values()} for t in titles):
        sheet_id = ids.new()
        requests += _guide(sheet_id, lang)
        added.append(guide_title)
        taken.add(guide_title.casefold())
    for table in TABLES:
        title = table.tab(lang)
        if table.key in present or title.casefold() in taken:
            continue
        sheet_id = ids.new()
        requests += table_requests(table, sheet_id, lang, campaigns_tab)
        added.append(title)
        taken.add(title.casefold())
    return requests, added


def table_requests(table: Table, sheet_id: int, lang: str, campaigns_tab: str) -> list[dict]:
    n = len(table.columns)
    reqs: list[dict] = [{"addSheet": {"properties": {
        "sheetId": sheet_id, "title": table.tab(lang),
        "gridProperties": {"rowCount": VALIDATION_ROWS, "columnCount": max(n, 26), "frozenRowCount": 1}}}}]
    header = []
    for col in table.columns:
        fmt = dict(HEADER_FORMAT, horizontalAlignment="CENTER")
        if col.needed:
            fmt["backgroundColorStyle"] = {"rgbColor": rgb(NEEDED_RGB)}
        header.append({"userEnteredValue": {"stringValue": col.header(lang)}, "userEnteredFormat": fmt,
                       "note": hint(col, lang)})
    reqs.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                                 "rows": [{"values": header}], "fields": "userEnteredValue,userEnteredFormat,note"}})
    reqs.append({"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 0, "endIndex": 1},
        "properties": {"pixelSize": 30}, "fields": "pixelSize"}})
    for i, col in enumerate(table.columns):
        column = {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": VALIDATION_ROWS,
                  "startColumnIndex": i, "endColumnIndex": i + 1}
        reqs.append({"updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": i, "endIndex": i + 1},
            "properties": {"pixelSize": int(col.width * 7 + 10)}, "fields": "pixelSize"}})
        if col.kind in NUMBER_TYPES:
            reqs.append({"repeatCell": {"range": column, "cell": {"userEnteredFormat": {"numberFormat": {
                "type": NUMBER_TYPES[col.kind], "pattern": TEMPLATE_FORMATS[col.kind]}}},
                "fields": "userEnteredFormat.numberFormat"}})
        rule = validation(col, lang, campaigns_tab)
        if rule is not None:
            reqs.append({"setDataValidation": {"range": column, "rule": rule}})
    return reqs


def validation(col: Column, lang: str, campaigns_tab: str) -> dict | None:
    """The dropdown (or score range) of a column, warning only, like the xlsx template's."""
    note = "campaignwatch: " + hint(col, lang)
    if col.kind == "enum":
        e = ENUMS[col.enum]
        condition = {"type": "ONE_OF_LIST",
                     "values": [{"userEnteredValue": e.label(code, lang)} for code in e.words]}
    elif col.kind == "ref":
        condition = {"type": "ONE_OF_RANGE",
                     "values": [{"userEnteredValue": f"={quote_tab(campaigns_tab, always=True)}!$A$2:$A${VALIDATION_ROWS}"}]}
    elif col.kind == "score":
        condition = {"type": "NUMBER_BETWEEN", "values": [{"userEnteredValue": "1"}, {"userEnteredValue": "5"}]}
    else:
        return None
    rule = {"condition": condition, "inputMessage": note, "strict": False}
    if condition["type"] != "NUMBER_BETWEEN":
        rule["showCustomUi"] = True
    return rule


def _guide(sheet_id: int, lang: str) -> list[dict]:
    title, lines = GUIDE[lang]
    rows: list[dict] = []
    for i, text in enumerate(lines[:-2]):
        cell: dict = {"userEnteredValue": {"stringValue": text}} if text else {}
        if i == 0:
            cell["userEnteredFormat"] = {"textFormat": {"bold": True, "fontSize": 14}}
        rows.append({"values": [cell]} if cell else {})
    head = {k: v for k, v in HEADER_FORMAT.items() if k != "wrapStrategy"}
    rows.append({"values": [{"userEnteredValue": {"stringValue": lines[-2]}, "userEnteredFormat": head},
                            {"userEnteredValue": {"stringValue": lines[-1]}, "userEnteredFormat": head}]})
    sep = "、" if lang == "zh-CN" else ", "
    for table in TABLES:
        columns = sep.join(c.header(lang) for c in table.columns)
        rows.append({"values": [{"userEnteredValue": {"stringValue": table.tab(lang)}},
                                {"userEnteredValue": {"stringValue": columns}}]})
    return [
        {"addSheet": {"properties": {"sheetId": sheet_id, "title": title,
                                     "gridProperties": {"rowCount": max(len(rows) + 5, 50), "columnCount": 2}}}},
        {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0}, "rows": rows,
                         "fields": "userEnteredValue,userEnteredFormat"}},
        {"updateDimensionProperties": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 0,
                                                 "endIndex": 1}, "properties": {"pixelSize": 22 * 7 + 10},
                                       "fields": "pixelSize"}},
        {"updateDimensionProperties": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 1,
                                                 "endIndex": 2}, "properties": {"pixelSize": 110 * 7 + 10},
                                       "fields": "pixelSize"}},
    ]
