"""Exact ratios for every comparison with a threshold.

Binary floats put 0.04 ÷ 0.05 at 0.7999999999999999 — amber read as red at an 0.8 threshold.
So a ratio that is compared with a threshold (utilisation, burn index, attainment, pacing,
tolerance) is a `Fraction`: money and day counts are integers already, numbers typed in cells
are taken at their shortest decimal form (`Fraction(repr(x))`, so a cell's 0.04 is 1/25), and
settings likewise (`Fraction(str(v))`). Floats are only for showing a ratio, rounded.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from numbers import Integral


def frac(x) -> Fraction | None:
    """The exact value of a cell number or setting, as people wrote it; None for blanks/NaN."""
    if x is None:
        return None
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        return Fraction(int(x))
    if isinstance(x, Integral):
        return Fraction(int(x))
    if isinstance(x, Decimal):
        return Fraction(x) if x.is_finite() else None
    if isinstance(x, str):
        return Fraction(x)
    f = float(x)
    if not math.isfinite(f):
        return None
    return Fraction(repr(f))


def ratio(num, den) -> Fraction | None:
    """num ÷ den exactly; None when den is zero or either is blank."""
    n, d = frac(num), frac(den)
    if n is None or d is None or d == 0:
        return None
    return n / d


def at_least(value: Fraction | None, threshold) -> bool:
    return value is not None and value >= frac(threshold)


def above(value: Fraction | None, threshold) -> bool:
    return value is not None and value > frac(threshold)


def below(value: Fraction | None, threshold) -> bool:
    return value is not None and value < frac(threshold)


def show(value: Fraction | None) -> float:
    """For display and JSON only: the nearest float (NaN for none)."""
    return math.nan if value is None else float(value)
