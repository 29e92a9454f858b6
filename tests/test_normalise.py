"""The normalise stage on records held in memory: cells become typed columns (dates, integer cents,
numbers, canonical words), each cell that cannot be read gets one finding at its cell, rows a figure
cannot use are left out (`valid` False), and `Records.unread` says which cells were not understood."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from conftest import make_records, raw_book
from campaignwatch.read.recognise import recognise
from campaignwatch.stages.normalise import ReadOptions, normalise


def cells(findings, code=None):
    return [(f.code, f.row, f.cell, f.value) for f in findings
            if f.code != "COLUMN_ABSENT" and (code is None or f.code == code)]


def expense(eid, amount=10, date="2026-11-01", **more):
    return {"expense_id": eid, "campaign_id": "C1", "date": date, "amount": amount, **more}


# --------------------------------------------------------------------------- typed columns

def test_money_becomes_exact_integer_cents_whatever_way_it_was_typed():
    rec, findings = make_records("expenses", [expense("E1", "¥1,234.50"), expense("E2", 0.1),
                                              expense("E3", "1.2万"), expense("E4", "RMB 800"), expense("E5", 7)])
    assert rec.df["amount"].dtype == "Int64"
    assert rec.df["amount"].tolist() == [123450, 10, 1200000, 80000, 700]
    assert cells(findings) == []


def test_a_unit_in_the_header_scales_every_amount():
    rec, _ = make_records("expenses", [{"expense_id": "E1", "campaign_id": "C1", "date": "2026-11-01"}],
                          sheets={"Expenses": [["Expense ID", "Campaign ID", "Date", "Amount (万元)"],
                                               ["E1", "C1", "2026-11-01", 1.5]]})
    assert rec.df["amount"].tolist() == [1_500_000]


def test_dates_become_midnight_datetimes_and_words_their_code():
    rec, findings = make_records("expenses", [expense("E1", date="2026年9月1日", stage="已付款"),
                                              expense("E2", date=dt.date(2026, 9, 2), stage="committed"),
                                              expense("E3", date="2026.9.3")])
    assert rec.df["date"].dtype == "datetime64[s]"
    assert [str(d)[:10] for d in rec.df["date"]] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert rec.df["stage"].tolist() == ["actual", "committed", "actual"]      # blank: the default
    assert cells(findings) == []


def test_numbers_and_scores():
    rec, _ = make_records("risks", [{"risk_id": "R1", "campaign_id": "C1", "probability": 4, "impact": "5"},
                                    {"risk_id": "R2", "campaign_id": "C1", "probability": None, "impact": 1}])
    assert rec.df["probability"].tolist()[0] == 4.0 and np.isnan(rec.df["probability"].tolist()[1])
    assert rec.df["impact"].tolist() == [5.0, 1.0]


def test_blank_rows_are_skipped_and_sheet_rows_are_the_rows_people_see():
    rec, _ = make_records("expenses", [expense("E1"), {}, expense("E2")])
    assert rec.df["sheet_row"].tolist() == [2, 4]
    assert rec.df["expense_id"].tolist() == ["E1", "E2"]


def test_absent_columns_are_present_but_empty():
    rec, _ = make_records("expenses", [expense("E1")])
    assert "receipt_no" not in rec.present and rec.df["receipt_no"].isna().all()
    assert rec.df["line_id"].tolist() == [None]


# --------------------------------------------------------------------------- one finding per cell

def test_a_needed_cell_left_blank_is_value_missing_and_the_row_is_left_out():
    rec, findings = make_records("expenses", [expense("E1"), expense("E2", amount=None)])
    assert cells(findings) == [("VALUE_MISSING", 3, "Expenses!D3", "")]
    assert rec.df["valid"].tolist() == [True, False]
    assert rec.ok["expense_id"].tolist() == ["E1"]


def test_a_needed_cell_that_cannot_be_read_is_value_unreadable_and_unread():
    rec, findings = make_records("expenses", [expense("E1", "lots"), expense("E2")])
    assert cells(findings) == [("VALUE_UNREADABLE", 2, "Expenses!D2", "lots")]
    assert rec.df["valid"].tolist() == [False, True]
    assert pd.isna(rec.df["amount"].iat[0])
    assert rec.unread == {"amount": {0}}
    assert rec.unreadable("amount").tolist() == [True, False]
    assert rec.unreadable("date").tolist() == [False, False]


def test_an_amount_in_another_currency_is_currency_unsupported():
    rec, findings = make_records("expenses", [expense("E1", "USD 5"), expense("E2", "$5")], currency="CNY")
    got = [(f.code, f.row, f.value, f.params["currency"], f.params["configured"]) for f in findings
           if f.code == "CURRENCY_UNSUPPORTED"]
    assert got == [("CURRENCY_UNSUPPORTED", 2, "USD 5", "USD", "CNY"), ("CURRENCY_UNSUPPORTED", 3, "$5", "USD", "CNY")]
    assert rec.df["valid"].tolist() == [False, False]
    usd, findings = make_records("expenses", [expense("E1", "$5")], currency="USD")
    assert usd.df["amount"].tolist() == [500] and cells(findings) == []


def test_formula_errors_and_uncalculated_formulas_in_needed_cells_are_errors():
    book = raw_book({"Expenses": [["Expense ID", "Campaign ID", "Date", "Amount"],
                                  ["E1", "C1", "2026-11-01", ""], ["E2", "C1", "2026-11-01", ""],
                                  ["E3", "C1", "2026-11-01", 5]]})
    book.sheets[0].errors[(1, 3)] = "#DIV/0!"
    book.sheets[0].uncalculated.add((2, 3))
    raw = recognise(book).tables["expenses"]
    rec, findings = normalise(raw, ReadOptions())
    assert cells(findings) == [("FORMULA_ERROR", 2, "Expenses!D2", "#DIV/0!"),
                               ("FORMULA_NOT_CALCULATED", 3, "Expenses!D3", "")]
    assert rec.df["valid"].tolist() == [False, False, True]
    assert rec.unread == {"amount": {0, 1}}


def test_an_optional_cell_that_cannot_be_read_is_a_warning_and_read_as_blank():
    rec, findings = make_records("risks", [{"risk_id": "R1", "campaign_id": "C1", "probability": "very likely"}])
    assert cells(findings) == [("OPTIONAL_VALUE_UNREADABLE", 2, "Risks!C2", "very likely")]
    assert findings[-1].severity == "warning"
    assert rec.df["valid"].tolist() == [True] and np.isnan(rec.df["probability"].iat[0])
    assert rec.unread == {"probability": {0}}


def test_an_unknown_word_is_read_as_the_default_with_a_warning():
    rec, findings = make_records("expenses", [expense("E1", stage="half paid")])
    (f,) = [f for f in findings if f.code == "UNKNOWN_WORD"]
    assert (f.row, f.cell, f.value, f.params["default"]["en"]) == (2, "Expenses!E2", "half paid", "actual")
    assert rec.df["stage"].tolist() == ["actual"] and rec.df["valid"].tolist() == [True]
    assert rec.unread == {"stage": {0}}


def test_an_unknown_campaign_status_is_not_guessed():
    rec, findings = make_records("campaigns", [{"campaign_id": "C1", "start_date": "2026-11-01",
                                                "end_date": "2026-11-30", "status": "kind of approved"}])
    assert cells(findings) == [("UNKNOWN_STATUS", 2, "Campaigns!D2", "kind of approved")]
    assert rec.df["status"].tolist() == [None]            # not "draft": that would raise SPEND_BEFORE_APPROVAL
    assert rec.unread == {"status": {0}}


def test_an_ambiguous_date_is_read_month_first_unless_day_first_and_is_a_warning():
    rec, findings = make_records("expenses", [expense("E1", date="3/4/2026")])
    (f,) = cells(findings, "AMBIGUOUS_DATE")
    assert f == ("AMBIGUOUS_DATE", 2, "Expenses!C2", "3/4/2026")
    assert str(rec.df["date"].iat[0])[:10] == "2026-03-04" and rec.unread == {}
    rec, findings = make_records("expenses", [expense("E1", date="3/4/2026")], day_first=True)
    assert str(rec.df["date"].iat[0])[:10] == "2026-04-03"
    assert next(f for f in findings if f.code == "AMBIGUOUS_DATE").params["read_as"] == "2026-04-03"


def test_more_than_two_decimals_is_rounded_to_the_cent_with_a_warning():
    rec, findings = make_records("expenses", [expense("E1", "12.345"), expense("E2", 0.125)])
    got = [(f.row, f.cell, f.value, f.params["read_as"]) for f in findings if f.code == "MONEY_ROUNDED"]
    assert got == [(2, "Expenses!D2", "12.345", "¥12.34"), (3, "Expenses!D3", "0.125", "¥0.12")]   # half to even
    assert rec.df["amount"].tolist() == [1234, 12] and rec.df["valid"].all()
    assert rec.unread == {}


def test_each_distinct_bad_value_gets_a_finding_at_every_cell_it_is_in():
    rec, findings = make_records("expenses", [expense(f"E{i}", "n/a") for i in range(3)])
    assert [(f.code, f.cell) for f in findings if f.code == "VALUE_UNREADABLE"] == \
        [("VALUE_UNREADABLE", "Expenses!D2"), ("VALUE_UNREADABLE", "Expenses!D3"), ("VALUE_UNREADABLE", "Expenses!D4")]
    assert rec.unread == {"amount": {0, 1, 2}}


def test_cell_references_and_typed_values():
    rec, _ = make_records("budget_lines", [{"campaign_id": "C1", "line_id": "L1", "planned_amount": 1000.5}])
    assert rec.tab == "Budget lines"
    assert rec.cell("planned_amount", 2) == "'Budget lines'!C2"
    assert rec.typed("planned_amount", 0) == "1000.5"
    assert rec.cell("notes", 2) == "Budget lines!2:2"             # an absent column: the whole row
