"""`sync` of one source: the pipeline's edges around its pure middle.

    read (backend) → pipeline.evaluate(recognise … render) → write (backend) → history

History is read once before the middle (`pipeline.Prior`) and written once after it. A
source that cannot be read or written is a value (`SyncResult.status == "failed"`); the next
source is processed all the same. After its write, a source keeps only what the run's
reports need (figures, flags, findings, its campaigns and people rows), never the grids or
every record: a run's memory is bounded by its largest source, not by how many there are.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .backends import backend_for, parse_source
from .config import Config
from .findings import Finding
from .history import History
from .pipeline import (FATAL, Env, Prior, SourceResult, absorb, evaluate, language, read_source,
                       run_summary, timed)
from . import errors
from .errors import SourceError
from .render import campaign_status, over_budget
from .flags import Flag
from .rules import CODE_FIELDS
from .rules.budget import approved_plans
from .stages.compute import Figures


@dataclass
class SyncResult:
    check: SourceResult
    figures: Figures | None = None
    flags: list[Flag] = field(default_factory=list)         # raised now (open)
    gone: list[Flag] = field(default_factory=list)          # open before, resolved or unverifiable now
    written: str | None = None                              # path written (workbook or sidecar)
    keys: object = None                                     # app.CrossKeys: what the cross-source stage needs
    write_error: SourceError | None = None
    new: int = 0
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return "failed" if self.check.status == "failed" or self.write_error else "ok"

    @property
    def error(self) -> SourceError | None:
        return self.check.error or self.write_error

    @property
    def faults(self) -> list[Finding]:
        """Parts of the pipeline that failed unexpectedly while the rest ran (exit code 3)."""
        return [f for f in self.check.findings if f.code == "INTERNAL"]

    @property
    def not_evaluated(self) -> list[str]:
        """Campaigns that some rules could not evaluate: a cell they read cannot be understood."""
        c = None if self.figures is None else self.figures.campaigns
        return [] if c is None or c.empty else [cid for cid, u in zip(c.index, c["unknown"]) if u]


def sync_source(path: str | Path, cfg: Config, as_of: dt.date, history: History, *, lang: str | None = None,
                dry_run: bool = False) -> SyncResult:
    t0 = time.perf_counter()
    check = SourceResult(str(path), language=language(cfg, lang, None))
    result = SyncResult(check)
    key = parse_source(path).key
    ev = None
    try:
        book = read_source(path, cfg, check)
        if book is not None:
            previous = Prior(flags=history.previous_flags(key), plans=history.plans(key),
                             runs=list(history.runs(key, 49)))
            env = Env(cfg=cfg, as_of=as_of, source=str(path), lang=lang, previous=previous, dry_run=dry_run,
                      started=t0)
            ev = evaluate(book, env, timings=check.timings)
            absorb(check, ev)
    except BaseException as exc:  # noqa: BLE001 - contained per source (a reader's panic too), one sentence
        if isinstance(exc, FATAL):
            raise
        check.status, check.error, check.tables, check.findings = "failed", errors.internal(exc, path), {}, []
    if check.status == "failed":
        result.seconds = time.perf_counter() - t0
        history.record_failure(key, {"error_code": check.error.code, "seconds": result.seconds})
        check.compact()
        return result
    result.figures, result.flags, result.gone, result.new = ev.figures, ev.flags, ev.gone, ev.new
    if not dry_run:
        with timed(check.timings, "write"):
            _write(result, path, ev.tabs, cfg)
    with timed(check.timings, "history"):
        result.seconds = time.perf_counter() - t0
        err = result.write_error
        history.record_source(key, as_of, ev.flags, {f.flag_id: f.status for f in ev.gone}, approved_plans(ev.context),
                              _metrics(ev.figures, ev.flags, cfg),
                              run_summary(ev, result.seconds, written=bool(result.written),
                                          error_code=err.code if err else None), check.language)
    result.keys = _cross_keys(check)
    check.compact()
    return result


def _cross_keys(check: SourceResult):
    """The receipt numbers and campaign IDs of this source, for the checks across workbooks."""
    from .app import CrossKeys
    exp, camps = check.tables.get("expenses"), check.tables.get("campaigns")
    receipts = frozenset() if exp is None else frozenset(
        "".join(str(r).upper().split()) for r in exp.ok["receipt_no"].dropna().tolist())
    campaigns = frozenset() if camps is None else frozenset(camps.df["campaign_id"].dropna().tolist())
    return CrossKeys(check.source, receipts, campaigns)


def _write(result: SyncResult, path, tabs, cfg: Config) -> None:
    source = parse_source(path)
    try:
        out = backend_for(source).write(source, tabs, cfg, expect=result.check.stat)
        result.written = out.where
    except SourceError as err:
        result.write_error = err


def _metrics(fig: Figures, flags: list[Flag], cfg: Config) -> list[dict]:
    c = fig.campaigns
    if c.empty:
        return []
    status = campaign_status(c, flags, cfg["rules.nearly_used_at"])
    over = over_budget(flags)
    open_by: dict[str, int] = {}
    for f in flags:
        if f.counts_open:
            open_by[f.campaign_id] = open_by.get(f.campaign_id, 0) + 1
    return [{"campaign_id": cid, "planned": int(r["planned"]), "authorized": int(r["authorized"]),
             "spend": int(r["spend"]), "utilisation": None if pd.isna(r["utilisation"]) else float(r["utilisation"]),
             "kpi_score": None if pd.isna(r["kpi_score"]) else float(r["kpi_score"]),
             "flags_open": open_by.get(cid, 0), "status": status[cid], "over_budget": cid in over,
             "blocked": "; ".join(f"{cell} “{value}”" for _, cell, value in r["blocked"]) or None}
            for cid, r in c.iterrows()]


def campaign_dicts(fig: Figures | None) -> list[dict]:
    """Per-campaign figures for --json: money in currency units as numbers."""
    if fig is None or fig.campaigns.empty:
        return []
    out = []
    money = ("planned", "approved", "pending", "authorized", "committed", "actual", "spend", "available",
             "variance", "expected_to_date", "forecast")
    shares = ("utilisation", "variance_pct", "elapsed", "burn_index", "kpi_score")
    for cid, r in fig.campaigns.iterrows():
        d = {"campaign_id": cid, "name": r["name"] if isinstance(r["name"], str) else None,
             "owner": r["owner"] if isinstance(r["owner"], str) else None,
             "status": r["status"] if isinstance(r["status"], str) else None}
        for k in money:
            v = r[k]
            d[k] = None if pd.isna(v) else float(Decimal(int(v)) / 100)
        for k in shares:
            v = r[k]
            d[k] = None if pd.isna(v) else round(float(v), 6)
        for k in ("kpis", "kpis_without_data", "tasks", "tasks_done", "tasks_on_time", "tasks_overdue",
                  "tasks_no_owner"):
            d[k] = int(r[k])
        d["blocked"] = [{"column": k, "cell": cell, "value": value} for k, cell, value in r["blocked"]]
        d["not_evaluated"] = sorted(code for code, fields in CODE_FIELDS.items() if fields & r["unknown"])
        out.append(d)
    return out
