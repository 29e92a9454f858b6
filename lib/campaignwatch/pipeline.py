"""The pipeline, stage by stage: read → normalise → validate (→ compute → rules → render → write).

Backends sit at the edges (`read/`), the stages in the middle are pure (`stages/`). One
source's failure is a value (`SourceResult.status == "failed"`), never an exception that
takes the other sources down.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .findings import Finding
from .read import package
from .read.package import SourceError
from .read.recognise import recognise
from .read.workbook import RawWorkbook, read_workbook
from .stages.normalise import ReadOptions, Records, normalise
from .stages.validate import table_order, validate


@dataclass
class SourceResult:
    source: str
    status: str = "ok"                     # ok | failed
    error: SourceError | None = None
    language: str = "en"
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, Records] = field(default_factory=dict)
    book: RawWorkbook | None = None

    @property
    def excluded_rows(self) -> dict[str, int]:
        return {k: int((~r.df["_ok"]).sum()) for k, r in self.tables.items()}

    def error_message(self, lang: str | None = None) -> str | None:
        return package.message(self.error, lang or self.language) if self.error else None


def limits(cfg: Config) -> package.Limits:
    return package.Limits(max_total_bytes=cfg["limits.max_uncompressed_mb"] * 1024 * 1024,
                          max_ratio=cfg["limits.max_compression_ratio"])


def language(cfg: Config, asked: str | None, detected: str | None) -> str:
    if asked:
        return asked
    if cfg["general.language"] != "auto":
        return cfg["general.language"]
    return detected or "en"


def check_source(path: str | Path, cfg: Config, as_of: dt.date, lang: str | None = None) -> SourceResult:
    """read → normalise → validate for one workbook file."""
    result = SourceResult(str(path), language=language(cfg, lang, None))
    try:
        book = read_workbook(path, limits(cfg))
    except SourceError as err:
        result.status, result.error = "failed", err
        return result
    result.book = book
    found = recognise(book)
    result.language = language(cfg, lang, found.language)
    opts = ReadOptions(day_first=cfg["general.day_first"], date1904=book.date1904)
    findings = list(found.findings)
    for key, raw in found.tables.items():
        records, cell_findings = normalise(raw, opts)
        result.tables[key] = records
        findings += cell_findings
    findings += validate(result.tables, as_of)
    result.findings = table_order(findings)
    return result
