"""The weekly supervision report (周例会): one self-contained HTML page drawn only from the
history file.

`build_weekly(history, as_of, lang)` covers the ISO week that contains `as_of`, from its
Monday up to `as_of` (pass the week's last day — Sunday, or the Friday of the meeting — to
cover the whole week). Sections:

1. what changed this week: flags opened and resolved during the week, per source, with
   counts and the lists (and the runs recorded, failed runs included);
2. open high-severity flags at `as_of`, with owners and age in days;
3. budget burn per campaign: spend against authorized budget from the latest metrics up
   to `as_of` (horizontal bars, red when over budget);
4. KPI attainment per campaign (the KPI score of the same metrics);
5. week over week: spend, KPI score and open flags from the latest run of each week, and
   flags opened / resolved this week against the previous one.

Everything is inline (CSS, SVG); no script, no external request. Every text is escaped.
Prints on A4 (`@media print`): a page per section, table headers repeated, rows never split.
"""
from __future__ import annotations

import datetime as dt
import html
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import clock
from .history import SCHEMA_VERSION, HistoryError
from .values import format_money

RANK = {"high": 3, "medium": 2, "low": 1}
KPI_GREEN, KPI_AMBER = 0.95, 0.8          # defaults of kpi.green_at / kpi.amber_at
TIMEZONE = "Asia/Shanghai"                # default of general.timezone
CHART_ROWS = 24                           # bars per chart (a longer list is split over several charts)

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


def _t(key: str, lang: str, **kw) -> str:
    en, zh = _T[key]
    s = zh if lang == "zh-CN" else en
    return s.format(**kw) if kw else s


# -- reading the history ------------------------------------------------------------------

@dataclass
class Snapshot:
    run_id: int | None = None
    as_of: str | None = None
    rows: dict[str, sqlite3.Row] = field(default_factory=dict)     # campaign -> metrics row


@dataclass
class SourceWeek:
    key: str
    label: str
    now: Snapshot                  # latest run up to as_of (this week's, else an older one)
    this_week: Snapshot            # latest run within the week (may be empty)
    prev_week: Snapshot            # latest run within the previous week (may be empty)
    runs: int = 0                  # runs this week that included this source
    failed_runs: int = 0           # … in which it failed
    run_ids: set = field(default_factory=set)


def _connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"history file {path} does not exist; run sync first.")
    try:
        # only read; opened read-write when allowed so that SQLite tidies its WAL files on close
        writable = os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode={'rw' if writable else 'ro'}", uri=True, timeout=30)
        db.row_factory = sqlite3.Row
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{path} was written by a newer campaignwatch (schema {version}).")
        if version < 1:
            raise HistoryError(f"{path} is not a campaignwatch history file.")
        return db
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"history file {path} cannot be read: {exc}.") from None


def _snapshot(db, source: str, first: dt.date | None, last: dt.date) -> Snapshot:
    q = "SELECT run_id, as_of FROM metrics WHERE source=? AND as_of<=?"
    args: list = [source, last.isoformat()]
    if first is not None:
        q += " AND as_of>=?"
        args.append(first.isoformat())
    row = db.execute(q + " ORDER BY as_of DESC, run_id DESC LIMIT 1", args).fetchone()
    if row is None:
        return Snapshot()
    rows = db.execute("SELECT * FROM metrics WHERE run_id=? AND source=? ORDER BY campaign_id",
                      (row["run_id"], source)).fetchall()
    return Snapshot(row["run_id"], row["as_of"], {r["campaign_id"]: r for r in rows})


def _labels(keys: list[str]) -> dict[str, str]:
    def name(k: str, parts: int) -> str:
        if k.startswith("gsheet:"):
            return k
        return "/".join(Path(k).parts[-parts:])
    short = {k: name(k, 1) for k in keys}
    clash = {v for v in short.values() if list(short.values()).count(v) > 1}
    return {k: name(k, 2) if short[k] in clash else short[k] for k in keys}


def _select(all_keys: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return all_keys
    chosen = []
    for k in all_keys:
        for w in wanted:
            resolved = w if w.startswith("gsheet:") else str(Path(w).expanduser().resolve())
            if k in (w, resolved) or Path(k).name == w:
                chosen.append(k)
                break
    return chosen


# -- the report -----------------------------------------------------------------------------

def build_weekly(history_path: Path, as_of: dt.date, lang: str, sources: list[str] | None = None, *,
                 kpi_green: float = KPI_GREEN, kpi_amber: float = KPI_AMBER, timezone: str = TIMEZONE) -> str:
    """The report as one HTML document. `lang`: en, zh-CN, or auto (the language most flag
    messages in the history are in). `sources`: only these (paths, file names or gsheet:ID);
    None: every source in the history. `kpi_green` / `kpi_amber`: the kpi.green_at and
    kpi.amber_at settings, for the colours of the KPI chart. `timezone`: general.timezone,
    in which the time the report was generated is shown."""
    start = as_of - dt.timedelta(days=as_of.weekday())
    prev_start, prev_end = start - dt.timedelta(days=7), start - dt.timedelta(days=1)
    db = _connect(Path(history_path))
    try:
        keys = sorted({r[0] for q in ("SELECT DISTINCT source FROM metrics", "SELECT DISTINCT source FROM flags",
                                      "SELECT DISTINCT source FROM source_runs") for r in db.execute(q)})
        keys = _select(keys, sources)
        labels = _labels(keys)
        weeks: list[SourceWeek] = []
        for k in keys:
            sw = SourceWeek(k, labels[k], _snapshot(db, k, None, as_of), _snapshot(db, k, start, as_of),
                            _snapshot(db, k, prev_start, prev_end))
            week_runs = db.execute("SELECT s.run_id, s.status FROM source_runs s JOIN runs r ON r.id=s.run_id "
                                   "WHERE s.source=? AND r.as_of BETWEEN ? AND ?",
                                   (k, start.isoformat(), as_of.isoformat())).fetchall()
            sw.run_ids = {r[0] for r in week_runs}
            sw.runs, sw.failed_runs = len(week_runs), sum(1 for r in week_runs if r[1] == "failed")
            weeks.append(sw)
        marks = ",".join("?" * len(keys)) or "NULL"
        flags = [dict(r) for r in db.execute(f"SELECT * FROM flags WHERE source IN ({marks})", keys)]
    finally:
        db.close()
    flags = [f for f in flags if f["first_seen"][:10] <= as_of.isoformat()]     # as the history stood then
    if lang not in ("en", "zh-CN"):
        cjk = sum(1 for f in flags if any("\u4e00" <= ch <= "\u9fff" for ch in (f["message"] or "")))
        lang = "zh-CN" if flags and cjk * 2 > len(flags) else "en"
    for f in flags:
        f["label"] = labels.get(f["source"], f["source"])
    return _render(lang, as_of, start, prev_start, prev_end, Path(history_path), weeks, flags, (kpi_green, kpi_amber),
                   clock.stamp(clock.now(timezone), timezone))


def _between(d: str | None, a: dt.date, b: dt.date) -> bool:
    return d is not None and a.isoformat() <= d[:10] <= b.isoformat()


def _open_at(f: dict, day: dt.date) -> bool:
    if f["first_seen"] > day.isoformat():
        return False
    return f["status"] != "resolved" or (f["resolved_on"] or "") > day.isoformat()


def _over_budget(sw: SourceWeek, cid: str, row: sqlite3.Row, flags: list[dict]) -> bool:
    """Over budget as the run that recorded `row` saw it (`render.over_budget`: an open, not
    waived OVERRUN_UNAPPROVED flag on the campaign or one of its lines). A history from
    before that was recorded: an OVERRUN_UNAPPROVED flag of the campaign open on that day."""
    if "over_budget" in row.keys() and row["over_budget"] is not None:
        return bool(row["over_budget"])
    day = dt.date.fromisoformat(row["as_of"][:10])
    return any(f["source"] == sw.key and f["campaign_id"] == cid and f["code"] == "OVERRUN_UNAPPROVED"
               and _open_at(f, day) for f in flags)


def _age(f: dict, day: dt.date) -> int:
    return max(0, (day - dt.date.fromisoformat(f["first_seen"][:10])).days)


def _money(cents) -> str:
    if cents is None:
        return "—"
    s = format_money(int(cents), "yuan")
    return s[:-3] if s.endswith(".00") else s


def _pct(x) -> str:
    return "—" if x is None else f"{x:.0%}"


_CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Segoe UI",
       system-ui, -apple-system, "Helvetica Neue", Arial, sans-serif;
       color: #1f2933; margin: 24px auto; max-width: 1120px; padding: 0 16px; font-size: 14px; line-height: 1.45; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 2px solid #334e68; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: #52606d; margin: 0 0 4px; }
.small { color: #7b8794; font-size: 12px; }
section { margin: 28px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0 4px; }
.card { flex: 1 1 150px; border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 12px; background: #f8fafc; }
.card .n { font-size: 26px; font-weight: 700; }
.card .l { color: #52606d; font-size: 12px; }
.card.bad .n { color: #c62828; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 6px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.msg { min-width: 16em; }
th { background: #f0f4f8; border-bottom: 2px solid #9fb3c8; font-weight: 600; }
td.num, th.num { text-align: right; }
td.num, td.nw, th.nw { white-space: nowrap; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; }
.sev { font-weight: 700; white-space: nowrap; }
.sev-high { color: #c62828; } .sev-medium { color: #e65100; } .sev-low { color: #827717; }
.up { color: #c62828; } .down { color: #2e7d32; } .flat { color: #7b8794; } .neutral { color: #334e68; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
.rag-red { background: #d32f2f; } .rag-amber { background: #f9a825; } .rag-green { background: #43a047; }
.rag-grey { background: #9e9e9e; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0 14px; }
svg.chart { max-width: 980px; }
svg.chart text { font-family: inherit; font-size: 13px; fill: #1f2933; }
svg.chart .muted { fill: #7b8794; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12px; color: #52606d; margin-top: 4px; }
.legend span::before { content: ""; display: inline-block; width: 14px; height: 10px; margin-right: 5px;
                       vertical-align: -1px; background: var(--c); border: 1px solid var(--b, transparent); }
footer { margin-top: 30px; color: #7b8794; font-size: 11px; border-top: 1px solid #e4e7eb; padding-top: 6px; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 11.5px; }
  section { margin: 0; break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  thead { display: table-header-group; }
  tr, .card, svg.chart, .keep { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .card { background: #fff; flex: 1 1 0; padding: 6px 8px; }
  .card .n { font-size: 20px; }
  td.msg { min-width: 12em; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _render(lang, as_of, start, prev_start, prev_end, history_path, weeks, flags, kpi_at, now: str) -> str:
    green, amber = kpi_at
    e = html.escape
    iso_year, iso_week, _ = as_of.isocalendar()
    week = _t("week", lang, w=f"{iso_year}-W{iso_week:02d}", y=iso_year, n=iso_week,
              a=start.isoformat(), b=as_of.isoformat())
    multi = len(weeks) > 1
    opened = [f for f in flags if _between(f["first_seen"], start, as_of)]
    resolved = [f for f in flags if f["status"] == "resolved" and _between(f["resolved_on"], start, as_of)]
    opened_prev = [f for f in flags if _between(f["first_seen"], prev_start, prev_end)]
    resolved_prev = [f for f in flags if f["status"] == "resolved" and _between(f["resolved_on"], prev_start, prev_end)]
    high = [f for f in flags if f["severity"] == "high" and _open_at(f, as_of)]
    high.sort(key=lambda f: (-_age(f, as_of), f["label"], f["campaign_id"] or "", f["flag_id"]))
    # campaigns of the latest figures, across sources
    camps = [(sw, cid, row) for sw in weeks for cid, row in sw.now.rows.items()]
    over = [c for c in camps if _over_budget(c[0], c[1], c[2], flags)]
    runs = len(set().union(*(sw.run_ids for sw in weeks))) if weeks else 0
    failed = sum(sw.failed_runs for sw in weeks)

    def label(sw, cid):
        return f"{cid} · {sw.label}" if multi else cid

    out = [f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(_t('title', lang))} · {e(week)}</title><style>{_CSS}</style></head><body>"]
    out.append(f'<header><h1>{e(_t("title", lang))}</h1><p class="sub"><b>{e(week)}</b></p>'
               f'<p class="small">{e(_t("generated", lang, now=now, file=history_path.name, as_of=as_of.isoformat()))}'
               f'<br>{e(_t("sources", lang))}{"：" if lang == "zh-CN" else ": "}'
               f'{e(", ".join(sw.label for sw in weeks) or "—")}</p>')
    cards = [
        ("k_high", len(high), bool(high), ""),
        ("k_opened", len(opened), False, _t("prev", lang, n=len(opened_prev))),
        ("k_resolved", len(resolved), False, _t("prev", lang, n=len(resolved_prev))),
        ("k_over", len(over), bool(over), ""),
        ("k_runs", runs, bool(failed), _t("failed_runs", lang, n=failed) if failed else ""),
    ]
    out.append('<div class="cards">' + "".join(
        f'<div class="card{" bad" if bad else ""}"><div class="n">{n}</div><div class="l">{e(_t(k, lang))}'
        + (f"<br>{e(note)}" if note else "") + "</div></div>" for k, n, bad, note in cards) + "</div></header>")
    if not any(sw.now.run_id for sw in weeks) and not flags:
        out.append(f'<p><b>{e(_t("no_runs", lang, as_of=as_of.isoformat()))}</b></p>')

    # 1. what changed ----------------------------------------------------------------------
    out.append(f'<section class="first" id="changed"><h2>{e(_t("s_changed", lang))}</h2>')
    out.append(_table(
        [_t("source", lang), (_t("opened", lang), "num"), (_t("opened_high", lang), "num"),
         (_t("resolved", lang), "num"), (_t("open_end", lang), "num"), (_t("runs", lang), "num"),
         (_t("failed", lang), "num")],
        [[e(sw.label),
          _n(sum(1 for f in opened if f["source"] == sw.key)),
          _n(sum(1 for f in opened if f["source"] == sw.key and f["severity"] == "high")),
          _n(sum(1 for f in resolved if f["source"] == sw.key)),
          _n(sum(1 for f in flags if f["source"] == sw.key and _open_at(f, as_of))),
          _n(sw.runs), _n(sw.failed_runs)] for sw in weeks]))
    out.append(f'<h3>{e(_t("l_opened", lang))} ({len(opened)})</h3>')
    opened.sort(key=lambda f: (-RANK.get(f["severity"], 0), f["label"], f["campaign_id"] or "", f["code"]))
    out.append(_flag_table(lang, opened, multi, as_of, "first_seen") if opened
               else f'<p class="small">{e(_t("none_opened", lang))}</p>')
    out.append(f'<h3>{e(_t("l_resolved", lang))} ({len(resolved)})</h3>')
    resolved.sort(key=lambda f: (-RANK.get(f["severity"], 0), f["label"], f["campaign_id"] or "", f["code"]))
    out.append(_flag_table(lang, resolved, multi, as_of, "resolved_on") if resolved
               else f'<p class="small">{e(_t("none_resolved", lang))}</p>')
    out.append("</section>")

    # 2. open high flags --------------------------------------------------------------------
    out.append(f'<section id="high"><h2>{e(_t("s_high", lang))} ({len(high)})</h2>')
    out.append(_flag_table(lang, high, multi, as_of, "age") if high
               else f'<p class="small">{e(_t("none_high", lang))}</p>')
    out.append("</section>")

    # 3. budget burn ------------------------------------------------------------------------
    out.append(f'<section id="budget"><h2>{e(_t("s_budget", lang))}</h2>')
    out.append(_freshness(lang, weeks))
    if camps:
        items = [(label(sw, cid), row["spend"] or 0, row["authorized"] or 0) for sw, cid, row in camps]
        out += [_budget_chart(lang, items[i:i + CHART_ROWS]) for i in range(0, len(items), CHART_ROWS)]
        out.append('<div class="legend">'
                   f'<span style="--c:#cfd8e3;--b:#7b8794">{e(_t("authorized", lang))}</span>'
                   f'<span style="--c:#1e88e5">{e(_t("spend", lang))}</span>'
                   f'<span style="--c:#d32f2f">{e(_t("over", lang))}</span></div>')
        blocked = [(label(sw, cid), row["blocked"]) for sw, cid, row in camps
                   if "blocked" in row.keys() and row["blocked"]]
        if blocked:
            out.append(f'<p class="small"><b>⚠ {e(_t("blocked", lang))}</b> '
                       + "; ".join(f"{e(name)} ({e(cells)})" for name, cells in blocked) + "</p>")
    else:
        out.append(f'<p class="small">{e(_t("no_metrics", lang, as_of=as_of.isoformat()))}</p>')
    out.append("</section>")

    # 4. KPI attainment ---------------------------------------------------------------------
    out.append(f'<section id="kpi"><h2>{e(_t("s_kpi", lang))}</h2>')
    out.append(_freshness(lang, weeks))
    if camps:
        items = [(label(sw, cid), row["kpi_score"]) for sw, cid, row in camps]
        out += [_kpi_chart(lang, items[i:i + CHART_ROWS], green, amber) for i in range(0, len(items), CHART_ROWS)]
        out.append('<div class="legend">'
                   f'<span style="--c:#43a047">≥ {green:.0%}</span><span style="--c:#f9a825">≥ {amber:.0%}</span>'
                   f'<span style="--c:#d32f2f">&lt; {amber:.0%}</span>'
                   f'<span style="--c:#fff;--b:#7b8794">{e(_t("no_kpi", lang))}</span></div>')
        out.append(f'<p class="small">{e(_t("kpi_legend", lang, g=f"{green:.0%}", a=f"{amber:.0%}"))}</p>')
    else:
        out.append(f'<p class="small">{e(_t("no_metrics", lang, as_of=as_of.isoformat()))}</p>')
    out.append("</section>")

    # 5. week over week ---------------------------------------------------------------------
    out.append(f'<section id="wow"><h2>{e(_t("s_wow", lang))}</h2>')
    out.append(_wow(lang, weeks, multi, opened, resolved, opened_prev, resolved_prev))
    out.append("</section>")
    out.append(f"<footer>{e(_t('footer', lang))}</footer></body></html>\n")
    return "\n".join(out)


def _n(x) -> str:
    return str(x)


def _table(headers: list, rows: list[list[str]], cls: list[str] | None = None) -> str:
    """`headers` are texts or (text, css class); cells are already-escaped HTML."""
    heads, classes = [], []
    for h in headers:
        text, c = (h if isinstance(h, tuple) else (h, ""))
        heads.append(f'<th class="{c}">{html.escape(text)}</th>' if c else f"<th>{html.escape(text)}</th>")
        classes.append(c)
    body = []
    for r in rows:
        body.append("<tr>" + "".join(f'<td class="{c}">{v}</td>' if c else f"<td>{v}</td>"
                                     for v, c in zip(r, classes)) + "</tr>")
    return f"<table><thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _flag_table(lang: str, flags: list[dict], multi: bool, as_of: dt.date, extra: str) -> str:
    e = html.escape
    headers = [(_t("sev", lang), "nw"), (_t("flag", lang), "nw")] + ([_t("source", lang)] if multi else []) + [
        (_t("campaign", lang), "nw"), (_t("owner", lang), "nw"), _t("code", lang), (_t("amount", lang), "num"),
        (_t("first_seen", lang), "nw")]
    if extra == "resolved_on":
        headers += [(_t("resolved_on", lang), "nw"), (_t("days_open", lang), "num nw")]
    elif extra == "age":
        headers += [(_t("age", lang), "num nw"), (_t("status", lang), "nw")]
    headers.append((_t("message", lang), "msg"))
    rows = []
    for f in flags:
        sev = f["severity"]
        r = [f'<span class="sev sev-{e(sev)}">{e(_t(sev, lang) if sev in RANK else sev)}</span>',
             f"<code>{e(f['flag_id'])}</code>"] + ([e(f["label"])] if multi else []) + [
            e(f["campaign_id"] or "—"), e(f["owner"] or "—"), f"<code>{_breakable(f['code'])}</code>",
            e(_money(f["amount"])),
            e(f["first_seen"][:10])]
        if extra == "resolved_on":
            days = (dt.date.fromisoformat(f["resolved_on"][:10]) - dt.date.fromisoformat(f["first_seen"][:10])).days
            r += [e(f["resolved_on"][:10]), str(max(0, days))]
        elif extra == "age":
            st = "unverifiable" if f["status"] == "unverifiable" else "open"
            r += [str(_age(f, as_of)), e(_t(f"st_{st}", lang))]
        r.append(e(f["message"] or ""))
        rows.append(r)
    return _table(headers, rows)


def _breakable(code: str) -> str:
    """A rule code that may wrap after its underscores (OVERRUN_<wbr>UNAPPROVED)."""
    return "_<wbr>".join(html.escape(p) for p in code.split("_"))


def _freshness(lang: str, weeks: list[SourceWeek]) -> str:
    notes = []
    for sw in weeks:
        if sw.now.run_id is None:
            continue
        key = "figures_from" if sw.this_week.run_id is not None else "stale"
        notes.append((f"{sw.label}: " if len(weeks) > 1 else "") + _t(key, lang, d=sw.now.as_of))
    return f'<p class="small">{html.escape(" · ".join(notes))}</p>' if notes else ""


def _clip(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _nice_step(top: int) -> tuple[int, int]:
    """A round step (1, 2, 2.5 or 5 × 10^k cents) and how many steps (3–6) reach `top`."""
    k = 1
    while True:
        for m in (1, 2, 2.5, 5):
            step = int(m * k)
            n = -(-top // step)
            if step > 0 and n <= 6:
                return step, max(n, 1)
        k *= 10


def _budget_chart(lang: str, items: list[tuple[str, int, int]]) -> str:
    """Horizontal bars: the authorized budget as a grey track with a dark end mark, the spend
    over it, red when it exceeds the budget. Every bar has its figures written beside it."""
    e = html.escape
    W, left, right, top, row = 840, 150, 230, 8, 30
    h = top + row * len(items) + 24
    span = W - left - right
    step, ticks = _nice_step(max([max(s, a) for _, s, a in items] + [100]))
    top_value = step * ticks
    out = [f'<svg class="chart" viewBox="0 0 {W} {h}" role="img" '
           f'aria-label="{e(_t("s_budget", lang))}">']
    for i in range(ticks + 1):                          # grid lines at round amounts
        x = left + span * i / ticks
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - 20}" stroke="#e4e7eb"/>')
        out.append(f'<text class="muted" x="{x:.1f}" y="{h - 6}" text-anchor="middle">'
                   f'{e(_money(step * i))}</text>')
    for i, (name, spend, auth) in enumerate(items):
        y = top + i * row
        over = spend > auth
        wa, ws = span * auth / top_value, span * spend / top_value
        colour = "#d32f2f" if over else "#1e88e5"
        out.append(f'<g><title>{e(name)}: {e(_money(spend))} / {e(_money(auth))}</title>')
        out.append(f'<text x="{left - 8}" y="{y + 19}" text-anchor="end">{e(_clip(name))}</text>')
        out.append(f'<rect x="{left}" y="{y + 5}" width="{wa:.1f}" height="20" fill="#cfd8e3" stroke="#7b8794" '
                   f'stroke-width="1"/>')
        out.append(f'<rect x="{left}" y="{y + 9}" width="{max(ws, 0):.1f}" height="12" fill="{colour}"/>')
        if auth:
            out.append(f'<line x1="{left + wa:.1f}" y1="{y + 2}" x2="{left + wa:.1f}" y2="{y + 28}" '
                       f'stroke="#334e68" stroke-width="2"/>')
        share = f" · {spend / auth:.0%}" if auth else ""
        style = ' fill="#c62828" font-weight="700"' if over else ""
        out.append(f'<text x="{W - right + 10}" y="{y + 19}"{style}>'
                   f'{e(_money(spend))} / {e(_money(auth))}{e(share)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _kpi_colour(score: float, green: float, amber: float) -> str:
    return "#43a047" if score >= green else "#f9a825" if score >= amber else "#d32f2f"


def _kpi_chart(lang: str, items: list[tuple[str, float | None]], green: float, amber: float) -> str:
    e = html.escape
    W, left, right, top, row = 840, 150, 70, 8, 30
    h = top + row * len(items) + 24
    span = W - left - right
    scale = max([1.5] + [s for _, s in items if s is not None])
    out = [f'<svg class="chart" viewBox="0 0 {W} {h}" role="img" '
           f'aria-label="{e(_t("s_kpi", lang))}">']
    steps = int(scale / 0.25 + 0.999)
    for i in range(steps + 1):
        v = i * 0.25
        if v > scale + 1e-9:
            break
        x = left + span * v / scale
        if i % 2 == 0:
            out.append(f'<text class="muted" x="{x:.1f}" y="{h - 6}" text-anchor="middle">{v:.0%}</text>')
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - 20}" stroke="#e4e7eb"/>')
    for i, (name, score) in enumerate(items):
        y = top + i * row
        out.append(f'<g><title>{e(name)}: {e(_pct(score))}</title>')
        out.append(f'<text x="{left - 8}" y="{y + 19}" text-anchor="end">{e(_clip(name))}</text>')
        if score is None:
            out.append(f'<rect x="{left}" y="{y + 7}" width="{span:.1f}" height="16" fill="none" stroke="#cbd2d9" '
                       f'stroke-dasharray="4 3"/>')
            out.append(f'<text class="muted" x="{left + 8}" y="{y + 19}">{e(_t("no_kpi", lang))}</text></g>')
            continue
        w = span * min(score, scale) / scale
        fill = _kpi_colour(score, green, amber)
        out.append(f'<rect x="{left}" y="{y + 7}" width="{w:.1f}" height="16" fill="{fill}"/>')
        out.append(f'<text x="{W - right + 10}" y="{y + 19}">{e(_pct(score))}</text></g>')
    x = left + span * 1.0 / scale
    out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{h - 20}" stroke="#334e68" stroke-width="2" '
               f'stroke-dasharray="6 3"/>')
    out.append("</svg>")
    return "".join(out)


def _delta(now, before, money: bool = False, pct: bool = False, worse_when_up: bool | None = True) -> str:
    """The change with an arrow: red when it is a change for the worse, green for the
    better, neutral when neither (`worse_when_up=None`, e.g. spend)."""
    if now is None or before is None:
        return '<span class="flat">—</span>'
    d = now - before
    if abs(d) < 1e-9:
        return '<span class="flat">±0</span>'
    if worse_when_up is None:
        cls = "neutral"
    else:
        cls = ("up" if worse_when_up else "down") if d > 0 else ("down" if worse_when_up else "up")
    arrow = "▲" if d > 0 else "▼"
    text = _money(abs(d)) if money else f"{abs(d) * 100:.0f} pp" if pct else str(abs(d))
    return f'<span class="{cls}">{arrow} {html.escape(text)}</span>'


def _get(row, key):
    return None if row is None else row[key]


def _wow(lang, weeks, multi, opened, resolved, opened_prev, resolved_prev) -> str:
    e = html.escape
    out = []
    notes = []
    for sw in weeks:
        a = sw.this_week.as_of or _t("no_run", lang)
        b = sw.prev_week.as_of or _t("no_run", lang)
        notes.append((f"{sw.label}: " if multi else "") + _t("wow_runs", lang, a=a, b=b))
    out.append(f'<p class="small">{e(" · ".join(notes))}</p>')

    def tot(snap_rows, key):
        vals = [r[key] for r in snap_rows if r[key] is not None]
        return sum(vals) if vals else None

    def avg(snap_rows):
        vals = [r["kpi_score"] for r in snap_rows if r["kpi_score"] is not None]
        return sum(vals) / len(vals) if vals else None

    now_rows = [r for sw in weeks for r in sw.this_week.rows.values()]
    prev_rows = [r for sw in weeks for r in sw.prev_week.rows.values()]
    summary = [
        [e(_t("spend", lang)), e(_money(tot(now_rows, "spend"))), e(_money(tot(prev_rows, "spend"))),
         _delta(tot(now_rows, "spend"), tot(prev_rows, "spend"), money=True, worse_when_up=None)],
        [e(_t("avg_kpi", lang)), e(_pct(avg(now_rows))), e(_pct(avg(prev_rows))),
         _delta(avg(now_rows), avg(prev_rows), pct=True, worse_when_up=False)],
        [e(_t("flags_open", lang)), e(str(tot(now_rows, "flags_open") if now_rows else "—")),
         e(str(tot(prev_rows, "flags_open") if prev_rows else "—")),
         _delta(tot(now_rows, "flags_open"), tot(prev_rows, "flags_open"))],
        [e(_t("k_opened", lang)), str(len(opened)), str(len(opened_prev)), _delta(len(opened), len(opened_prev))],
        [e(_t("k_resolved", lang)), str(len(resolved)), str(len(resolved_prev)),
         _delta(len(resolved), len(resolved_prev), worse_when_up=False)],
    ]
    out.append('<div class="keep">' + _table(
        ["", (_t("this_week", lang), "num"), (_t("prev_week", lang), "num"), (_t("change", lang), "num")],
        summary) + "</div>")
    rows = []
    for sw in weeks:
        for cid in sorted(set(sw.this_week.rows) | set(sw.prev_week.rows)):
            n, p = sw.this_week.rows.get(cid), sw.prev_week.rows.get(cid)
            status = _get(n, "status") or _get(p, "status")
            dot = f'<span class="dot rag-{e(status)}"></span>{e(_t(status, lang))}' if status in (
                "red", "amber", "green", "grey") else "—"
            rows.append([e(f"{cid} · {sw.label}" if multi else cid), dot,
                         e(_money(_get(p, "spend"))), e(_money(_get(n, "spend"))),
                         _delta(_get(n, "spend"), _get(p, "spend"), money=True, worse_when_up=None),
                         e(_pct(_get(p, "kpi_score"))), e(_pct(_get(n, "kpi_score"))),
                         _delta(_get(n, "kpi_score"), _get(p, "kpi_score"), pct=True, worse_when_up=False),
                         e(str(_get(p, "flags_open") if p is not None else "—")),
                         e(str(_get(n, "flags_open") if n is not None else "—")),
                         _delta(_get(n, "flags_open"), _get(p, "flags_open"))])
    if rows:
        out.append(_table([(_t("campaign", lang), "nw"), (_t("rag", lang), "nw"), (_t("spend_prev", lang), "num"),
                           (_t("spend_now", lang), "num"), (_t("change", lang), "num"),
                           (_t("kpi_prev", lang), "num"), (_t("kpi_now", lang), "num"), (_t("change", lang), "num"),
                           (_t("flags_prev", lang), "num"), (_t("flags_now", lang), "num"),
                           (_t("change", lang), "num")], rows))
    return "\n".join(out)


def write_weekly(history_path: Path, out_path: Path, as_of: dt.date, lang: str,
                 sources: list[str] | None = None, **kpi) -> Path:
    """Write the report to `out_path` atomically (a temporary file beside it, synced, then
    moved over it in one step)."""
    out_path = Path(out_path)
    text = build_weekly(Path(history_path), as_of, lang, sources, **kpi)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, out_path.stat().st_mode & 0o777 if out_path.exists() else 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return out_path
