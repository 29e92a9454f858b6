"""Tests for campaignwatch.values: table-driven examples and hypothesis properties."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings, strategies as st

import campaignwatch.values as V
from campaignwatch.values import (
    AMBIGUOUS,
    DATE_STYLES,
    DATETIME_STYLES,
    ISSUES,
    MAX_CENTS,
    MONEY_STYLES,
    NUMBER_STYLES,
    OUT_OF_RANGE,
    ROUNDED,
    UNKNOWN_WORD,
    UNREADABLE,
    clean_text,
    format_date,
    format_datetime,
    format_money,
    format_number,
    make_enum_parser,
    norm_word,
    parse_date,
    parse_datetime,
    parse_id,
    parse_money,
    parse_number,
    parse_score,
    parse_text,
)

D = dt.date
DT = dt.datetime

STATUS_WORDS = {
    "not started": "not_started", "未开始": "not_started",
    "in progress": "in_progress", "进行中": "in_progress",
    "done": "done", "已完成": "done", "完成": "done",
}
parse_status = make_enum_parser(STATUS_WORDS)
parse_status_default = make_enum_parser(STATUS_WORDS, default="other")

PROPS = settings(max_examples=300, deadline=None)

# --------------------------------------------------------------------------
# Blank cells and cleaning
# --------------------------------------------------------------------------

BLANKS = [None, "", " ", "\t\n", "\u3000", "\xa0", " \u3000\xa0 ", "\u200b"]

ALL_PARSERS = [
    parse_money,
    lambda raw: parse_money(raw, scale=10000),
    parse_number,
    lambda raw: parse_number(raw, scale=0.01),
    parse_score,
    parse_date,
    lambda raw: parse_date(raw, dayfirst=True, date1904=True),
    parse_datetime,
    lambda raw: parse_datetime(raw, dayfirst=True, date1904=True),
    parse_status,
    parse_status_default,
    parse_text,
    parse_id,
]
PARSER_IDS = [
    "money", "money_wan", "number", "number_scaled", "score", "date", "date_dayfirst_1904",
    "datetime", "datetime_dayfirst_1904", "enum", "enum_default", "text", "id",
]


@pytest.mark.parametrize("parse", ALL_PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize("raw", BLANKS)
def test_blank_is_none_none(parse, raw):
    assert parse(raw) == (None, None)


@pytest.mark.parametrize("raw, expected", [
    ("  a   b  ", "a b"),
    ("１２００", "1200"),
    ("￥１，２３４．５０", "¥1,234.50"),
    ("（备注）：ok", "(备注):ok"),
    ("a\u3000\u3000b\xa0c", "a b c"),
    ("a\u200bb", "ab"),
    ("ＡＢＣ", "ABC"),
    ("", ""),
    (None, ""),
])
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_fullwidth_yen_becomes_halfwidth_yen():
    assert clean_text("\uffe5") == "\u00a5"


@pytest.mark.parametrize("raw, expected", [
    ("Not Started", "notstarted"),
    ("not_started", "notstarted"),
    ("NOT-STARTED", "notstarted"),
    ("  ＮＯＴ　ＳＴＡＲＴＥＤ ", "notstarted"),
    ("未开始", "未开始"),
    ("Straße", "strasse"),
])
def test_norm_word(raw, expected):
    assert norm_word(raw) == expected


# --------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (1234, (123400, None)),
    (-5, (-500, None)),
    (1234.5, (123450, None)),
    (0.1 + 0.2, (30, None)),               # float noise: silent
    (1.005, (100, ROUNDED)),               # repr is 1.005 -> half-even
    (Decimal("12.34"), (1234, None)),
    ("1234.5", (123450, None)),
    ("1234", (123400, None)),
    ("0", (0, None)),
    ("-0", (0, None)),
    (".5", (50, None)),
    ("5.", (500, None)),
    ("+500", (50000, None)),
    ("¥1,234.50", (123450, None)),
    ("￥1,234.50", (123450, None)),
    ("¥ 1,234.50", (123450, None)),
    ("1,234.50元", (123450, None)),
    ("RMB 500", (50000, None)),
    ("rmb500", (50000, None)),
    ("CNY500", (50000, None)),
    ("500 RMB", (50000, None)),
    ("人民币500元", (50000, None)),
    ("人民币 500 元", (50000, None)),
    ("500 元", (50000, None)),
    ("-500", (-50000, None)),
    ("\u2212500", (-50000, None)),         # U+2212 MINUS SIGN
    ("¥-500", (-50000, None)),
    ("-¥500", (-50000, None)),
    ("RMB -500", (-50000, None)),
    ("(500)", (-50000, None)),
    ("(¥500)", (-50000, None)),
    ("(1,234.50元)", (-123450, None)),
    ("（５００）", (-50000, None)),
    ("１２００", (120000, None)),
    ("￥１，２３４．５０", (123450, None)),
    ("1.2万", (1200000, None)),
    ("1.2万元", (1200000, None)),
    ("1.2 万元", (1200000, None)),
    ("3亿", (30000000000, None)),
    ("2.5千", (250000, None)),
    ("1e3", (100000, None)),
    ("1E-2", (1, None)),
    ("1,234,567.8", (123456780, None)),
    ("  1234.50  ", (123450, None)),
    ("12.345", (1234, ROUNDED)),
    ("12.355", (1236, ROUNDED)),
    ("-12.345", (-1234, ROUNDED)),
    ("0.001", (0, ROUNDED)),
    ("0.30000000000000004", (30, None)),   # below 1e-6 yuan: silent
    ("12.3400000001", (1234, None)),
    ("12.340001", (1234, ROUNDED)),
    ("999999999999999.99", (MAX_CENTS, None)),
    ("-999999999999999.99", (-MAX_CENTS, None)),
])
def test_parse_money_accepts(raw, expected):
    result = parse_money(raw)
    assert result == expected
    assert type(result[0]) is int


@pytest.mark.parametrize("raw, expected", [
    ("abc", (None, UNREADABLE)),
    ("12/3", (None, UNREADABLE)),
    ("1.2.3", (None, UNREADABLE)),
    ("1,23", (None, UNREADABLE)),
    ("1,2345", (None, UNREADABLE)),
    (",123", (None, UNREADABLE)),
    ("1234,567", (None, UNREADABLE)),
    ("1 234", (None, UNREADABLE)),
    ("--5", (None, UNREADABLE)),
    ("-¥-5", (None, UNREADABLE)),
    ("(-5)", (None, UNREADABLE)),
    ("(5", (None, UNREADABLE)),
    ("()", (None, UNREADABLE)),
    ("-", (None, UNREADABLE)),
    ("¥", (None, UNREADABLE)),
    ("元", (None, UNREADABLE)),
    ("万", (None, UNREADABLE)),
    (".", (None, UNREADABLE)),
    ("1e", (None, UNREADABLE)),
    ("2026-11-26", (None, UNREADABLE)),
    ("12%", (None, UNREADABLE)),
    ("nan", (None, UNREADABLE)),
    ("inf", (None, UNREADABLE)),
    ("١٢٣", (None, UNREADABLE)),           # Arabic-Indic digits are not accepted
    ("1万万", (None, UNREADABLE)),
    (True, (None, UNREADABLE)),
    (False, (None, UNREADABLE)),
    (float("nan"), (None, UNREADABLE)),
    (float("inf"), (None, UNREADABLE)),
    (float("-inf"), (None, UNREADABLE)),
    (Decimal("NaN"), (None, UNREADABLE)),
    (Decimal("sNaN"), (None, UNREADABLE)),
    (D(2026, 11, 26), (None, UNREADABLE)),
    (DT(2026, 11, 26, 10, 30), (None, UNREADABLE)),
    (dt.time(10, 30), (None, UNREADABLE)),
    (dt.timedelta(days=1), (None, UNREADABLE)),
    (object(), (None, UNREADABLE)),
    ([1], (None, UNREADABLE)),
    ("1e15", (None, OUT_OF_RANGE)),
    ("-1e15", (None, OUT_OF_RANGE)),
    ("1000000000000000", (None, OUT_OF_RANGE)),
    ("999999999999999.995", (None, OUT_OF_RANGE)),   # rounds up to 10**15
    ("1e9999", (None, OUT_OF_RANGE)),
    (10**15, (None, OUT_OF_RANGE)),
    (10**1000, (None, OUT_OF_RANGE)),
    (1e300, (None, OUT_OF_RANGE)),
    ("1" * 300, (None, UNREADABLE)),       # longer than any real amount
])
def test_parse_money_rejects(raw, expected):
    assert parse_money(raw) == expected


@pytest.mark.parametrize("raw, scale, expected", [
    ("1.23456", 10000, (1234560, None)),
    (1.5, 10000, (1500000, None)),
    ("1.2万", 10000, (12000000000, None)),
    ("12.5", 1000, (1250000, None)),
    ("12.5", 0.01, (12, ROUNDED)),          # 0.125 yuan = 12.5 cents -> half-even 12
    ("1.23456789", 10000, (1234568, ROUNDED)),
    (0.1 + 0.2, 10000, (300000, None)),
    ("100000000001", 10000, (None, OUT_OF_RANGE)),
    ("", 10000, (None, None)),
])
def test_parse_money_scale(raw, scale, expected):
    assert parse_money(raw, scale=scale) == expected


@pytest.mark.parametrize("scale", ["10000", None, True, float("nan"), Decimal("Infinity")])
def test_parse_money_bad_scale_is_a_programming_error(scale):
    with pytest.raises((TypeError, ValueError)):
        parse_money("1", scale=scale)


@pytest.mark.parametrize("cents, style, expected", [
    (-123450, "plain", "-1234.50"),
    (123450, "plain", "1234.50"),
    (5, "plain", "0.05"),
    (0, "plain", "0.00"),
    (123450, "yuan", "¥1,234.50"),
    (-123450, "yuan", "-¥1,234.50"),
    (123450, "suffix", "1,234.50元"),
    (123450, "rmb", "RMB 1234.50"),
    (-123450, "rmb", "RMB -1234.50"),
    (-123450, "paren", "(1,234.50)"),
    (123450, "paren", "1,234.50"),
    (123456, "wan", "0.123456万"),
    (123450, "wan", "0.12345万"),
    (1200000, "wan", "1.2万"),
    (100000000, "wan", "100万"),
    (0, "wan", "0万"),
    (-1, "wan", "-0.000001万"),
    (-123450, "fullwidth", "-１２３４.５０"),
])
def test_format_money(cents, style, expected):
    assert format_money(cents, style) == expected


def test_format_money_rejects_bad_arguments():
    with pytest.raises(ValueError):
        format_money(1, "nope")
    with pytest.raises(TypeError):
        format_money(1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (12, (12.0, None)),
    (2.5, (2.5, None)),
    (Decimal("0.1"), (0.1, None)),
    ("12", (12.0, None)),
    ("-3.5", (-3.5, None)),
    ("+3.5", (3.5, None)),
    ("1,234.5", (1234.5, None)),
    ("1e-3", (0.001, None)),
    ("１２", (12.0, None)),
    ("1.2万", (12000.0, None)),
    ("3亿", (300000000.0, None)),
    ("2千", (2000.0, None)),
    ("12%", (0.12, None)),
    ("12 %", (0.12, None)),
    ("１２％", (0.12, None)),
    ("-7.5%", (-0.075, None)),
    ("0.1", (0.1, None)),
    ("1e400", (None, OUT_OF_RANGE)),
    (10**400, (None, OUT_OF_RANGE)),
    ("abc", (None, UNREADABLE)),
    ("¥5", (None, UNREADABLE)),
    ("1,23", (None, UNREADABLE)),
    ("12%%", (None, UNREADABLE)),
    ("nan", (None, UNREADABLE)),
    ("2026-11-26", (None, UNREADABLE)),
    (True, (None, UNREADABLE)),
    (float("nan"), (None, UNREADABLE)),
    (float("inf"), (None, UNREADABLE)),
    (D(2026, 1, 1), (None, UNREADABLE)),
    (dt.timedelta(hours=1), (None, UNREADABLE)),
])
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw, scale, expected", [
    ("12", 10000, (120000.0, None)),
    (1.5, 100, (150.0, None)),
    ("50%", 2, (1.0, None)),
    ("1", 0.1, (0.1, None)),
])
def test_parse_number_scale(raw, scale, expected):
    assert parse_number(raw, scale=scale) == expected


@pytest.mark.parametrize("x, style, expected", [
    (1234567.5, "plain", "1234567.5"),
    (0.1, "plain", "0.1"),
    (1e16, "plain", "1e+16"),
    (0.125, "percent", "12.5%"),
    (0.12, "percent", "12%"),
    (1.0, "percent", "100%"),
    (0.0, "percent", "0%"),
    (-0.075, "percent", "-7.5%"),
    (1234567.5, "thousands", "1,234,567.5"),
    (-1234.0, "thousands", "-1,234.0"),
    (0.001, "thousands", "0.001"),
    (1e300, "thousands", "1E+300"),
])
def test_format_number(x, style, expected):
    assert format_number(x, style) == expected


def test_format_number_rejects_bad_arguments():
    with pytest.raises(ValueError):
        format_number(1.0, "nope")
    with pytest.raises(ValueError):
        format_number(float("nan"))


# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (3, (3, None)),
    (3.0, (3, None)),
    (Decimal("4"), (4, None)),
    ("3", (3, None)),
    ("3.0", (3, None)),
    ("３", (3, None)),
    (" 4 ", (4, None)),
    ("\u30005\u3000", (5, None)),
    ("4分", (4, None)),
    ("+1", (1, None)),
    (2.5, (None, UNREADABLE)),
    ("2.5", (None, UNREADABLE)),
    ("three", (None, UNREADABLE)),
    ("3/5", (None, UNREADABLE)),
    ("3 4", (None, UNREADABLE)),
    (True, (None, UNREADABLE)),
    (float("nan"), (None, UNREADABLE)),
    (D(2026, 1, 1), (None, UNREADABLE)),
    (0, (None, OUT_OF_RANGE)),
    (6, (None, OUT_OF_RANGE)),
    ("-1", (None, OUT_OF_RANGE)),
    ("10", (None, OUT_OF_RANGE)),
    (1e300, (None, OUT_OF_RANGE)),
])
def test_parse_score(raw, expected):
    result = parse_score(raw)
    assert result == expected
    assert result[0] is None or type(result[0]) is int


def test_parse_score_custom_range():
    assert parse_score("0", lo=0, hi=10) == (0, None)
    assert parse_score("10", lo=0, hi=10) == (10, None)
    assert parse_score("11", lo=0, hi=10) == (None, OUT_OF_RANGE)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("2026-11-26", D(2026, 11, 26)),
    ("2026/11/26", D(2026, 11, 26)),
    ("2026.11.26", D(2026, 11, 26)),
    ("2026-9-1", D(2026, 9, 1)),
    ("2026年11月26日", D(2026, 11, 26)),
    ("2026年9月1日", D(2026, 9, 1)),
    ("2026年9月1号", D(2026, 9, 1)),
    ("2026 年 9 月 1 日", D(2026, 9, 1)),
    ("2026-11-26 10:30", D(2026, 11, 26)),
    ("2026-11-26T10:30:00", D(2026, 11, 26)),
    ("2026年11月26日 10:30", D(2026, 11, 26)),
    ("2026年11月26日10时30分", D(2026, 11, 26)),
    ("20261126", D(2026, 11, 26)),
    ("２０２６－１１－２６", D(2026, 11, 26)),
    ("２０２６年１１月２６日", D(2026, 11, 26)),
    ("26/11/2026", D(2026, 11, 26)),
    ("11/26/2026", D(2026, 11, 26)),
    ("26.11.2026", D(2026, 11, 26)),
    ("26-11-2026", D(2026, 11, 26)),
    ("04/04/2026", D(2026, 4, 4)),           # equal parts: no ambiguity
    ("26/11/2026 10:30", D(2026, 11, 26)),
    ("2024-02-29", D(2024, 2, 29)),
    (D(2026, 11, 26), D(2026, 11, 26)),
    (DT(2026, 11, 26, 23, 59), D(2026, 11, 26)),
    (46352, D(2026, 11, 26)),
    (46352.99, D(2026, 11, 26)),             # fraction ignored
    (Decimal("46352"), D(2026, 11, 26)),
])
@pytest.mark.parametrize("dayfirst", [False, True])
def test_parse_date_clear(raw, expected, dayfirst):
    assert parse_date(raw, dayfirst=dayfirst) == (expected, None)


@pytest.mark.parametrize("raw, dayfirst, expected", [
    ("03/04/2026", False, D(2026, 3, 4)),
    ("03/04/2026", True, D(2026, 4, 3)),
    ("3.4.2026", True, D(2026, 4, 3)),
    ("12-1-2026", False, D(2026, 12, 1)),
    ("12-1-2026", True, D(2026, 1, 12)),
])
def test_parse_date_ambiguous(raw, dayfirst, expected):
    assert parse_date(raw, dayfirst=dayfirst) == (expected, AMBIGUOUS)


def test_serial_1904_system():
    assert parse_date(46352 - 1462, date1904=True) == (D(2026, 11, 26), None)
    assert parse_date(0.0, date1904=True) == (None, OUT_OF_RANGE)


@pytest.mark.parametrize("raw, expected", [
    ("2026-02-30", (None, UNREADABLE)),
    ("2026-13-01", (None, UNREADABLE)),
    ("2025-02-29", (None, UNREADABLE)),
    ("13/13/2026", (None, UNREADABLE)),
    ("31/02/2026", (None, UNREADABLE)),
    ("2026-11/26", (None, UNREADABLE)),
    ("2026-11-26 25:00", (None, UNREADABLE)),
    ("2026-11-26 10:61", (None, UNREADABLE)),
    ("2026-11-2610:30", (None, UNREADABLE)),
    ("2026-11-26 10:30 PM", (None, UNREADABLE)),
    ("2026年11月", (None, UNREADABLE)),
    ("11月26日", (None, UNREADABLE)),
    ("26/11/26", (None, UNREADABLE)),
    ("2026112", (None, UNREADABLE)),
    ("202611260", (None, UNREADABLE)),
    ("10:30", (None, UNREADABLE)),
    ("yesterday", (None, UNREADABLE)),
    ("明天", (None, UNREADABLE)),
    ("today", (None, UNREADABLE)),
    ("46352", (None, UNREADABLE)),             # serial as text is not guessed
    (True, (None, UNREADABLE)),
    (float("nan"), (None, UNREADABLE)),
    (float("inf"), (None, UNREADABLE)),
    (Decimal("sNaN"), (None, UNREADABLE)),
    (Decimal("Infinity"), (None, UNREADABLE)),
    (dt.time(10, 30), (None, UNREADABLE)),
    (dt.timedelta(days=3), (None, UNREADABLE)),
    (object(), (None, UNREADABLE)),
    ("1900-01-01", (None, OUT_OF_RANGE)),
    ("2201-01-01", (None, OUT_OF_RANGE)),
    (D(1900, 1, 1), (None, OUT_OF_RANGE)),
    (1, (None, OUT_OF_RANGE)),
    (-5, (None, OUT_OF_RANGE)),
    (1e300, (None, OUT_OF_RANGE)),
    (10**100, (None, OUT_OF_RANGE)),
])
def test_parse_date_rejects(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("d, style, expected", [
    (D(2026, 9, 1), "iso", "2026-09-01"),
    (D(2026, 9, 1), "slash", "2026/09/01"),
    (D(2026, 9, 1), "dot", "2026.09.01"),
    (D(2026, 9, 1), "zh", "2026年9月1日"),
    (D(2026, 9, 1), "compact", "20260901"),
    (D(2026, 11, 26), "serial", 46352.0),
    (D(2026, 11, 26), "serial1904", 46352.0 - 1462),
    (DT(2026, 11, 26, 10, 0), "iso", "2026-11-26"),
])
def test_format_date(d, style, expected):
    assert format_date(d, style) == expected


# --------------------------------------------------------------------------
# Datetimes
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("2026-11-26 10:30", DT(2026, 11, 26, 10, 30)),
    ("2026-11-26T10:30:00", DT(2026, 11, 26, 10, 30)),
    ("2026/11/26 10:30:15", DT(2026, 11, 26, 10, 30, 15)),
    ("2026-11-26 7:05", DT(2026, 11, 26, 7, 5)),
    ("2026-11-26 10:30:15.25", DT(2026, 11, 26, 10, 30, 15, 250000)),
    ("2026年11月26日 10:30", DT(2026, 11, 26, 10, 30)),
    ("2026年11月26日10时30分", DT(2026, 11, 26, 10, 30)),
    ("2026年11月26日 10时30分15秒", DT(2026, 11, 26, 10, 30, 15)),
    ("2026年11月26日10点", DT(2026, 11, 26, 10)),
    ("2026年11月26日 10点30分", DT(2026, 11, 26, 10, 30)),
    ("２０２６－１１－２６　１０：３０", DT(2026, 11, 26, 10, 30)),
    ("26/11/2026 10:30", DT(2026, 11, 26, 10, 30)),
    ("2026-11-26", DT(2026, 11, 26)),
    ("20261126", DT(2026, 11, 26)),
    (D(2026, 11, 26), DT(2026, 11, 26)),
    (DT(2026, 11, 26, 10, 30, 15, 123), DT(2026, 11, 26, 10, 30, 15, 123)),
    (46352, DT(2026, 11, 26)),
    (46352.5, DT(2026, 11, 26, 12)),
    (46352 + (10 * 3600 + 30 * 60 + 15) / 86400, DT(2026, 11, 26, 10, 30, 15)),
    (46352.9999999, DT(2026, 11, 27)),       # rounded to the second
])
def test_parse_datetime(raw, expected):
    assert parse_datetime(raw) == (expected, None)


@pytest.mark.parametrize("raw, expected", [
    ("03/04/2026 10:00", (DT(2026, 3, 4, 10), AMBIGUOUS)),
    ("2026-11-26 24:00", (None, UNREADABLE)),
    ("2026年11月26日 10时61分", (None, UNREADABLE)),
    ("2026-11-26 10", (None, UNREADABLE)),
    (dt.time(10, 30), (None, UNREADABLE)),
    ("2200-12-31 23:59:59", (DT(2200, 12, 31, 23, 59, 59), None)),
    ("1949-12-31 23:59:59", (None, OUT_OF_RANGE)),
])
def test_parse_datetime_issues(raw, expected):
    assert parse_datetime(raw) == expected


@pytest.mark.parametrize("value, style, expected", [
    (DT(2026, 11, 26, 10, 30, 15, 999), "iso", "2026-11-26T10:30:15"),
    (DT(2026, 11, 26, 9, 5), "zh", "2026年11月26日 9时5分0秒"),
    (D(2026, 11, 26), "iso", "2026-11-26T00:00:00"),
    (DT(2026, 11, 26, 12), "serial", 46352.5),
])
def test_format_datetime(value, style, expected):
    assert format_datetime(value, style) == expected


def test_format_date_rejects_bad_arguments():
    with pytest.raises(ValueError):
        format_date(D(2026, 1, 1), "nope")
    with pytest.raises(ValueError):
        format_datetime(DT(2026, 1, 1), "nope")
    with pytest.raises(TypeError):
        format_date("2026-01-01")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Not Started", ("not_started", None)),
    ("not_started", ("not_started", None)),
    ("NOT-STARTED", ("not_started", None)),
    ("notstarted", ("not_started", None)),
    ("未开始", ("not_started", None)),
    (" 未 开 始 ", ("not_started", None)),
    ("ＤＯＮＥ", ("done", None)),
    ("完成", ("done", None)),
    ("In Progress", ("in_progress", None)),
    ("maybe", (None, UNKNOWN_WORD)),
    (3, (None, UNKNOWN_WORD)),
    (True, (None, UNKNOWN_WORD)),
    ("\u3000", (None, None)),
])
def test_enum_parser(raw, expected):
    assert parse_status(raw) == expected


def test_enum_parser_default_and_non_text_cells():
    assert parse_status_default("maybe") == ("other", UNKNOWN_WORD)
    assert parse_status_default(None) == (None, None)
    yes_no = make_enum_parser({"是": "yes", "true": "yes", "1": "yes", "否": "no", "0": "no"})
    assert yes_no(True) == ("yes", None)
    assert yes_no(1.0) == ("yes", None)
    assert yes_no(0) == ("no", None)
    assert yes_no("否") == ("no", None)


def test_enum_parser_rejects_conflicting_words():
    with pytest.raises(ValueError):
        make_enum_parser({"Done": "done", "done": "finished"})
    make_enum_parser({"Done": "done", "DONE": "done"})  # same code: fine


# --------------------------------------------------------------------------
# Text and ids
# --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("  Spring  Sale  ", "Spring Sale"),
    ("ＡＢＣ－１２３", "ABC-123"),
    ("abc", "abc"),
    (1001.0, "1001"),
    (-3.0, "-3"),
    (0.0, "0"),
    (2.5, "2.5"),
    (13800138000.0, "13800138000"),
    (1e20, "1e+20"),
    (1001, "1001"),
    (True, "TRUE"),
    (False, "FALSE"),
    (D(2026, 11, 26), "2026-11-26"),
    (DT(2026, 11, 26, 10, 30), "2026-11-26T10:30:00"),
    (dt.time(10, 30), "10:30:00"),
    (float("nan"), "nan"),
])
@pytest.mark.parametrize("parse", [parse_text, parse_id], ids=["text", "id"])
def test_parse_text(parse, raw, expected):
    assert parse(raw) == (expected, None)


def test_int_too_long_for_str():
    huge = 10**5000  # str() refuses ints this long (sys.int_max_str_digits)
    assert parse_money(huge) == (None, OUT_OF_RANGE)
    assert parse_number(huge) == (None, OUT_OF_RANGE)
    assert parse_score(huge) == (None, OUT_OF_RANGE)
    assert parse_date(huge) == (None, OUT_OF_RANGE)
    assert parse_text(huge) == (None, None)
    assert parse_status(huge) == (None, None)


# --------------------------------------------------------------------------
# Property: no parser ever raises, and results are well-formed
# --------------------------------------------------------------------------

# Text built from the characters the grammars care about, to reach deep paths.
GRAMMAR_TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789０１２.,，-+−eE ¥￥元万亿千()（）%％/:年月日号时点分秒TRMBCNY人民币\u3000\xa0")),
    max_size=24,
)
ANY_CELL = st.one_of(
    st.none(),
    st.text(),
    GRAMMAR_TEXT,
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.just(object()),
    st.lists(st.integers(), max_size=2),
)


def _check_result(result, value_types):
    assert isinstance(result, tuple) and len(result) == 2
    value, issue = result
    assert issue is None or issue in ISSUES
    if value is not None:
        assert isinstance(value, value_types)
        assert not isinstance(value, bool)
    if issue in (UNREADABLE, OUT_OF_RANGE):
        assert value is None


@pytest.mark.slow
@PROPS
@given(raw=ANY_CELL)
def test_money_never_raises(raw):
    for scale in (1, 10000):
        _check_result(parse_money(raw, scale=scale), int)
        value, _ = parse_money(raw, scale=scale)
        assert value is None or abs(value) <= MAX_CENTS


@PROPS
@given(raw=ANY_CELL)
def test_number_never_raises(raw):
    for scale in (1, 0.01):
        value, _ = result = parse_number(raw, scale=scale)
        _check_result(result, float)
        assert value is None or math.isfinite(value)


@PROPS
@given(raw=ANY_CELL)
def test_score_never_raises(raw):
    value, _ = result = parse_score(raw)
    _check_result(result, int)
    assert value is None or 1 <= value <= 5


@PROPS
@given(raw=ANY_CELL, dayfirst=st.booleans(), date1904=st.booleans())
def test_date_never_raises(raw, dayfirst, date1904):
    value, _ = result = parse_date(raw, dayfirst=dayfirst, date1904=date1904)
    _check_result(result, dt.date)
    assert value is None or (type(value) is dt.date and 1950 <= value.year <= 2200)


@PROPS
@given(raw=ANY_CELL, dayfirst=st.booleans(), date1904=st.booleans())
def test_datetime_never_raises(raw, dayfirst, date1904):
    value, _ = result = parse_datetime(raw, dayfirst=dayfirst, date1904=date1904)
    _check_result(result, dt.datetime)
    assert value is None or 1950 <= value.year <= 2200


@PROPS
@given(raw=ANY_CELL)
def test_enum_never_raises(raw):
    for parse in (parse_status, parse_status_default):
        value, issue = result = parse(raw)
        _check_result(result, str)
        assert issue in (None, UNKNOWN_WORD)


@PROPS
@given(raw=ANY_CELL)
def test_text_never_raises(raw):
    for parse in (parse_text, parse_id):
        value, issue = result = parse(raw)
        _check_result(result, str)
        assert issue is None
        assert value is None or (value and value == clean_text(value))


@PROPS
@given(raw=ANY_CELL, dayfirst=st.booleans(), date1904=st.booleans())
def test_private_parsers_do_not_need_the_safety_net(raw, dayfirst, date1904):
    # The public parsers wrap their work in ``except Exception``; make sure the
    # real logic never actually gets there (that would hide bugs).
    raw = V.text.clean_cell(raw)
    if raw is None:
        return
    for scale in (Decimal(1), Decimal(10000), Decimal("0.01")):
        V.money._parse_money(raw, scale)
    V.numbers._parse_number(raw, None)
    V.numbers._parse_number(raw, Decimal("0.01"))
    V.numbers._parse_score(raw, 1, 5)
    for keep_time in (False, True):
        V.dates._to_datetime(raw, dayfirst, date1904, keep_time)


@PROPS
@given(s=st.text())
def test_clean_text_is_idempotent(s):
    cleaned = clean_text(s)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned


# --------------------------------------------------------------------------
# Property: parse(format(x)) == x
# --------------------------------------------------------------------------

CENTS = st.one_of(
    st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS),
    st.integers(min_value=-10**6, max_value=10**6),
)


@PROPS
@given(cents=CENTS)
def test_money_round_trip(cents):
    for style in MONEY_STYLES:
        assert parse_money(format_money(cents, style)) == (cents, None), style


@PROPS
@given(value=st.decimals(min_value=-10**12, max_value=10**12, places=4,
                         allow_nan=False, allow_infinity=False))
def test_money_text_matches_decimal_oracle(value):
    exact_cents = value * 100
    expected = int(exact_cents.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    issue = None if exact_cents == exact_cents.to_integral_value() else ROUNDED
    assert parse_money(str(value)) == (expected, issue)
    assert parse_money(f"{value:,f}元") == (expected, issue)


@PROPS
@given(x=st.floats(allow_nan=False, allow_infinity=False))
def test_number_round_trip(x):
    # Every style is read back exactly (tolerance 0), including "percent":
    # it is built from the exact decimal digits of repr(x).
    for style in NUMBER_STYLES:
        assert parse_number(format_number(x, style)) == (x, None), style


@PROPS
@given(x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_number_float_cell_with_scale(x):
    value, issue = parse_number(x, scale=100)
    assert issue is None
    assert math.isclose(value, x * 100, rel_tol=1e-15, abs_tol=0) or abs(x) < 1e-290


@PROPS
@given(lo=st.integers(-100, 100), width=st.integers(0, 20), data=st.data())
def test_score_round_trip(lo, width, data):
    hi = lo + width
    n = data.draw(st.integers(lo, hi))
    for raw in (n, float(n), str(n), f" {n} ", f"{n}.0", str(n).translate(
            str.maketrans("0123456789-", "０１２３４５６７８９－"))):
        assert parse_score(raw, lo=lo, hi=hi) == (n, None), raw
    assert parse_score(hi + 1, lo=lo, hi=hi) == (None, OUT_OF_RANGE)
    assert parse_score(lo - 1, lo=lo, hi=hi) == (None, OUT_OF_RANGE)


DATES = st.dates(min_value=D(1950, 1, 1), max_value=D(2200, 12, 31))


@PROPS
@given(d=DATES, dayfirst=st.booleans())
def test_date_round_trip(d, dayfirst):
    for style in DATE_STYLES:
        raw = format_date(d, style)
        assert parse_date(raw, dayfirst=dayfirst, date1904=(style == "serial1904")) == (d, None), style


@PROPS
@given(d=DATES, dayfirst=st.booleans())
def test_day_month_first_forms(d, dayfirst):
    dmy = f"{d.day:02d}/{d.month:02d}/{d.year}"
    mdy = f"{d.month}.{d.day}.{d.year}"
    ambiguous = d.day <= 12 and d.month <= 12 and d.day != d.month
    expected = (d, AMBIGUOUS if ambiguous else None)
    if dayfirst or d.day > 12:
        assert parse_date(dmy, dayfirst=dayfirst) == expected
    if not dayfirst or d.month > 12 or d.day > 12:
        assert parse_date(mdy, dayfirst=dayfirst) == expected


@PROPS
@given(value=st.datetimes(min_value=DT(1950, 1, 1), max_value=DT(2200, 12, 31, 23, 59, 59)))
def test_datetime_round_trip(value):
    value = value.replace(microsecond=0)
    for style in DATETIME_STYLES:
        raw = format_datetime(value, style)
        assert parse_datetime(raw, date1904=(style == "serial1904")) == (value, None), style


@PROPS
@given(value=st.datetimes(min_value=DT(1950, 1, 1), max_value=DT(2200, 12, 31, 23, 59, 59)))
def test_datetime_text_keeps_microseconds(value):
    assert parse_datetime(value.isoformat()) == (value, None)
    assert parse_datetime(value.isoformat(sep=" ")) == (value, None)


WORD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


def _variants(word: str) -> list[str]:
    return [word, word.upper(), word.lower(), f"  {word} ", word.replace(" ", "_"),
            word.replace(" ", "-"), word.replace(" ", "\u3000")]


@PROPS
@given(words=st.dictionaries(WORD, st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6))
def test_enum_round_trip(words):
    try:
        parse = make_enum_parser(words)
    except ValueError:  # two keys normalise alike with different codes
        return
    for word, code in words.items():
        if not norm_word(word) or not clean_text(word):
            continue  # a key that cleans to blank cannot be typed into a cell
        for variant in _variants(word):
            if norm_word(variant) == norm_word(word):  # upper/lower can change length
                assert parse(variant) == (code, None), variant


@PROPS
@given(raw=ANY_CELL)
def test_text_round_trip(raw):
    text, _ = parse_text(raw)
    assert parse_text(text) == (text, None)
    assert parse_id(raw) == parse_text(raw)


# --------------------------------------------------------------------------
# Money and numbers as people type them (issue 9, item 5)
# --------------------------------------------------------------------------

from campaignwatch.values import CURRENCY, money_currency  # noqa: E402

import cn2an  # noqa: E402


@pytest.mark.parametrize("raw, cents", [
    ("3.5w", 3_500_000), ("3.5W", 3_500_000), ("3.5 w", 3_500_000), ("3.5w元", 3_500_000),
    ("1.5k", 150_000), ("1.5K", 150_000), ("¥1.5k", 150_000), ("-1.5k", -150_000),
    ("2.5千", 250_000), ("2千万", 2_000_000_000), ("3百万", 300_000_000),
    ("一万五", 1_500_000), ("一万五千", 1_500_000), ("三千二百", 320_000), ("两万", 2_000_000),
    ("两千三", 230_000), ("十一万三", 11_300_000), ("一点五万", 1_500_000), ("负五百", -50_000),
    ("一千二百点五", 120_050), ("零", 0), ("两", 200), ("萬", None),
    ("壹万伍仟元整", 1_500_000), ("壹萬伍仟圓整", 1_500_000), ("贰佰元伍角", 20_050),
    ("壹元零伍分", 105), ("伍角", 50), ("伍分", 5), ("伍角伍分", 55), ("零元整", 0),
    ("叁拾元整", 3_000), ("壹佰圆整", 10_000), ("贰拾元", 2_000), ("五千元", 500_000),
    ("三块五", 350), ("三块五毛", 350), ("三块", 300), ("500块", 50_000), ("500块钱", 50_000),
    ("12元5角", 1_250), ("人民币壹万伍仟元整", 1_500_000), ("(壹万元)", -1_000_000),
    ("负叁元整", -300),
])
def test_parse_money_reads_what_people_type(raw, cents):
    expected = (None, UNREADABLE) if cents is None else (cents, None)
    result = parse_money(raw)
    assert result == expected
    assert result[0] is None or type(result[0]) is int


@pytest.mark.parametrize("raw", [
    # estimates are never rounded into a figure
    "约5000", "约 5000 元", "5000左右", "3万多", "5000余元", "大概5000", "大约5000", "approx 5000",
    "Approx. 5000", "~5000", "～5000", "≈5000", "约五千", "五千多元", "一万余元",
    # multipliers once, Chinese numerals that form a number
    "3.5ww", "1.5kk", "1.5 k k", "k", "w", "1.5m", "一万五千五百五十五万", "一二三", "二两", "零零五",
    "一亿亿", "万五", "点五", "一点", "一点五点五",
    # money units in their places
    "元整", "壹万整", "角", "元5角", "1.5元5角", "三块五毛钱毛", "五角五角", "伍分伍角", "-负五百",
    "负负五", "$500元", "USD ¥500", "日元", "美元", "港币",
])
def test_parse_money_keeps_these_unreadable(raw):
    assert parse_money(raw) == (None, UNREADABLE)
    assert parse_money(raw, currency="USD") == (None, UNREADABLE)


@pytest.mark.parametrize("raw, currency, cents", [
    ("USD 500", "USD", 50_000), ("usd500", "USD", 50_000), ("$500", "USD", 50_000),
    ("US$500", "USD", 50_000), ("500美元", "USD", 50_000), ("500 美金", "USD", 50_000),
    ("HK$ 300", "HKD", 30_000), ("HKD300", "HKD", 30_000), ("300港币", "HKD", 30_000),
    ("300港元", "HKD", 30_000), ("€20", "EUR", 2_000), ("EUR 20", "EUR", 2_000),
    ("100欧元", "EUR", 10_000), ("£5", "GBP", 500), ("JPY 1000", "JPY", 100_000),
    ("1000日元", "JPY", 100_000), ("1000円", "JPY", 100_000), ("-$1.5k", "USD", -150_000),
    ("($500)", "USD", -50_000), ("五百美元", "USD", 50_000), ("S$ 80", "SGD", 8_000),
    ("NT$80", "TWD", 8_000), ("¥500", "CNY", 50_000), ("￥500", "CNY", 50_000),
    ("500元", "CNY", 50_000), ("RMB 500", "CNY", 50_000), ("CNY500", "CNY", 50_000),
    ("人民币500", "CNY", 50_000), ("500块", "CNY", 50_000), ("贰佰元伍角", "CNY", 20_050),
    ("伍角", "CNY", 50),
])
def test_another_currency_is_named_and_never_read(raw, currency, cents):
    assert money_currency(raw) == currency
    other = "CNY" if currency != "CNY" else "USD"
    assert parse_money(raw, currency=other) == (None, CURRENCY)
    assert parse_money(raw, currency=currency) == (cents, None)
    assert parse_money(raw, currency=currency.lower()) == (cents, None)


@pytest.mark.parametrize("raw", ["500", "3.5w", "一万五", 500, 500.5, "abc", "约$500", None])
def test_unmarked_amounts_have_no_currency(raw):
    assert money_currency(raw) is None
    assert parse_money(raw, currency="USD")[1] != CURRENCY


def test_configured_currency_decides_what_is_foreign():
    assert parse_money("$500") == (None, CURRENCY)               # default CNY
    assert parse_money("$500", currency="USD") == (50_000, None)
    assert parse_money("¥500", currency="USD") == (None, CURRENCY)
    assert parse_money("500", currency="USD") == (50_000, None)  # unmarked: the configured one
    assert parse_money("壹万伍仟元整", currency="USD") == (None, CURRENCY)


@pytest.mark.parametrize("raw, expected", [
    ("3.5w", 35_000.0), ("3.5W", 35_000.0), ("1.5k", 1_500.0), ("1.5K", 1_500.0),
    ("2.5千", 2_500.0), ("2千万", 20_000_000.0), ("一万五", 15_000.0), ("三千二百", 3_200.0),
    ("两万", 20_000.0), ("一点五", 1.5), ("一点五万", 15_000.0), ("-一万", -10_000.0), ("负三", -3.0),
    ("3.5ww", None), ("1.5kk", None), ("约5000", None), ("5000左右", None), ("¥5", None),
    ("500元", None), ("壹万伍仟元整", None), ("-负三", None), ("一二三", None), ("十二%", None),
])
def test_parse_number_takes_the_same_multipliers(raw, expected):
    assert parse_number(raw) == ((expected, None) if expected is not None else (None, UNREADABLE))


def test_cn2an_alone_would_truncate_and_accept_nonsense():
    # Why figures never go through cn2an's "smart" mode: it truncates and guesses.
    assert cn2an.cn2an("1.23456万", "smart") == 12345          # 12345.6 truncated
    assert cn2an.cn2an("12十", "smart") == 120
    assert parse_money("1.23456万") == (1_234_560, None)
    assert parse_money("12十") == (None, UNREADABLE)
    # and digit-by-digit readings are not amounts here
    assert cn2an.cn2an("二两", "normal") == 22
    assert parse_money("二两") == (None, UNREADABLE)


def _an2cn(value, mode):
    """cn2an.an2cn, and the text a person would write when it differs.

    an2cn drops the 零 between 亿 and a thousands digit when the 万 section is empty:
    600,007,738 comes out as 六亿七千七百三十八, which a reader may take for 6亿7千…万.
    That text must stay unreadable (never a wrong amount); with the 零 written it reads exactly.
    """
    text = cn2an.an2cn(value, mode)
    n = abs(int(Decimal(str(value))))
    skipped_zero = n >= 10**8 and (n // 10**4) % 10**4 == 0 and n % 10**4 >= 1000
    return text, (text.replace("亿", "亿零", 1) if skipped_zero else text)


YUAN = st.one_of(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**4),
    st.builds(lambda a, b: a * 10**8 + b, st.integers(1, 9999), st.integers(0, 9999)),  # 亿 with no 万
)


@PROPS
@given(n=YUAN, negative=st.booleans())
def test_chinese_numerals_round_trip(n, negative):
    n = -n if negative else n
    for mode in ("low", "up", "rmb") if n >= 0 else ("low", "up"):
        text, written = _an2cn(n, mode)
        assert parse_money(written) == (n * 100, None), (mode, written)
        if text != written:
            assert parse_money(text) == (None, UNREADABLE), (mode, text)
        if mode != "rmb":
            assert parse_number(written) == (float(n), None), (mode, written)
        else:
            assert money_currency(written) == "CNY"


@PROPS
@given(yuan=YUAN, cents=st.integers(min_value=0, max_value=99))
def test_chinese_amounts_with_cents_round_trip(yuan, cents):
    exact = yuan * 100 + cents
    for mode in ("low", "up", "rmb"):
        text, written = _an2cn(f"{yuan}.{cents:02d}", mode)
        assert parse_money(written) == (exact, None), (mode, written)
        if text != written:
            assert parse_money(text) == (None, UNREADABLE), (mode, text)


def test_an2cn_skipped_zero_is_not_guessed():
    assert cn2an.an2cn(600007738) == "六亿七千七百三十八"
    assert parse_money("六亿七千七百三十八") == (None, UNREADABLE)
    assert parse_money("六亿零七千七百三十八") == (60_000_773_800, None)
    assert parse_money("十万一千") == (10_100_000, None)    # within the 万 section: standard


@PROPS
@given(cents=st.integers(min_value=-10**14, max_value=10**14), unit=st.sampled_from(["w", "W", "k", "K"]))
def test_w_and_k_are_exact(cents, unit):
    exp = 4 if unit in "wW" else 3
    text = format(Decimal(cents).scaleb(-2 - exp), "f") + unit
    assert parse_money(text) == (cents, None), text


APPROVAL_ENUMS = ("campaign_status", "decision")


@pytest.mark.parametrize("enum", APPROVAL_ENUMS)
@pytest.mark.parametrize("word, code", [
    ("审批通过", "approved"), ("已通过", "approved"), ("通过", "approved"), ("批准", "approved"),
    ("同意", "approved"), ("已同意", "approved"), (" 同 意 ", "approved"),
    ("不同意", "rejected"), ("未通过", "rejected"), ("不通过", "rejected"), ("拒绝", "rejected"),
    ("退回", "rejected"), ("不 同意", "rejected"),
    ("同意吗", None), ("同意？", None), ("基本同意", None), ("不批准吗", None), ("通过了吗", None),
])
def test_approval_words_match_whole_cells_only(enum, word, code):
    from campaignwatch.contract import ENUMS
    e = ENUMS[enum]
    parse = make_enum_parser(e.accepted(), e.default)
    assert parse(word) == ((code, None) if code else (e.default, UNKNOWN_WORD))


@PROPS
@given(words=st.dictionaries(st.text(min_size=1, max_size=6), st.sampled_from(["a", "b"]), min_size=1,
                             max_size=6),
       affix=st.text(min_size=1, max_size=3), before=st.booleans())
def test_enum_parser_never_matches_part_of_a_cell(words, affix, before):
    try:
        parse = make_enum_parser(words)
    except ValueError:
        return                                  # colliding words: a programming error
    keys = {norm_word(w) for w in words}
    for word in words:
        cell = affix + word if before else word + affix
        if norm_word(cell) not in keys and norm_word(cell):
            assert parse(cell) == (None, UNKNOWN_WORD), cell


MONEY_TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789.,-+ ¥$€£元圆块角毛分整正负点零一二两三五九十百千万亿"
                                  "壹贰叁伍玖拾佰仟kKwWUSDHK美港币约多余左右~()")),
    max_size=16,
)


@PROPS
@given(raw=MONEY_TEXT)
def test_money_words_never_raise(raw):
    for currency in ("CNY", "USD"):
        result = parse_money(raw, currency=currency)
        _check_result(result, int)
        if result[1] == CURRENCY:
            assert result[0] is None and money_currency(raw) not in (None, currency)
    V.money._money_text(V.text.numeric_text(clean_text(raw)) or "")   # no safety net needed
    _check_result(parse_number(raw), float)
