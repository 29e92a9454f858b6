"""The report's texts in English and Chinese (`t`) and how it writes amounts, percentages and
counts (`money`, `pct`, `n`, `clip`).
"""
from __future__ import annotations

from ..values import money_text




_T = {
    "title": ("Weekly supervision report", "周例会监控周报"),
    "week": ("Week {w} · {a} – {b}", "{y} 年第 {n} 周 · {a} 至 {b}"),
    "generated": ("Generated {now} from {file}; as of {as_of}.", "生成于 {now}，数据来自 {file}；截至 {as_of}。"),
    "sources": ("Sources", "数据源"),
    "k_high": ("Open high flags", "未关闭高级别预警"),
    "k_opened": ("Flags opened this week", "本周新增预警"),
    "k_resolved": ("Flags resolved this week", "本周解决预警"),
    "k_over": ("Campaigns over budget", "超预算活动"),
    "k_runs": ("Runs this week", "本周运行次数"),
    "prev": ("previous week: {n}", "上周：{n}"),
    "failed_runs": ("{n} source failure(s)", "{n} 次数据源失败"),
    "s_changed": ("1. What changed this week", "一、本周变化"),
    "s_high": ("2. Open high-severity flags", "二、未关闭的高级别预警"),
    "s_budget": ("3. Budget burn per campaign", "三、各活动预算执行"),
    "s_kpi": ("4. KPI attainment per campaign", "四、各活动 KPI 达成"),
    "s_wow": ("5. Week over week", "五、周环比"),
    "source": ("Source", "数据源"), "opened": ("Opened", "新增"), "resolved": ("Resolved", "解决"),
    "opened_high": ("of which high", "其中高级别"), "runs": ("Runs", "运行"), "failed": ("Failed runs", "失败运行"),
    "open_end": ("Still open", "仍未关闭"),
    "l_opened": ("Flags opened this week", "本周新增的预警"),
    "l_resolved": ("Flags resolved this week", "本周解决的预警"),
    "sev": ("Severity", "级别"), "flag": ("Flag ID", "预警编号"), "code": ("Rule", "规则"),
    "campaign": ("Campaign", "活动"), "owner": ("Owner", "负责人"), "amount": ("Amount", "金额"),
    "first_seen": ("First seen", "首次发现"), "resolved_on": ("Resolved on", "解决日期"),
    "age": ("Age (days)", "已持续（天）"), "days_open": ("Days open", "持续天数"), "message": ("Message", "内容"),
    "status": ("Status", "状态"),
    "st_open": ("open", "未关闭"), "st_unverifiable": ("unverifiable", "无法核实"),
    "high": ("high", "高"), "medium": ("medium", "中"), "low": ("low", "低"),
    "none_opened": ("No flag was opened this week.", "本周没有新增预警。"),
    "none_resolved": ("No flag was resolved this week.", "本周没有解决的预警。"),
    "none_high": ("No high-severity flag is open.", "没有未关闭的高级别预警。"),
    "no_metrics": ("No campaign figures are recorded up to {as_of}.", "截至 {as_of} 没有记录活动数据。"),
    "no_runs": ("No run is recorded in the history up to {as_of}; run sync first.",
                "截至 {as_of} 历史记录中没有运行记录，请先运行 sync。"),
    "figures_from": ("Figures from the run of {d}.", "数据来自 {d} 的运行。"),
    "stale": ("No run this week: figures from the run of {d}.", "本周没有运行：数据来自 {d} 的运行。"),
    "spend": ("Spend", "支出"), "authorized": ("Authorized budget", "批准预算"), "over": ("Spend above the authorized budget", "支出超过批准预算"),
    "kpi_score": ("KPI score", "KPI 得分"), "target": ("target 100%", "目标 100%"),
    "no_kpi": ("no KPI data", "无 KPI 数据"),
    "blocked": ("Not fully evaluated — a cell some rules read cannot be understood:",
                "未能完整评估 — 部分检查所需的单元格无法识别："),
    "kpi_legend": ("KPI score: green ≥ {g}, amber ≥ {a}, red below; the dashed line is 100 % (on target).",
                   "KPI 得分：绿色 ≥ {g}，黄色 ≥ {a}，以下为红色；虚线为 100%（达成目标）。"),
    "this_week": ("This week", "本周"), "prev_week": ("Previous week", "上周"), "change": ("Change", "变化"),
    "total": ("Total", "合计"), "avg_kpi": ("Average KPI score", "平均 KPI 得分"),
    "flags_open": ("Open flags", "未关闭预警"), "spend_prev": ("Spend, previous week", "上周支出"),
    "spend_now": ("Spend, this week", "本周支出"), "kpi_prev": ("KPI, previous week", "上周 KPI"),
    "kpi_now": ("KPI, this week", "本周 KPI"), "flags_prev": ("Open flags, previous", "上周未关闭"),
    "flags_now": ("Open flags, now", "本周未关闭"),
    "wow_runs": ("This week: run of {a}; previous week: {b}.", "本周：{a} 的运行；上周：{b}。"),
    "no_run": ("no run", "无运行"),
    "rag": ("Status", "状态"),
    "red": ("red", "红"), "amber": ("amber", "黄"), "green": ("green", "绿"), "grey": ("grey", "灰"),
    "footer": ("campaignwatch · drawn from the history file only; flag messages are in the language of the run "
               "that raised them.",
               "campaignwatch · 仅依据历史记录生成；预警内容沿用产生该预警时的语言。"),
}


def tr(key: str, lang: str, **kw) -> str:
    en, zh = _T[key]
    s = zh if lang == "zh-CN" else en
    return s.format(**kw) if kw else s


def fmt_money(cents) -> str:
    return money_text(cents, whole=True)


def fmt_pct(x) -> str:
    return "—" if x is None else f"{x:.0%}"


def fmt_count(x) -> str:
    return str(x)


def clip(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
