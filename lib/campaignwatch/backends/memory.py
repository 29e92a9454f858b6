"""Workbooks held in memory (`memory:NAME`): what the pipeline's tests run on, and the proof
that the interface is all the pipeline needs. `put` a `RawWorkbook`; `written` holds the tabs
each write delivered."""
from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from . import NotSupported, Source, Written


class MemoryBackend:
    name = "memory"

    def __init__(self):
        self.books: dict[str, object] = {}
        self.written: dict[str, list] = {}

    def put(self, name: str, book) -> Source:
        self.books[name] = book
        return Source("memory", name, f"memory:{name}")

    def read(self, source: Source, cfg):
        from ..errors import MISSING
        if source.location not in self.books:
            raise SourceError(MISSING, path=source.text)
        return self.books[source.location]

    def stat(self, source: Source) -> None:
        return None

    def write(self, source: Source, tabs, cfg, *, expect=None, create: bool = False) -> Written:
        self.written[source.location] = list(tabs)
        return Written(source.text)

    def clean(self, source: Source, cfg) -> Written | None:
        return Written(source.text) if self.written.pop(source.location, None) is not None else None

    def backups(self, source: Source, cfg) -> list[Path]:
        return []

    def restore(self, source: Source, cfg, backup: Path | None = None) -> Path:
        raise NotSupported("memory workbooks keep no backups")

    def expand(self, source: Source, cfg) -> list[Source]:
        return [source]

    def link(self, source: Source, cell: str, from_folder: Path | None) -> str | None:
        return None
