"""The coordinator's run: every configured source, one after the other, then the dashboard.

One broken, locked or unreachable source never stops the others: each is a `SyncResult`
with its own status. Progress goes to stderr — a live line on a terminal, plain log lines
otherwise — so stdout stays the report (or the one JSON document).
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import Callable

from .config import Config, SourceSpec
from .history import History
from .pipeline import FATAL
from .backends import backend_for, parse_source
from .sources import display_name, source_key
from .sync import SyncResult, sync_source


@dataclass
class Run:
    results: list[SyncResult] = field(default_factory=list)
    specs: dict[str, SourceSpec] = field(default_factory=dict)     # source -> its configuration
    dashboard: str | None = None                                    # written to
    dashboard_error: str | None = None
    kept: dict[str, list] = field(default_factory=dict)            # failed source -> history.Kept states shown
    cross: dict[str, list] = field(default_factory=dict)           # source -> flags of the cross-source stage
    configured: bool = False                                        # the configured sources (and dashboard)

    def open_at_or_above(self, severity: str) -> bool:
        """An open (not waived) flag of this severity or above was raised (`sync --fail-on`)."""
        from .flagcodes import RANK
        return any(RANK[f.severity] >= RANK[severity] for r in self.results for f in r.flags if f.counts_open)

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" or r.faults for r in self.results) or self.dashboard_error is not None


def expand(cfg: Config) -> list[tuple[str, SourceSpec]]:
    """Configured sources, each expanded by its backend (a file glob: its workbooks, sorted, relative
    to config.toml's folder). A glob that matches no workbook stays in the list as itself, so it
    fails as `missing` (exit 3) instead of quietly leaving the run — and the dashboard keeps what
    it last showed."""
    out: list[tuple[str, SourceSpec]] = []
    for spec in cfg.sources:
        source = parse_source(spec.source)
        out += [(s.text, spec) for s in backend_for(source).expand(source, cfg)]
    return out


class Progress:
    """Per-source progress on stderr: one rewritten line on a terminal, log lines otherwise."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.stream, self.enabled = total, stream or sys.stderr, enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()

    def start(self, i: int, source: str) -> None:
        if self.tty:
            self.stream.write(f"\r\033[K[{i}/{self.total}] {display_name(source)} …")
            self.stream.flush()

    def done(self, i: int, r: SyncResult) -> None:
        if not self.enabled:
            return
        opened = sum(1 for f in r.flags if f.counts_open)
        state = "ok" if r.status == "ok" else f"failed ({r.error.code})"
        line = (f"[{i}/{self.total}] {display_name(r.check.source)}: {state}; {opened} open flags, {r.new} new, "
                f"{len(r.check.findings)} findings, {r.seconds:.1f}s")
        self.stream.write(("\r\033[K" if self.tty else "campaignwatch: ") + line + "\n")
        self.stream.flush()


def run_sources(sources: list[tuple[str, SourceSpec | None]], cfg: Config, as_of: dt.date, history: History, *,
                lang: str | None = None, dry_run: bool = False, progress: Progress | None = None,
                on_result: Callable[[SyncResult], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> Run:
    run = Run()
    for i, (src, spec) in enumerate(sources, start=1):
        if should_stop():
            break
        if progress:
            progress.start(i, src)
        try:
            r = sync_source(src, cfg, as_of, history, lang=lang, dry_run=dry_run)
        except BaseException as exc:  # noqa: BLE001 - one source's fault never stops the others
            if isinstance(exc, FATAL):
                raise
            r = _failed(src, exc)
        run.results.append(r)
        if spec is not None:
            run.specs[src] = spec
        if progress:
            progress.done(i, r)
        if on_result:
            on_result(r)
    return run


def _failed(src: str, exc: Exception) -> SyncResult:
    from .pipeline import SourceResult
    from .errors import internal
    return SyncResult(SourceResult(str(src), status="failed", error=internal(exc, src)))


def write_dashboard(run: Run, cfg: Config, as_of: dt.date, history: History, lang: str | None = None) -> None:
    """Rebuild the managers' dashboard from this run's results (and history for trends)."""
    target = cfg["dashboard.path"]
    if not target:
        return
    from .dashboard import dashboard_tabs
    from .errors import SourceError, message
    for r in run.results:                 # a source not read this run keeps its last known state
        if r.figures is None and r.check.status == "failed":
            run.kept[r.check.source] = history.last_known(source_key(r.check.source))
    tabs = dashboard_tabs(run, cfg, as_of, history, lang)
    dash = parse_source(target).resolved(cfg)
    try:
        run.dashboard = backend_for(dash).write(dash, tabs, cfg, create=True).where
    except SourceError as err:
        run.dashboard_error = message(err, lang or "en")
