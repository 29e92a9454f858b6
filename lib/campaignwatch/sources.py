"""What a source is, for history and display: `source_key` (its stable identity in history) and
`display_name`. Parsing a source and choosing its backend live in `backends/`."""
from __future__ import annotations

from pathlib import Path

from .backends import parse_source


def google_id(source: str) -> str | None:
    """The spreadsheet ID of a Google source, or None for a file."""
    src = parse_source(source)
    return src.location if src.kind == "gsheet" else None


def source_key(source: str | Path) -> str:
    """The stable identity of a source in history: `gsheet:ID` or the absolute file path."""
    return parse_source(source).key


def display_name(source: str | Path) -> str:
    return parse_source(source).display
