"""What the report reads from the history file: the runs and metrics of each source in a week
(`Snapshot`, `SourceWeek`), and the small tests on a flag's dates (`between`, `open_at`, `age`).
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from ..history import latest_metrics




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


def read_snapshot(db, source: str, first: dt.date | None, last: dt.date) -> Snapshot:
    found = latest_metrics(db, source, first, last)
    return Snapshot(*found) if found else Snapshot()


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
