"""Backends: where workbooks live. One interface, chosen once from a parsed `Source`.

A backend reads a source into a `RawWorkbook` (grids of cell values, as python-calamine gives
them), writes generated tabs (`TabSpec`s) back, removes them again (`clean`), and — where the
medium keeps copies — lists and restores backups. The pipeline in between never knows which
backend it talks to.

    read(source, cfg) -> RawWorkbook
    write(source, tabs, cfg, *, expect=None, create=False) -> Written   # where, and the backup kept
    clean(source, cfg) -> Written | None                        # None: nothing to clean
    backups(source, cfg) -> list[Path]                          # newest first ([] when none)
    restore(source, cfg, backup=None) -> Path                   # NotSupported where there are none
    expand(source, cfg) -> list[Source]                         # a pattern's matches (files: globs)
    link(source, cell, from_folder) -> str | None               # a hyperlink to a cell, for the dashboard

Backends: `xlsx.XlsxBackend` (local .xlsx/.xlsm written in place, .xls/.xlsb/.ods read with a
sidecar), `google.GoogleBackend` (Google Sheets through gspread), `memory.MemoryBackend`
(workbooks held in a dict: the pipeline's tests run on it).

A third backend is one more module here and one more line in `backend_for`. Feishu (Lark)
Sheets through the official `lark-oapi` SDK fits the interface the way Google Sheets does:
`read` = the spreadsheet's sheet list (`sheets/query`) and one values batch-get by range,
`write` = add/remove sheets (`sheets_batch_update`) plus values and styles by range
(`values_batch_update`, `style_batch_update`), `clean` = delete the sheets marked ours,
`restore`/`backups` = NotSupported (the service keeps its own history), `link` = the sheet's
URL with `?sheet=ID`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import CampaignwatchError



if TYPE_CHECKING:
    from ..config import Config
    from ..read.workbook import RawWorkbook
    from ..tabspec import TabSpec

_URL = re.compile(r"^https?://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
_GSHEET = "gsheet:"
_MEMORY = "memory:"


@dataclass(frozen=True)
class Source:
    """A parsed source: `kind` picks the backend, `location` is what the backend needs (a file
    path, a spreadsheet ID, a memory key), `text` is how it was written."""
    kind: str                     # "file" | "gsheet" | "memory"
    location: str
    text: str

    @property
    def key(self) -> str:
        """The stable identity of the source in history."""
        if self.kind == "file":
            return str(Path(self.location).resolve())
        return f"{self.kind}:{self.location}"

    @property
    def display(self) -> str:
        return Path(self.location).name if self.kind == "file" else f"{self.kind}:{self.location}"

    def resolved(self, cfg: "Config") -> "Source":
        """A file path relative to config.toml's folder made absolute; other sources as they are."""
        return Source("file", str(cfg.resolve(self.location)), self.text) if self.kind == "file" else self


def parse_source(text: str | Path) -> Source:
    """`gsheet:ID` or a Google Sheets URL, `memory:NAME`, or else a file path."""
    s = str(text).strip()
    if s.startswith(_GSHEET) and s[len(_GSHEET):].strip():
        return Source("gsheet", s[len(_GSHEET):].strip(), str(text))
    m = _URL.match(s)
    if m:
        return Source("gsheet", m.group(1), str(text))
    if s.startswith(_MEMORY):
        return Source("memory", s[len(_MEMORY):], str(text))
    return Source("file", str(text), str(text))


@dataclass(frozen=True)
class Written:
    where: str                     # the file or sheet written (for a .xls: its sidecar)
    backup: Path | None = None
    removed: bool = False          # clean: the target itself went (a sidecar holding only our tabs)


class NotSupported(CampaignwatchError):
    """The backend cannot do this (e.g. restore a Google Sheet: it keeps its own versions)."""


class Backend(Protocol):
    name: str

    def read(self, source: Source, cfg: "Config") -> "RawWorkbook": ...

    def write(self, source: Source, tabs: "list[TabSpec]", cfg: "Config", *, expect=None,
              create: bool = False) -> Written: ...

    def clean(self, source: Source, cfg: "Config") -> Written | None: ...

    def backups(self, source: Source, cfg: "Config") -> list[Path]: ...

    def restore(self, source: Source, cfg: "Config", backup: Path | None = None) -> Path: ...

    def expand(self, source: Source, cfg: "Config") -> list[Source]: ...

    def link(self, source: Source, cell: str, from_folder: Path | None) -> str | None: ...


_MEMORY_BACKEND = None


def backend_for(source: Source | str | Path) -> Backend:
    """The one place that decides which backend serves a source."""
    global _MEMORY_BACKEND
    src = source if isinstance(source, Source) else parse_source(source)
    if src.kind == "gsheet":
        from .google import GoogleBackend          # imported only when a Google source is used
        return GoogleBackend()
    if src.kind == "memory":
        from .memory import MemoryBackend
        _MEMORY_BACKEND = _MEMORY_BACKEND or MemoryBackend()
        return _MEMORY_BACKEND
    from .xlsx import XlsxBackend
    return XlsxBackend()
