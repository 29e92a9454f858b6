"""Amounts and approvals typed the way people type them, read end to end from a real xlsx:
findings pinned as (code, tab, row, column), amounts as cents, words as codes."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import AS_OF, write_xlsx
from campaignwatch.config import defaults
from campaignwatch.findings import CATALOGUE
from campaignwatch.pipeline import check_source

D = dt.date(2026, 10, 2)


def sheets() -> dict[str, list[list]]:
    return {
        "活动": [
            ["活动编号", "活动名称", "负责人", "开始日期", "结束日期", "状态", "总预算"],
            ["C1", "中秋促销", "王芳", "2026-09-01", "2026-10-31", "审批通过", "3.5w"],
            ["C2", "国庆活动", "李强", "2026-09-01", "2026-10-31", "不同意", "壹万伍仟元整"],
            ["C3", "双十一", "赵敏", "2026-09-01", "2026-10-31", "同意吗", "USD 500"],
            ["C4", "元旦", "赵敏", "2026-09-01", "2026-10-31", "未通过", 88000],
        ],
        "预算明细": [
            ["活动编号", "预算科目编号", "预算金额"],
            ["C1", "L1", "1.5k"],
            ["C1", "L2", "约5000"],
            ["C2", "L1", "$500"],
            ["C2", "L2", "两万"],
        ],
        "费用记录": [
            ["费用编号", "活动编号", "预算科目编号", "发生日期", "金额"],
            ["E1", "C1", "L1", D, "一万五"],
            ["E2", "C1", "L1", D, "贰佰元伍角"],
            ["E3", "C1", "L1", D, "3万多"],
            ["E4", "C1", "L1", D, "500美元"],
            ["E5", "C1", "L1", D, 12345.67],
            ["E6", "C1", "L1", D, "3.5ww"],
            ["E7", "C1", "L1", D, "HK$ 300"],
            ["E8", "C1", "L1", D, "¥1.5K"],
            ["E9", "C1", "L1", D, "5000余元"],
        ],
        "超预算申请": [
            ["申请编号", "活动编号", "追加金额", "审批结果"],
            ["R1", "C1", "2.5千", "已同意"],
            ["R2", "C1", "两万", "不通过"],
            ["R3", "C1", "€20", "退回"],
            ["R4", "C1", "三千二百", "同意"],
        ],
    }


def _findings(result, severity):
    return {(f.code, f.tab, f.row, f.column) for f in result.findings if f.severity == severity}


def _read(tmp_path, currency=None):
    cfg = defaults()
    if currency is not None:
        cfg.values["general.currency"] = currency
    result = check_source(write_xlsx(tmp_path / "words.xlsx", sheets()), cfg, AS_OF)
    assert result.status == "ok", result.error
    return result


EXPECTED_ERRORS_CNY = {
    ("CURRENCY_UNSUPPORTED", "活动", 4, "总预算"),
    ("VALUE_UNREADABLE", "预算明细", 3, "预算金额"),
    ("CURRENCY_UNSUPPORTED", "预算明细", 4, "预算金额"),
    ("VALUE_UNREADABLE", "费用记录", 4, "金额"),
    ("CURRENCY_UNSUPPORTED", "费用记录", 5, "金额"),
    ("VALUE_UNREADABLE", "费用记录", 7, "金额"),
    ("CURRENCY_UNSUPPORTED", "费用记录", 8, "金额"),
    ("VALUE_UNREADABLE", "费用记录", 10, "金额"),
    ("CURRENCY_UNSUPPORTED", "超预算申请", 4, "追加金额"),
}


def test_amounts_people_type_are_read_to_the_cent(tmp_path):
    result = _read(tmp_path)
    assert _findings(result, "error") == EXPECTED_ERRORS_CNY
    exp = result.tables["expenses"].ok.set_index("expense_id")["amount"]
    assert {k: int(v) for k, v in exp.items()} == {
        "E1": 1_500_000, "E2": 20_050, "E5": 1_234_567, "E8": 150_000}
    camp = result.tables["campaigns"].ok.set_index("campaign_id")["budget"]
    assert {k: int(v) for k, v in camp.items()} == {"C1": 3_500_000, "C2": 1_500_000, "C4": 8_800_000}
    lines = result.tables["budget_lines"].ok
    assert [(c, line, int(a)) for c, line, a in lines[["campaign_id", "line_id", "planned_amount"]].itertuples(
        index=False)] == [("C1", "L1", 150_000), ("C2", "L2", 2_000_000)]
    req = result.tables["overrun_requests"].ok.set_index("request_id")
    assert {k: int(v) for k, v in req["amount"].items()} == {"R1": 250_000, "R2": 2_000_000, "R4": 320_000}
    assert result.excluded_rows == {**result.excluded_rows, "campaigns": 1, "budget_lines": 2,
                                    "expenses": 5, "overrun_requests": 1}


def test_approval_words_from_oa_and_chat(tmp_path):
    result = _read(tmp_path)
    status = result.tables["campaigns"].df.set_index("campaign_id")["status"]
    status = {k: v if isinstance(v, str) else None for k, v in status.to_dict().items()}
    assert status == {"C1": "approved", "C2": "rejected", "C3": None, "C4": "rejected"}   # unknown: never "draft"
    decision = result.tables["overrun_requests"].df.set_index("request_id")["decision"]
    assert decision.to_dict() == {"R1": "approved", "R2": "rejected", "R3": "rejected", "R4": "approved"}
    assert ("UNKNOWN_STATUS", "活动", 4, "状态") in _findings(result, "warning")


def test_currency_finding_names_the_currency_and_the_configured_one(tmp_path):
    result = _read(tmp_path)
    found = {(f.tab, f.row): (f.value, f.params["currency"], f.params["configured"])
             for f in result.findings if f.code == "CURRENCY_UNSUPPORTED"}
    assert found == {
        ("活动", 4): ("USD 500", "USD", "CNY"),
        ("预算明细", 4): ("$500", "USD", "CNY"),
        ("费用记录", 5): ("500美元", "USD", "CNY"),
        ("费用记录", 8): ("HK$ 300", "HKD", "CNY"),
        ("超预算申请", 4): ("€20", "EUR", "CNY"),
    }
    assert CATALOGUE["CURRENCY_UNSUPPORTED"].severity == "error"
    f = next(f for f in result.findings if f.code == "CURRENCY_UNSUPPORTED")
    for lang in ("en", "zh-CN"):
        assert "{" not in f.message(lang) + f.fix(lang)
        assert "USD" in f.message(lang) and "CNY" in f.fix(lang)


def test_configured_currency_decides(tmp_path):
    result = _read(tmp_path, currency="usd")
    errors = _findings(result, "error")
    # USD amounts are now read; yuan-marked ones (壹万伍仟元整, 贰佰元伍角, ¥1.5K) are foreign
    assert ("CURRENCY_UNSUPPORTED", "活动", 3, "总预算") in errors
    assert ("CURRENCY_UNSUPPORTED", "费用记录", 3, "金额") in errors
    assert ("CURRENCY_UNSUPPORTED", "费用记录", 9, "金额") in errors
    assert ("CURRENCY_UNSUPPORTED", "费用记录", 8, "金额") in errors          # HK$ is not USD
    assert not {e for e in errors if e[1:] in {("活动", 4), ("预算明细", 4), ("费用记录", 5)}}
    exp = result.tables["expenses"].ok.set_index("expense_id")["amount"]
    assert {k: int(v) for k, v in exp.items()} == {"E1": 1_500_000, "E4": 50_000, "E5": 1_234_567}
    by = {(f.tab, f.row): (f.params["currency"], f.params["configured"])
          for f in result.findings if f.code == "CURRENCY_UNSUPPORTED"}
    assert by[("费用记录", 3)] == ("CNY", "USD")
    unreadable = next(f for f in result.findings if f.code == "VALUE_UNREADABLE" and f.tab == "费用记录")
    assert "¥" not in unreadable.fix("en")          # the example is not in another currency


@pytest.mark.parametrize("typed", ["约5000", "5000左右", "3万多", "5000余元", "大概5000", "大约5000",
                                   "approx 5000", "~5000"])
def test_an_estimate_is_an_error_never_a_rounded_amount(tmp_path, typed):
    book = {"活动": [["活动编号", "活动名称", "开始日期", "结束日期", "状态"],
                    ["C1", "x", "2026-09-01", "2026-10-31", "已批准"]],
            "费用记录": [["费用编号", "活动编号", "发生日期", "金额"], ["E1", "C1", D, typed]]}
    result = check_source(write_xlsx(tmp_path / "e.xlsx", book), defaults(), AS_OF)
    assert ("VALUE_UNREADABLE", "费用记录", 2, "金额") in _findings(result, "error")
    assert result.tables["expenses"].ok.empty


def test_numbers_typed_as_numbers_skip_the_text_parser(tmp_path, monkeypatch):
    import campaignwatch.values as V
    seen = []
    real = V.parse_money

    def spy(raw, *args, **kwargs):
        seen.append(raw)
        return real(raw, *args, **kwargs)

    monkeypatch.setattr(V, "parse_money", spy)
    result = _read(tmp_path)
    assert 12345.67 not in seen and 88000 not in seen
    assert "一万五" in seen and "$500" in seen
    assert int(result.tables["expenses"].df.set_index("expense_id").loc["E5", "amount"]) == 1_234_567
