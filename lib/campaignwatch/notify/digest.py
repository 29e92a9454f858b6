"""The digest of what changed in a run, in English or Chinese, as plain text (e-mail),
HTML (e-mail) and Markdown (group-chat robots).

Input is `changes.RunChanges`. Sections, in this order: sources that failed (nothing was
checked there), new flags, escalated flags (before → now), flags that became
unverifiable, waived flags (superiors see every waiver, with reason, by whom and until
when) and resolved flags; within a section the most severe first. Every flag line has
severity, flag ID, source, campaign, message, amount and first seen / days open.
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from ..changes import Change, RunChanges
from ..flagcodes import RANK
from ..values import money_text

SECTIONS = ("failed", "new", "escalated", "unverifiable", "waived", "resolved")

_T = {
    "title": ("campaignwatch digest", "campaignwatch 监控摘要"),
    "failed": ("Sources that could not be checked", "未能检查的数据源"),
    "new": ("New flags", "新增预警"),
    "escalated": ("Escalated flags", "升级的预警"),
    "unverifiable": ("Flags that can no longer be verified", "无法再核实的预警"),
    "waived": ("Waived flags", "已豁免的预警"),
    "resolved": ("Resolved flags", "已解决的预警"),
    "s_failed": ("{n} source(s) failed", "{n} 个数据源读取失败"),
    "s_new": ("{n} new", "新增 {n}"),
    "s_escalated": ("{n} escalated", "升级 {n}"),
    "s_unverifiable": ("{n} unverifiable", "无法核实 {n}"),
    "s_waived": ("{n} waived", "豁免 {n}"),
    "s_resolved": ("{n} resolved", "已解决 {n}"),
    "nothing": ("no changes", "无变化"),
    "nothing_long": ("Nothing changed since the previous run.", "与上次运行相比没有变化。"),
    "intro": ("What changed in the run of {as_of}:", "{as_of} 运行的变化："),
    "open_sources": ("Open flags per source", "各数据源未关闭预警数"),
    "source_line": ("{source}: {n} open flags, {over} campaign(s) over budget",
                    "{source}：未关闭预警 {n} 条，超预算活动 {over} 个"),
    "generated": ("Generated {now}.", "生成于 {now}。"),
    "high": ("high", "高"), "medium": ("medium", "中"), "low": ("low", "低"), "off": ("off", "关"),
    "since": ("first seen {d} ({n} d open)", "首次发现 {d}（已持续 {n} 天）"),
    "since_today": ("first seen {d} (today)", "首次发现 {d}（今天）"),
    "was_open": ("open {d} → {r} ({n} d)", "{d} 至 {r}（共 {n} 天）"),
    "waiver": ("waived by {by} on {on} until {until}: {reason}",
               "由 {by} 于 {on} 豁免，有效期至 {until}，理由：{reason}"),
    "more": ("… and {n} more (see the e-mail digest or the Flags tab)", "……另有 {n} 条（详见邮件摘要或“预警”标签页）"),
    "h_sev": ("Severity", "级别"), "h_id": ("Flag ID", "预警编号"), "h_source": ("Source", "数据源"),
    "h_campaign": ("Campaign", "活动"), "h_message": ("Message", "内容"), "h_amount": ("Amount", "金额"),
    "h_seen": ("First seen (days open)", "首次发现（持续天数）"),
    "short": ("{d} ({n} d)", "{d}（{n} 天）"), "short_today": ("{d} (today)", "{d}（今天）"),
    "short_was": ("{d} → {r} ({n} d)", "{d} 至 {r}（{n} 天）"), "h_error": ("Error", "错误"),
    "footer": ("Sent by campaignwatch. Answer a flag in the workbook's Flag responses tab.",
               "由 campaignwatch 发送。如需处理预警，请在工作簿的“预警处理”标签页填写。"),
}

_SEV_COLOUR = {"high": "#c62828", "medium": "#ef6c00", "low": "#9e9d24", "off": "#757575"}
_SEV_MARK = {"high": "🔴", "medium": "🟠", "low": "🟡", "off": "⚪"}


def t(key: str, lang: str, **kw) -> str:
    en, zh = _T[key]
    text = zh if lang == "zh-CN" else en
    return text.format(**kw) if kw else text


@dataclass
class Message:
    subject: str
    text: str
    markdown: str
    html: str
    lang: str = "en"
    urgent: bool = False      # something needs attention: a failed source, a new, escalated or unverifiable flag
    # what the Markdown is made of, so a robot with a size limit gets a shortened version
    _head: list[str] = field(default_factory=list, repr=False)
    _sections: list[tuple[str, list[str]]] = field(default_factory=list, repr=False)

    def markdown_within(self, limit: int) -> str:
        """The Markdown in at most `limit` UTF-8 bytes: every section heading stays (with its
        count); flag lines are kept in order until the budget is spent, then each shortened
        section ends with "… and N more"."""
        if _size(self.markdown) <= limit:
            return self.markdown
        fixed = _size(_join(self._head, [(h, [t("more", self.lang, n=len(ls))] if ls else [])
                                         for h, ls in self._sections]))
        budget = limit - fixed
        sections = []
        for heading, lines in self._sections:
            kept = []
            for line in lines:
                cost = _size(line) + 1
                if cost <= budget:
                    kept.append(line)
                    budget -= cost
                else:
                    break
            rest = len(lines) - len(kept)
            if rest:
                kept.append(t("more", self.lang, n=rest))
            sections.append((heading, kept))
        out = _join(self._head, sections)
        if _size(out) > limit:        # headings alone do not fit: cut on a character boundary
            out = out.encode("utf-8")[:max(0, limit - 4)].decode("utf-8", "ignore") + " …"
        return out


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _join(head: list[str], sections: list[tuple[str, list[str]]]) -> str:
    parts = ["\n".join(head)]
    for heading, lines in sections:
        parts.append("\n".join([heading, *lines]))
    return "\n\n".join(parts)


def should_send(changes: RunChanges, send_unchanged: bool = False) -> bool:
    """Nothing is sent when nothing changed (no flag changes, no failed source), unless
    `digest.send_unchanged`."""
    return send_unchanged or not changes.empty


class OwnerDigests(dict):
    """e-mail address -> that person's RunChanges; `without_address` lists the owners who
    have changes but no e-mail address in any people table (the caller logs them)."""

    def __init__(self):
        super().__init__()
        self.without_address: list[str] = []


def per_owner(changes: RunChanges) -> OwnerDigests:
    """Each campaign owner's own changes (`changes.for_owner`), keyed by their e-mail from
    `changes.emails`. Names that resolve to the same address (a person and an alias) are
    merged into one digest."""
    out = OwnerDigests()
    for owner in sorted(changes.owners()):
        address = changes.emails.get(owner) or changes.emails.get(owner.strip())
        if not address:
            out.without_address.append(owner)
            continue
        mine = changes.for_owner(owner)
        if address in out:
            seen = {id(c) for c in out[address].changes}
            out[address].changes.extend(c for c in mine.changes if id(c) not in seen)
        else:
            out[address] = mine
    return out


# -- composing -------------------------------------------------------------------------

def _ordered(changes: RunChanges, kind: str) -> list[Change]:
    return sorted(changes.of(kind), key=lambda c: (-RANK.get(c.flag.severity, 0), c.source,
                                                    c.flag.campaign_id or "", c.flag.code, c.flag.flag_id))


def _money(cents) -> str:
    return money_text(cents, blank="")


def _days(changes: RunChanges, c: Change) -> int | None:
    first = c.flag.first_seen
    return None if first is None else max(0, (changes.as_of - first).days)


def _seen(changes: RunChanges, c: Change, lang: str, short: bool = False) -> str:
    first = c.flag.first_seen
    if first is None:
        return ""
    n = _days(changes, c)
    p = "short_" if short else ""
    if c.kind == "resolved":
        return t(p + "was" if short else "was_open", lang, d=first.isoformat(), r=changes.as_of.isoformat(), n=n)
    if n == 0:
        return t(p + "today" if short else "since_today", lang, d=first.isoformat())
    return t("short" if short else "since", lang, d=first.isoformat(), n=n)


def _severity(c: Change, lang: str) -> str:
    now = t(c.flag.severity, lang) if c.flag.severity in RANK else c.flag.severity
    if c.kind == "escalated" and c.flag.previous_severity:
        before = t(c.flag.previous_severity, lang) if c.flag.previous_severity in RANK else c.flag.previous_severity
        return f"{before} → {now}"
    return now


def _waiver(c: Change, lang: str) -> str:
    r = c.flag.response or {}
    if c.kind != "waived":
        return ""

    def v(key):
        x = r.get(key)
        if isinstance(x, (dt.date, dt.datetime)):
            x = x.isoformat()[:10]
        return str(x).strip() if x not in (None, "") else "—"
    return t("waiver", lang, by=v("by"), on=v("on"), until=v("until"), reason=v("reason"))


def _message(c: Change, lang: str) -> str:
    try:
        return c.flag.message(lang)
    except Exception:          # a template missing a parameter must not stop the digest
        return c.flag.code


def _subject(changes: RunChanges, lang: str) -> str:
    parts = []
    if changes.failed:
        parts.append(t("s_failed", lang, n=len(changes.failed)))
    for kind in SECTIONS[1:]:
        n = len(changes.of(kind))
        if n:
            parts.append(t(f"s_{kind}", lang, n=n))
    what = (", " if lang != "zh-CN" else "，").join(parts) or t("nothing", lang)
    sep = ": " if lang != "zh-CN" else "："
    return f"{t('title', lang)} {changes.as_of.isoformat()}{sep}{what}"


def compose(changes: RunChanges, lang: str, now: str | None = None) -> Message:
    """The digest; `now` is the time it was made (`clock.stamp`, in general.timezone), shown
    under the heading when given."""
    lang = "zh-CN" if lang == "zh-CN" else "en"
    subject = _subject(changes, lang)
    kinds = [k for k in SECTIONS if (changes.failed if k == "failed" else changes.of(k))]
    stamp = [t("generated", lang, now=now)] if now else []

    # plain text ---------------------------------------------------------------------
    text = stamp + [t("intro", lang, as_of=changes.as_of.isoformat()) if kinds else t("nothing_long", lang)]
    for kind in kinds:
        if kind == "failed":
            items = changes.failed
            text += ["", f"{t(kind, lang)} ({len(items)})"]
            text += [f"  - {o.source}: {o.error or '—'}" for o in items]
            continue
        items = _ordered(changes, kind)
        text += ["", f"{t(kind, lang)} ({len(items)})"]
        for c in items:
            f = c.flag
            head = f"[{_severity(c, lang)}] {f.flag_id} · {c.source} · {f.campaign_id or '—'}"
            amount = _money(f.amount)
            text.append(f"  - {head}" + (f" · {amount}" if amount else ""))
            text.append(f"    {_message(c, lang)}")
            extra = [x for x in (_seen(changes, c, lang), _waiver(c, lang)) if x]
            text += [f"    {x}" for x in extra]
    _open_by_source(changes, lang, text)
    text += ["", t("footer", lang)]

    # markdown (robots) ---------------------------------------------------------------
    head = [f"**{subject}**"] + stamp
    sections: list[tuple[str, list[str]]] = []
    for kind in kinds:
        if kind == "failed":
            items = changes.failed
            sections.append((f"**{t(kind, lang)} ({len(items)})**",
                             [f"- ⚠️ {_md(o.source)}: {_md(o.error or '—')}" for o in items]))
            continue
        items = _ordered(changes, kind)
        lines = []
        for c in items:
            f = c.flag
            mark = {"resolved": "✅", "waived": "🔕"}.get(kind) or _SEV_MARK.get(f.severity, "")
            bits = [f"{mark} **{_severity(c, lang)}** `{f.flag_id}`", _md(c.source), _md(f.campaign_id or "—")]
            amount = _money(f.amount)
            if amount:
                bits.append(amount)
            line = " · ".join(bits) + f" — {_md(_message(c, lang))}"
            extra = [x for x in (_seen(changes, c, lang), _waiver(c, lang)) if x]
            if extra:
                line += " · " + " · ".join(_md(x) for x in extra)
            lines.append("- " + line)
        sections.append((f"**{t(kind, lang)} ({len(items)})**", lines))
    if not kinds:
        head.append(t("nothing_long", lang))
    markdown = _join(head, sections)

    urgent = bool(set(kinds) & {"failed", "new", "escalated", "unverifiable"})
    return Message(subject, "\n".join(text) + "\n", markdown, _html(changes, lang, subject, kinds, stamp), lang,
                   urgent, head, sections)


def _open_by_source(changes: RunChanges, lang: str, text: list[str]) -> None:
    ok = [o for o in changes.outcomes if o.status == "ok"]
    if ok:
        text += ["", t("open_sources", lang)]
        text += ["  - " + t("source_line", lang, source=o.source, n=o.open_flags, over=o.over_budget) for o in ok]


def _md(text: str) -> str:
    """Keep robot Markdown from being broken by what people typed."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("`", "'").replace("*", "∗")


def _html(changes: RunChanges, lang: str, subject: str, kinds: list[str], stamp: list[str]) -> str:
    e = html.escape
    td = 'style="padding:4px 8px;border-bottom:1px solid #e0e0e0;vertical-align:top"'
    nw = td[:-1] + ';white-space:nowrap"'
    th = 'style="padding:4px 8px;border-bottom:2px solid #9e9e9e;text-align:left;background:#f5f5f5"'
    out = [f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(subject)}</title></head>',
           ('<body style="font-family:-apple-system,\'Segoe UI\',\'PingFang SC\',\'Microsoft YaHei\','
            '\'Noto Sans CJK SC\',sans-serif;font-size:14px;color:#212121">'),
           f'<h2 style="margin:0 0 8px">{e(subject)}</h2>']
    out += [f'<p style="color:#757575;font-size:12px;margin:0 0 8px">{e(x)}</p>' for x in stamp]
    if not kinds:
        out.append(f"<p>{e(t('nothing_long', lang))}</p>")
    else:
        out.append(f"<p>{e(t('intro', lang, as_of=changes.as_of.isoformat()))}</p>")
    for kind in kinds:
        if kind == "failed":
            out.append(f'<h3 style="margin:16px 0 4px;color:#b71c1c">{e(t(kind, lang))} ({len(changes.failed)})</h3>')
            out.append('<table style="border-collapse:collapse;width:100%">'
                       f'<tr><th {th}>{e(t("h_source", lang))}</th><th {th}>{e(t("h_error", lang))}</th></tr>')
            for o in changes.failed:
                out.append(f"<tr><td {td}>{e(o.source)}</td><td {td}>{e(o.error or '—')}</td></tr>")
            out.append("</table>")
            continue
        items = _ordered(changes, kind)
        out.append(f'<h3 style="margin:16px 0 4px">{e(t(kind, lang))} ({len(items)})</h3>')
        out.append('<table style="border-collapse:collapse;width:100%"><tr>'
                   + "".join(f"<th {th}>{e(t(h, lang))}</th>" for h in
                             ("h_sev", "h_id", "h_source", "h_campaign", "h_message", "h_amount", "h_seen"))
                   + "</tr>")
        for c in items:
            f = c.flag
            colour = "#2e7d32" if kind == "resolved" else _SEV_COLOUR.get(f.severity, "#212121")
            msg = e(_message(c, lang))
            waiver = _waiver(c, lang)
            if waiver:
                msg += f'<br><span style="color:#6a1b9a">{e(waiver)}</span>'
            out.append(
                f"<tr><td {nw}><b style=\"color:{colour}\">{e(_severity(c, lang))}</b></td>"
                f"<td {nw}><code>{e(f.flag_id)}</code></td><td {td}>{e(c.source)}</td>"
                f"<td {nw}>{e(f.campaign_id or '—')}</td><td {td}>{msg}</td>"
                f"<td {nw} align=\"right\">{e(_money(f.amount))}</td>"
                f"<td {td}>{e(_seen(changes, c, lang, short=True))}</td></tr>")
        out.append("</table>")
    ok = [o for o in changes.outcomes if o.status == "ok"]
    if ok:
        out.append(f'<h3 style="margin:16px 0 4px">{e(t("open_sources", lang))}</h3><ul>')
        out += [f"<li>{e(t('source_line', lang, source=o.source, n=o.open_flags, over=o.over_budget))}</li>"
                for o in ok]
        out.append("</ul>")
    out.append(f'<p style="color:#757575;font-size:12px;margin-top:24px">{e(t("footer", lang))}</p></body></html>')
    return "\n".join(out)
