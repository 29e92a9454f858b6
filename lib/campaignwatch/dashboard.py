"""The managers' dashboard (one workbook for every source), rebuilt on every run. Pure:
the run's results and history in, `TabSpec`s out.

Tabs: every campaign of every source with its status and key figures; all open flags
across sources, most severe and oldest first (with managers' responses); every waiver in
force, so superiors see them; totals per team and per source (a campaign counts under its
own team from the workbook, under the source's configured `team` only when it has none;
"over budget" is `render.over_budget`); week-over-week movement
(spend, KPI score, flags opened and resolved) from history; and the sources with their
outcome. "Where" columns name the source file and cell of the evidence.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import clock
from .config import Config
from .flagcodes import RANK
from .history import History, flags_counted_between, spend_and_score_between
from .render import (SEV_FILL, RunInfo, blocked_text, campaign_status, cell_date, cell_float, cell_money, enum_word,
                     new_tab, over_budget, rag_label, text)
from .backends import backend_for, parse_source
from .sources import display_name, source_key
from .tabspec import TabSpec


def _linker(cfg: Config):
    """A function (source, cell) -> link to that cell of that source, from the dashboard, as the
    source's backend makes it: a path relative to the dashboard workbook's folder (so both can
    move together), or the sheet's URL."""
    dash = parse_source(cfg["dashboard.path"]).resolved(cfg)
    folder = Path(dash.location).parent if dash.kind == "file" else None

    def link(source: str, cell: str) -> str | None:
        src = parse_source(source)
        return backend_for(src).link(src, cell, folder)
    return link


def dashboard_tabs(run, cfg: Config, as_of: dt.date, history: History, lang: str | None = None) -> list[TabSpec]:
    langs = [r.check.language for r in run.results]
    lang = lang or (cfg["general.language"] if cfg["general.language"] != "auto" else
                    (max(set(langs), key=langs.count) if langs else "en"))
    zone = cfg["general.timezone"]
    info = RunInfo(text(lang, "all sources", "全部数据源"), as_of, clock.stamp(clock.now(zone), zone), lang,
                   cfg["rules.nearly_used_at"], timezone=zone)
    link = _linker(cfg)
    return [_campaigns(info, run, link), _flags(info, run, link), _waivers(info, run), _totals(info, run),
            _trends(info, run, history, as_of), _sources(info, run)]


def _label(run, r) -> tuple[str, str]:
    """The source's name and its configured team (the fallback team of its campaigns)."""
    spec = run.specs.get(r.check.source)
    name = (spec.name if spec and spec.name else display_name(r.check.source))
    return name, (spec.team if spec and spec.team else "")


def _team(own, fallback: str) -> str | None:
    """A campaign's team: its own from the workbook's team column; the source's configured
    `team` only when it has none."""
    if isinstance(own, str) and own.strip():
        return own.strip()
    return fallback or None


def _campaigns(info: RunInfo, run, link) -> TabSpec:
    lang = info.lang
    spec = new_tab("dash_campaigns", info, text(lang, "Every campaign", "全部活动"), [
        ("Source", "数据源", "text", 18), ("Team", "团队", "text", 10), ("Campaign ID", "活动编号", "text", 12),
        ("Name", "活动名称", "text", 24), ("Owner", "负责人", "text", 10), ("Status", "状态", "text", 10),
        ("RAG", "红黄绿", "text", 7), ("End", "结束日期", "date", 11), ("Authorized", "核定预算", "money", 14),
        ("Spend", "支出", "money", 14), ("Available", "可用余额", "money", 14), ("Utilisation", "使用率", "percent", 9),
        ("KPI score", "KPI得分", "percent", 9), ("Open flags", "未关闭预警", "int", 8), ("High", "高", "int", 6),
        ("Where", "位置", "text", 28), ("Cannot be read", "无法识别", "text", 30),
    ])
    i = 0
    for r in run.results:
        for kept in getattr(run, "kept", {}).get(r.check.source, []):
            i = _kept_campaigns(spec, info, run, r, kept, link, i)
        if r.figures is None or r.figures.campaigns.empty:
            continue
        name, team = _label(run, r)
        c = r.figures.campaigns
        status = campaign_status(c, r.flags, info.nearly_used_at)
        rec = r.check.tables.get("campaigns")
        rows = dict(zip(rec.df["campaign_id"], rec.df["sheet_row"])) if rec is not None else {}
        for cid, row in zip(c.index, c.to_dict("records")):
            opened = [f for f in r.flags if f.counts_open and f.campaign_id == cid]
            cell = rec.cell("campaign_id", int(rows[cid])) if cid in rows else ""
            where = f"{display_name(r.check.source)} › {cell}" if cell else display_name(r.check.source)
            spec.rows.append([name, _team(row["team"], team), cid,
                              row["name"] if isinstance(row["name"], str) else None,
                              row["owner"] if isinstance(row["owner"], str) else None,
                              enum_word("campaign_status", row["status"], lang), rag_label(status[cid], lang),
                              cell_date(row["end_date"]), cell_money(row["authorized"]), cell_money(row["spend"]),
                              cell_money(row["available"]), cell_float(row["utilisation"]), cell_float(row["kpi_score"]),
                              len(opened), sum(1 for f in opened if f.severity == "high"), where,
                              blocked_text(row["blocked"], lang)])
            spec.fills[(i, 6)] = status[cid]
            if row["blocked"]:
                spec.fills[(i, 16)] = "amber"
            if (target := link(r.check.source, cell)):
                spec.links[(i, 15)] = target
            i += 1
    return spec


def _open_flags(run):
    for r in run.results:
        for f in r.flags:
            if f.status == "open":
                yield r, f


def _not_read(lang: str, kept) -> str:
    """The mark of a row kept from history because its source could not be read this run."""
    day = kept.as_of.isoformat() if kept.as_of else "?"
    return text(lang, f"not read this run: as of {day}", f"本次未能读取：{day} 的数据")


def _kept_campaigns(spec: TabSpec, info: RunInfo, run, r, kept, link, i: int) -> int:
    """Rows of a source not read this run: its campaigns as its last read left them (from
    history, which keeps their figures, RAG and flags, not their names)."""
    lang = info.lang
    name, team = _label(run, r)
    owners = {f["campaign_id"]: f["owner"] for f in kept.flags if f.get("owner")}
    where = display_name(kept.source)
    for m in kept.campaigns:
        cid = m["campaign_id"]
        opened = [f for f in kept.flags if f["campaign_id"] == cid]
        available = m["authorized"] - m["spend"] if m["authorized"] is not None and m["spend"] is not None else None
        spec.rows.append([name, team or None, cid, None, owners.get(cid), None,
                          rag_label(m["status"], lang) if m["status"] else None, None, cell_money(m["authorized"]),
                          cell_money(m["spend"]), cell_money(available), cell_float(m["utilisation"]), cell_float(m["kpi_score"]),
                          m["flags_open"] if m["flags_open"] is not None else len(opened),
                          sum(1 for f in opened if f["severity"] == "high"), where, _not_read(lang, kept)])
        if m["status"]:
            spec.fills[(i, 6)] = m["status"]
        spec.fills[(i, 16)] = "grey"
        if (target := link(kept.source, "")):
            spec.links[(i, 15)] = target
        i += 1
    return i


def _kept_flags(run):
    """(result, kept state, flag row) of the sources not read this run."""
    for r in run.results:
        for kept in getattr(run, "kept", {}).get(r.check.source, []):
            for f in kept.flags:
                yield r, kept, f


def _flags(info: RunInfo, run, link) -> TabSpec:
    lang = info.lang
    spec = new_tab("dash_flags", info, text(lang, "Open flags across sources, most severe and oldest first",
                                        "各数据源未关闭预警（按严重程度和时长排序）"), [
        ("Severity", "严重程度", "text", 9), ("Days open", "持续天数", "int", 8), ("Source", "数据源", "text", 18),
        ("Flag ID", "预警编号", "text", 10), ("Code", "代码", "text", 24), ("Campaign", "活动", "text", 10),
        ("Owner", "负责人", "text", 10), ("Amount", "金额", "money", 13), ("What is wrong", "问题", "text", 60),
        ("Response", "处理", "text", 24), ("First seen", "首次发现", "date", 11), ("Where", "位置", "text", 28),
    ])
    items = sorted(_open_flags(run), key=lambda rf: (-RANK[rf[1].severity], rf[1].first_seen or info.as_of))
    sev = {"high": text(lang, "high", "高"), "medium": text(lang, "medium", "中"), "low": text(lang, "low", "低")}
    for i, (r, f) in enumerate(items):
        name, _ = _label(run, r)
        resp = f.response or {}
        answer = {"acknowledged": text(lang, "acknowledged", "已知悉"), "waived": text(lang, "waived until ", "豁免至 ")
                  + str(resp.get("until")), "expired": text(lang, "waiver expired", "豁免已过期")}.get(resp.get("decision"), "")
        spec.rows.append([sev[f.severity], (info.as_of - f.first_seen).days if f.first_seen else 0, name, f.flag_id,
                          f.code, f.campaign_id, f.owner, cell_money(f.amount), f.message(lang), answer or None,
                          f.first_seen, f"{display_name(r.check.source)} › {f.cell}" if f.cell else None])
        spec.fills[(i, 0)] = "grey" if f.waived else SEV_FILL[f.severity]
        if f.cell and (target := link(r.check.source, f.cell)):
            spec.links[(i, 11)] = target
    i = len(spec.rows)
    for r, kept, f in _kept_flags(run):
        first = dt.date.fromisoformat(f["first_seen"]) if f["first_seen"] else None
        spec.rows.append([sev.get(f["severity"], f["severity"]), (info.as_of - first).days if first else 0,
                          _label(run, r)[0], f["flag_id"], f["code"], f["campaign_id"], f["owner"],
                          cell_money(f["amount"]), f["message"], _not_read(lang, kept), first, display_name(kept.source)])
        spec.fills[(i, 0)] = SEV_FILL.get(f["severity"], "grey")
        spec.fills[(i, 9)] = "grey"
        i += 1
    return spec


def _waivers(info: RunInfo, run) -> TabSpec:
    lang = info.lang
    spec = new_tab("dash_waivers", info, text(lang, "Every waiver in force — for superiors", "生效中的豁免 — 供上级审阅"), [
        ("Source", "数据源", "text", 18), ("Flag ID", "预警编号", "text", 10), ("Code", "代码", "text", 24),
        ("Campaign", "活动", "text", 10), ("Severity", "严重程度", "text", 9), ("Amount", "金额", "money", 13),
        ("Waived by", "处理人", "text", 10), ("On", "日期", "text", 11), ("Until", "有效期至", "text", 11),
        ("Reason", "理由", "text", 40), ("What is wrong", "问题", "text", 60),
    ])
    for r, f in _open_flags(run):
        if f.waived:
            resp = f.response
            spec.rows.append([_label(run, r)[0], f.flag_id, f.code, f.campaign_id, f.severity, cell_money(f.amount),
                              resp.get("by"), resp.get("on"), resp.get("until"), resp.get("reason"), f.message(lang)])
    return spec


def _totals(info: RunInfo, run) -> TabSpec:
    lang = info.lang
    spec = new_tab("dash_totals", info, text(lang, "Totals per team and per source", "按团队和数据源汇总"), [
        ("By", "维度", "text", 8), ("Team or source", "团队或数据源", "text", 22), ("Campaigns", "活动数", "int", 9),
        ("Authorized", "核定预算", "money", 15), ("Spend", "支出", "money", 15), ("Utilisation", "使用率", "percent", 9),
        ("Open flags", "未关闭预警", "int", 9), ("High", "高", "int", 6), ("Medium", "中", "int", 6), ("Low", "低", "int", 6),
        ("Red campaigns", "红色活动", "int", 9), ("Over budget", "超预算活动", "int", 9),
    ])
    groups: dict[tuple[str, str], dict] = {}
    for r in run.results:
        if r.figures is None or r.figures.campaigns.empty:
            continue
        name, team = _label(run, r)
        c = r.figures.campaigns
        status = campaign_status(c, r.flags, info.nearly_used_at)
        over = over_budget(r.flags)
        teams = [_team(t, team) or "—" for t in c["team"]]
        for cid, t, auth, spend in zip(c.index, teams, c["authorized"].tolist(), c["spend"].tolist()):
            flags = [f for f in r.flags if f.counts_open and f.campaign_id == cid]
            for key in ((text(lang, "team", "团队"), t), (text(lang, "source", "数据源"), name)):
                g = groups.setdefault(key, {"n": 0, "auth": 0, "spend": 0, "high": 0, "medium": 0, "low": 0, "red": 0,
                                            "over": 0})
                g["n"] += 1
                g["auth"] += int(auth)
                g["spend"] += int(spend)
                g["red"] += status[cid] == "red"
                g["over"] += cid in over
                for f in flags:
                    g[f.severity] += 1
    for i, ((by, name), g) in enumerate(sorted(groups.items())):
        util = g["spend"] / g["auth"] if g["auth"] else None
        spec.rows.append([by, name, g["n"], cell_money(g["auth"]), cell_money(g["spend"]), util,
                          g["high"] + g["medium"] + g["low"], g["high"], g["medium"], g["low"], g["red"], g["over"]])
        if g["red"]:
            spec.fills[(i, 10)] = "red"
        if g["over"]:
            spec.fills[(i, 11)] = "red"
    return spec


def _week(d: dt.date) -> tuple[dt.date, dt.date]:
    start = d - dt.timedelta(days=d.weekday())
    return start, start + dt.timedelta(days=6)


def _trends(info: RunInfo, run, history: History, as_of: dt.date) -> TabSpec:
    """This week's latest figures against last week's, per campaign; flags opened and resolved."""
    lang = info.lang
    spec = new_tab("dash_trends", info, text(lang, "Week over week (from history)", "周环比（来自历史记录）"), [
        ("Source", "数据源", "text", 18), ("Campaign", "活动", "text", 10), ("Spend this week", "本周支出", "money", 14),
        ("Spend last week", "上周支出", "money", 14), ("Spend change", "支出变化", "money", 13),
        ("KPI score this week", "本周KPI得分", "percent", 10), ("KPI score last week", "上周KPI得分", "percent", 10),
        ("Flags opened this week", "本周新增预警", "int", 10), ("Flags resolved this week", "本周解决预警", "int", 10),
    ])
    db = history.db
    if db is None:
        return spec
    this_start, this_end = _week(as_of)
    last_start, last_end = this_start - dt.timedelta(days=7), this_start - dt.timedelta(days=1)

    for r in run.results:
        if r.figures is None:
            continue
        key, name = source_key(r.check.source), _label(run, r)[0]
        now = spend_and_score_between(db, key, this_start, this_end)
        before = spend_and_score_between(db, key, last_start, last_end)
        opened = flags_counted_between(db, key, "first_seen", this_start, this_end)
        resolved = flags_counted_between(db, key, "resolved_on", this_start, this_end)
        for cid in r.figures.campaigns.index:
            cur = now.get(cid, (int(r.figures.campaigns.at[cid, "spend"]), None))
            prev = before.get(cid)
            spec.rows.append([name, cid, cell_money(cur[0]), cell_money(prev[0]) if prev else None,
                              cell_money(cur[0] - prev[0]) if prev and cur[0] is not None and prev[0] is not None else None,
                              cell_float(cur[1]), cell_float(prev[1]) if prev else None, opened.get(cid, 0), resolved.get(cid, 0)])
    return spec


def _sources(info: RunInfo, run) -> TabSpec:
    lang = info.lang
    spec = new_tab("dash_sources", info, text(lang, "Sources in this run", "本次运行的数据源"), [
        ("Source", "数据源", "text", 22), ("Team", "团队", "text", 10), ("Owner", "负责人", "text", 10),
        ("Status", "状态", "text", 9), ("Problem", "问题", "text", 60), ("Open flags", "未关闭预警", "int", 9),
        ("Findings", "校验问题", "int", 9), ("Rows left out", "未计入行", "int", 9), ("File", "文件", "text", 40),
    ])
    for i, r in enumerate(run.results):
        spec_ = run.specs.get(r.check.source)
        name, team = _label(run, r)
        err = r.error
        from .errors import message
        kept = getattr(run, "kept", {}).get(r.check.source, [])
        problem = message(err, lang) if err else None
        if kept:
            problem = f"{problem} " + text(lang, "The dashboard shows its last known state (", "仪表板显示其最近一次的状态（") \
                + "; ".join(f"{display_name(k.source)}: {_not_read(lang, k)}" for k in kept) + text(lang, ").", "）。")
        opened = sum(1 for f in r.flags if f.counts_open) + sum(len(k.flags) for k in kept)
        spec.rows.append([name, team or None, spec_.owner if spec_ and spec_.owner else None,
                          text(lang, "ok", "正常") if r.status == "ok" else text(lang, "failed", "失败"),
                          problem, opened, len(r.check.findings), sum(r.check.excluded_rows.values()), r.check.source])
        spec.fills[(i, 3)] = "green" if r.status == "ok" else "red"
    return spec
