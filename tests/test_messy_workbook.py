"""A messy Chinese workbook, saved by LibreOffice, gets errors on exactly the bad rows."""
from __future__ import annotations

from conftest import AS_OF, messy_sheets, needs_soffice, soffice_convert, write_xlsx
from campaignwatch.config import defaults
from campaignwatch.pipeline import check_source


# (code, tab, row, cell) of every error the messy workbook must produce — and no others.
EXPECTED_ERRORS = {
    ("VALUE_UNREADABLE", "费用记录 Expenses", 7, "'费用记录 Expenses'!E7"),
    ("FORMULA_ERROR", "费用记录 Expenses", 8, "'费用记录 Expenses'!E8"),
    ("UNKNOWN_CAMPAIGN", "费用记录 Expenses", 9, "'费用记录 Expenses'!B9"),
    ("DUPLICATE_ID", "费用记录 Expenses", 10, "'费用记录 Expenses'!A10"),
}


def _errors(result):
    return {(f.code, f.tab, f.row, f.cell) for f in result.findings if f.severity == "error"}


def _check(result):
    assert result.status == "ok", result.error
    assert result.language == "zh-CN"
    assert _errors(result) == EXPECTED_ERRORS
    exp = result.tables["expenses"]
    good = exp.ok.set_index("expense_id")
    assert list(good.index) == ["E1", "E2", "E3", "E7"]
    assert [int(v) for v in good["amount"]] == [250000, 1200000, 120000, 80000]   # cents
    assert str(good.loc["E1", "date"])[:10] == "2026-09-01"
    assert str(good.loc["E2", "date"])[:10] == "2026-09-30"
    assert result.excluded_rows["expenses"] == 4
    camp = result.tables["campaigns"].df.set_index("campaign_id")
    assert int(camp.loc["C1", "budget"]) == 5_000_000         # 5 万元 = 50,000.00 yuan
    assert int(camp.loc["C2", "budget"]) == 1_500_000         # 1.5 万元
    assert result.tables["budget_lines"].ok["planned_amount"].tolist() == [5_000_000, 1_500_000]
    unread = next(f for f in result.findings if f.code == "VALUE_UNREADABLE")
    assert (unread.column, unread.value) == ("金额(元)", "abc")
    formula = next(f for f in result.findings if f.code == "FORMULA_ERROR")
    assert formula.value == "#DIV/0!"


@needs_soffice
def test_messy_workbook_saved_by_libreoffice_errors_on_exactly_the_bad_rows(tmp_path):
    src = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    saved = soffice_convert(src, "xlsx", tmp_path / "lo")
    _check(check_source(saved, defaults(), AS_OF))


def test_messy_workbook_uncalculated_formula_is_an_error_not_a_blank(tmp_path):
    # openpyxl stores =1/0 without a calculated value: that cell must not read as blank or zero
    src = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    result = check_source(src, defaults(), AS_OF)
    got = _errors(result)
    assert ("FORMULA_NOT_CALCULATED", "费用记录 Expenses", 8, "'费用记录 Expenses'!E8") in got
    assert got - {("FORMULA_NOT_CALCULATED", "费用记录 Expenses", 8, "'费用记录 Expenses'!E8")} == \
        EXPECTED_ERRORS - {("FORMULA_ERROR", "费用记录 Expenses", 8, "'费用记录 Expenses'!E8")}


def test_missing_tabs_are_reported_once_each(tmp_path):
    result = check_source(write_xlsx(tmp_path / "m.xlsx", messy_sheets()), defaults(), AS_OF)
    missing = sorted(f.table for f in result.findings if f.code == "TAB_MISSING")
    assert missing == ["feedback", "incidents", "kpi_actuals", "kpi_targets", "overrun_requests",
                       "risks", "tasks"]
