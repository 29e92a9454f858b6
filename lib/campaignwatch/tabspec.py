"""A generated tab as plain data: what the render stage produces and every writer consumes.

The xlsx writer (`write/xlsx.py`) and the Google Sheets writer (`gsheets/write.py`) turn the same
`TabSpec` into their own formats, so both backends show the same values.

Layout of every generated tab: `title` lines from row 1 (generated at, as-of date,
source, "do not edit"), a blank row, the header row, then `rows`. The header row is
frozen and carries an auto-filter.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# Cell formats a column can have.
FORMATS = ("text", "money", "percent", "date", "datetime", "int", "number")
# Fills a cell can have (red / amber / green / grey status).
FILLS = ("red", "amber", "green", "grey")

# The one palette and the number formats both backends draw generated tabs with (RGB hex; the xlsx
# writer prefixes the alpha "FF", the Google writer turns them into fractions).
FILL_RGB = {"red": "FFC7CE", "amber": "FFEB9C", "green": "C6EFCE", "grey": "D9D9D9"}
HEADER_RGB = "1F4E78"
LINK_RGB = "0563C1"
TAB_RGB = "7F7F7F"
NUMFMT_CODES = {"money": "#,##0.00", "percent": "0.0%", "date": "yyyy-mm-dd",
                "datetime": "yyyy-mm-dd hh:mm", "int": "#,##0", "number": "#,##0.####"}

Value = str | int | float | Decimal | dt.date | dt.datetime | None


@dataclass
class TabSpec:
    key: str                          # summary, flags, budget, kpi, validation, scorecard, runlog
    name: str                         # tab name, starts with names.MARK
    title: list[str]                  # title lines
    header: list[str]
    formats: list[str]                # one of FORMATS per column
    rows: list[list[Value]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)       # characters per column
    fills: dict[tuple[int, int], str] = field(default_factory=dict)   # (row index, col index) -> fill
    links: dict[tuple[int, int], str] = field(default_factory=dict)   # (row index, col index) -> "'Tab'!E7"

    @property
    def header_row(self) -> int:
        """1-based sheet row of the header."""
        return len(self.title) + 2

    def first_data_row(self) -> int:
        return self.header_row + 1

    def column_widths(self, n: int) -> list[float]:
        """Width of each of `n` columns in characters: the declared one, else fitted to the
        header and the first 300 rows (CJK characters count twice), between 8 and 60."""
        out = []
        for c in range(n):
            if c < len(self.widths) and self.widths[c]:
                out.append(float(self.widths[c]))
                continue
            w = _text_width(self.header[c]) if c < len(self.header) else 8
            for row in self.rows[:300]:
                if c < len(row) and row[c] is not None:
                    w = max(w, _text_width(row[c]))
            out.append(float(min(max(w + 2, 8), 60)))
        return out


def _text_width(value) -> int:
    s = (value if isinstance(value, str) else str(value))[:80]
    if s.isascii():
        return len(s)
    return len(s) + sum(1 for ch in s if ord(ch) > 0x2E7F)      # CJK characters are two wide
