"""Google Sheets through gspread and a service account (`gsheets/`): read in two requests,
written in one atomic batchUpdate."""
from __future__ import annotations

from pathlib import Path

from . import NotSupported, Source, Written


class GoogleBackend:
    name = "google"

    def read(self, source: Source, cfg):
        from ..gsheets.read import read_spreadsheet
        return read_spreadsheet(source.text, cfg)

    def stat(self, source: Source) -> None:
        return None

    def write(self, source: Source, tabs, cfg, *, expect=None, create: bool = False) -> Written:
        from ..gsheets.write import write_tabs
        write_tabs(source.text, tabs, cfg)
        return Written(source.text)

    def clean(self, source: Source, cfg) -> Written | None:
        from ..gsheets.write import clean_spreadsheet
        clean_spreadsheet(source.text, cfg)
        return Written(source.text)

    def backups(self, source: Source, cfg) -> list[Path]:
        return []

    def restore(self, source: Source, cfg, backup: Path | None = None) -> Path:
        raise NotSupported("a Google Sheet keeps its own versions: use File › Version history in Google Sheets")

    def expand(self, source: Source, cfg) -> list[Source]:
        return [source]

    def link(self, source: Source, cell: str, from_folder: Path | None) -> str | None:
        return f"https://docs.google.com/spreadsheets/d/{source.location}/edit"
