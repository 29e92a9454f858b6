"""Names of the tabs campaignwatch generates (SPEC §6).

Every generated tab starts with `MARK`, a prefix no person types by accident; that is how
readers skip them and how writers recognise what they may replace.
"""
from __future__ import annotations

MARK = "cw» "

GENERATED = {
    # key: (English, Chinese)
    "summary": ("Summary", "汇总"),
    "flags": ("Flags", "预警"),
    "budget": ("Budget", "预算执行"),
    "kpi": ("KPI", "KPI达成"),
    "validation": ("Validation", "数据校验"),
    "scorecard": ("Scorecard", "绩效"),
    "runlog": ("Run log", "运行记录"),
    # the managers' dashboard workbook
    "dash_campaigns": ("All campaigns", "全部活动"),
    "dash_flags": ("Open flags", "未关闭预警"),
    "dash_waivers": ("Waivers", "豁免清单"),
    "dash_totals": ("Totals", "分组汇总"),
    "dash_trends": ("Week over week", "周环比"),
    "dash_sources": ("Sources", "数据源"),
}


def tab_name(key: str, lang: str) -> str:
    en, zh = GENERATED[key]
    return MARK + (zh if lang == "zh-CN" else en)


def is_generated(name: str) -> bool:
    """Named like a generated tab (a copy of one is too: the writer asks more, see write/xlsx.py)."""
    return name.startswith(MARK)


_KNOWN = {MARK + label for labels in GENERATED.values() for label in labels}


def is_known(name: str) -> bool:
    """Exactly the name of a tab campaignwatch generates, in either language."""
    return name in _KNOWN
