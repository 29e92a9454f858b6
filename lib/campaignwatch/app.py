"""The application layer: what each command does, as plain functions with the CLI's names.

The CLI (`cli.py`) parses arguments, calls one of these with the same keyword names as its
flags, and turns the outcome — or the error type — into an exit code (`cli.EXIT_CODES`).
`nightly` and the tests call the same functions. Nothing here prints: outcomes are values.

    sync(sources, config=…, as_of=…, lang=…, dry_run=…)      -> coordinator.Run
    validate(sources, config=…, as_of=…, lang=…)             -> list[pipeline.SourceResult]
    init(path, config=…, lang=…, demo=…, as_of=…, force=…)   -> str (what was written)
    init_google(spreadsheet, config=…, lang=…)               -> list[str] (tabs laid)
    clean(source, config=…)                                  -> backends.Written | None
    restore(source, config=…, backup=…)                      -> Path (the backup put back)
    backups(source, config=…)                                -> list[Path]
    report(config=…, week=True, as_of=…, lang=…, out=…)      -> Path
    check(config_path)                                       -> doctor.Report
    nightly_once(config=…, as_of=…, lang=…, stop=…)          -> coordinator.Run

A run over several sources (`sync` with the configured sources, `nightly`): under the history's
lock, every source goes read → evaluate → write → history in turn, keeping only its summary
and its cross-source keys (receipt numbers, campaign IDs) — a run holds one source's data at a
time. Then the **cross-source stage** (`cross_source`) runs on those keys; checks across
workbooks (issue: the same receipt in two teams' workbooks) add their flags there, and a second
pass writes the sources they concern. Then the dashboard, then the run's end in history.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import clock
from .backends import backend_for, parse_source
from .config import Config, ConfigError


class Usage(ConfigError):
    """A usage problem (a command without what it needs): exit code 2."""


def today(cfg: Config) -> dt.date:
    """"Today" where the campaigns are run: the date in `general.timezone`."""
    return clock.now(cfg["general.timezone"]).date()


@dataclass(frozen=True)
class CrossKeys:
    """What one source contributes to the checks across workbooks, kept after its data is dropped."""
    source: str
    receipts: frozenset = frozenset()       # canonical receipt / fapiao numbers on its expenses
    campaigns: frozenset = frozenset()      # its campaign IDs


# Checks across workbooks: each takes every source's CrossKeys and returns {source: [flags]}.
CROSS_CHECKS: tuple = ()


def cross_source(keys: list[CrossKeys]) -> dict[str, list]:
    """The cross-source stage: run after every source of a run was evaluated."""
    out: dict[str, list] = {}
    for check in CROSS_CHECKS:
        for source, flags in check(keys).items():
            out.setdefault(source, []).extend(flags)
    return out


def sync(sources: list[str] | None = None, *, config: Config, as_of: dt.date | None = None, lang: str | None = None,
         dry_run: bool = False, command: str = "sync", progress=None, on_result: Callable | None = None,
         should_stop: Callable[[], bool] = lambda: False):
    """Sync `sources`, or — none given — every configured source and the dashboard. Raises
    history.Locked when another run holds the lock, Usage when there is nothing to sync."""
    from .coordinator import expand, run_sources, write_dashboard
    from .history import History, RunLock
    cfg = config
    as_of = as_of or today(cfg)
    configured = not sources
    if configured:
        if not cfg.sources:
            raise Usage("no SOURCE given and no [[sources]] in config.toml")
        todo = expand(cfg)             # a glob that matches nothing is a source that fails as `missing`
    else:
        todo = [(s, None) for s in sources]
    if progress is not None:
        progress.total = len(todo)
    hist_path = cfg.resolve(cfg["history.path"])
    with (RunLock(hist_path) if not dry_run else _NoLock()):
        history = History(hist_path, dry_run=dry_run)
        history.start_run(as_of, command)
        run = run_sources(todo, cfg, as_of, history, lang=lang, dry_run=dry_run, progress=progress,
                          on_result=on_result, should_stop=should_stop)
        run.cross = cross_source([r.keys for r in run.results if r.keys is not None])
        if configured and not dry_run:
            write_dashboard(run, cfg, as_of, history, lang)
        history.finish_run("failed" if run.failed else "ok")
        history.close()
    run.configured = configured
    return run


def validate(sources: list[str], *, config: Config, as_of: dt.date | None = None, lang: str | None = None):
    from .pipeline import check_source
    as_of = as_of or today(config)
    return [check_source(src, config, as_of, lang) for src in sources]


def init(path: str | Path, *, config: Config, lang: str = "en", demo: bool = False, as_of: dt.date | None = None,
         force: bool = False) -> Path:
    from .workbook.template import write_template
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise Usage(f"{path}: init writes .xlsx workbooks")
    if path.exists() and not force:
        raise Usage(f"{path} already exists (use --force to replace it)")
    try:
        write_template(path, lang=lang, demo=demo, as_of=as_of or today(config))
    except OSError as exc:
        raise ConfigError(f"{path} cannot be written ({exc.strerror or exc}): choose a writable place") from None
    return path


def init_google(spreadsheet: str, *, config: Config, lang: str = "en") -> list[str]:
    from .gsheets.init import init_spreadsheet
    return init_spreadsheet(spreadsheet, config, lang=lang)


def clean(source: str, *, config: Config):
    """Remove the generated tabs (a sidecar holding nothing else goes too). None: nothing to clean."""
    src = parse_source(source)
    return backend_for(src).clean(src, config)


def backups(source: str, *, config: Config) -> list[Path]:
    src = parse_source(source)
    return backend_for(src).backups(src, config)


def restore(source: str, *, config: Config, backup: str | Path | None = None) -> Path:
    src = parse_source(source)
    return backend_for(src).restore(src, config, Path(backup) if backup else None)


def report(*, config: Config, week: bool = True, as_of: dt.date | None = None, lang: str | None = None,
           out: str | Path | None = None) -> Path:
    from .weekly import write_weekly
    cfg = config
    as_of = as_of or today(cfg)
    lang = lang or cfg["general.language"]          # "auto": the language of the stored flags
    year, wk, _ = as_of.isocalendar()
    out = Path(out) if out else Path(f"weekly-report-{year}-W{wk:02d}.html")
    hist = cfg.resolve(cfg["history.path"])
    if not hist.exists():
        raise Usage(f"no history at {hist}: run sync first")
    try:
        write_weekly(hist, out, as_of, lang, kpi_green=cfg["kpi.green_at"], kpi_amber=cfg["kpi.amber_at"],
                     timezone=cfg["general.timezone"])
    except OSError as exc:
        raise ConfigError(f"the report {out} cannot be written ({exc.strerror or exc}): choose another --out") from None
    return out


def check(config_path: str | None):
    from .doctor import check as doctor
    return doctor(config_path)


def nightly_once(*, config: Config, as_of: dt.date | None = None, lang: str | None = None, stop=None):
    from .nightly import run_once
    return run_once(config, as_of or today(config), stop, lang)


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None
