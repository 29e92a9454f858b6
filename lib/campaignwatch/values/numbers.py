"""Plain numbers and percentages (`parse_number`, `format_number`) and scores (`parse_score`).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from .limits import CTX, NUMBER_STYLES, OUT_OF_RANGE, UNREADABLE
from .money import NUMBER_RE, SCORE_RE, SIGNED_RE, cn_number, literal, number_decimal, scale_decimal
from .text import clean_cell, numeric_text


def _parse_number(raw: Any, scale: Decimal | None) -> tuple[float | None, str | None]:
    if isinstance(raw, str):
        s = numeric_text(raw)
        m = NUMBER_RE.fullmatch(s) if s is not None else None
        if m is not None:
            value = literal(m)
            if m["sign"] == "-":
                value = -value
            if m["pct"]:
                value = CTX.scaleb(value, -2)
        else:
            cn = SIGNED_RE.fullmatch(s) if s is not None else None
            value = cn_number(cn["body"]) if cn is not None else None
            if value is None or (cn["sign"] and value < 0):
                return None, UNREADABLE
            if cn["sign"] == "-":
                value = -value
    elif isinstance(raw, float) and scale is None:
        return (raw, None) if math.isfinite(raw) else (None, UNREADABLE)
    else:
        value = number_decimal(raw)
        if isinstance(value, str):
            return None, value
    if scale is not None:
        value = CTX.multiply(value, scale)
    result = float(value)
    if not math.isfinite(result):
        return None, OUT_OF_RANGE
    return result, None


def parse_number(raw: Any, scale: float | int = 1) -> tuple[float | None, str | None]:
    """Parse a plain number (thousands separators, 千/万/亿/k/w, trailing ``%``, or
    Chinese numerals such as 一万五).

    The text is evaluated exactly and rounded to a float once at the end, so
    ``parse_number(repr(x)) == (x, None)`` for every finite float ``x``.
    A result too large for a float is OUT_OF_RANGE.
    """
    scale_d = None if scale == 1 and not isinstance(scale, bool) else scale_decimal(scale)
    raw = clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _parse_number(raw, scale_d)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE


def _fixed_or_sci(d: Decimal, grouping: bool = False) -> str:
    """Fixed-point text for everyday magnitudes, scientific otherwise."""
    if d and not -7 <= d.adjusted() < 21:
        return str(d.normalize(CTX))  # e.g. "1E+300", read back by _NUM
    return format(d, ",f" if grouping else "f")


def format_number(x: float, style: str = "plain") -> str:
    """Format a finite float; parse_number reads every style back *exactly*.

    Styles: ``plain`` is ``repr(x)``; ``percent`` is ``x*100`` followed by
    ``%`` (``0.125`` -> ``12.5%``); ``thousands`` groups digits
    (``1,234,567.5``).  Percent and thousands are computed from the exact
    decimal digits of ``repr(x)``, so the round trip tolerance is zero (which
    is stronger than the 1e-12 relative tolerance one might expect from
    percent scaling).  Very large / small magnitudes fall back to scientific
    notation.
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError("x must be a float")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("cannot format a non-finite number")
    if style == "plain":
        return repr(x)
    d = Decimal(repr(x))
    if style == "percent":
        pct = CTX.scaleb(d, 2)
        return ("0" if not pct else _fixed_or_sci(pct.normalize(CTX))) + "%"
    if style == "thousands":
        return _fixed_or_sci(d, grouping=True)
    raise ValueError(f"unknown number style {style!r}; expected one of {NUMBER_STYLES}")


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def _parse_score(raw: Any, lo: int, hi: int) -> tuple[int | None, str | None]:
    if isinstance(raw, str):
        s = numeric_text(raw)
        if s is None or not SCORE_RE.fullmatch(s):
            return None, UNREADABLE
        value: Decimal | str = Decimal(s.rstrip("分 "))
    else:
        value = number_decimal(raw)
        if isinstance(value, str):
            return None, value
    if value != value.to_integral_value():
        return None, UNREADABLE
    score = int(value)
    if not lo <= score <= hi:
        return None, OUT_OF_RANGE
    return score, None


def parse_score(raw: Any, lo: int = 1, hi: int = 5) -> tuple[int | None, str | None]:
    """Parse an integer score in ``lo..hi`` (``3``, ``3.0``, ``'３'``, ``'4分'``)."""
    raw = clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _parse_score(raw, lo, hi)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE
