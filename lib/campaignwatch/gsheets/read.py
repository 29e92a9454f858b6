"""Read a Google Sheet into the same `RawWorkbook` the xlsx reader produces — in two requests.

1. `spreadsheets.get` with `fields` limited to the sheets' properties, developer metadata
   and protected-range ids (no cells): which tabs exist, which are ours;
2. one `values:batchGet` of every tab that is not generated (ranges = quoted tab names),
   `UNFORMATTED_VALUE`, dates as `SERIAL_NUMBER`, `ROWS`.

The grids are what python-calamine gives for an .xlsx: row 0 is sheet row 1, padded to a
rectangle with '', numbers as floats, booleans as bools. A cell whose value is exactly a
spreadsheet error literal (`#DIV/0!`, `#N/A`, …) goes to `Sheet.errors` and reads as ''.

Dates: the API sends serial numbers; the book says so (`serial_dates`), and the pipeline's
recognise stage turns the serials of the columns it recognises as dates into dates — what
calamine hands over for a date-formatted cell — so messages quote `2026-12-01`, not 46357,
and both backends report the same. The reader itself runs no stage.
"""
from __future__ import annotations


from ..a1 import quote_tab
from ..config import Config
from ..names import is_generated
from ..read.workbook import RawWorkbook, Sheet
from . import client

METADATA_FIELDS = ("sheets(properties(sheetId,title,index,sheetType,hidden,gridProperties),"
                   "developerMetadata(metadataId,metadataKey,metadataValue,location),"
                   "protectedRanges(protectedRangeId,range,description,warningOnly))")

# Excel's and Google Sheets' error literals, as UNFORMATTED_VALUE renders them.
ERROR_LITERALS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
})



def read_spreadsheet(source: str, cfg: Config) -> RawWorkbook:
    sid, name = client.source_name(source)
    api = client.connect(cfg, name)
    meta = api.metadata(sid, METADATA_FIELDS)
    client.remember(sid, meta)
    tabs, generated = [], []
    for sheet in meta.get("sheets", []) or []:
        props = sheet.get("properties", {}) or {}
        if props.get("sheetType", "GRID") != "GRID":
            continue                              # charts on their own sheet, data-source sheets
        title = str(props.get("title", ""))
        (generated if is_generated(title) else tabs).append(title)
    ranges = api.values(sid, [quote_tab(t, always=True) for t in tabs]) if tabs else []
    sheets = [to_sheet(title, vr.get("values") or []) for title, vr in zip(tabs, ranges)]
    return RawWorkbook(name, "gsheet", False, sheets, generated, serial_dates=True)


def to_sheet(title: str, values: list[list]) -> Sheet:
    errors: dict[tuple[int, int], str] = {}
    width = max((len(r) for r in values), default=0)
    rows: list[list] = []
    for r, raw in enumerate(values):
        row = []
        for c, v in enumerate(raw):
            if isinstance(v, str):
                if v in ERROR_LITERALS:
                    errors[(r, c)] = v
                    v = ""
            elif isinstance(v, bool):
                pass
            elif isinstance(v, int):
                v = float(v)                      # calamine hands every number over as a float
            elif not isinstance(v, float):
                v = "" if v is None else str(v)
            row.append(v)
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        rows.append(row)
    return Sheet(title, rows, errors)
