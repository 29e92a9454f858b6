"""A1 references: column letters ↔ zero-based indexes, cell references, quoted tab names.

Rows and columns are zero-based here unless a name says otherwise (`cell_ref` takes the row
as the user sees it, because findings carry that row). Bounds are Excel's: 1,048,576 rows
and 16,384 columns (A–XFD).
"""
from __future__ import annotations

import functools
import re

MAX_ROWS = 1 << 20
MAX_COLUMNS = 1 << 14

_NEEDS_QUOTE = re.compile(r"[^\w.]|^\d")


@functools.lru_cache(maxsize=None)      # at most 16,384 columns; the writer asks for them per row
def column_letter(col0: int) -> str:
    """0 -> "A", 27 -> "AB"."""
    s, n = "", col0 + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@functools.lru_cache(maxsize=4096)
def column_index(letters: str | bytes) -> int:
    """"A" -> 0, b"AB" -> 27 (upper-case letters only; `parse` checks them)."""
    col = 0
    for ch in letters.encode("ascii") if isinstance(letters, str) else letters:
        col = col * 26 + ch - 64
    return col - 1


def ref(row0: int, col0: int) -> str:
    """(11, 27) -> "AB12"."""
    return f"{column_letter(col0)}{row0 + 1}"


def parse(text: str | bytes | None) -> tuple[int, int] | None:
    """"AB12" (or b"AB12", any case, no `$`) -> (11, 27); None for a missing or invalid reference."""
    if not text:
        return None
    if isinstance(text, str):
        try:
            text = text.encode("ascii")
        except UnicodeEncodeError:
            return None
    text = text.strip()
    letters = text.rstrip(b"0123456789")
    digits = text[len(letters):]
    if not (1 <= len(letters) <= 3 and letters.isalpha() and 1 <= len(digits) <= 7):
        return None
    col = column_index(letters.upper())
    row = int(digits)
    if not (1 <= row <= MAX_ROWS and col < MAX_COLUMNS):
        return None
    return row - 1, col


def quote_tab(tab: str, *, always: bool = False) -> str:
    """A tab name as a formula needs it: `费用记录`, or `'Budget lines'` where Excel needs quotes
    (`always`: quoted in any case, as an A1 range for the Sheets API may be)."""
    return "'" + tab.replace("'", "''") + "'" if always or _NEEDS_QUOTE.search(tab) else tab


def cell_ref(tab: str, row: int, col0: int) -> str:
    """`费用记录!E7`, or `'Budget lines'!D5` where Excel needs quotes; `row` as the user sees it."""
    return f"{quote_tab(tab)}!{column_letter(col0)}{row}"
