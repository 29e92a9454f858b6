"""Normalise: raw grids -> typed columns, one finding per cell that cannot be read (SPEC §2, §3).

Pure: no I/O. Each distinct raw value of a column is parsed once (people's messy text
repeats a lot), then the column is built by look-up. Dates become `datetime64[s]` at midnight,
money exact integer cents (`Int64`), numbers floats, words their canonical code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from bisect import bisect_left
from itertools import compress
from operator import itemgetter

import numpy as np
import pandas as pd

from .. import values as V
from ..a1 import cell_ref
from ..contract import ENUMS, EXPECTED, Column, Table
from ..findings import Finding
from ..read.recognise import RawTable

NAT = np.iinfo(np.int64).min           # integer form of NaT
TEXT_KINDS = ("id", "ref", "line_ref", "text", "person")
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass
class Records:
    """One contract table, normalised. `df` has a column per contract key (absent ones all
    empty), `_row` (the row number people see) and `_ok` (False: left out of figures)."""
    table: Table
    tab: str
    df: pd.DataFrame
    present: frozenset[str]
    col0: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    raw: dict[str, list] = field(default_factory=dict)     # cell values as read, per column
    unread: dict[str, set[int]] = field(default_factory=dict)   # column -> positions of cells not understood

    def unreadable(self, key: str) -> np.ndarray:
        """Per record: the `key` cell holds something that could not be understood (as opposed
        to being blank) — an unreadable value, a formula error, an unknown word."""
        mask = np.zeros(len(self.df), dtype=bool)
        if self.unread.get(key):
            mask[sorted(self.unread[key])] = True
        return mask

    def cell(self, key: str, row: int) -> str:
        return cell_ref(self.tab, row, self.col0[key]) if key in self.col0 else f"{self.tab}!{row}:{row}"

    def typed(self, key: str, pos: int) -> str:
        """The value as typed at position `pos` (0-based record index)."""
        return as_typed(self.raw[key][pos]) if key in self.raw else ""

    @property
    def ok(self) -> pd.DataFrame:
        return self.df[self.df["valid"]]


@dataclass(frozen=True)
class ReadOptions:
    day_first: bool = False
    date1904: bool = False
    currency: str = V.DEFAULT_CURRENCY     # ISO code amounts are kept in (general.currency)




def normalise(raw: RawTable, opts: ReadOptions) -> tuple[Records, list[Finding]]:
    table, sheet = raw.table, raw.sheet
    findings: list[Finding] = []
    first = raw.header_row0 + 1
    body = sheet.rows[first:]
    # any() is C-fast and true for most rows; rows it calls blank may still hold a 0 or False
    row0s = [first + i for i, r in enumerate(body) if any(r) or _filled(r)]
    n = len(row0s)
    ok = np.ones(n, dtype=bool)
    data: dict[str, object] = {"sheet_row": np.array(row0s, dtype=np.int64) + 1}
    raws: dict[str, list] = {}
    unread: dict[str, set[int]] = {}
    kept = [sheet.rows[r] for r in row0s]
    width = max(map(len, kept), default=0)
    if kept and min(map(len, kept)) < width:
        kept = [list(r) + [""] * (width - len(r)) for r in kept]
    for col in table.columns:
        fc = raw.columns.get(col.key)
        if fc is None:
            data[col.key] = _empty(col, n)
            if col.needed and not _defaulted(col):
                ok[:] = False          # reported once as COLUMN_MISSING by recognition
            continue
        c0 = fc.col0
        cells = list(map(itemgetter(c0), kept)) if c0 < width else [""] * n
        raws[col.key] = cells
        value_of, bad, blanks = _parse_distinct(col, fc.scale, opts, set(cells))
        data[col.key] = _column(col, list(map(value_of.__getitem__, cells)))
        blank_needed = bool(blanks) and col.needed and not _defaulted(col)
        special = _special_cells(sheet, c0, row0s)
        if not bad and not blank_needed and not special:
            continue
        problem = set(bad) | (blanks if blank_needed else set())
        where = np.flatnonzero(pd.Series(cells, dtype=object).isin(problem).to_numpy()) if problem else []
        for i in sorted(set(where.tolist() if len(where) else []) | set(special)):
            v = cells[i]
            code, shown = special.get(i, (None, None))
            if shown is not None:
                v = shown or v
            if code is None and v in bad:
                code = bad[v]
            elif code is None and blank_needed and _blank(v):
                code = "missing"
            if code is None:
                continue
            f, drop = _finding(col, fc.header, table, sheet.name, row0s[i] + 1, c0, v, code,
                               (value_of.get(v), bad.get(v)), opts)
            findings.append(f)
            if code not in (V.AMBIGUOUS, V.ROUNDED, "missing"):
                unread.setdefault(col.key, set()).add(i)
            if drop:
                ok[i] = False
                _blank_out(data, col, i)
            elif code in (V.UNREADABLE, V.OUT_OF_RANGE, "formula_error", "uncalculated"):
                _blank_out(data, col, i)
    data["valid"] = ok
    df = pd.DataFrame(data)
    rec = Records(table, sheet.name, df, frozenset(raw.columns),
                  {k: fc.col0 for k, fc in raw.columns.items()},
                  {k: fc.header for k, fc in raw.columns.items()}, raws, unread)
    return rec, findings


def _parse_distinct(col: Column, scale: Decimal, opts: ReadOptions, distinct: set) -> tuple[dict, dict, set]:
    """Parse each distinct raw value once: (raw -> value, raw -> issue for those with one,
    the blank raws).

    Two fast paths keep the common cases out of the per-value parser: text that is already
    clean (ASCII, printable, trimmed) is its own value, and money typed as numbers is
    converted in one vectorised step — anything that would need rounding, or is huge, still
    goes through the parser."""
    parse = _parser(col, scale, opts)
    values: dict = {}
    if col.kind in TEXT_KINDS:
        clean = _clean_strings(distinct)
        values.update(zip(clean, clean))
    elif col.kind == "money":
        nums = [v for v in distinct if type(v) in (float, int) and -1e11 < v < 1e11]
        if nums:
            arr = np.array(nums, dtype=np.float64) * (100 * int(scale))
            cents = np.rint(arr)
            exact = np.abs(arr - cents) < 1e-4
            values.update(zip(compress(nums, exact.tolist()), cents[exact].astype(np.int64).tolist()))
    issues: dict = {}
    blanks: set = set()
    for v in distinct.difference(values):
        values[v], issue = parse(v)
        if issue is not None:
            issues[v] = issue
        elif values[v] is None:
            blanks.add(v)
    return values, issues, blanks


def _clean_strings(distinct: set) -> list:
    """The values that are already clean text (ASCII, printable, trimmed, single spaces),
    which parse to themselves. Checked for the whole column at once with a few C-speed
    string operations on the joined text; value by value only when some are not clean."""
    filled = distinct - {""}                  # blanks are parsed (and reported where needed)
    if filled and set(map(type, filled)) == {str}:
        sep = "\x01"
        j = sep.join(filled)
        if (j.count(sep) == len(filled) - 1 and j.isascii() and j.replace(sep, "").isprintable()
                and "  " not in j and " " + sep not in j and sep + " " not in j and sep + sep not in j
                and j[:1] not in (" ", sep) and j[-1:] not in (" ", sep)):
            return list(filled)
    return [v for v in distinct if type(v) is str and v and v.isascii() and v.isprintable()
            and v[:1] != " " and v[-1:] != " " and "  " not in v]


def _filled(row: list) -> bool:
    for v in row:
        if v != "" and v is not None:
            return True
    return False


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _defaulted(col: Column) -> bool:
    return col.kind == "enum" and ENUMS[col.enum].default is not None


def _special_cells(sheet, c0: int, row0s: list[int]) -> dict[int, tuple[str, str]]:
    """Formula errors and uncalculated formulas in this column: record index -> (code, text)."""
    out = {}
    for (r, c), err in sheet.errors.items():
        if c == c0 and (i := _index(row0s, r)) is not None:
            out[i] = ("formula_error", err)
    for (r, c) in sheet.uncalculated:
        if c == c0 and (i := _index(row0s, r)) is not None:
            out[i] = ("uncalculated", "")
    return out


def _index(sorted_rows: list[int], r: int) -> int | None:
    i = bisect_left(sorted_rows, r)
    return i if i < len(sorted_rows) and sorted_rows[i] == r else None


def _finding(col: Column, header: str, table: Table, tab: str, row: int, c0: int, v, code: str,
             parsed, opts: ReadOptions) -> tuple[Finding, bool]:
    """The finding for one cell and whether its row is left out of the figures."""
    en, zh, example = EXPECTED[col.kind]
    if col.kind == "enum":
        e = ENUMS[col.enum]
        first = next(iter(e.words))
        example = {"en": e.english(first), "zh-CN": e.chinese(first)}
    if col.kind == "money" and opts.currency != "CNY":
        example = "1,234.50"                   # "¥1,234.50" would be another currency there
    params = {"expected": {"en": en, "zh-CN": zh}, "example": example}
    typed = as_typed(v)
    cell = cell_ref(tab, row, c0)
    mk = lambda c, **p: Finding(c, table.key, tab, row, header, cell, typed, params={**params, **p})  # noqa: E731
    if code == V.AMBIGUOUS:
        read_as = parsed[0]
        if isinstance(read_as, int):
            read_as = dt.date.fromordinal(read_as // 86400 + EPOCH_ORDINAL)
        return mk("AMBIGUOUS_DATE", read_as=str(read_as)), False
    if code == V.CURRENCY:
        return mk("CURRENCY_UNSUPPORTED", currency=V.money_currency(v) or "?", configured=opts.currency), True
    if code == V.ROUNDED:
        return mk("MONEY_ROUNDED", read_as=V.format_money(parsed[0], "yuan")), False
    if code == V.UNKNOWN_WORD and not ENUMS[col.enum].guess_unknown:
        return mk("UNKNOWN_STATUS", choices=_choices(col)), False
    if code == V.UNKNOWN_WORD and parsed and parsed[0] is not None:
        e = ENUMS[col.enum]
        return mk("UNKNOWN_WORD", default={"en": e.english(parsed[0]), "zh-CN": e.chinese(parsed[0])},
                  choices=_choices(col)), False
    if code == V.UNKNOWN_WORD:
        params["expected"] = {"en": "one of: " + _choices(col)["en"], "zh-CN": "以下之一：" + _choices(col)["zh-CN"]}
    if col.needed:
        if code == "missing":
            return mk("VALUE_MISSING"), True
        if code == "formula_error":
            return mk("FORMULA_ERROR"), True
        if code == "uncalculated":
            return mk("FORMULA_NOT_CALCULATED"), True
        return mk("VALUE_UNREADABLE"), True
    return mk("OPTIONAL_VALUE_UNREADABLE"), False


def _choices(col: Column) -> dict:
    e = ENUMS[col.enum]
    return {"en": ", ".join(e.english(c) for c in e.words), "zh-CN": "、".join(e.chinese(c) for c in e.words)}


def _parser(col: Column, scale: Decimal, opts: ReadOptions):
    kind = col.kind
    if kind == "money":
        return lambda v: V.parse_money(v, scale=int(scale), currency=opts.currency)
    if kind == "number":
        s = float(scale)
        return lambda v: V.parse_number(v, scale=s)
    if kind == "score":
        return V.parse_score
    if kind == "date":
        def parse_date(v):
            d, issue = V.parse_date(v, dayfirst=opts.day_first, date1904=opts.date1904)
            return (None if d is None else (d.toordinal() - EPOCH_ORDINAL) * 86400, issue)
        return parse_date
    if kind == "datetime":
        return lambda v: V.parse_datetime(v, dayfirst=opts.day_first, date1904=opts.date1904)
    if kind == "enum":
        e = ENUMS[col.enum]
        p = V.make_enum_parser(e.accepted(), e.unknown)
        return lambda v: (e.default, None) if _blank(v) else p(v)
    return V.parse_text


def _column(col: Column, vals: list):
    if col.kind == "money":
        return pd.array(vals, dtype="Int64")
    if col.kind == "date":
        return np.array([NAT if v is None else v for v in vals], dtype=np.int64).view("datetime64[s]")
    if col.kind == "datetime":
        return pd.to_datetime(pd.Series(vals, dtype=object), errors="coerce").to_numpy(dtype="datetime64[s]")
    if col.kind in ("number", "score"):
        return np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    return np.array(vals, dtype=object)


def _empty(col: Column, n: int):
    return _column(col, [None] * n)


def _blank_out(data: dict, col: Column, i: int) -> None:
    arr = data[col.key]
    if col.kind == "money":
        arr[i] = pd.NA
    elif col.kind in ("date", "datetime"):
        arr[i] = np.datetime64("NaT")
    elif col.kind in ("number", "score"):
        arr[i] = np.nan
    else:
        arr[i] = None


def as_typed(v) -> str:
    """A cell value as the person typed it, for messages."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    return str(v)
