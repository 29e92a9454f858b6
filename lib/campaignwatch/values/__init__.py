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

Layout
------
``limits.py`` issue codes, ranges, currency marks and styles; ``text.py`` cleaning, text
and identifiers; ``money.py``; ``numbers.py`` (numbers and scores); ``dates.py``;
``words.py`` (enumerations).  Every public name is importable from ``campaignwatch.values``.
May import: the standard library and cn2an only — nothing else of campaignwatch.
"""
from __future__ import annotations

from .dates import format_date, format_datetime, parse_date, parse_datetime
from .limits import (
    AMBIGUOUS, CURRENCY, CURRENCY_MARKS, DATE_MAX_YEAR, DATE_MIN_YEAR, DATE_STYLES, DATETIME_STYLES, DEFAULT_CURRENCY,
    ISSUES, MAX_CENTS, MONEY_STYLES, NUMBER_STYLES, OUT_OF_RANGE, ROUNDED, UNKNOWN_WORD, UNREADABLE,
)
from .money import format_money, money_currency, money_text, parse_money
from .numbers import format_number, parse_number, parse_score
from .text import clean_text, norm_word, parse_id, parse_text
from .words import make_enum_parser

__all__ = [
    "UNREADABLE", "AMBIGUOUS", "ROUNDED", "OUT_OF_RANGE", "UNKNOWN_WORD", "CURRENCY",
    "ISSUES", "DEFAULT_CURRENCY", "CURRENCY_MARKS", "MONEY_STYLES", "NUMBER_STYLES", "DATE_STYLES", "DATETIME_STYLES",
    "MAX_CENTS", "DATE_MIN_YEAR", "DATE_MAX_YEAR",
    "clean_text", "norm_word",
    "parse_money", "money_currency", "format_money", "money_text",
    "parse_number", "format_number",
    "parse_score",
    "parse_date", "format_date",
    "parse_datetime", "format_datetime",
    "make_enum_parser",
    "parse_text", "parse_id",
]
