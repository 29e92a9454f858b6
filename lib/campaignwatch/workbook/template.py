"""Write a new workbook from the contract (`campaignwatch init`).

One tab per table with a frozen, styled header row, column widths, number formats for
dates and money, dropdowns for enumerations and campaign IDs (warning style: people may
still type something else, and validation will tell them), a hint comment on every
header, and a guide tab. `demo=True` fills it with `demo.rows(...)`.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..a1 import cell_ref
from ..contract import ENUMS, EXPECTED, TABLES, Column, Table

VALIDATION_ROWS = 2000            # dropdowns and formats reach this far down
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
NEEDED_FILL = PatternFill("solid", fgColor="C00000")
THIN = Side(style="thin", color="BFBFBF")

FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "money": "#,##0.00",
           "number": "#,##0.##", "score": "0"}

GUIDE = {
    "en": ("Guide", [
        "campaignwatch workbook",
        "Each tab holds one table. Keep the header row; add records below it, one per row.",
        "Columns marked red in the header are needed for the figures: a row whose needed cell is empty or unreadable is left out and reported.",
        "Dates: 2026-11-26 (or 2026/11/26, 2026年11月26日). Money: 1234.50, ¥1,234.50, 1.2万.",
        "Dropdowns offer the accepted words; English and Chinese words are both understood.",
        "Run `campaignwatch validate THIS_FILE` to see what cannot be read, cell by cell.",
        "Tabs whose names start with “cw»” are written by campaignwatch on every sync: do not edit them.",
        "",
        "Tab", "Columns",
    ]),
    "zh-CN": ("使用说明", [
        "campaignwatch 工作簿",
        "每个工作表是一张表。请保留表头行，在其下方逐行填写记录。",
        "表头为红色的列是计算所需的：此类单元格为空或无法识别时，该行不计入统计并会被报告。",
        "日期：2026-11-26（或 2026/11/26、2026年11月26日）。金额：1234.50、¥1,234.50、1.2万。",
        "下拉列表给出可选词；中英文均可识别。",
        "运行 `campaignwatch validate 本文件` 可逐格查看无法识别的内容。",
        "名称以“cw»”开头的工作表由 campaignwatch 每次同步时生成，请勿编辑。",
        "",
        "工作表", "列",
    ]),
}


def write_template(path: str | Path, lang: str = "en", demo: bool = False,
                   as_of: dt.date | None = None) -> Path:
    path = Path(path)
    wb = build(lang, demo, as_of or dt.date.today())
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def build(lang: str, demo: bool, as_of: dt.date) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    guide = wb.create_sheet(GUIDE[lang][0])
    data = {}
    if demo:
        from .demo import rows
        data = rows(as_of, lang)
    campaigns_tab = TABLES[0].tab(lang)
    for table in TABLES:
        ws = wb.create_sheet(table.tab(lang))
        _header(ws, table, lang)
        _validations(ws, table, lang, campaigns_tab)
        for record in data.get(table.key, []):
            ws.append([record.get(c.key) for c in table.columns])
        _formats(ws, table, len(data.get(table.key, [])))
    _guide(guide, lang)
    wb.active = 1
    return wb


def _header(ws, table: Table, lang: str) -> None:
    for i, col in enumerate(table.columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.header(lang))
        cell.font = HEADER_FONT
        cell.fill = NEEDED_FILL if col.needed else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=THIN)
        cell.comment = Comment(hint(col, lang), "campaignwatch", width=260, height=110)
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22


def hint(col: Column, lang: str) -> str:
    en, zh, example = EXPECTED[col.kind]
    if lang == "zh-CN":
        text = f"{col.zh}：{zh}，例如 {example}。" + (f"{col.help_zh}。" if col.help_zh else "")
        return text + ("计算必需。" if col.needed else "")
    text = f"{col.en}: {en}, e.g. {example}." + (f" {col.help_en}." if col.help_en else "")
    return text + (" Needed for the figures." if col.needed else "")


def _validations(ws, table: Table, lang: str, campaigns_tab: str) -> None:
    for i, col in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        rng = f"{letter}2:{letter}{VALIDATION_ROWS}"
        dv = None
        if col.kind == "enum":
            e = ENUMS[col.enum]
            words = ",".join(e.label(code, lang) for code in e.words)
            dv = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True)
        elif col.kind == "ref":
            ref = cell_ref(campaigns_tab, 2, 0).split("!")[0]
            dv = DataValidation(type="list", formula1=f"{ref}!$A$2:$A${VALIDATION_ROWS}", allow_blank=True)
        elif col.kind == "score":
            dv = DataValidation(type="whole", operator="between", formula1="1", formula2="5", allow_blank=True)
        if dv is None:
            continue
        dv.errorStyle = "warning"
        dv.showErrorMessage = True
        dv.error = "campaignwatch: " + hint(col, lang)
        dv.add(rng)
        ws.add_data_validation(dv)


def _formats(ws, table: Table, filled: int) -> None:
    for i, col in enumerate(table.columns, start=1):
        fmt = FORMATS.get(col.kind)
        if fmt is None:
            continue
        for row in range(2, max(filled, 0) + 2):
            ws.cell(row=row, column=i).number_format = fmt
        ws.column_dimensions[get_column_letter(i)].number_format = fmt


def _guide(ws, lang: str) -> None:
    title, lines = GUIDE[lang]
    for text in lines[:-2]:
        ws.append([text])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([lines[-2], lines[-1]])
    hdr = ws.max_row
    for c in (1, 2):
        ws.cell(row=hdr, column=c).font = HEADER_FONT
        ws.cell(row=hdr, column=c).fill = HEADER_FILL
    sep = "、" if lang == "zh-CN" else ", "
    for table in TABLES:
        ws.append([table.tab(lang), sep.join(c.header(lang) for c in table.columns)])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 110
