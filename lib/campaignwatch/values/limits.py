"""The issue codes a parser returns (`UNREADABLE`, `AMBIGUOUS` …), the ranges it accepts
(`MAX_CENTS`, `DATE_MIN_YEAR` …), the currency marks and the display styles of the formatters.
"""
from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_EVEN, Context, Decimal




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


NOISE_CENTS = Decimal("1e-4")  # 1e-6 yuan: below this, rounding is silent


MAX_TEXT = 256                  # longer cleaned text is never a number/date


MAX_INT_BITS = 4000             # ints bigger than this are out of any range


# Exact arithmetic: inputs are at most MAX_TEXT digits, so this precision
# never rounds an intermediate result.
CTX = Context(prec=1000, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999)


ONE = Decimal(1)


MAX_YUAN_D = Decimal(MAX_YUAN)


MULTIPLIER_EXP = {"千": 3, "万": 4, "亿": 8, "百万": 6, "千万": 7, "k": 3, "K": 3, "w": 4, "W": 4}


MULT = r"(?P<mult>百万|千万|[千万亿kKwW])"


EPOCH_1900 = _dt.date(1899, 12, 30)


EPOCH_1904 = _dt.date(1904, 1, 1)
