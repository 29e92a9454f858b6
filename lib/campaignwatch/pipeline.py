"""The pipeline, stage by stage: read → normalise → validate → compute → rules → render → write.

Backends sit at the edges (`read/`), the stages in the middle are pure (`stages/`). One
source's failure is a value (`SourceResult.status == "failed"`), never an exception that
takes the other sources down.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import SourceError
from .findings import Finding
from .read import package
from .read.recognise import recognise
from .read.workbook import RawWorkbook, read_workbook
from .stages.normalise import ReadOptions, Records, normalise
from .sources import is_google
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

    @property
    def excluded_rows(self) -> dict[str, int]:
        return {k: int((~r.df["valid"]).sum()) for k, r in self.tables.items()}

    def error_message(self, lang: str | None = None) -> str | None:
        return package.message(self.error, lang or self.language) if self.error else None


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


def check_source(path: str | Path, cfg: Config, as_of: dt.date, lang: str | None = None) -> SourceResult:
    """read → normalise → validate for one workbook file. An unexpected fault is this
    source's failure (`internal`), never an exception that stops the other sources."""
    result = SourceResult(str(path), language=language(cfg, lang, None))
    try:
        return _check(result, path, cfg, as_of, lang)
    except BaseException as exc:  # noqa: BLE001 - contained per source (a reader's panic too), one sentence
        if isinstance(exc, FATAL):
            raise
        result.status, result.error, result.tables, result.findings = "failed", package.internal(exc, path), {}, []
        return result


def _check(result: SourceResult, path, cfg: Config, as_of: dt.date, lang: str | None) -> SourceResult:
    try:
        with timed(result.timings, "read"):
            if is_google(str(path)):
                from .gsheets.read import read_spreadsheet      # imported only when a Google source is used
                book = read_spreadsheet(str(path), cfg)
            else:
                st = os.stat(path) if os.path.exists(path) else None
                result.stat = (st.st_size, st.st_mtime_ns) if st else None
                book = read_workbook(path, limits(cfg))
    except SourceError as err:
        result.status, result.error = "failed", err
        return result
    result.book = book
    with timed(result.timings, "normalise"):
        found = recognise(book)
        result.language = language(cfg, lang, found.language)
        opts = ReadOptions(day_first=cfg["general.day_first"], date1904=book.date1904,
                           currency=cfg["general.currency"].strip().upper())
        if not found.tables and any(f.code == "NO_TABLES" for f in found.findings):
            # not one of ours: a source failure, so nothing is ever written into a stranger's workbook
            tabs = ", ".join(s.name for s in book.sheets[:8]) + (" …" if len(book.sheets) > 8 else "")
            result.status, result.error = "failed", SourceError(
                package.NOT_CAMPAIGN, f"its tabs: {tabs}" if tabs else "it has no tab", path=path)
            return result
        findings = list(found.findings)
        for key, raw in found.tables.items():
            records, cell_findings = normalise(raw, opts)
            result.tables[key] = records
            findings += cell_findings
    with timed(result.timings, "validate"):
        findings += validate(result.tables, as_of)
        result.findings = table_order(findings)
    return result
