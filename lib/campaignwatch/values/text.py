"""Text cleaning every parser starts from (`clean_text`: NFKC, invisible characters, spaces),
word keys (`norm_word`), and the text and identifier parsers (`parse_text`, `parse_id`).
"""
from __future__ import annotations

import datetime as _dt
import unicodedata
from typing import Any

from .limits import MAX_TEXT


# --------------------------------------------------------------------------
# Text cleaning
# --------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


_NUMERIC_FIXES = str.maketrans({"\u2212": "-", "\uffe5": "¥"})  # minus sign, ￥


_WORD_JUNK = dict.fromkeys(map(ord, " _-"))


TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def clean_text(s: Any) -> str:
    """NFKC-normalise, drop zero-width characters, trim and collapse whitespace.

    ``None`` gives ``''``; other non-strings are converted with ``str()``.
    """
    if not isinstance(s, str):
        s = "" if s is None else str(s)
    elif s.isascii() and s.isprintable() and s[:1] != " " and s[-1:] != " " and "  " not in s:
        return s                          # already clean: the common case, at C speed
    s = unicodedata.normalize("NFKC", s)
    if not s.isascii():
        s = s.translate(_INVISIBLE)
    return " ".join(s.split())


def norm_word(x: Any) -> str:
    """Matching key for words: clean_text + casefold, minus spaces, ``_``, ``-``."""
    return clean_text(x).casefold().translate(_WORD_JUNK)


def clean_cell(raw: Any) -> Any:
    """None for a blank cell, cleaned text for a string, anything else as is."""
    if isinstance(raw, str):
        return clean_text(raw) or None
    return raw


def numeric_text(s: str) -> str | None:
    """Cleaned text prepared for the number grammars; None if hopelessly long."""
    s = s.translate(_NUMERIC_FIXES)
    return s if len(s) <= MAX_TEXT else None


def _text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"  # as Excel shows them
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < 1e16:
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, (_dt.date, _dt.time)):  # datetime is a date
        return raw.isoformat()
    return str(raw)


def parse_text(raw: Any) -> tuple[str | None, None]:
    """Cleaned text of any cell; never an issue.

    Whole floats become integer text (``1001.0`` -> ``"1001"``, up to 1e16),
    dates/datetimes/times become ISO text, bools ``TRUE``/``FALSE``.
    """
    try:
        text = clean_text(_text(raw)) if raw is not None else ""
    except Exception:  # e.g. an int too long for str(), or a broken __str__
        text = ""
    return (text or None), None


def parse_id(raw: Any) -> tuple[str | None, None]:
    """Identifier cell: same as :func:`parse_text` (case kept, whitespace
    trimmed and collapsed); a separate name so callers say what they mean."""
    return parse_text(raw)
