"""Validate across rows and tables (SPEC §3). Pure: records in, findings out.

Errors here mark rows left out of the figures (`_ok` False): an ID repeated after its first
use (the first is kept), a reference to a campaign or budget line that does not exist, a
campaign ending before it starts. Warnings mark what was read but deserves a look: dates
after the as-of date, negative amounts, a task due before it starts. Broken company rules
(missing receipts, spending outside the window, …) are not validation: they are flags.

Checks are plain functions in `CHECKS`; adding a check is adding it to the list.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..contract import TABLES
from ..findings import Finding
from .normalise import Records

Tables = dict[str, Records]


def _mk(rec: Records, code: str, key: str, pos: int, **params) -> Finding:
    row = int(rec.df["sheet_row"].iat[pos])
    return Finding(code, rec.table.key, rec.tab, row, rec.headers.get(key, key), rec.cell(key, row),
                   rec.typed(key, pos), params=params)


def duplicate_ids(tables: Tables, as_of: dt.date) -> list[Finding]:
    out = []
    for rec in tables.values():
        keys = [k for k in rec.table.id_columns if k in rec.present]
        if not keys or len(keys) < len(rec.table.id_columns):
            continue
        ids = rec.df[keys]
        known = ids.notna().all(axis=1)
        dup = ids.duplicated(keep="first") & known
        if not dup.any():
            continue
        first_row = rec.df[known & ~dup].set_index(keys)["sheet_row"]
        last = keys[-1]
        for pos in np.flatnonzero(dup.to_numpy()):
            key = tuple(ids.iloc[pos]) if len(keys) > 1 else ids.iloc[pos, 0]
            out.append(_mk(rec, "DUPLICATE_ID", last, pos, first_row=int(first_row.loc[key])))
            rec.df.iat[pos, rec.df.columns.get_loc("valid")] = False
    return out


def unknown_references(tables: Tables, as_of: dt.date) -> list[Finding]:
    campaigns = tables.get("campaigns")
    if campaigns is None or "campaign_id" not in campaigns.present:
        return []                                     # reported once as a missing tab
    known = set(campaigns.df["campaign_id"].dropna())
    lines = tables.get("budget_lines")
    known_lines = None
    if lines is not None and {"campaign_id", "line_id"} <= lines.present:
        known_lines = pd.MultiIndex.from_arrays([lines.df["campaign_id"], lines.df["line_id"]])
    out = []
    names = {"campaigns_tab": campaigns.tab, "lines_tab": lines.tab if lines else ""}
    for rec in tables.values():
        t = rec.table
        if t.key == "campaigns" or "campaign_id" not in rec.present:
            continue
        cid = rec.df["campaign_id"]
        bad = cid.notna() & ~cid.isin(known)
        for pos in np.flatnonzero(bad.to_numpy()):
            out.append(_mk(rec, "UNKNOWN_CAMPAIGN", "campaign_id", pos, **names))
        rec.df.loc[bad, "valid"] = False
        has_line_ref = any(c.kind == "line_ref" for c in t.columns)
        if not has_line_ref or "line_id" not in rec.present or known_lines is None:
            continue
        lid = rec.df["line_id"]
        pairs = pd.MultiIndex.from_arrays([cid, lid])
        badl = lid.notna() & cid.isin(known) & ~pd.Series(pairs.isin(known_lines), index=rec.df.index)
        for pos in np.flatnonzero(badl.to_numpy()):
            out.append(_mk(rec, "UNKNOWN_BUDGET_LINE", "line_id", pos,
                           campaign_id=rec.df["campaign_id"].iat[pos], **names))
        rec.df.loc[badl, "valid"] = False
    return out


def _order(rec: Records | None, start: str, end: str, code: str, exclude: bool) -> list[Finding]:
    if rec is None or not {start, end} <= rec.present:
        return []
    s, e = rec.df[start], rec.df[end]
    bad = (s.notna() & e.notna() & (e < s)).to_numpy()
    out = [_mk(rec, code, end, pos, start=str(s.iat[pos])[:10]) for pos in np.flatnonzero(bad)]
    if exclude:
        rec.df.loc[bad, "valid"] = False
    return out


def end_before_start(tables: Tables, as_of: dt.date) -> list[Finding]:
    return _order(tables.get("campaigns"), "start_date", "end_date", "END_BEFORE_START", True)


def due_before_start(tables: Tables, as_of: dt.date) -> list[Finding]:
    return _order(tables.get("tasks"), "start", "due", "DUE_BEFORE_START", False)


def future_dates(tables: Tables, as_of: dt.date) -> list[Finding]:
    out = []
    limit = np.datetime64(as_of, "D")
    for rec in tables.values():
        for col in rec.table.columns:
            if not col.happened or col.key not in rec.present:
                continue
            vals = rec.df[col.key].to_numpy()
            if col.kind == "datetime":
                vals = vals.astype("datetime64[D]")
            late = ~np.isnat(vals) & (vals > limit)
            for pos in np.flatnonzero(late):
                out.append(_mk(rec, "FUTURE_DATE", col.key, pos, as_of=as_of.isoformat()))
    return out


def negative_amounts(tables: Tables, as_of: dt.date) -> list[Finding]:
    out = []
    for rec in tables.values():
        for col in rec.table.columns:
            if col.kind != "money" or col.key not in rec.present:
                continue
            neg = (rec.df[col.key] < 0).fillna(False).to_numpy(dtype=bool)
            out += [_mk(rec, "NEGATIVE_AMOUNT", col.key, pos) for pos in np.flatnonzero(neg)]
    return out


CHECKS = (duplicate_ids, unknown_references, end_before_start, due_before_start, future_dates,
          negative_amounts)


def validate(tables: Tables, as_of: dt.date) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        findings += check(tables, as_of)
    return findings


def table_order(findings: list[Finding]) -> list[Finding]:
    """Findings in the order people read them: by table as in the contract, then row."""
    rank = {t.key: i for i, t in enumerate(TABLES)}
    return sorted(findings, key=lambda f: (rank.get(f.table, -1), f.tab, f.row or 0, f.cell))
