"""What the report reads from the history file: the runs and metrics of each source in a week
(`Snapshot`, `SourceWeek`), and the small tests on a flag's dates (`between`, `open_at`, `age`).
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from ..history import SCHEMA_VERSION, HistoryError




# -- reading the history ------------------------------------------------------------------

@dataclass
class Snapshot:
    run_id: int | None = None
    as_of: str | None = None
    rows: dict[str, sqlite3.Row] = field(default_factory=dict)     # campaign -> metrics row


@dataclass
class SourceWeek:
    key: str
    label: str
    now: Snapshot                  # latest run up to as_of (this week's, else an older one)
    this_week: Snapshot            # latest run within the week (may be empty)
    prev_week: Snapshot            # latest run within the previous week (may be empty)
    runs: int = 0                  # runs this week that included this source
    failed_runs: int = 0           # … in which it failed
    run_ids: set = field(default_factory=set)


def connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"history file {path} does not exist; run sync first.")
    try:
        # only read; opened read-write when allowed so that SQLite tidies its WAL files on close
        writable = os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}", uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{path} was written by a newer campaignwatch (schema {version}).")
        if version < 1:
            raise HistoryError(f"{path} is not a campaignwatch history file.")
        return db
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"history file {path} cannot be read: {exc}.") from None


def read_snapshot(db, source: str, first: dt.date | None, last: dt.date) -> Snapshot:
    q = "SELECT run_id, as_of FROM metrics WHERE source=? AND as_of<=?"
    args: list = [source, last.isoformat()]
    if first is not None:
        q += " AND as_of>=?"
        args.append(first.isoformat())
    row = db.execute(q + " ORDER BY as_of DESC, run_id DESC LIMIT 1", args).fetchone()
    if row is None:
        return Snapshot()
    rows = db.execute("SELECT * FROM metrics WHERE run_id=? AND source=? ORDER BY campaign_id",
                      (row["run_id"], source)).fetchall()
    return Snapshot(row["run_id"], row["as_of"], {r["campaign_id"]: r for r in rows})


def source_labels(keys: list[str]) -> dict[str, str]:
    def name(k: str, parts: int) -> str:
        if k.startswith("gsheet:"):
            return k
        return "/".join(Path(k).parts[-parts:])
    short = {k: name(k, 1) for k in keys}
    clash = {v for v in short.values() if list(short.values()).count(v) > 1}
    return {k: name(k, 2) if short[k] in clash else short[k] for k in keys}


def select_sources(all_keys: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return all_keys
    chosen = []
    for k in all_keys:
        for w in wanted:
            resolved = w if w.startswith("gsheet:") else str(Path(w).expanduser().resolve())
            if k in (w, resolved) or Path(k).name == w:
                chosen.append(k)
                break
    return chosen


def between(d: str | None, a: dt.date, b: dt.date) -> bool:
    return d is not None and a.isoformat() <= d[:10] <= b.isoformat()


def open_at(f: dict, day: dt.date) -> bool:
    if f["first_seen"] > day.isoformat():
        return False
    return f["status"] != "resolved" or (f["resolved_on"] or "") > day.isoformat()


def over_budget(sw: SourceWeek, cid: str, row: sqlite3.Row, flags: list[dict]) -> bool:
    """Over budget as the run that recorded `row` saw it (`render.over_budget`: an open, not
    waived OVERRUN_UNAPPROVED flag on the campaign or one of its lines). A history from
    before that was recorded: an OVERRUN_UNAPPROVED flag of the campaign open on that day."""
    if "over_budget" in row.keys() and row["over_budget"] is not None:
        return bool(row["over_budget"])
    day = dt.date.fromisoformat(row["as_of"][:10])
    return any(f["source"] == sw.key and f["campaign_id"] == cid and f["code"] == "OVERRUN_UNAPPROVED"
               and open_at(f, day) for f in flags)


def age_days(f: dict, day: dt.date) -> int:
    return max(0, (day - dt.date.fromisoformat(f["first_seen"][:10])).days)
