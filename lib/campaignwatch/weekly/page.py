"""The HTML page (`render`): inline CSS, the sections, flag tables and the week-over-week table.
"""
from __future__ import annotations

import datetime as dt
import html

from .charts import budget_chart, kpi_chart
from .data import SourceWeek, age_days, between, open_at, over_budget
from .text import fmt_count, fmt_money, fmt_pct, tr


RANK = {"high": 3, "medium": 2, "low": 1}


CHART_ROWS = 24                           # bars per chart (a longer list is split over several charts)


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


def render_page(lang, as_of, start, prev_start, prev_end, history_path, weeks, flags, kpi_at, now: str) -> str:
    green, amber = kpi_at
    e = html.escape
    iso_year, iso_week, _ = as_of.isocalendar()
    week = tr("week", lang, w=f"{iso_year}-W{iso_week:02d}", y=iso_year, n=iso_week,
              a=start.isoformat(), b=as_of.isoformat())
    multi = len(weeks) > 1
    opened = [f for f in flags if between(f["first_seen"], start, as_of)]
    resolved = [f for f in flags if f["status"] == "resolved" and between(f["resolved_on"], start, as_of)]
    opened_prev = [f for f in flags if between(f["first_seen"], prev_start, prev_end)]
    resolved_prev = [f for f in flags if f["status"] == "resolved" and between(f["resolved_on"], prev_start, prev_end)]
    high = [f for f in flags if f["severity"] == "high" and open_at(f, as_of)]
    high.sort(key=lambda f: (-age_days(f, as_of), f["label"], f["campaign_id"] or "", f["flag_id"]))
    # campaigns of the latest figures, across sources
    camps = [(sw, cid, row) for sw in weeks for cid, row in sw.now.rows.items()]
    over = [c for c in camps if over_budget(c[0], c[1], c[2], flags)]
    runs = len(set().union(*(sw.run_ids for sw in weeks))) if weeks else 0
    failed = sum(sw.failed_runs for sw in weeks)

    def label(sw, cid):
        return f"{cid} · {sw.label}" if multi else cid

    out = [f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(tr('title', lang))} · {e(week)}</title><style>{_CSS}</style></head><body>"]
    out.append(f'<header><h1>{e(tr("title", lang))}</h1><p class="sub"><b>{e(week)}</b></p>'
               f'<p class="small">{e(tr("generated", lang, now=now, file=history_path.name, as_of=as_of.isoformat()))}'
               f'<br>{e(tr("sources", lang))}{"：" if lang == "zh-CN" else ": "}'
               f'{e(", ".join(sw.label for sw in weeks) or "—")}</p>')
    cards = [
        ("k_high", len(high), bool(high), ""),
        ("k_opened", len(opened), False, tr("prev", lang, n=len(opened_prev))),
        ("k_resolved", len(resolved), False, tr("prev", lang, n=len(resolved_prev))),
        ("k_over", len(over), bool(over), ""),
        ("k_runs", runs, bool(failed), tr("failed_runs", lang, n=failed) if failed else ""),
    ]
    out.append('<div class="cards">' + "".join(
        f'<div class="card{" bad" if bad else ""}"><div class="n">{n}</div><div class="l">{e(tr(k, lang))}'
        + (f"<br>{e(note)}" if note else "") + "</div></div>" for k, n, bad, note in cards) + "</div></header>")
    if not any(sw.now.run_id for sw in weeks) and not flags:
        out.append(f'<p><b>{e(tr("no_runs", lang, as_of=as_of.isoformat()))}</b></p>')

    # 1. what changed ----------------------------------------------------------------------
    out.append(f'<section class="first" id="changed"><h2>{e(tr("s_changed", lang))}</h2>')
    out.append(_table(
        [tr("source", lang), (tr("opened", lang), "num"), (tr("opened_high", lang), "num"),
         (tr("resolved", lang), "num"), (tr("open_end", lang), "num"), (tr("runs", lang), "num"),
         (tr("failed", lang), "num")],
        [[e(sw.label),
          fmt_count(sum(1 for f in opened if f["source"] == sw.key)),
          fmt_count(sum(1 for f in opened if f["source"] == sw.key and f["severity"] == "high")),
          fmt_count(sum(1 for f in resolved if f["source"] == sw.key)),
          fmt_count(sum(1 for f in flags if f["source"] == sw.key and open_at(f, as_of))),
          fmt_count(sw.runs), fmt_count(sw.failed_runs)] for sw in weeks]))
    out.append(f'<h3>{e(tr("l_opened", lang))} ({len(opened)})</h3>')
    opened.sort(key=lambda f: (-RANK.get(f["severity"], 0), f["label"], f["campaign_id"] or "", f["code"]))
    out.append(_flag_table(lang, opened, multi, as_of, "first_seen") if opened
               else f'<p class="small">{e(tr("none_opened", lang))}</p>')
    out.append(f'<h3>{e(tr("l_resolved", lang))} ({len(resolved)})</h3>')
    resolved.sort(key=lambda f: (-RANK.get(f["severity"], 0), f["label"], f["campaign_id"] or "", f["code"]))
    out.append(_flag_table(lang, resolved, multi, as_of, "resolved_on") if resolved
               else f'<p class="small">{e(tr("none_resolved", lang))}</p>')
    out.append("</section>")

    # 2. open high flags --------------------------------------------------------------------
    out.append(f'<section id="high"><h2>{e(tr("s_high", lang))} ({len(high)})</h2>')
    out.append(_flag_table(lang, high, multi, as_of, "age") if high
               else f'<p class="small">{e(tr("none_high", lang))}</p>')
    out.append("</section>")

    # 3. budget burn ------------------------------------------------------------------------
    out.append(f'<section id="budget"><h2>{e(tr("s_budget", lang))}</h2>')
    out.append(_freshness(lang, weeks))
    if camps:
        items = [(label(sw, cid), row["spend"] or 0, row["authorized"] or 0) for sw, cid, row in camps]
        out += [budget_chart(lang, items[i:i + CHART_ROWS]) for i in range(0, len(items), CHART_ROWS)]
        out.append('<div class="legend">'
                   f'<span style="--c:#cfd8e3;--b:#7b8794">{e(tr("authorized", lang))}</span>'
                   f'<span style="--c:#1e88e5">{e(tr("spend", lang))}</span>'
                   f'<span style="--c:#d32f2f">{e(tr("over", lang))}</span></div>')
        blocked = [(label(sw, cid), row["blocked"]) for sw, cid, row in camps
                   if "blocked" in row.keys() and row["blocked"]]
        if blocked:
            out.append(f'<p class="small"><b>⚠ {e(tr("blocked", lang))}</b> '
                       + "; ".join(f"{e(name)} ({e(cells)})" for name, cells in blocked) + "</p>")
    else:
        out.append(f'<p class="small">{e(tr("no_metrics", lang, as_of=as_of.isoformat()))}</p>')
    out.append("</section>")

    # 4. KPI attainment ---------------------------------------------------------------------
    out.append(f'<section id="kpi"><h2>{e(tr("s_kpi", lang))}</h2>')
    out.append(_freshness(lang, weeks))
    if camps:
        items = [(label(sw, cid), row["kpi_score"]) for sw, cid, row in camps]
        out += [kpi_chart(lang, items[i:i + CHART_ROWS], green, amber) for i in range(0, len(items), CHART_ROWS)]
        out.append('<div class="legend">'
                   f'<span style="--c:#43a047">≥ {green:.0%}</span><span style="--c:#f9a825">≥ {amber:.0%}</span>'
                   f'<span style="--c:#d32f2f">&lt; {amber:.0%}</span>'
                   f'<span style="--c:#fff;--b:#7b8794">{e(tr("no_kpi", lang))}</span></div>')
        out.append(f'<p class="small">{e(tr("kpi_legend", lang, g=f"{green:.0%}", a=f"{amber:.0%}"))}</p>')
    else:
        out.append(f'<p class="small">{e(tr("no_metrics", lang, as_of=as_of.isoformat()))}</p>')
    out.append("</section>")

    # 5. week over week ---------------------------------------------------------------------
    out.append(f'<section id="wow"><h2>{e(tr("s_wow", lang))}</h2>')
    out.append(_wow(lang, weeks, multi, opened, resolved, opened_prev, resolved_prev))
    out.append("</section>")
    out.append(f"<footer>{e(tr('footer', lang))}</footer></body></html>\n")
    return "\n".join(out)


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
    headers = [(tr("sev", lang), "nw"), (tr("flag", lang), "nw")] + ([tr("source", lang)] if multi else []) + [
        (tr("campaign", lang), "nw"), (tr("owner", lang), "nw"), tr("code", lang), (tr("amount", lang), "num"),
        (tr("first_seen", lang), "nw")]
    if extra == "resolved_on":
        headers += [(tr("resolved_on", lang), "nw"), (tr("days_open", lang), "num nw")]
    elif extra == "age":
        headers += [(tr("age", lang), "num nw"), (tr("status", lang), "nw")]
    headers.append((tr("message", lang), "msg"))
    rows = []
    for f in flags:
        sev = f["severity"]
        r = [f'<span class="sev sev-{e(sev)}">{e(tr(sev, lang) if sev in RANK else sev)}</span>',
             f"<code>{e(f['flag_id'])}</code>"] + ([e(f["label"])] if multi else []) + [
            e(f["campaign_id"] or "—"), e(f["owner"] or "—"), f"<code>{_breakable(f['code'])}</code>",
            e(fmt_money(f["amount"])),
            e(f["first_seen"][:10])]
        if extra == "resolved_on":
            days = (dt.date.fromisoformat(f["resolved_on"][:10]) - dt.date.fromisoformat(f["first_seen"][:10])).days
            r += [e(f["resolved_on"][:10]), str(max(0, days))]
        elif extra == "age":
            st = "unverifiable" if f["status"] == "unverifiable" else "open"
            r += [str(age_days(f, as_of)), e(tr(f"st_{st}", lang))]
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
        notes.append((f"{sw.label}: " if len(weeks) > 1 else "") + tr(key, lang, d=sw.now.as_of))
    return f'<p class="small">{html.escape(" · ".join(notes))}</p>' if notes else ""


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
    text = fmt_money(abs(d)) if money else f"{abs(d) * 100:.0f} pp" if pct else str(abs(d))
    return f'<span class="{cls}">{arrow} {html.escape(text)}</span>'


def _get(row, key):
    return None if row is None else row[key]


def _wow(lang, weeks, multi, opened, resolved, opened_prev, resolved_prev) -> str:
    e = html.escape
    out = []
    notes = []
    for sw in weeks:
        a = sw.this_week.as_of or tr("no_run", lang)
        b = sw.prev_week.as_of or tr("no_run", lang)
        notes.append((f"{sw.label}: " if multi else "") + tr("wow_runs", lang, a=a, b=b))
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
        [e(tr("spend", lang)), e(fmt_money(tot(now_rows, "spend"))), e(fmt_money(tot(prev_rows, "spend"))),
         _delta(tot(now_rows, "spend"), tot(prev_rows, "spend"), money=True, worse_when_up=None)],
        [e(tr("avg_kpi", lang)), e(fmt_pct(avg(now_rows))), e(fmt_pct(avg(prev_rows))),
         _delta(avg(now_rows), avg(prev_rows), pct=True, worse_when_up=False)],
        [e(tr("flags_open", lang)), e(str(tot(now_rows, "flags_open") if now_rows else "—")),
         e(str(tot(prev_rows, "flags_open") if prev_rows else "—")),
         _delta(tot(now_rows, "flags_open"), tot(prev_rows, "flags_open"))],
        [e(tr("k_opened", lang)), str(len(opened)), str(len(opened_prev)), _delta(len(opened), len(opened_prev))],
        [e(tr("k_resolved", lang)), str(len(resolved)), str(len(resolved_prev)),
         _delta(len(resolved), len(resolved_prev), worse_when_up=False)],
    ]
    out.append('<div class="keep">' + _table(
        ["", (tr("this_week", lang), "num"), (tr("prev_week", lang), "num"), (tr("change", lang), "num")],
        summary) + "</div>")
    rows = []
    for sw in weeks:
        for cid in sorted(set(sw.this_week.rows) | set(sw.prev_week.rows)):
            n, p = sw.this_week.rows.get(cid), sw.prev_week.rows.get(cid)
            status = _get(n, "status") or _get(p, "status")
            dot = f'<span class="dot rag-{e(status)}"></span>{e(tr(status, lang))}' if status in (
                "red", "amber", "green", "grey") else "—"
            rows.append([e(f"{cid} · {sw.label}" if multi else cid), dot,
                         e(fmt_money(_get(p, "spend"))), e(fmt_money(_get(n, "spend"))),
                         _delta(_get(n, "spend"), _get(p, "spend"), money=True, worse_when_up=None),
                         e(fmt_pct(_get(p, "kpi_score"))), e(fmt_pct(_get(n, "kpi_score"))),
                         _delta(_get(n, "kpi_score"), _get(p, "kpi_score"), pct=True, worse_when_up=False),
                         e(str(_get(p, "flags_open") if p is not None else "—")),
                         e(str(_get(n, "flags_open") if n is not None else "—")),
                         _delta(_get(n, "flags_open"), _get(p, "flags_open"))])
    if rows:
        out.append(_table([(tr("campaign", lang), "nw"), (tr("rag", lang), "nw"), (tr("spend_prev", lang), "num"),
                           (tr("spend_now", lang), "num"), (tr("change", lang), "num"),
                           (tr("kpi_prev", lang), "num"), (tr("kpi_now", lang), "num"), (tr("change", lang), "num"),
                           (tr("flags_prev", lang), "num"), (tr("flags_now", lang), "num"),
                           (tr("change", lang), "num")], rows))
    return "\n".join(out)
