"""The recognise stage on grids held in memory: which tab is which table, where its header row is,
and the workbook-level findings (NO_TABLES, TAB_MISSING, TAB_DUPLICATE, HEADER_NOT_FOUND,
COLUMN_MISSING, COLUMN_ABSENT, COLUMN_REPEATED)."""
from __future__ import annotations

from decimal import Decimal

from conftest import raw_book
from campaignwatch.contract import TABLES
from campaignwatch.read.recognise import recognise

REQUIRED = sorted(t.key for t in TABLES if not t.optional)
EXPENSES = [["Expense ID", "Campaign ID", "Date", "Amount"], ["E1", "C1", "2026-11-01", 10]]


def codes(found, code):
    return [(f.table, f.tab, f.row, f.column, f.cell, f.value) for f in found.findings if f.code == code]


def test_a_tab_is_recognised_by_its_name_in_either_language_and_its_header_below_a_title():
    found = recognise(raw_book({
        "费用记录 Expenses": [["费用明细（2026年9月）"], [], ["费用编号", "活动编号", "发生日期", "金额(万元)"]],
        "活动": [["活动编号", "开始日期", "结束日期", "状态"]],
    }))
    exp = found.tables["expenses"]
    assert (exp.tab, exp.header_row0) == ("费用记录 Expenses", 2)
    assert {k: c.col0 for k, c in exp.columns.items()} == {"expense_id": 0, "campaign_id": 1, "date": 2, "amount": 3}
    assert exp.columns["amount"].scale == Decimal(10000)           # 万元: every amount × 10,000
    assert found.tables["campaigns"].header_row0 == 0
    assert found.language == "zh-CN"                                # the headers are written in Chinese
    assert recognise(raw_book({"Expenses": EXPENSES})).language == "en"


def test_a_tab_with_another_name_is_recognised_by_its_headers():
    found = recognise(raw_book({"Sheet1": EXPENSES}))
    assert found.tables["expenses"].tab == "Sheet1"


def test_columns_in_any_order_and_extra_columns_are_fine():
    found = recognise(raw_book({"Expenses": [["Notes of ours", "Amount", "Date", "Expense ID", "Campaign ID"]]}))
    cols = found.tables["expenses"].columns
    assert [cols[k].col0 for k in ("amount", "date", "expense_id", "campaign_id")] == [1, 2, 3, 4]
    assert codes(found, "COLUMN_MISSING") == []


def test_a_workbook_with_no_table_is_no_tables_and_nothing_else():
    found = recognise(raw_book({"Sheet1": [["a", "b"], [1, 2]], "Notes": [["hello"]]}))
    assert found.tables == {}
    assert [f.code for f in found.findings] == ["NO_TABLES"]


def test_each_missing_required_tab_is_reported_once_and_optional_ones_never():
    found = recognise(raw_book({"Expenses": EXPENSES}))
    missing = sorted(f.table for f in found.findings if f.code == "TAB_MISSING")
    assert missing == [k for k in REQUIRED if k != "expenses"]
    assert "people" not in missing and "responses" not in missing
    f = next(f for f in found.findings if f.code == "TAB_MISSING" and f.table == "campaigns")
    assert "Campaigns" in f.message("en") and "活动" in f.message("zh-CN")


def test_a_second_tab_of_the_same_table_is_a_duplicate_and_only_the_first_is_read():
    found = recognise(raw_book({"Expenses": EXPENSES, "费用记录": EXPENSES}))
    assert codes(found, "TAB_DUPLICATE") == [("expenses", "费用记录", None, "", "", "")]
    assert found.tables["expenses"].tab == "Expenses"
    dup = next(f for f in found.findings if f.code == "TAB_DUPLICATE")
    assert dup.params["first_tab"] == "Expenses"


def test_a_named_tab_without_a_header_row_is_header_not_found_and_not_missing():
    found = recognise(raw_book({"Expenses": [["just some notes"], ["nothing", "here"]]}))
    assert codes(found, "HEADER_NOT_FOUND") == [("expenses", "Expenses", None, "", "", "")]
    assert "expenses" not in found.tables
    assert "expenses" not in [f.table for f in found.findings if f.code == "TAB_MISSING"]


def test_a_needed_column_missing_is_an_error_with_the_count_of_rows_left_out():
    found = recognise(raw_book({"Expenses": [["Expense ID", "Campaign ID", "Date"],
                                             ["E1", "C1", "2026-11-01"], [], ["E2", "C1", "2026-11-02"]]}))
    (f,) = [f for f in found.findings if f.code == "COLUMN_MISSING"]
    assert (f.table, f.tab, f.row, f.column, f.severity) == ("expenses", "Expenses", 1, "Amount / 金额", "error")
    assert f.params["count"] == 2


def test_an_optional_column_missing_is_a_warning_and_an_enum_with_a_default_is_not_needed():
    found = recognise(raw_book({"Expenses": EXPENSES}))
    absent = {f.column for f in found.findings if f.code == "COLUMN_ABSENT" and f.table == "expenses"}
    assert "Receipt no. / 票据号" in absent and "Stage / 阶段" in absent
    assert all(f.severity == "warning" for f in found.findings if f.code == "COLUMN_ABSENT")
    campaigns = recognise(raw_book({"Campaigns": [["Campaign ID", "Start date", "End date"]]}))
    # status is needed but has a default (draft): absent, not missing
    assert [f.column for f in campaigns.findings if f.code == "COLUMN_MISSING"] == []
    assert "Status / 状态" in [f.column for f in campaigns.findings if f.code == "COLUMN_ABSENT"]


def test_a_repeated_column_is_reported_at_the_second_and_the_first_is_read():
    found = recognise(raw_book({"Expenses": [["Expense ID", "Campaign ID", "Date", "Amount", "金额"]]}))
    assert codes(found, "COLUMN_REPEATED") == [("expenses", "Expenses", 1, "金额", "Expenses!E1", "金额")]
    f = next(f for f in found.findings if f.code == "COLUMN_REPEATED")
    assert f.params["first_cell"] == "Expenses!D1"
    assert found.tables["expenses"].columns["amount"].col0 == 3
