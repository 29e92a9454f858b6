"""The pipeline: one ordered list of stages, the pure middle between two edges.

    read (a backend)                                   edge: I/O
      → recognise → normalise → validate               (STAGES, each `stage(ev, env) -> ev`,
      → compute → rules → lifecycle → render            pure: no files, no network, no history)
    write (a backend), history                          edge: I/O

`evaluate(book, env)` runs the pure middle on a `RawWorkbook` that a backend read, with the
settings, the as-of date and the previous run's state (`Prior`, read from history before);
it returns an `Evaluation`: findings, tables, figures, flags, the flags no longer raised, the
generated tabs. `check_source` is read → recognise → normalise → validate (what `validate`
runs); `sync.sync_source` is the whole line for one source, edges included. One source's
failure is a value (`SourceResult.status == "failed"`), never an exception that takes the
other sources down; one stage's fault inside (a rule, a tab) is an `INTERNAL` finding.
Per-stage timings measure exactly these stages (and the edges as `read`, `write`, `history`).

Pure means no I/O and no history: each stage returns a new `Evaluation`. Two stages still touch
what they were handed, for speed and by design: recognise turns a Google book's serial numbers
into dates in its grid, and validate marks the records it leaves out (`valid`) in the tables.
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import errors
from .backends import backend_for, parse_source
from .config import Config
from .errors import SourceError
from .findings import Finding
from .read import package
from .read.recognise import Recognised, recognise
from .read.workbook import RawWorkbook
from .stages.normalise import ReadOptions, Records, normalise
from .stages.validate import table_order, validate


# What is never contained: the user or the system stopping the run. Everything else — including a
# native reader's panic (pyo3's PanicException is a BaseException) — is one source's failure.
FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


@dataclass
class SourceResult:
    source: str
    status: str = "ok"                     # ok | failed
    error: SourceError | None = None
    language: str = "en"
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, Records] = field(default_factory=dict)
    book: RawWorkbook | None = None
    stat: tuple[int, int] | None = None            # (size, mtime_ns) when it was read
    timings: dict[str, float] = field(default_factory=dict)
    kept_excluded: dict[str, int] | None = None     # excluded_rows, kept by `compact`

    @property
    def excluded_rows(self) -> dict[str, int]:
        if self.kept_excluded is not None:
            return self.kept_excluded
        return excluded_rows(self.tables)

    def compact(self) -> None:
        """Once the source is written: keep what the run's reports read (counts, the campaigns and
        people rows), drop the grids and every other record, so that a run over many sources holds
        one source's data at a time."""
        self.kept_excluded = excluded_rows(self.tables)
        self.tables = {k: v for k, v in self.tables.items() if k in ("campaigns", "people")}
        self.book = None

    def error_message(self, lang: str | None = None) -> str | None:
        return errors.message(self.error, lang or self.language) if self.error else None


def limits(cfg: Config) -> package.Limits:
    return package.Limits(max_total_bytes=cfg["limits.max_uncompressed_mb"] * 1024 * 1024,
                          max_ratio=cfg["limits.max_compression_ratio"],
                          max_cells=cfg["limits.max_cells"])


def language(cfg: Config, asked: str | None, detected: str | None) -> str:
    if asked:
        return asked
    if cfg["general.language"] != "auto":
        return cfg["general.language"]
    return detected or "en"


@contextmanager
def timed(timings: dict[str, float], stage: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


@dataclass(frozen=True, kw_only=True)
class Prior:
    """The previous runs' state of one source, read from history before the pure middle runs."""
    flags: dict = field(default_factory=dict)          # flag ID -> flags.Previous: open or unverifiable last time
    plans: dict = field(default_factory=dict)          # campaign -> history.PlanHistory
    runs: list = field(default_factory=list)           # the latest runs' rows (newest first), for the Run log


@dataclass(frozen=True, kw_only=True)
class Env:
    """What every stage may read: settings, as-of, the previous state; nothing it may change."""
    cfg: Config
    as_of: dt.date
    source: str
    lang: str | None = None
    previous: Prior = field(default_factory=Prior)
    dry_run: bool = False
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """What the pure middle makes of one workbook. Each stage returns a new one."""
    book: RawWorkbook
    language: str = "en"
    found: Recognised | None = None
    tables: dict[str, Records] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    figures: object = None                       # stages.compute.Figures
    context: object = None                       # rules.Context (what the rules saw)
    flags: list = field(default_factory=list)    # raised now
    gone: list = field(default_factory=list)     # open before, not raised now: resolved or unverifiable
    new: int = 0
    faults: list = field(default_factory=list)   # rules.Fault: parts that failed while the rest ran
    tabs: list = field(default_factory=list)     # generated tabs (TabSpec)
    error: SourceError | None = None             # the workbook is not one of ours (not_campaign)
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- the stages
def recognise_stage(ev: Evaluation, env: Env) -> Evaluation:
    found = recognise(ev.book)
    if ev.book.serial_dates:                  # the backend hands dates over as serial numbers
        serials_to_dates(found)
    lang = language(env.cfg, env.lang, found.language)
    if not found.tables and any(f.code == "NO_TABLES" for f in found.findings):
        # not one of ours: a source failure, so nothing is ever written into a stranger's workbook
        sheets = ev.book.sheets
        tabs = ", ".join(s.name for s in sheets[:8]) + (" …" if len(sheets) > 8 else "")
        return replace(ev, found=found, language=lang, error=SourceError(
            errors.NOT_CAMPAIGN, f"its tabs: {tabs}" if tabs else "it has no tab", path=env.source))
    return replace(ev, found=found, language=lang, findings=list(found.findings))


def normalise_stage(ev: Evaluation, env: Env) -> Evaluation:
    cfg = env.cfg
    opts = ReadOptions(day_first=cfg["general.day_first"], date1904=ev.book.date1904,
                       currency=cfg["general.currency"].strip().upper())
    tables, findings = {}, list(ev.findings)
    for key, raw in ev.found.tables.items():
        records, cell_findings = normalise(raw, opts)
        tables[key] = records
        findings += cell_findings
    return replace(ev, tables=tables, findings=findings)


def validate_stage(ev: Evaluation, env: Env) -> Evaluation:
    return replace(ev, findings=table_order(ev.findings + validate(ev.tables, env.as_of)))


def compute_stage(ev: Evaluation, env: Env) -> Evaluation:
    from .stages.compute import KpiSettings, compute
    cfg = env.cfg
    kpi = KpiSettings(cfg["kpi.attainment_cap"], cfg["kpi.green_at"], cfg["kpi.amber_at"])
    return replace(ev, figures=compute(ev.tables, env.as_of, kpi))


def rules_stage(ev: Evaluation, env: Env) -> Evaluation:
    from .flagcodes import CODES
    from .rules import Context, Thresholds, people_aliases, run_rules
    ctx = Context(ev.tables, ev.figures, env.as_of, Thresholds.from_config(env.cfg), ev.language,
                  env.previous.plans, people_aliases(ev.tables))
    flags = run_rules(ctx, {c: env.cfg[f"severity.{c}"] for c in CODES})
    return replace(ev, context=ctx, flags=flags, faults=list(ctx.faults))


def lifecycle_stage(ev: Evaluation, env: Env) -> Evaluation:
    """Each flag against the previous run (stages/lifecycle.py): first seen, previous status and
    severity; the flags open before and not raised now are resolved — only when this run could
    have raised them — or unverifiable; the managers' responses (acknowledged, waived) applied."""
    from .stages.lifecycle import lifecycle
    states = lifecycle(ev.flags, env.previous.flags, verifiable=ev.context.verifiable,
                       responses=ev.tables.get("responses"), as_of=env.as_of)
    faults = ev.faults + list(states.faults)
    findings = table_order(ev.findings + list(states.findings) + fault_findings(faults))
    return replace(ev, flags=list(states.flags), gone=list(states.gone), new=states.new, faults=faults,
                   findings=findings)


def render_stage(ev: Evaluation, env: Env) -> Evaluation:
    from . import clock
    from .render import RunInfo, render_tabs
    from .sources import display_name
    cfg = env.cfg
    started = clock.now(cfg["general.timezone"])
    info = RunInfo(display_name(env.source), env.as_of, clock.stamp(started, cfg["general.timezone"]),
                   ev.language, cfg["rules.nearly_used_at"], cfg["output.max_finding_rows"],
                   cfg["output.scorecard"], timezone=cfg["general.timezone"])
    # this run's row is in the tabs only if they are written, so it says written unless dry run
    now = dict(run_summary(ev, time.perf_counter() - env.started, written=not env.dry_run),
               started_at=started.isoformat(), as_of=env.as_of.isoformat())
    runs = [now] + [dict(r) for r in env.previous.runs]
    tab_faults: list = []
    tabs = render_tabs(info, ev.figures, ev.flags + ev.gone, ev.findings, excluded_rows(ev.tables), runs,
                       campaign_links(ev.tables), tab_faults)
    return replace(ev, tabs=tabs, faults=ev.faults + tab_faults, findings=ev.findings + fault_findings(tab_faults))


# The order of the pure middle; `check_source` stops after "validate".
STAGES = (("recognise", recognise_stage), ("normalise", normalise_stage), ("validate", validate_stage),
          ("compute", compute_stage), ("rules", rules_stage), ("lifecycle", lifecycle_stage),
          ("render", render_stage))
READ_STAGES = STAGES[:3]


def evaluate(book: RawWorkbook, env: Env, stages=STAGES, timings: dict[str, float] | None = None) -> Evaluation:
    """Run `stages` on `book`. A workbook that is not ours stops after recognition (`error`)."""
    ev = Evaluation(book=book, language=language(env.cfg, env.lang, None),
                    timings=timings if timings is not None else {})
    for name, stage in stages:
        with timed(ev.timings, name):
            ev = stage(ev, env)
        if ev.error is not None:
            break
    return ev


# --------------------------------------------------------------------------- helpers of the stages
def serials_to_dates(found: Recognised) -> None:
    """In columns recognised as dates, serial numbers become dates (what python-calamine hands
    over for a date-formatted cell), so messages quote 2026-12-01, not 46357."""
    from .read.workbook import serial_to_python
    for raw in found.tables.values():
        rows = raw.sheet.rows
        for fc in raw.columns.values():
            if fc.column.kind not in ("date", "datetime"):
                continue
            c = fc.col0
            for r in range(raw.header_row0 + 1, len(rows)):
                row = rows[r]
                v = row[c] if c < len(row) else None
                if type(v) is float:
                    d = serial_to_python(v)
                    if d is not None:
                        row[c] = d


def fault_findings(faults) -> list[Finding]:
    """One `INTERNAL` finding per contained fault, naming the part and the codes it leaves unverifiable."""
    out = []
    for f in faults:
        codes = ", ".join(sorted(f.codes))
        out.append(Finding("INTERNAL", "", "", params={
            "part": f.part, "error": f.error,
            "codes_en": f"its flags ({codes}) are unverifiable in this run; " if codes else "",
            "codes_zh": f"其预警（{codes}）本次无法核实；" if codes else ""}))
    return out


def excluded_rows(tables: dict[str, Records]) -> dict[str, int]:
    return {k: int((~r.df["valid"]).sum()) for k, r in tables.items()}


def campaign_links(tables: dict[str, Records]) -> dict[str, str]:
    from .a1 import cell_ref
    rec = tables.get("campaigns")
    if rec is None or "campaign_id" not in rec.col0:
        return {}
    c0 = rec.col0["campaign_id"]
    return {cid: cell_ref(rec.tab, int(r), c0) for cid, r in zip(rec.df["campaign_id"], rec.df["sheet_row"])
            if isinstance(cid, str)}


def run_summary(ev: Evaluation, seconds: float, *, written: bool, error_code: str | None = None) -> dict:
    """The Run log's and history's summary of one source's run."""
    from .findings import ERROR
    return {"status": "failed" if error_code else "ok", "error_code": error_code,
            "findings": len(ev.findings), "errors": sum(1 for f in ev.findings if f.severity == ERROR),
            "excluded_rows": sum(excluded_rows(ev.tables).values()),
            "flags_open": sum(1 for f in ev.flags if f.counts_open),
            "flags_new": ev.new, "flags_resolved": sum(1 for f in ev.gone if f.status == "resolved"),
            "written": written, "seconds": round(seconds, 3)}


# --------------------------------------------------------------------------- read → validate
def check_source(path: str | Path, cfg: Config, as_of: dt.date, lang: str | None = None) -> SourceResult:
    """read → recognise → normalise → validate for one source. An unexpected fault is this
    source's failure (`internal`), never an exception that stops the other sources."""
    result = SourceResult(str(path), language=language(cfg, lang, None))
    try:
        return _check(result, path, cfg, as_of, lang)
    except BaseException as exc:  # noqa: BLE001 - contained per source (a reader's panic too), one sentence
        if isinstance(exc, FATAL):
            raise
        result.status, result.error, result.tables, result.findings = "failed", errors.internal(exc, path), {}, []
        return result


def read_source(path: str | Path, cfg: Config, result: SourceResult) -> RawWorkbook | None:
    """The read edge: the backend of this source reads it (and notes its stat for the write)."""
    source = parse_source(path)
    backend = backend_for(source)
    try:
        with timed(result.timings, "read"):
            stat = getattr(backend, "stat", None)
            result.stat = stat(source) if stat else None
            return backend.read(source, cfg)
    except SourceError as err:
        result.status, result.error = "failed", err
        return None


def _check(result: SourceResult, path, cfg: Config, as_of: dt.date, lang: str | None) -> SourceResult:
    book = read_source(path, cfg, result)
    if book is None:
        return result
    result.book = book
    ev = evaluate(book, Env(cfg=cfg, as_of=as_of, source=str(path), lang=lang), READ_STAGES, result.timings)
    return absorb(result, ev)


def absorb(result: SourceResult, ev: Evaluation) -> SourceResult:
    result.language, result.tables, result.findings = ev.language, ev.tables, ev.findings
    if ev.error is not None:
        result.status, result.error = "failed", ev.error
    return result
