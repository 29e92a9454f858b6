"""Parity: the same content as an .xlsx and as a (loopback) Google Sheet gives the same findings,
the same flags and the same generated tabs."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import python_calamine as calamine

from fake_sheets import google_env  # noqa: F401 - fixture
from conftest import demo_tabs, gsheet_sync_json as sync_json, messy_sheets
from campaignwatch.names import MARK


def messy_tabs() -> dict[str, list[list]]:
    """The messy workbook of test_messy_workbook, plus date cells that draw findings on date values."""
    tabs = messy_sheets()
    tabs["活动"].append(["C3", "冬季预热", "赵敏", dt.date(2026, 12, 20), dt.date(2026, 12, 10), "草稿", 1, ""])
    tabs["费用记录 Expenses"].append(["E8", "C2", "L1", dt.date(2027, 1, 5), 100, "FP8", ""])
    tabs["突发事件"] = [["事件编号", "活动编号", "发生时间", "上报时间"],
                    ["I1", "C1", dt.datetime(2026, 9, 3, 9, 30), dt.datetime(2026, 9, 5, 18, 0)],
                    ["I2", "C1", dt.datetime(2027, 2, 1, 8, 0), ""]]
    return tabs


CASES = {"demo-en": lambda: demo_tabs("en"), "demo-zh": lambda: demo_tabs("zh-CN"), "messy": messy_tabs}
FORMULA_RESULTS = {"=1/0": "#DIV/0!"}


def write_xlsx(path, tabs: dict[str, list[list]]):
    """The workbook as Excel saves it: typed dates in date cells, formulas with their cached results."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, rows in tabs.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.datetime):
                    ws.write_datetime(r, c, v, time_fmt)
                elif isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_fmt)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v)
                elif v in FORMULA_RESULTS:
                    ws.write_formula(r, c, v, None, FORMULA_RESULTS[v])
                else:
                    ws.write_string(r, c, v)
    wb.close()
    return path


def google_values(tabs: dict[str, list[list]]) -> dict[str, list[list]]:
    """What the Sheets API returns for the same cells: a formula's result, not the formula."""
    return {name: [[FORMULA_RESULTS.get(v, v) if isinstance(v, str) else v for v in row] for row in rows]
            for name, rows in tabs.items()}


def norm(v):
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date()
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        return round(f, 9) if math.isfinite(f) else f
    return v


def table(grid: list[list]) -> list[list]:
    rows = [[norm(v) for v in row] for row in grid]
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def comparable(name: str, grid: list[list]) -> list[list]:
    rows = table(grid)
    rows = [[None], [None]] + rows[2:]                  # title lines 1–2 name the source and the time
    if name.endswith(("Run log", "运行记录")):
        rows = rows[:4] + [[None] + r[1:10] for r in rows[4:]]      # run time and seconds differ
    return rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_xlsx_and_google_sheet_give_the_same_results(google_env, tmp_path, case):
    tabs = CASES[case]()
    xlsx = write_xlsx(tmp_path / "book.xlsx", tabs)
    sid = google_env.fake.add_spreadsheet("parity", google_values(tabs))
    code_x, doc_x = sync_json(google_env, xlsx)
    code_g, doc_g = sync_json(google_env, f"gsheet:{sid}")
    x, g = doc_x["sources"][0], doc_g["sources"][0]
    assert (code_x, x["status"]) == (code_g, g["status"]) == (0, "ok"), (x["error"], g["error"])
    assert x["language"] == g["language"]

    def findings(src):
        return [(f["code"], f["table"], f["tab"], f["row"], f["column"], f["cell"], f["value"], f["message"])
                for f in src["findings"]]

    def flags(src):
        return [(f["code"], f["campaign_id"], f["line_id"], f["amount"], f["count"], f["ids"], f["cell"],
                 f["flag_id"], f["severity"]) for f in src["flags"]]

    assert findings(x) == findings(g)
    assert flags(x) == flags(g)
    assert x["excluded_rows"] == g["excluded_rows"]
    assert x["campaigns"] == g["campaigns"]
    if case == "messy":
        codes = {f[0] for f in findings(g)}
        assert {"FORMULA_ERROR", "FUTURE_DATE", "END_BEFORE_START", "VALUE_UNREADABLE"} <= codes
        assert ("FUTURE_DATE", "2027-01-05") in {(f[0], f[6]) for f in findings(g)}

    book = calamine.CalamineWorkbook.from_path(str(xlsx))
    ours_x = [n for n in book.sheet_names if n.startswith(MARK)]
    ours_g = [t for t in google_env.fake.titles(sid) if t.startswith(MARK)]
    assert ours_x == ours_g and len(ours_g) == 7
    for name in ours_x:
        got_x = comparable(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
        got_g = comparable(name, google_env.fake.grid(sid, name))
        assert got_x == got_g, name
