"""init: templates from the contract, the demo, and the committed templates kept fresh."""
from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from conftest import AS_OF, ROOT
from campaignwatch.cli import main
from campaignwatch.config import defaults
from campaignwatch.contract import TABLES
from campaignwatch.pipeline import check_source
from campaignwatch.workbook.template import write_template


def contents(path):
    """What a person sees: every cell value, validation, frozen pane and width, per tab."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "validations": sorted((str(dv.sqref), dv.type, dv.formula1, dv.formula2)
                                  for dv in ws.data_validations.dataValidation),
            "freeze": ws.freeze_panes,
            "widths": {k: v.width for k, v in ws.column_dimensions.items()},
            "comments": [c.comment.text for row in ws.iter_rows() for c in row if c.comment],
        }
    return out


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_committed_templates_are_fresh(tmp_path, lang):
    fresh = write_template(tmp_path / "t.xlsx", lang=lang)
    committed = ROOT / "workbook_templates" / f"campaignwatch-{lang}.xlsx"
    assert contents(committed) == contents(fresh), "run scripts/make_templates.py"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_template_has_every_table_with_dropdowns_and_frozen_header(tmp_path, lang):
    wb = load_workbook(write_template(tmp_path / "t.xlsx", lang=lang))
    for table in TABLES:
        ws = wb[table.tab(lang)]
        assert [c.value for c in ws[1]] == [c.header(lang) for c in table.columns]
        assert ws.freeze_panes == "A2"
        kinds = {dv.type for dv in ws.data_validations.dataValidation}
        if any(c.kind == "enum" for c in table.columns):
            assert "list" in kinds
    exp = wb[TABLES[2].tab(lang)].data_validations.dataValidation
    refs = [dv.formula1 for dv in exp if "$A$2" in (dv.formula1 or "")]
    assert refs and refs[0].startswith(TABLES[0].tab(lang))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_empty_template_validates_clean(tmp_path, lang):
    result = check_source(write_template(tmp_path / "t.xlsx", lang=lang), defaults(), AS_OF)
    assert result.status == "ok"
    assert result.language == lang
    assert [f.code for f in result.findings] == []


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_demo_reads_without_errors_and_dates_follow_as_of(tmp_path, lang):
    for as_of in (AS_OF, dt.date(2031, 3, 1)):
        path = write_template(tmp_path / f"d{as_of}.xlsx", lang=lang, demo=True, as_of=as_of)
        result = check_source(path, defaults(), as_of)
        assert result.status == "ok"
        assert [f.code for f in result.findings if f.severity == "error"] == []
        assert sum(result.excluded_rows.values()) == 0
        assert {t: len(r.df) for t, r in result.tables.items()}["expenses"] == 14
        camp = result.tables["campaigns"].df.set_index("campaign_id")
        assert str(camp.loc["C-01", "start_date"])[:10] == str(as_of - dt.timedelta(days=45))
        # typed as people type: '¥35,000.00', '3.5万', '8万' read exactly
        exp = result.tables["expenses"].df.set_index("expense_id")
        assert int(exp.loc["E-0102", "amount"]) == 3_500_000
        assert int(exp.loc["E-0103", "amount"]) == 3_500_000
        assert int(camp.loc["C-05", "budget"]) == 8_000_000


def test_init_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "x.xlsx"
    assert main(["init", str(path)]) == 0
    assert main(["init", str(path)]) == 2
    assert main(["init", str(path), "--force", "--demo", "--lang", "zh-CN"]) == 0
    assert load_workbook(path).sheetnames[1] == "活动"
