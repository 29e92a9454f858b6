"""History in SQLite (SPEC §7): runs, flags with first/last seen and resolved on,
fingerprints of approved plans, per-run metrics per campaign.

Plans: `plans` holds, per campaign, each plan that became the approved baseline, keyed by
the date that approved it — the first approval date (`approved_on`), or a later change
approval (`change_approved_on`); the latest key is the baseline PLAN_CHANGED_AFTER_APPROVAL
compares against, and each fingerprint keeps the first approval date. `plan_versions`
holds the first day each plan version (of an approved, cancelled or rejected campaign) was
seen: when a change was first detected.

The schema is versioned (`PRAGMA user_version`); `open_history` creates or migrates it.
WAL journal and a busy timeout let two runs share the file; every source is recorded in
one transaction, so a crash leaves the previous state or the new one. `RunLock` is the
one-run-at-a-time lock (exit code 4) beside the history file.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import clock
from .errors import CampaignwatchError
from .flags import Flag, Found, Previous

SCHEMA_VERSION = 2       # 2: plan_versions, metrics.over_budget and metrics.blocked

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL, finished_at TEXT, as_of TEXT NOT NULL, command TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE IF NOT EXISTS source_runs (
    run_id INTEGER NOT NULL REFERENCES runs(id), source TEXT NOT NULL, status TEXT NOT NULL,
    error_code TEXT, findings INTEGER, errors INTEGER, excluded_rows INTEGER,
    flags_open INTEGER, flags_new INTEGER, flags_resolved INTEGER, written INTEGER, seconds REAL,
    PRIMARY KEY (run_id, source)
);
CREATE TABLE IF NOT EXISTS flags (
    source TEXT NOT NULL, flag_id TEXT NOT NULL, code TEXT NOT NULL, campaign_id TEXT, key TEXT,
    line_id TEXT, owner TEXT, severity TEXT NOT NULL, amount INTEGER, count INTEGER, ids TEXT,
    message TEXT, status TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
    resolved_on TEXT, severity_before TEXT,
    PRIMARY KEY (source, flag_id)
);
CREATE TABLE IF NOT EXISTS plans (
    source TEXT NOT NULL, campaign_id TEXT NOT NULL, approved_on TEXT NOT NULL,
    fingerprint TEXT NOT NULL, first_seen TEXT NOT NULL,
    PRIMARY KEY (source, campaign_id, approved_on)
);
CREATE TABLE IF NOT EXISTS plan_versions (
    source TEXT NOT NULL, campaign_id TEXT NOT NULL, version TEXT NOT NULL, first_seen TEXT NOT NULL,
    PRIMARY KEY (source, campaign_id, version)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id), source TEXT NOT NULL, campaign_id TEXT NOT NULL,
    as_of TEXT NOT NULL, planned INTEGER, authorized INTEGER, spend INTEGER, utilisation REAL,
    kpi_score REAL, flags_open INTEGER, status TEXT, over_budget INTEGER, blocked TEXT,
    PRIMARY KEY (run_id, source, campaign_id)
);
CREATE INDEX IF NOT EXISTS metrics_source ON metrics (source, campaign_id, as_of);
"""

# version -> what brings a file of that version to the next one
MIGRATIONS = {
    1: "ALTER TABLE metrics ADD COLUMN over_budget INTEGER;"       # render.over_budget, per run and campaign
       "ALTER TABLE metrics ADD COLUMN blocked TEXT;",              # the cells that kept rules from evaluating it
}


class HistoryError(CampaignwatchError):
    """The history file cannot be used (exit code 2: fix the path or the file)."""


def open_history(path: Path, read_only: bool = False) -> sqlite3.Connection | None:
    """Open (create, migrate) the history; `read_only` (a dry run) changes nothing — not even
    the schema — and gives None for a file that holds no history yet."""
    if read_only:
        return _open_read_only(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{path} was written by a newer campaignwatch (schema {version})")
        if version < SCHEMA_VERSION:
            steps = "".join(MIGRATIONS[v] for v in range(version, SCHEMA_VERSION)) if version else ""
            db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {steps} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        return db
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"history file {path} cannot be used: {exc}") from None
    except OSError as exc:
        raise HistoryError(f"history file {path} cannot be created: {exc.strerror}") from None


def _open_read_only(path: Path) -> sqlite3.Connection | None:
    try:
        # read-write when allowed (only so that SQLite may tidy its WAL files), but nothing is written
        writable = os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}", uri=True, timeout=30,
                             isolation_level=None)
        db.row_factory = sqlite3.Row
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{path} was written by a newer campaignwatch (schema {version})")
        if version < 1:
            db.close()
            return None
        return db
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"history file {path} cannot be used: {exc}") from None


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def now() -> str:
    """The current moment as ISO 8601 with its offset (shown later in general.timezone)."""
    return clock.instant().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class PlanHistory:
    """What history knows of one campaign's approved plans."""
    approvals: dict[str, dict] = field(default_factory=dict)   # approval date -> plan approved then (with 'seen')
    versions: dict[str, str] = field(default_factory=dict)     # plan version -> first day seen


@dataclass
class Settled:
    """What the history says about this run's flags of one source."""
    new: int
    resolved: list[dict]          # flags that were open and are no longer raised
    unverifiable: list[dict]      # … whose evidence could not be read this time


@dataclass(frozen=True)
class Kept:
    """A source's last known state, kept on the dashboard while it cannot be read."""
    source: str                   # its key in history (an absolute path or gsheet:ID)
    as_of: dt.date | None         # the as-of date of the run that last read it
    campaigns: list[dict]         # metrics rows of that run
    flags: list[dict]             # flags rows still open (or unverifiable) after it


class History:
    def __init__(self, path: Path, dry_run: bool = False):
        self.path = path
        self.dry_run = dry_run
        # a dry run reads an existing history as it is (an older schema is not migrated)
        self.db = open_history(path, read_only=dry_run) if (not dry_run or path.exists()) else None
        self.run_id: int | None = None

    # -- runs ---------------------------------------------------------------------------
    def start_run(self, as_of: dt.date, command: str) -> None:
        if self.dry_run or self.db is None:
            return
        cur = self.db.execute("INSERT INTO runs (started_at, as_of, command) VALUES (?, ?, ?)",
                              (now(), as_of.isoformat(), command))
        self.run_id = cur.lastrowid

    def finish_run(self, status: str) -> None:
        if self.run_id is not None:
            self.db.execute("UPDATE runs SET finished_at=?, status=? WHERE id=?", (now(), status, self.run_id))

    def runs(self, source: str, limit: int = 50) -> list[sqlite3.Row]:
        if self.db is None:
            return []
        return self.db.execute(
            "SELECT r.started_at, r.as_of, s.* FROM source_runs s JOIN runs r ON r.id = s.run_id "
            "WHERE s.source=? ORDER BY s.run_id DESC LIMIT ?", (source, limit)).fetchall()

    # -- plans --------------------------------------------------------------------------
    def plans(self, source: str) -> dict[str, PlanHistory]:
        """campaign -> its approved plans (approval date -> fingerprint, with 'seen') and the
        first day each plan version was seen."""
        out: dict[str, PlanHistory] = {}
        if self.db is None:
            return out
        for r in self.db.execute("SELECT * FROM plans WHERE source=?", (source,)):
            fp = json.loads(r["fingerprint"])
            fp["seen"] = r["first_seen"]
            out.setdefault(r["campaign_id"], PlanHistory()).approvals[r["approved_on"]] = fp
        if not _has_table(self.db, "plan_versions"):
            return out                      # a schema-1 file read by a dry run
        for r in self.db.execute("SELECT * FROM plan_versions WHERE source=?", (source,)):
            out.setdefault(r["campaign_id"], PlanHistory()).versions[r["version"]] = r["first_seen"]
        return out

    # -- flags --------------------------------------------------------------------------
    def open_flags(self, source: str) -> dict[str, sqlite3.Row]:
        if self.db is None:
            return {}
        rows = self.db.execute("SELECT * FROM flags WHERE source=? AND status != 'resolved'", (source,))
        return {r["flag_id"]: r for r in rows}

    def previous_flags(self, source: str) -> dict[str, Previous]:
        """flag ID -> the flag as the previous run left it (open or unverifiable): the lifecycle
        stage's input. Its params hold only `where` (the campaign ID); its message is the one kept."""
        return {fid: Previous(
            found=Found(code=r["code"], campaign_id=r["campaign_id"], key=r["key"] or "", line_id=r["line_id"],
                        owner=r["owner"], amount=r["amount"], count=r["count"] or 0,
                        ids=tuple(json.loads(r["ids"] or "[]")), params={"where": r["campaign_id"]},
                        severity=r["severity"]),
            status=r["status"], first_seen=dt.date.fromisoformat(r["first_seen"]), message=r["message"])
            for fid, r in self.open_flags(source).items()}

    def first_seen(self, source: str) -> dict[str, str]:
        if self.db is None:
            return {}
        rows = self.db.execute("SELECT flag_id, first_seen, severity FROM flags WHERE source=? AND status != 'resolved'",
                               (source,))
        return {r["flag_id"]: r["first_seen"] for r in rows}

    def record_source(self, source: str, as_of: dt.date, flags: Sequence[Flag], gone: dict[str, str], plans: dict,
                      metrics: list[dict], summary: dict, lang: str = "en") -> None:
        """Record one source's outcome in one transaction: `flags` raised now (`flags.Flag`, what
        was found and its state); `gone` maps each previously open flag that is not raised now to
        'resolved' or 'unverifiable'."""
        if self.dry_run or self.db is None:
            return
        day = as_of.isoformat()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for f in flags:
                db.execute(
                    "INSERT INTO flags (source, flag_id, code, campaign_id, key, line_id, owner, severity, amount,"
                    " count, ids, message, status, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(source, flag_id) DO UPDATE SET severity_before=CASE WHEN flags.status='open'"
                    " THEN flags.severity ELSE flags.severity_before END, severity=excluded.severity,"
                    " amount=excluded.amount, count=excluded.count, ids=excluded.ids, message=excluded.message,"
                    " owner=excluded.owner, status='open', last_seen=excluded.last_seen,"
                    " first_seen=CASE WHEN flags.status='resolved' THEN excluded.first_seen ELSE flags.first_seen END,"
                    " resolved_on=NULL",
                    (source, f.flag_id, f.code, f.campaign_id, f.key, f.line_id, f.owner, f.severity, f.amount,
                     f.count, json.dumps(f.ids, ensure_ascii=False), f.message(lang), "open",
                     (f.first_seen or as_of).isoformat(), day))
            for fid, status in gone.items():
                db.execute("UPDATE flags SET status=?, resolved_on=? WHERE source=? AND flag_id=?",
                           (status, day if status == "resolved" else None, source, fid))
            for cid, p in plans.items():       # see rules.budget.approved_plans
                if p.get("approval") is not None:
                    fp = {k: v for k, v in p["plan"].items() if k != "seen"}
                    db.execute("INSERT INTO plans VALUES (?,?,?,?,?) ON CONFLICT(source, campaign_id, approved_on)"
                               " DO UPDATE SET fingerprint=excluded.fingerprint",
                               (source, cid, p["approval"], json.dumps(fp, sort_keys=True), day))
                db.execute("INSERT OR IGNORE INTO plan_versions VALUES (?,?,?,?)", (source, cid, p["version"], day))
            if self.run_id is not None:
                for m in metrics:
                    db.execute("INSERT OR REPLACE INTO metrics VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               (self.run_id, source, m["campaign_id"], day, m["planned"], m["authorized"],
                                m["spend"], m["utilisation"], m["kpi_score"], m["flags_open"], m["status"],
                                int(bool(m.get("over_budget"))), m.get("blocked")))
                db.execute("INSERT OR REPLACE INTO source_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (self.run_id, source, summary["status"], summary.get("error_code"),
                            summary.get("findings"), summary.get("errors"), summary.get("excluded_rows"),
                            summary.get("flags_open"), summary.get("flags_new"), summary.get("flags_resolved"),
                            int(bool(summary.get("written"))), summary.get("seconds")))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def record_failure(self, source: str, summary: dict) -> None:
        if self.dry_run or self.db is None or self.run_id is None:
            return
        self.db.execute("INSERT OR REPLACE INTO source_runs (run_id, source, status, error_code, seconds)"
                        " VALUES (?,?,?,?,?)", (self.run_id, source, "failed", summary.get("error_code"),
                                                summary.get("seconds")))

    def last_known(self, pattern: str) -> list["Kept"]:
        """The last state read of each source `pattern` names (a source key, or a glob over
        source keys): the campaigns' figures of the last run that read it (`record_source`), its
        flags still open then. For a source that could not be read this run."""
        if self.db is None:
            return []
        import fnmatch
        rows = self.db.execute(
            "SELECT s.source, max(s.run_id) AS run_id FROM source_runs s WHERE s.findings IS NOT NULL GROUP BY s.source"
        ).fetchall()
        out = []
        for r in rows:
            if r["source"] != pattern and not fnmatch.fnmatchcase(r["source"], pattern):
                continue
            as_of = self.db.execute("SELECT as_of FROM runs WHERE id=?", (r["run_id"],)).fetchone()
            metrics = self.db.execute("SELECT * FROM metrics WHERE run_id=? AND source=? ORDER BY campaign_id",
                                      (r["run_id"], r["source"])).fetchall()
            flags = self.db.execute("SELECT * FROM flags WHERE source=? AND status != 'resolved' "
                                    "ORDER BY first_seen, flag_id", (r["source"],)).fetchall()
            out.append(Kept(r["source"], dt.date.fromisoformat(as_of["as_of"]) if as_of else None,
                            [dict(m) for m in metrics], [dict(f) for f in flags]))
        return sorted(out, key=lambda k: k.source)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


class Locked(CampaignwatchError):
    """Another run holds the lock (exit code 4)."""


class RunLock:
    """One run at a time per history file: an exclusive, non-blocking flock on `PATH.lock`.
    The holder writes who it is into the file, so a second run can say who holds it."""

    def __init__(self, path: Path):
        self.path = Path(str(path) + ".lock")
        self.fh = None

    def __enter__(self) -> "RunLock":
        import fcntl
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+")
        except OSError as exc:
            raise HistoryError(f"the run lock {self.path} cannot be created ({exc.strerror or exc}): make its "
                               f"folder writable or set history.path to a writable place") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another campaignwatch run"
            fh.close()
            raise Locked(holder) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {now()}\n")
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


# --------------------------------------------------------------------------- reading for reports
# The weekly report and the dashboard's week over week read history through these, so that every
# query on the history file lives in this module.

def open_for_reading(path: Path) -> sqlite3.Connection:
    """The history file, opened only to read (read-write where allowed, so that SQLite tidies its
    WAL files on close). HistoryError when it is missing, not a history or from a newer version."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"history file {path} does not exist; run sync first.")
    try:
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


def known_sources(db: sqlite3.Connection) -> list[str]:
    """Every source the history has metrics, flags or runs of."""
    return sorted({r[0] for q in ("SELECT DISTINCT source FROM metrics", "SELECT DISTINCT source FROM flags",
                                  "SELECT DISTINCT source FROM source_runs") for r in db.execute(q)})


def latest_metrics(db: sqlite3.Connection, source: str, first: dt.date | None, last: dt.date):
    """(run_id, as_of, campaign -> metrics row) of the source's latest run with metrics between
    `first` (None: any time) and `last`; None when there is none."""
    q = "SELECT run_id, as_of FROM metrics WHERE source=? AND as_of<=?"
    args: list = [source, last.isoformat()]
    if first is not None:
        q += " AND as_of>=?"
        args.append(first.isoformat())
    row = db.execute(q + " ORDER BY as_of DESC, run_id DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    rows = db.execute("SELECT * FROM metrics WHERE run_id=? AND source=? ORDER BY campaign_id",
                      (row["run_id"], source)).fetchall()
    return row["run_id"], row["as_of"], {r["campaign_id"]: r for r in rows}


def runs_between(db: sqlite3.Connection, source: str, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    """(run_id, status) of the source in every run whose as-of date lies between the two days."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT s.run_id, s.status FROM source_runs s JOIN runs r ON r.id=s.run_id "
        "WHERE s.source=? AND r.as_of BETWEEN ? AND ?", (source, first.isoformat(), last.isoformat()))]


def flags_of(db: sqlite3.Connection, sources: Sequence[str]) -> list[dict]:
    marks = ",".join("?" * len(sources)) or "NULL"
    return [dict(r) for r in db.execute(f"SELECT * FROM flags WHERE source IN ({marks})", list(sources))]


def spend_and_score_between(db: sqlite3.Connection, source: str, first: dt.date, last: dt.date) -> dict:
    """campaign -> (spend, kpi_score) of the source's latest metrics between the two days."""
    rows = db.execute("SELECT campaign_id, spend, kpi_score FROM metrics WHERE source=? AND as_of BETWEEN ? AND ? "
                      "ORDER BY as_of, run_id", (source, first.isoformat(), last.isoformat())).fetchall()
    return {r["campaign_id"]: (r["spend"], r["kpi_score"]) for r in rows}


def flags_counted_between(db: sqlite3.Connection, source: str, column: str, first: dt.date, last: dt.date) -> dict:
    """campaign -> how many of the source's flags have `column` (first_seen or resolved_on) between the days."""
    if column not in ("first_seen", "resolved_on"):
        raise ValueError(column)
    return dict(db.execute(f"SELECT campaign_id, count(*) FROM flags WHERE source=? AND {column} BETWEEN ? AND ?"
                           " GROUP BY campaign_id", (source, first.isoformat(), last.isoformat())).fetchall())
