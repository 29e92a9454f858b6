"""`sync`: the whole pipeline for one source, history and write-back included.

read → normalise → validate (pipeline.check_source) → compute → rules → lifecycle → render →
write, then the history records what was seen. A source that cannot be read or written is a
value (`SyncResult.status == "failed"`); the next source is processed all the same.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from . import clock
from .config import Config
from .findings import ERROR, Finding, cell_ref
from .flagcodes import CODES
from .flags import Flag
from .history import History
from .pipeline import SourceResult, check_source, timed
from .read.package import SourceError
from .render import RunInfo, campaign_status, over_budget, render_tabs
from .rules import CODE_FIELDS, Context, Thresholds, people_aliases, run_rules
from .rules.budget import approved_plans
from .sources import display_name, is_google, source_key
from .stages.compute import Figures, KpiSettings, compute
from .stages.lifecycle import lifecycle
from .stages.validate import table_order


@dataclass
class SyncResult:
    check: SourceResult
    figures: Figures | None = None
    flags: list[Flag] = field(default_factory=list)         # raised now (open)
    gone: list[Flag] = field(default_factory=list)          # open before, resolved or unverifiable now
    written: str | None = None                              # path written (workbook or sidecar)
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
    check = check_source(path, cfg, as_of, lang)
    result = SyncResult(check)
    key = source_key(path)
    if check.status == "failed":
        result.seconds = time.perf_counter() - t0
        history.record_failure(key, {"error_code": check.error.code, "seconds": result.seconds})
        return result
    timings = check.timings
    with timed(timings, "compute"):
        kpi = KpiSettings(cfg["kpi.attainment_cap"], cfg["kpi.green_at"], cfg["kpi.amber_at"])
        figures = compute(check.tables, as_of, kpi)
        result.figures = figures
    with timed(timings, "rules"):
        ctx = Context(check.tables, figures, as_of, Thresholds.from_config(cfg), check.language,
                      history.plans(key), people_aliases(check.tables))
        found = run_rules(ctx, {c: cfg[f"severity.{c}"] for c in CODES})
    previous = history.previous_flags(key)
    with timed(timings, "lifecycle"):
        states = lifecycle(found, previous, verifiable=ctx.verifiable, responses=check.tables.get("responses"),
                           as_of=as_of)
        flags, result.gone, result.new = list(states.flags), list(states.gone), states.new
        result.flags = flags
        check.findings = table_order(check.findings + list(states.findings)
                                     + _fault_findings([*ctx.faults, *states.faults]))
    with timed(timings, "render"):
        started = clock.now(cfg["general.timezone"])
        info = RunInfo(display_name(path), as_of, clock.stamp(started, cfg["general.timezone"]),
                       check.language, cfg["rules.nearly_used_at"], cfg["output.max_finding_rows"],
                       cfg["output.scorecard"], timezone=cfg["general.timezone"])
        summary = _summary(result, time.perf_counter() - t0)
        # this run's row is in the tabs only if they are written, so it says written unless dry run
        runs = [dict(summary, started_at=started.isoformat(), as_of=as_of.isoformat(), written=not dry_run)]
        runs += [dict(r) for r in history.runs(key, 49)]
        tab_faults: list = []
        tabs = render_tabs(info, figures, flags + result.gone, check.findings, check.excluded_rows, runs,
                           _campaign_links(check), tab_faults)
        check.findings += _fault_findings(tab_faults)
    if not dry_run:
        with timed(timings, "write"):
            _write(result, path if is_google(str(path)) else Path(path), tabs, cfg)
    with timed(timings, "history"):
        result.seconds = time.perf_counter() - t0
        history.record_source(key, as_of, flags, {f.flag_id: f.status for f in result.gone},
                              approved_plans(ctx), _metrics(figures, flags, cfg), _summary(result, result.seconds),
                              check.language)
    return result


def _fault_findings(faults) -> list[Finding]:
    """One `INTERNAL` finding per contained fault, naming the part and the codes it leaves unverifiable."""
    out = []
    for f in faults:
        codes = ", ".join(sorted(f.codes))
        out.append(Finding("INTERNAL", "", "", params={
            "part": f.part, "error": f.error,
            "codes_en": f"its flags ({codes}) are unverifiable in this run; " if codes else "",
            "codes_zh": f"其预警（{codes}）本次无法核实；" if codes else ""}))
    return out


def _write(result: SyncResult, path: Path, tabs, cfg: Config) -> None:
    book = result.check.book
    try:
        if book.kind == "gsheet":
            from .gsheets.write import write_tabs as write_google
            write_google(str(path), tabs, cfg)
            result.written = str(path)
            return
        from .write import xlsx
        if book.writable:
            out = xlsx.write_tabs(path, tabs, expect_stat=result.check.stat, backups=cfg["output.backups"],
                                  stale_hours=cfg["output.stale_lock_hours"])
        else:
            out = xlsx.write_sidecar(path, tabs, backups=cfg["output.backups"],
                                     stale_hours=cfg["output.stale_lock_hours"])
        result.written = str(out.path)
    except SourceError as err:
        result.write_error = err


def _campaign_links(check: SourceResult) -> dict[str, str]:
    rec = check.tables.get("campaigns")
    if rec is None or "campaign_id" not in rec.col0:
        return {}
    c0 = rec.col0["campaign_id"]
    return {cid: cell_ref(rec.tab, int(r), c0) for cid, r in zip(rec.df["campaign_id"], rec.df["sheet_row"])
            if isinstance(cid, str)}


def _summary(result: SyncResult, seconds: float) -> dict:
    check = result.check
    return {"status": result.status, "error_code": result.error.code if result.error else None,
            "findings": len(check.findings), "errors": sum(1 for f in check.findings if f.severity == ERROR),
            "excluded_rows": sum(check.excluded_rows.values()),
            "flags_open": sum(1 for f in result.flags if f.counts_open),
            "flags_new": result.new, "flags_resolved": sum(1 for f in result.gone if f.status == "resolved"),
            "written": bool(result.written), "seconds": round(seconds, 3)}


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
