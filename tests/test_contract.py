"""The contract and header matching (SPEC §2)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from campaignwatch.contract import ENUMS, TABLE_BY_KEY, TABLES
from campaignwatch.headers import match_column, match_tab, norm


def test_every_table_and_column_name_is_unambiguous():
    seen: dict[str, str] = {}
    for t in TABLES:
        for name in t.names():
            assert seen.setdefault(norm(name), t.key) == t.key, f"tab name {name!r} is claimed twice"
        cols: dict[str, str] = {}
        for c in t.columns:
            for name in c.names():
                assert cols.setdefault(norm(name), c.key) == c.key, f"{t.key}: header {name!r} twice"


def test_every_enumeration_word_maps_to_one_code():
    for e in ENUMS.values():
        words: dict[str, str] = {}
        for code, spellings in e.words.items():
            for w in (code, *spellings):
                assert words.setdefault(norm(w), code) == code, f"{e.name}: {w!r} is ambiguous"


@pytest.mark.parametrize("header,key,scale", [
    ("金额", "amount", 1), ("金额(元)", "amount", 1), ("金额（元）", "amount", 1),
    ("金额(万元)", "amount", 10000), ("金额 (千元)", "amount", 1000), ("Amount (CNY)", "amount", 1),
    ("AMOUNT", "amount", 1), ("Amount 金额", "amount", 1), ("金额/Amount", "amount", 1),
    (" expense_id ", "expense_id", 1), ("Expense-ID", "expense_id", 1), ("费用编号", "expense_id", 1),
    ("Receipt no.", "receipt_no", 1), ("发票号", "receipt_no", 1), ("Ｒｅｃｅｉｐｔ　ｎｏ", "receipt_no", 1),
    ("金额【万元】", "amount", 10000),
])
def test_expense_headers_match_with_units(header, key, scale):
    col, hm = match_column(TABLE_BY_KEY["expenses"], header)
    assert col.key == key
    assert hm.scale == Decimal(scale)


@pytest.mark.parametrize("header", ["金额合计", "备用列", "", None, 42, "amount due"])
def test_unrelated_headers_do_not_match(header):
    assert match_column(TABLE_BY_KEY["expenses"], header) is None


@pytest.mark.parametrize("tab,key", [
    ("Expenses", "expenses"), ("费用记录", "expenses"), ("Expenses 费用记录", "expenses"),
    ("KPI目标", "kpi_targets"), ("kpi targets", "kpi_targets"), ("KPI_actuals", "kpi_actuals"),
    ("超预算申请", "overrun_requests"), ("风险登记", "risks"), ("活动", "campaigns"),
])
def test_tab_names_in_either_language(tab, key):
    assert match_tab(TABLES, tab).key == key


def test_unknown_tab_name_matches_nothing():
    assert match_tab(TABLES, "Sheet1") is None
    assert match_tab(TABLES, "cw» Summary") is None
