"""Find the contract's tables in a workbook's sheets (SPEC §2).

A tab is taken for a table by its name (either language, variants such as
`Expenses 费用记录`) or, failing that, by a header row holding every column the table
needs. The header row is the row, among the first `HEADER_SCAN_ROWS`, that matches the
most of the table's columns, so title rows and blank rows above it are fine. Columns may
come in any order; extra columns are ignored (and left alone in the workbook).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ..a1 import cell_ref
from ..contract import TABLES, Column, Table
from ..findings import Finding
from ..headers import HeaderMatch, header_language, match_column, match_tab
from .workbook import RawWorkbook, Sheet

HEADER_SCAN_ROWS = 30


@dataclass
class FoundColumn:
    column: Column
    col0: int
    header: str          # as typed
    scale: Decimal       # from a unit in brackets


@dataclass
class RawTable:
    table: Table
    sheet: Sheet
    header_row0: int
    columns: dict[str, FoundColumn] = field(default_factory=dict)

    @property
    def tab(self) -> str:
        return self.sheet.name


@dataclass
class Recognised:
    tables: dict[str, RawTable]
    findings: list[Finding]
    language: str | None        # the language the headers are written in, when clear


def recognise(book: RawWorkbook) -> Recognised:
    findings: list[Finding] = []
    found: dict[str, RawTable] = {}
    votes: Counter = Counter()
    unnamed: list[Sheet] = []
    for sheet in book.sheets:
        table = match_tab(TABLES, sheet.name)
        if table is None:
            unnamed.append(sheet)
            continue
        if table.key in found:
            findings.append(Finding("TAB_DUPLICATE", table.key, sheet.name,
                                    params={"table_name": _names(table), "first_tab": found[table.key].tab}))
            continue
        raw = _header(table, sheet)
        if raw is None:
            findings.append(Finding("HEADER_NOT_FOUND", table.key, sheet.name,
                                    params={"expected": _expected(table)}))
            found[table.key] = RawTable(table, sheet, -1)   # claimed, so it is not reported missing
            continue
        found[table.key] = raw
    for sheet in unnamed:                      # recognise the rest by their headers
        best = None
        for table in TABLES:
            if table.key in found:
                continue
            raw = _header(table, sheet)
            if raw and all(c.key in raw.columns for c in table.columns if c.needed) and len(raw.columns) >= 3:
                if best is None or len(raw.columns) > len(best.columns):
                    best = raw
        if best is not None:
            found[best.table.key] = best
    for raw in found.values():
        if raw.header_row0 < 0:
            continue
        findings += _column_findings(raw)
        for fc in raw.columns.values():
            lang = header_language(raw.table, fc.header)
            if lang:
                votes[lang] += 1
    readable = {k: v for k, v in found.items() if v.header_row0 >= 0}
    if not found:
        findings.append(Finding("NO_TABLES", "", ""))
    else:
        for table in TABLES:
            if table.key not in found and not table.optional:
                findings.append(Finding("TAB_MISSING", table.key, "", params={"table_name": _names(table)}))
    language = votes.most_common(1)[0][0] if votes else None
    return Recognised(readable, findings, language)


def _header(table: Table, sheet: Sheet) -> RawTable | None:
    best: RawTable | None = None
    for r0, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        cols: dict[str, FoundColumn] = {}
        repeated: list[FoundColumn] = []
        for c0, text in enumerate(row):
            m = match_column(table, text)
            if m is None:
                continue
            col, hm = m
            fc = FoundColumn(col, c0, str(text).strip(), _scale(col, hm))
            if col.key in cols:
                repeated.append(fc)
            else:
                cols[col.key] = fc
        if len(cols) >= 2 and (best is None or len(cols) > len(best.columns)):
            best = RawTable(table, sheet, r0, cols)
            best.repeated = repeated  # type: ignore[attr-defined]
    return best


def _scale(col: Column, hm: HeaderMatch) -> Decimal:
    if col.kind == "money":
        return hm.scale if hm.scale >= 1 else Decimal(1)
    if col.kind == "number":
        return hm.scale
    return Decimal(1)


def _column_findings(raw: RawTable) -> list[Finding]:
    out = []
    table, row = raw.table, raw.header_row0 + 1
    for fc in getattr(raw, "repeated", []):
        first = raw.columns[fc.column.key]
        out.append(Finding("COLUMN_REPEATED", table.key, raw.tab, row, fc.header,
                           cell_ref(raw.tab, row, fc.col0), fc.header,
                           params={"first_cell": cell_ref(raw.tab, row, first.col0)}))
    for col in table.columns:
        if col.key in raw.columns:
            continue
        if col.needed and not (col.kind == "enum" and _has_default(col)):
            out.append(Finding("COLUMN_MISSING", table.key, raw.tab, row, _both(col),
                               params={"count": _record_count(raw)}))
        else:
            out.append(Finding("COLUMN_ABSENT", table.key, raw.tab, row, _both(col)))
    return out


def _has_default(col: Column) -> bool:
    from ..contract import ENUMS
    return ENUMS[col.enum].default is not None


def _record_count(raw: RawTable) -> int:
    return sum(1 for r in raw.sheet.rows[raw.header_row0 + 1:] if any(v not in ("", None) for v in r))


def _both(col: Column) -> str:
    return f"{col.en} / {col.zh}"


def _names(table: Table) -> dict:
    return {"en": table.en, "zh-CN": table.zh}


def _expected(table: Table) -> dict:
    needed = [c for c in table.columns if c.needed]
    return {"en": ", ".join(c.en for c in needed), "zh-CN": "、".join(c.zh for c in needed)}
