"""Money typed by people (`parse_money`, exact integer cents; `money_currency`), Chinese
numerals through cn2an, and the money formatter (`format_money`).
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Callable

from .limits import (
    CTX, CURRENCY, CURRENCY_MARKS, DEFAULT_CURRENCY, MAX_CENTS, MAX_INT_BITS, MAX_YUAN_D, MONEY_STYLES, MULT,
    MULTIPLIER_EXP, NOISE_CENTS, ONE, OUT_OF_RANGE, ROUNDED, UNREADABLE,
)
from .text import TO_FULLWIDTH, clean_cell, numeric_text


# --------------------------------------------------------------------------
# Money and numbers
# --------------------------------------------------------------------------

# An unsigned decimal literal: well-formed thousands separators, optional
# fraction (".5" and "5." allowed), optional exponent.
_NUM = (
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
    r"(?P<exp>[eE][-+]?\d{1,4})?"
)


_MARK_CODE = {unicodedata.normalize("NFKC", mark).casefold(): code
              for code, marks in CURRENCY_MARKS.items() for mark in marks}


_SUFFIX_ONLY = frozenset({"元", "圆", "块", "块钱", "円"})      # 500元, never 元500


_MARK_RE = "|".join(map(re.escape, sorted(_MARK_CODE, key=len, reverse=True)))  # longest first


_PREFIX_MARK_RE = "|".join(map(re.escape, sorted(set(_MARK_CODE) - _SUFFIX_ONLY, key=len, reverse=True)))


# Money text: sign, currency mark, sign, the amount, currency mark.  The amount is checked
# afterwards (_amount, then _cn_money); the lazy body leaves the longest mark to the suffix.
_MONEY_RE = re.compile(
    r"(?P<sign1>[-+])?\ ?"
    rf"(?:(?P<cur1>{_PREFIX_MARK_RE})\ ?)?"
    r"(?P<sign2>[-+])?\ ?"
    r"(?P<body>.+?)"
    rf"(?:\ ?(?P<cur2>{_MARK_RE}))?",
    re.IGNORECASE | re.DOTALL,
)


_AMOUNT_RE = re.compile(_NUM + r"\ ?" + MULT + "?", re.ASCII)


# The everyday forms in one regex, tried first (¥1,234.50  1,234.50元  RMB 500  1.2万  -500):
# twice as fast as the general split above, and most typed amounts look like this.
_MONEY_FAST_RE = re.compile(
    r"(?P<sign1>[-+])?\ ?(?P<cur1>¥|RMB|CNY|人民币)?\ ?(?P<sign2>[-+])?\ ?"
    + _NUM + r"\ ?" + MULT + r"?\ ?(?P<cur2>元|RMB|CNY)?",
    re.ASCII | re.IGNORECASE,
)


# Estimates are never amounts, whatever else the text says.
_APPROX_RE = re.compile(r"约|左右|多|余|餘|大概|大约|大約|上下|将近|approx|about|around|circa|~|≈",
                        re.IGNORECASE)


NUMBER_RE = re.compile(
    r"(?P<sign>[-+])?\ ?" + _NUM + r"\ ?" + MULT + r"?\ ?(?P<pct>%)?",
    re.ASCII,
)


SIGNED_RE = re.compile(r"(?P<sign>[-+])?\ ?(?P<body>.+)", re.DOTALL)


# Chinese numerals.  cn2an does the reading; these sets only decide which text is handed to it.
_CN_DIGITS = frozenset("零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖两幺貳陸兩")


_CN_UNITS = frozenset("十拾百佰千仟万亿萬億廿")


_CN_NUMERAL = _CN_DIGITS | _CN_UNITS


_CN_MULT_EXP = {"千": 3, "万": 4, "亿": 8}


_YUAN = "元圆块圓塊"


_DIGIT = "[0-9" + "".join(sorted(_CN_DIGITS)) + "]"


_SUBUNITS_RE = re.compile(rf"(?:零?(?P<jiao>{_DIGIT})[角毛])?(?:零?(?P<fen>{_DIGIT})分)?")


_SPOKEN_JIAO_RE = re.compile(_DIGIT)     # 三块五 = 3.50


SCORE_RE = re.compile(r"[-+]?\d+(?:\.\d+)?(?:\ ?分)?", re.ASCII)


def literal(m: re.Match) -> Decimal:
    """Exact value of the unsigned number in a _NUM match, multiplier applied."""
    text = m["num"].replace(",", "") + (m["exp"] or "")
    value = Decimal(text)
    mult = m["mult"]
    if mult:
        value = CTX.scaleb(value, MULTIPLIER_EXP[mult])
    return value


def scale_decimal(scale: Any) -> Decimal:
    """Convert a ``scale`` argument; raises for a programming error."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, Decimal)):
        raise TypeError(f"scale must be a number, not {type(scale).__name__}")
    if isinstance(scale, float):
        if not math.isfinite(scale):
            raise ValueError("scale must be finite")
        return Decimal(repr(scale))
    value = Decimal(scale)
    if not value.is_finite():
        raise ValueError("scale must be finite")
    return value


def number_decimal(raw: Any) -> Decimal | str:
    """Exact Decimal of a numeric (non-text) cell value, or an issue string."""
    if isinstance(raw, bool):
        return UNREADABLE
    if isinstance(raw, int):
        if raw.bit_length() > MAX_INT_BITS:
            return OUT_OF_RANGE
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return UNREADABLE
        return Decimal(repr(raw))
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else UNREADABLE
    return UNREADABLE


@functools.cache
def _cn2an() -> Callable[[str, str], Any]:
    """cn2an's reader, imported on first use (it takes ~80 ms to import)."""
    from cn2an import cn2an
    return cn2an


def _cn_integer(t: str) -> int | None:
    """A whole number in Chinese numerals (一万五, 两千, 壹万伍仟, 十一万三), or None."""
    chars = set(t)
    if not t or not chars <= _CN_NUMERAL:
        return None
    if len(t) > 1 and not chars & _CN_UNITS:     # 一二三, 二两, 零零五: digits, not an amount
        return None
    try:
        n = _cn2an()(t, "normal")
    except Exception:  # noqa: BLE001 - cn2an says "not a number" by raising (mostly ValueError)
        return None
    return n if type(n) is int else None


def _cn_digits(t: str) -> str | None:
    """ASCII digits of a run of Chinese digits (the part after 点), or None."""
    if not t or not set(t) <= _CN_DIGITS:
        return None
    try:
        digits = _cn2an()(t, "direct")
    except Exception:  # noqa: BLE001
        return None
    return digits if isinstance(digits, str) and digits.isascii() and digits.isdigit() else None


def cn_number(t: str) -> Decimal | None:
    """Exact value of Chinese numerals: 负 sign, 点 fraction, a 千/万/亿 after a fraction."""
    negative = t.startswith("负")
    if negative:
        t = t[1:]
    if "点" in t:
        whole_text, _, frac_text = t.partition("点")
        exp = _CN_MULT_EXP.get(frac_text[-1:], 0)
        if exp:
            frac_text = frac_text[:-1]
        whole, frac = _cn_integer(whole_text), _cn_digits(frac_text)
        if whole is None or frac is None:
            return None
        value = CTX.scaleb(Decimal(f"{whole}.{frac}"), exp)
    else:
        whole = _cn_integer(t)
        if whole is None:
            return None
        value = Decimal(whole)
    return -value if negative else value


def _amount(t: str) -> Decimal | None:
    """Unsigned amount in figures (1,234.5  3.5w  1.5k  2千万) or signed Chinese numerals."""
    m = _AMOUNT_RE.fullmatch(t)
    if m is not None:
        return literal(m)
    return cn_number(t)


def _digit(ch: str | None) -> int:
    if ch is None:
        return 0
    return int(ch) if ch.isascii() else int(_cn2an()(ch, "direct"))


def _cn_money(t: str) -> tuple[Decimal, bool] | None:
    """(value, marked as yuan?) of an amount written with 元/圆/块, 角/毛, 分 and 整
    (壹万伍仟元整, 贰佰元伍角, 壹元零伍分, 伍角, 三块五, 12元5角), or of plain numerals."""
    negative = t.startswith("负")
    if negative:
        t = t[1:]
    if t[-1:] in ("整", "正"):
        t = t[:-1]
        if t[-1:] not in (*_YUAN, "角"):        # 整 closes 元 or 角: 壹万整 is not a form
            return None
    cut = next((i for i, ch in enumerate(t) if ch in _YUAN), -1)
    if cut < 0:
        if not any(u in t for u in "角毛分"):
            value = _amount(t)
            return None if value is None or value < 0 else ((-value if negative else value), False)
        yuan, rest = Decimal(0), t
    else:
        yuan_value = _amount(t[:cut])
        if yuan_value is None or yuan_value < 0:
            return None
        yuan, rest = yuan_value, t[cut + 1:]
    m = _SUBUNITS_RE.fullmatch(rest)
    if m is not None and (m["jiao"] or m["fen"] or cut >= 0):
        jiao, fen = m["jiao"], m["fen"]
    elif cut >= 0 and _SPOKEN_JIAO_RE.fullmatch(rest):
        jiao, fen = rest, None
    else:
        return None
    if (jiao or fen) and yuan != yuan.to_integral_value():   # 1.5元5角
        return None
    value = yuan + Decimal(_digit(jiao) * 10 + _digit(fen)).scaleb(-2)
    return (-value if negative else value), True


def _money_text(s: str) -> tuple[Decimal, str | None] | None:
    """(exact value, ISO code of the currency it is marked with or None) of cleaned money
    text, or None when it is not an amount."""
    negative = False
    if len(s) >= 2 and s[0] == "(" and s[-1] == ")":
        negative = True
        s = s[1:-1].strip()
    m = _MONEY_FAST_RE.fullmatch(s)
    if m is None:
        if _APPROX_RE.search(s):
            return None
        m = _MONEY_RE.fullmatch(s)
        if m is None:
            return None
    sign1, sign2 = m["sign1"], m["sign2"]
    if sign1 and sign2:
        return None
    sign = sign1 or sign2
    if negative and sign:  # "(-500)" is not a thing
        return None
    marks = {_MARK_CODE[c.casefold()] for c in (m["cur1"], m["cur2"]) if c}
    value = literal(m) if m.re is _MONEY_FAST_RE else _amount(m["body"])
    if value is None:
        body = m["body"]
        read = _cn_money(body)
        if read is None:
            return None
        value, yuan = read
        if yuan:
            marks.add("CNY")
    if value < 0 and (sign or negative):    # -负五百
        return None
    if len(marks) > 1:                      # $500元
        return None
    if negative or sign == "-":
        value = -value
    return value, (marks.pop() if marks else None)


def money_currency(raw: Any) -> str | None:
    """ISO code of the currency a money cell is marked with (``USD`` for ``$500``, ``CNY``
    for ``500元``), or None when it has no mark or is not an amount."""
    raw = clean_cell(raw)
    if not isinstance(raw, str):
        return None
    s = numeric_text(raw)
    try:
        read = _money_text(s) if s is not None else None
    except Exception:  # pragma: no cover - defensive
        return None
    return read[1] if read else None


def _parse_money(raw: Any, scale: Decimal,
                 currency: str = DEFAULT_CURRENCY) -> tuple[int | None, str | None]:
    if isinstance(raw, str):
        s = numeric_text(raw)
        read = _money_text(s) if s is not None else None
        if read is None:
            return None, UNREADABLE
        yuan, mark = read
        if mark is not None and mark != currency:
            return None, CURRENCY
    else:
        yuan = number_decimal(raw)
        if isinstance(yuan, str):
            return None, yuan
    if scale != ONE:
        yuan = CTX.multiply(yuan, scale)
    if abs(yuan) >= MAX_YUAN_D:
        return None, OUT_OF_RANGE
    exact = CTX.scaleb(yuan, 2)
    cents_dec = exact.to_integral_value(ROUND_HALF_EVEN, CTX)
    cents = int(cents_dec)
    if abs(cents) > MAX_CENTS:  # 999999999999999.999 rounds up to 10**15
        return None, OUT_OF_RANGE
    issue = None
    if exact != cents_dec and abs(exact - cents_dec) >= NOISE_CENTS:
        issue = ROUNDED
    return cents, issue


def parse_money(raw: Any, scale: int = 1,
                currency: str = DEFAULT_CURRENCY) -> tuple[int | None, str | None]:
    """Parse a money cell into exact integer cents (分, or the configured currency's cent).

    ``scale`` multiplies the value, e.g. 10000 for a ``金额(万元)`` column.  It
    may be an int, float or Decimal; a non-numeric or non-finite ``scale``
    raises (that is a programming error, not a cell problem).  ``currency`` is
    the ISO code amounts are kept in: text marked with another currency gives
    ``(None, CURRENCY)``.
    """
    scale_d = ONE if scale == 1 and not isinstance(scale, bool) else scale_decimal(scale)
    raw = clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _parse_money(raw, scale_d, currency.strip().upper())
    except Exception:  # pragma: no cover - defensive: parsers never raise
        return None, UNREADABLE


def format_money(cents: int, style: str = "plain") -> str:
    """Format integer cents; every style is read back exactly by parse_money.

    Styles: ``plain`` ``-1234.50``; ``yuan`` ``-¥1,234.50``; ``suffix``
    ``-1,234.50元``; ``rmb`` ``RMB -1234.50``; ``paren`` ``(1,234.50)`` for
    negatives; ``wan`` ``-0.123450万`` -> shortest exact ``-0.12345万``;
    ``fullwidth`` plain with full-width digits ``-１２３４.５０``.
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("cents must be an int")
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    plain = f"{whole}.{frac:02d}"
    grouped = f"{whole:,}.{frac:02d}"
    if style == "plain":
        return sign + plain
    if style == "yuan":
        return f"{sign}¥{grouped}"
    if style == "suffix":
        return f"{sign}{grouped}元"
    if style == "rmb":
        return f"RMB {sign}{plain}"
    if style == "paren":
        return f"({grouped})" if sign else grouped
    if style == "wan":
        wan = CTX.scaleb(Decimal(cents), -6).normalize(CTX)
        return f"{wan:f}万"
    if style == "fullwidth":
        return (sign + plain).translate(TO_FULLWIDTH)
    raise ValueError(f"unknown money style {style!r}; expected one of {MONEY_STYLES}")


def money_text(cents, blank: str = "—", whole: bool = False) -> str:
    """How every message, digest and report shows an amount: `¥1,234.50` (`whole`: `¥1,234` when
    there are no fen); `blank` for none. Cells of generated tabs hold the exact Decimal instead."""
    if cents is None or (isinstance(cents, float) and cents != cents) or str(cents) in ("<NA>", "nan"):
        return blank
    s = format_money(int(cents), "yuan")
    return s[:-3] if whole and s.endswith(".00") else s
