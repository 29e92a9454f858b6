"""What a source is: a workbook file path, or a Google Sheet (`gsheet:ID` or its URL)."""
from __future__ import annotations

import re
from pathlib import Path

_URL = re.compile(r"^https?://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
_PREFIX = "gsheet:"


def google_id(source: str) -> str | None:
    """The spreadsheet ID of a Google source, or None for a file."""
    source = str(source).strip()
    if source.startswith(_PREFIX):
        return source[len(_PREFIX):].strip() or None
    m = _URL.match(source)
    return m.group(1) if m else None


def is_google(source: str) -> bool:
    return google_id(source) is not None


def source_key(source: str | Path) -> str:
    """The stable identity of a source in history: `gsheet:ID` or the absolute file path."""
    gid = google_id(str(source))
    return f"{_PREFIX}{gid}" if gid else str(Path(source).resolve())


def display_name(source: str | Path) -> str:
    gid = google_id(str(source))
    return f"{_PREFIX}{gid}" if gid else Path(source).name
