"""Normalise single spreadsheet cell values typed by people in Chinese or English.

Every ``parse_*`` function takes one raw cell value as delivered by
python-calamine (``None``, ``''``, ``str``, ``int``, ``float``, ``bool``,
``datetime.date``, ``datetime.datetime``, ``datetime.time``,
``datetime.timedelta``) -- or indeed any object -- and returns a 2-tuple
``(value, issue)``.  Parsers never raise because of the cell value.

* A blank cell (``None``, ``''`` or only whitespace, including the full-width
  space U+3000 and NBSP) gives ``(None, None)``.
* ``issue`` is ``None`` or one of the constants :data:`UNREADABLE`,
  :data:`AMBIGUOUS`, :data:`ROUNDED`, :data:`OUT_OF_RANGE`,
  :data:`UNKNOWN_WORD`, :data:`CURRENCY` (all listed in :data:`ISSUES`).  When
  the issue is ``UNREADABLE``, ``OUT_OF_RANGE`` or ``CURRENCY`` the value is
  ``None``; with ``AMBIGUOUS`` and ``ROUNDED`` a usable value is still
  returned.

All text is first passed through :func:`clean_text`: Unicode NFKC (full-width
``１２００`` -> ``1200``, ``￥`` -> ``¥``, ``（，：％`` -> ``(,:%``, U+3000 -> space),
zero-width characters and soft hyphens removed, surrounding whitespace
stripped and inner whitespace runs collapsed to one space.  After cleaning
only ASCII digits count as digits.  (A side effect of NFKC worth knowing:
superscripts and circled digits become plain digits, so ``①`` reads as 1.)

Accepted forms
--------------
Money -- :func:`parse_money` returns exact integer cents (分)::

    1234.5   1234   -500   +500   .5   5.   1e3   1,234,567.8
    ¥1,234.50   ￥1,234.50   ¥-500   -¥500   ¥ 500
    1,234.50元   500 元   RMB 500   rmb500   CNY500   500 RMB
    人民币500元   (500)   (¥500)   (1,234.50元)        <- parentheses = negative
    1.2万   1.2万元   3亿   2.5千   2千万   3百万          <- ×10⁴, ×10⁸, ×10³, ×10⁷, ×10⁶
    3.5w   3.5W   1.5k   1.5K   500块   500块钱            <- w = 万, k = 千
    一万五 (15000)   三千二百   两万   十一万三   一点五万   负五百
    壹万伍仟元整   贰佰元伍角   壹元零伍分   伍角   三块五 (3.50)   12元5角
    人民币壹万伍仟元整
    int / float / Decimal cell values

  Chinese numerals are read by cn2an (``cn2an.cn2an(text, "normal")``, which
  knows 大写, 两, 幺, 〇 and spoken forms such as 一万五); campaignwatch only
  splits off the sign, the currency, 点 fractions and 元/圆/块, 角/毛, 分, 整, and
  does the arithmetic in Decimal.  A run of digits without any unit
  (``一二三``, ``二两``) is not an amount.

  Rejected (UNREADABLE): ``abc``, ``12/3``, ``1.2.3``, ``1,23``, ``--5``,
  ``(-5)``, ``3.5ww``, ``1.5kk``, ``一万五千五百五十五万``, bools, NaN/inf,
  dates and times -- and every approximate amount, whatever else it says
  (``约5000``, ``5000左右``, ``3万多``, ``5000余元``, ``大概5000``, ``~5000``,
  ``approx 5000``): an estimate is never rounded into a figure.

  An amount marked with a currency other than ``currency`` (default ``CNY``)
  gives ``(None, CURRENCY)``; :func:`money_currency` names the currency.
  :data:`CURRENCY_MARKS` lists the marks: ``¥ ￥ 元 圆 块 RMB CNY 人民币`` (and
  角/分 amounts) are CNY -- ``¥`` is always the yuan, write ``JPY``/``円``/``日元``
  for yen; ``$`` is USD (``HK$``, ``NT$``, ``S$`` … are their own).
  ``|yuan| >= 10**15`` -> OUT_OF_RANGE.  More than two decimals -> rounded
  half-even to the cent with ROUNDED, except when the discarded part is below
  1e-6 yuan (float noise such as ``0.30000000000000004``), which is rounded
  silently.  The same tolerance is applied to text and numbers.

Numbers -- :func:`parse_number` returns a float::

    12   -3.5   1,234.5   1e-3   １２   1.2万   3亿   2千   12%  (-> 0.12)   12 %
    3.5w   1.5k   2千万   一万五   三千二百   一点五万     <- same multipliers as money

  Currency marks are not numbers (``¥5`` is UNREADABLE in a number column).

Scores -- :func:`parse_score`: ``3``, ``3.0``, ``'３'``, ``' 4 '``, ``'4分'``.

Dates -- :func:`parse_date` / :func:`parse_datetime`::

    2026-11-26   2026/11/26   2026.11.26   2026-9-1   20261126
    2026年11月26日   2026年9月1日   2026年9月1号   (also 號)
    26/11/2026   11/26/2026   26.11.2026   26-11-2026   <- day/month first
    optional time after a space or "T" (no separator needed after 日/号):
      10:30   10:30:15   10:30:15.250   10时30分   10时30分15秒   10点
    Excel serial numbers (1900 system, epoch 1899-12-30; 1904 system,
    epoch 1904-01-01); date / datetime cell values.

  In the day/month-first forms, if one part is > 12 the order is clear; if
  both are <= 12 and differ, ``dayfirst`` decides and the issue is AMBIGUOUS.
  Impossible dates and words -> UNREADABLE.  Dates (from any source) outside
  the years 1950..2200 -> OUT_OF_RANGE.

Enumerations -- :func:`make_enum_parser` matches words through
:func:`norm_word` (clean_text, casefold, spaces/underscores/hyphens removed).

Text -- :func:`parse_text` / :func:`parse_id` never report an issue.

The ``format_*`` functions are the inverses used for display and for the
round-trip property tests; unlike the parsers they raise ``ValueError`` /
``TypeError`` for a bad argument or an unknown style.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Callable

__all__ = [
    "UNREADABLE", "AMBIGUOUS", "ROUNDED", "OUT_OF_RANGE", "UNKNOWN_WORD", "CURRENCY",
    "ISSUES", "DEFAULT_CURRENCY", "CURRENCY_MARKS", "MONEY_STYLES", "NUMBER_STYLES", "DATE_STYLES", "DATETIME_STYLES",
    "MAX_CENTS", "DATE_MIN_YEAR", "DATE_MAX_YEAR",
    "clean_text", "norm_word",
    "parse_money", "money_currency", "format_money",
    "parse_number", "format_number",
    "parse_score",
    "parse_date", "format_date",
    "parse_datetime", "format_datetime",
    "make_enum_parser",
    "parse_text", "parse_id",
]

# --------------------------------------------------------------------------
# Issues and limits
# --------------------------------------------------------------------------

UNREADABLE = "unreadable"
AMBIGUOUS = "ambiguous"
ROUNDED = "rounded"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_WORD = "unknown_word"
CURRENCY = "currency"  # an amount in another currency than the configured one
ISSUES = frozenset({UNREADABLE, AMBIGUOUS, ROUNDED, OUT_OF_RANGE, UNKNOWN_WORD, CURRENCY})

#: The currency amounts are kept in unless configured otherwise (setting general.currency).
DEFAULT_CURRENCY = "CNY"

#: How people mark the currency of an amount, by ISO 4217 code; matched before or after the
#: number, Latin letters in any case.  ``¥`` is the yuan here (the yen is ``JPY``, ``円``, ``日元``)
#: and a bare ``$`` the US dollar.  An amount with no mark is in the configured currency.
CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "CNY": ("¥", "RMB", "CNY", "人民币", "元", "圆", "块", "块钱", "CN¥", "RMB¥"),
    "USD": ("$", "US$", "USD", "美元", "美金"),
    "HKD": ("HK$", "HKD", "港币", "港元", "港幣"),
    "MOP": ("MOP$", "MOP", "澳门元", "澳门币", "澳門幣"),
    "TWD": ("NT$", "TWD", "新台币", "新台幣", "台币"),
    "EUR": ("€", "EUR", "欧元", "歐元"),
    "GBP": ("£", "GBP", "英镑", "英鎊"),
    "JPY": ("JP¥", "JPY", "日元", "日圆", "円"),
    "KRW": ("₩", "KRW", "韩元", "韓元"),
    "SGD": ("S$", "SGD", "新加坡元", "新币"),
    "AUD": ("A$", "AU$", "AUD", "澳元", "澳币"),
    "CAD": ("C$", "CA$", "CAD", "加元", "加币"),
    "CHF": ("CHF", "瑞士法郎"),
    "THB": ("฿", "THB", "泰铢"),
    "INR": ("₹", "INR", "卢比"),
    "RUB": ("₽", "RUB", "卢布"),
}

#: Money magnitudes from 10**15 yuan upwards are OUT_OF_RANGE.
MAX_YUAN = 10**15
#: Largest magnitude parse_money can return (format_money round-trips up to it).
MAX_CENTS = MAX_YUAN * 100 - 1
#: Dates outside these years (inclusive) are OUT_OF_RANGE.
DATE_MIN_YEAR = 1950
DATE_MAX_YEAR = 2200

MONEY_STYLES = ("plain", "yuan", "suffix", "rmb", "paren", "wan", "fullwidth")
NUMBER_STYLES = ("plain", "percent", "thousands")
DATE_STYLES = ("iso", "slash", "dot", "zh", "serial", "serial1904", "compact")
DATETIME_STYLES = ("iso", "zh", "serial", "serial1904")

_NOISE_CENTS = Decimal("1e-4")  # 1e-6 yuan: below this, rounding is silent
_MAX_TEXT = 256                  # longer cleaned text is never a number/date
_MAX_INT_BITS = 4000             # ints bigger than this are out of any range

# Exact arithmetic: inputs are at most _MAX_TEXT digits, so this precision
# never rounds an intermediate result.
_CTX = Context(prec=1000, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999)
_ONE = Decimal(1)
_MAX_YUAN_D = Decimal(MAX_YUAN)

_MULTIPLIER_EXP = {"千": 3, "万": 4, "亿": 8, "百万": 6, "千万": 7, "k": 3, "K": 3, "w": 4, "W": 4}
_MULT = r"(?P<mult>百万|千万|[千万亿kKwW])"

_EPOCH_1900 = _dt.date(1899, 12, 30)
_EPOCH_1904 = _dt.date(1904, 1, 1)

# --------------------------------------------------------------------------
# Text cleaning
# --------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_NUMERIC_FIXES = str.maketrans({"\u2212": "-", "\uffe5": "¥"})  # minus sign, ￥
_WORD_JUNK = dict.fromkeys(map(ord, " _-"))
_TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


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


def _clean_cell(raw: Any) -> Any:
    """None for a blank cell, cleaned text for a string, anything else as is."""
    if isinstance(raw, str):
        return clean_text(raw) or None
    return raw


def _numeric_text(s: str) -> str | None:
    """Cleaned text prepared for the number grammars; None if hopelessly long."""
    s = s.translate(_NUMERIC_FIXES)
    return s if len(s) <= _MAX_TEXT else None


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

_AMOUNT_RE = re.compile(_NUM + r"\ ?" + _MULT + "?", re.ASCII)

# The everyday forms in one regex, tried first (¥1,234.50  1,234.50元  RMB 500  1.2万  -500):
# twice as fast as the general split above, and most typed amounts look like this.
_MONEY_FAST_RE = re.compile(
    r"(?P<sign1>[-+])?\ ?(?P<cur1>¥|RMB|CNY|人民币)?\ ?(?P<sign2>[-+])?\ ?"
    + _NUM + r"\ ?" + _MULT + r"?\ ?(?P<cur2>元|RMB|CNY)?",
    re.ASCII | re.IGNORECASE,
)

# Estimates are never amounts, whatever else the text says.
_APPROX_RE = re.compile(r"约|左右|多|余|餘|大概|大约|大約|上下|将近|approx|about|around|circa|~|≈",
                        re.IGNORECASE)

_NUMBER_RE = re.compile(
    r"(?P<sign>[-+])?\ ?" + _NUM + r"\ ?" + _MULT + r"?\ ?(?P<pct>%)?",
    re.ASCII,
)
_SIGNED_RE = re.compile(r"(?P<sign>[-+])?\ ?(?P<body>.+)", re.DOTALL)

# Chinese numerals.  cn2an does the reading; these sets only decide which text is handed to it.
_CN_DIGITS = frozenset("零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖两幺貳陸兩")
_CN_UNITS = frozenset("十拾百佰千仟万亿萬億廿")
_CN_NUMERAL = _CN_DIGITS | _CN_UNITS
_CN_MULT_EXP = {"千": 3, "万": 4, "亿": 8}
_YUAN = "元圆块圓塊"
_DIGIT = "[0-9" + "".join(sorted(_CN_DIGITS)) + "]"
_SUBUNITS_RE = re.compile(rf"(?:零?(?P<jiao>{_DIGIT})[角毛])?(?:零?(?P<fen>{_DIGIT})分)?")
_SPOKEN_JIAO_RE = re.compile(_DIGIT)     # 三块五 = 3.50

_SCORE_RE = re.compile(r"[-+]?\d+(?:\.\d+)?(?:\ ?分)?", re.ASCII)


def _literal(m: re.Match) -> Decimal:
    """Exact value of the unsigned number in a _NUM match, multiplier applied."""
    text = m["num"].replace(",", "") + (m["exp"] or "")
    value = Decimal(text)
    mult = m["mult"]
    if mult:
        value = _CTX.scaleb(value, _MULTIPLIER_EXP[mult])
    return value


def _scale_decimal(scale: Any) -> Decimal:
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


def _number_decimal(raw: Any) -> Decimal | str:
    """Exact Decimal of a numeric (non-text) cell value, or an issue string."""
    if isinstance(raw, bool):
        return UNREADABLE
    if isinstance(raw, int):
        if raw.bit_length() > _MAX_INT_BITS:
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


def _cn_number(t: str) -> Decimal | None:
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
        value = _CTX.scaleb(Decimal(f"{whole}.{frac}"), exp)
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
        return _literal(m)
    return _cn_number(t)


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
    value = _literal(m) if m.re is _MONEY_FAST_RE else _amount(m["body"])
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
    raw = _clean_cell(raw)
    if not isinstance(raw, str):
        return None
    s = _numeric_text(raw)
    try:
        read = _money_text(s) if s is not None else None
    except Exception:  # pragma: no cover - defensive
        return None
    return read[1] if read else None


def _parse_money(raw: Any, scale: Decimal,
                 currency: str = DEFAULT_CURRENCY) -> tuple[int | None, str | None]:
    if isinstance(raw, str):
        s = _numeric_text(raw)
        read = _money_text(s) if s is not None else None
        if read is None:
            return None, UNREADABLE
        yuan, mark = read
        if mark is not None and mark != currency:
            return None, CURRENCY
    else:
        yuan = _number_decimal(raw)
        if isinstance(yuan, str):
            return None, yuan
    if scale != _ONE:
        yuan = _CTX.multiply(yuan, scale)
    if abs(yuan) >= _MAX_YUAN_D:
        return None, OUT_OF_RANGE
    exact = _CTX.scaleb(yuan, 2)
    cents_dec = exact.to_integral_value(ROUND_HALF_EVEN, _CTX)
    cents = int(cents_dec)
    if abs(cents) > MAX_CENTS:  # 999999999999999.999 rounds up to 10**15
        return None, OUT_OF_RANGE
    issue = None
    if exact != cents_dec and abs(exact - cents_dec) >= _NOISE_CENTS:
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
    scale_d = _ONE if scale == 1 and not isinstance(scale, bool) else _scale_decimal(scale)
    raw = _clean_cell(raw)
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
        wan = _CTX.scaleb(Decimal(cents), -6).normalize(_CTX)
        return f"{wan:f}万"
    if style == "fullwidth":
        return (sign + plain).translate(_TO_FULLWIDTH)
    raise ValueError(f"unknown money style {style!r}; expected one of {MONEY_STYLES}")


def _parse_number(raw: Any, scale: Decimal | None) -> tuple[float | None, str | None]:
    if isinstance(raw, str):
        s = _numeric_text(raw)
        m = _NUMBER_RE.fullmatch(s) if s is not None else None
        if m is not None:
            value = _literal(m)
            if m["sign"] == "-":
                value = -value
            if m["pct"]:
                value = _CTX.scaleb(value, -2)
        else:
            cn = _SIGNED_RE.fullmatch(s) if s is not None else None
            value = _cn_number(cn["body"]) if cn is not None else None
            if value is None or (cn["sign"] and value < 0):
                return None, UNREADABLE
            if cn["sign"] == "-":
                value = -value
    elif isinstance(raw, float) and scale is None:
        return (raw, None) if math.isfinite(raw) else (None, UNREADABLE)
    else:
        value = _number_decimal(raw)
        if isinstance(value, str):
            return None, value
    if scale is not None:
        value = _CTX.multiply(value, scale)
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
    scale_d = None if scale == 1 and not isinstance(scale, bool) else _scale_decimal(scale)
    raw = _clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _parse_number(raw, scale_d)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE


def _fixed_or_sci(d: Decimal, grouping: bool = False) -> str:
    """Fixed-point text for everyday magnitudes, scientific otherwise."""
    if d and not -7 <= d.adjusted() < 21:
        return str(d.normalize(_CTX))  # e.g. "1E+300", read back by _NUM
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
        pct = _CTX.scaleb(d, 2)
        return ("0" if not pct else _fixed_or_sci(pct.normalize(_CTX))) + "%"
    if style == "thousands":
        return _fixed_or_sci(d, grouping=True)
    raise ValueError(f"unknown number style {style!r}; expected one of {NUMBER_STYLES}")


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------


def _parse_score(raw: Any, lo: int, hi: int) -> tuple[int | None, str | None]:
    if isinstance(raw, str):
        s = _numeric_text(raw)
        if s is None or not _SCORE_RE.fullmatch(s):
            return None, UNREADABLE
        value: Decimal | str = Decimal(s.rstrip("分 "))
    else:
        value = _number_decimal(raw)
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
    raw = _clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _parse_score(raw, lo, hi)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE


# --------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------

_DATE_FORMS = (
    # (regex matched at the start, day/month-first?, may the time follow directly?)
    (re.compile(r"(?P<y>\d{4})\ ?年\ ?(?P<m>\d{1,2})\ ?月\ ?(?P<d>\d{1,2})\ ?[日号號]", re.ASCII),
     False, True),
    (re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})", re.ASCII),
     False, False),
    (re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})", re.ASCII),
     True, False),
    (re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", re.ASCII),
     False, False),
)

_TIME_RE = re.compile(
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,6}))?)?"
    r"|(?P<zH>\d{1,2})\ ?[时時点點](?:\ ?(?P<zM>\d{1,2})\ ?分(?:\ ?(?P<zS>\d{1,2})\ ?秒)?)?",
    re.ASCII,
)

_SERIAL_BOUNDS = {
    epoch: ((_dt.date(DATE_MIN_YEAR, 1, 1) - epoch).days,
            (_dt.date(DATE_MAX_YEAR, 12, 31) - epoch).days)
    for epoch in (_EPOCH_1900, _EPOCH_1904)
}


def _in_range(d: _dt.date) -> bool:
    return DATE_MIN_YEAR <= d.year <= DATE_MAX_YEAR


def _parse_time(rest: str) -> _dt.time | None:
    m = _TIME_RE.fullmatch(rest)
    if m is None:
        return None
    if m["H"] is not None:
        frac = m["F"]
        parts = (m["H"], m["M"], m["S"] or 0, int(frac.ljust(6, "0")) if frac else 0)
    else:
        parts = (m["zH"], m["zM"] or 0, m["zS"] or 0, 0)
    try:
        return _dt.time(*map(int, parts))
    except ValueError:  # 25:00, 10:61 ...
        return None


def _datetime_text(s: str, dayfirst: bool) -> tuple[_dt.datetime | None, str | None]:
    """Parse cleaned date(+time) text."""
    if len(s) > _MAX_TEXT:
        return None, UNREADABLE
    for regex, day_month_first, time_glued in _DATE_FORMS:
        m = regex.match(s)
        if m is None:
            continue
        issue = None
        if day_month_first:
            a, b = int(m["a"]), int(m["b"])
            if a > 12 and b > 12:
                return None, UNREADABLE
            if a > 12 or (b <= 12 and dayfirst):
                day, month = a, b
            else:
                month, day = a, b
            if a <= 12 and b <= 12 and a != b:
                issue = AMBIGUOUS
        else:
            month, day = int(m["m"]), int(m["d"])
        rest = s[m.end():]
        time = _dt.time()
        if rest:
            if rest[0] in " T":
                rest = rest[1:]
            elif not time_glued:
                return None, UNREADABLE
            parsed_time = _parse_time(rest)
            if parsed_time is None:
                return None, UNREADABLE
            time = parsed_time
        try:
            result = _dt.datetime.combine(_dt.date(int(m["y"]), month, day), time)
        except ValueError:
            return None, UNREADABLE
        return result, issue
    return None, UNREADABLE


def _serial_datetime(x: float, date1904: bool, keep_time: bool):
    if not math.isfinite(x):
        return None, UNREADABLE
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    low, high = _SERIAL_BOUNDS[epoch]
    days = math.floor(x)
    if not low <= days <= high:
        return None, OUT_OF_RANGE
    base = _dt.datetime.combine(epoch, _dt.time())
    if not keep_time:
        return base + _dt.timedelta(days=days), None
    seconds = round((x - days) * 86400)
    return base + _dt.timedelta(days=days, seconds=seconds), None


def _to_datetime(raw: Any, dayfirst: bool, date1904: bool,
                 keep_time: bool) -> tuple[_dt.datetime | None, str | None]:
    if isinstance(raw, _dt.datetime):
        result, issue = raw, None
    elif isinstance(raw, _dt.date):
        result, issue = _dt.datetime.combine(raw, _dt.time()), None
    elif isinstance(raw, str):
        result, issue = _datetime_text(raw, dayfirst)
    elif isinstance(raw, bool):
        return None, UNREADABLE
    elif isinstance(raw, (int, float, Decimal)):
        if isinstance(raw, int) and raw.bit_length() > 64:
            return None, OUT_OF_RANGE
        if isinstance(raw, Decimal) and not raw.is_finite():
            return None, UNREADABLE
        result, issue = _serial_datetime(float(raw), date1904, keep_time)
    else:
        return None, UNREADABLE
    if result is None:
        return None, issue
    if not _in_range(result):
        return None, OUT_OF_RANGE
    return result, issue


def parse_date(raw: Any, *, dayfirst: bool = False,
               date1904: bool = False) -> tuple[_dt.date | None, str | None]:
    """Parse a date cell (text, Excel serial, or date/datetime value).

    Any time part is validated and then dropped; a serial's fraction is
    ignored.  ``dayfirst`` settles ``03/04/2026``-style text (issue AMBIGUOUS);
    ``date1904`` selects the workbook's 1904 date system for serials.
    """
    raw = _clean_cell(raw)
    if raw is None:
        return None, None
    try:
        result, issue = _to_datetime(raw, dayfirst, date1904, keep_time=False)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE
    return (result.date() if result is not None else None), issue


def parse_datetime(raw: Any, *, dayfirst: bool = False,
                   date1904: bool = False) -> tuple[_dt.datetime | None, str | None]:
    """Like :func:`parse_date` but keeps the time of day.

    Date-only input gives midnight; a serial's fraction becomes a time rounded
    to the second; text keeps up to microseconds; datetime values pass through
    unchanged (including any tzinfo).
    """
    raw = _clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _to_datetime(raw, dayfirst, date1904, keep_time=True)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE


def _serial(dt: _dt.datetime, style: str) -> float:
    epoch = _EPOCH_1904 if style == "serial1904" else _EPOCH_1900
    delta = dt - _dt.datetime.combine(epoch, _dt.time(), tzinfo=dt.tzinfo)
    return delta.days + delta.seconds / 86400


def format_date(d: _dt.date, style: str = "iso") -> str | float:
    """Format a date: ``iso`` 2026-11-26, ``slash`` 2026/11/26, ``dot``
    2026.11.26, ``zh`` 2026年11月26日, ``compact`` 20261126, ``serial`` /
    ``serial1904`` an Excel serial number (float) in that date system.
    A datetime is formatted by its date."""
    if isinstance(d, _dt.datetime):
        d = d.date()
    if not isinstance(d, _dt.date):
        raise TypeError("d must be a date")
    if style == "iso":
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if style == "slash":
        return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"
    if style == "dot":
        return f"{d.year:04d}.{d.month:02d}.{d.day:02d}"
    if style == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "compact":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if style in ("serial", "serial1904"):
        return _serial(_dt.datetime.combine(d, _dt.time()), style)
    raise ValueError(f"unknown date style {style!r}; expected one of {DATE_STYLES}")


def format_datetime(dt: _dt.datetime, style: str = "iso") -> str | float:
    """Format a datetime at second resolution (microseconds are dropped):
    ``iso`` 2026-11-26T10:30:15, ``zh`` 2026年11月26日 10时30分15秒,
    ``serial`` / ``serial1904`` an Excel serial (float).  A date is midnight."""
    if not isinstance(dt, _dt.datetime):
        if not isinstance(dt, _dt.date):
            raise TypeError("dt must be a datetime")
        dt = _dt.datetime.combine(dt, _dt.time())
    dt = dt.replace(microsecond=0)
    if style == "iso":
        return f"{format_date(dt, 'iso')}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if style == "zh":
        return f"{format_date(dt, 'zh')} {dt.hour}时{dt.minute}分{dt.second}秒"
    if style in ("serial", "serial1904"):
        return _serial(dt, style)
    raise ValueError(f"unknown datetime style {style!r}; expected one of {DATETIME_STYLES}")


# --------------------------------------------------------------------------
# Words, text and identifiers
# --------------------------------------------------------------------------


def make_enum_parser(words: dict[str, str],
                     default: str | None = None) -> Callable[[Any], tuple[str | None, str | None]]:
    """Build ``parse(raw) -> (canonical | None, issue)`` for a fixed vocabulary.

    ``words`` maps accepted words (any language) to canonical codes; matching
    uses :func:`norm_word`, so ``Not Started``, ``not_started``,
    ``NOT-STARTED`` are the same word.  Unknown words give
    ``(default, UNKNOWN_WORD)``.  Non-text cells are matched by their
    :func:`parse_text` form (``1.0`` -> ``"1"``, ``True`` -> ``"TRUE"``).
    Raises ValueError if two words normalise alike but map to different codes.
    """
    table: dict[str, str] = {}
    for word, code in words.items():
        key = norm_word(word)
        if table.get(key, code) != code:
            raise ValueError(f"words {word!r} collides with another word mapped to "
                             f"{table[key]!r} (both normalise to {key!r})")
        table[key] = code

    def parse(raw: Any) -> tuple[str | None, str | None]:
        text, _ = parse_text(raw)
        if text is None:
            return None, None
        try:
            code = table.get(norm_word(text))
        except Exception:  # pragma: no cover - defensive
            code = None
        if code is None:
            return default, UNKNOWN_WORD
        return code, None

    parse.words = dict(table)  # type: ignore[attr-defined]  # for introspection
    return parse


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
