"""The inline SVG charts: budget burn per campaign (`budget_chart`) and KPI attainment
(`kpi_chart`).
"""
from __future__ import annotations

import html

from .text import clip, fmt_money, fmt_pct, tr


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


def budget_chart(lang: str, items: list[tuple[str, int, int]]) -> str:
    """Horizontal bars: the authorized budget as a grey track with a dark end mark, the spend
    over it, red when it exceeds the budget. Every bar has its figures written beside it."""
    e = html.escape
    W, left, right, top, row = 840, 150, 230, 8, 30
    h = top + row * len(items) + 24
    span = W - left - right
    step, ticks = _nice_step(max([max(s, a) for _, s, a in items] + [100]))
    top_value = step * ticks
    out = [f'<svg class="chart" viewBox="0 0 {W} {h}" role="img" '
           f'aria-label="{e(tr("s_budget", lang))}">']
    for i in range(ticks + 1):                          # grid lines at round amounts
        x = left + span * i / ticks
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{h - 20}" stroke="#e4e7eb"/>')
        out.append(f'<text class="muted" x="{x:.1f}" y="{h - 6}" text-anchor="middle">'
                   f'{e(fmt_money(step * i))}</text>')
    for i, (name, spend, auth) in enumerate(items):
        y = top + i * row
        over = spend > auth
        wa, ws = span * auth / top_value, span * spend / top_value
        colour = "#d32f2f" if over else "#1e88e5"
        out.append(f'<g><title>{e(name)}: {e(fmt_money(spend))} / {e(fmt_money(auth))}</title>')
        out.append(f'<text x="{left - 8}" y="{y + 19}" text-anchor="end">{e(clip(name))}</text>')
        out.append(f'<rect x="{left}" y="{y + 5}" width="{wa:.1f}" height="20" fill="#cfd8e3" stroke="#7b8794" '
                   f'stroke-width="1"/>')
        out.append(f'<rect x="{left}" y="{y + 9}" width="{max(ws, 0):.1f}" height="12" fill="{colour}"/>')
        if auth:
            out.append(f'<line x1="{left + wa:.1f}" y1="{y + 2}" x2="{left + wa:.1f}" y2="{y + 28}" '
                       f'stroke="#334e68" stroke-width="2"/>')
        share = f" · {spend / auth:.0%}" if auth else ""
        style = ' fill="#c62828" font-weight="700"' if over else ""
        out.append(f'<text x="{W - right + 10}" y="{y + 19}"{style}>'
                   f'{e(fmt_money(spend))} / {e(fmt_money(auth))}{e(share)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _kpi_colour(score: float, green: float, amber: float) -> str:
    return "#43a047" if score >= green else "#f9a825" if score >= amber else "#d32f2f"


def kpi_chart(lang: str, items: list[tuple[str, float | None]], green: float, amber: float) -> str:
    e = html.escape
    W, left, right, top, row = 840, 150, 70, 8, 30
    h = top + row * len(items) + 24
    span = W - left - right
    scale = max([1.5] + [s for _, s in items if s is not None])
    out = [f'<svg class="chart" viewBox="0 0 {W} {h}" role="img" '
           f'aria-label="{e(tr("s_kpi", lang))}">']
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
        out.append(f'<g><title>{e(name)}: {e(fmt_pct(score))}</title>')
        out.append(f'<text x="{left - 8}" y="{y + 19}" text-anchor="end">{e(clip(name))}</text>')
        if score is None:
            out.append(f'<rect x="{left}" y="{y + 7}" width="{span:.1f}" height="16" fill="none" stroke="#cbd2d9" '
                       f'stroke-dasharray="4 3"/>')
            out.append(f'<text class="muted" x="{left + 8}" y="{y + 19}">{e(tr("no_kpi", lang))}</text></g>')
            continue
        w = span * min(score, scale) / scale
        fill = _kpi_colour(score, green, amber)
        out.append(f'<rect x="{left}" y="{y + 7}" width="{w:.1f}" height="16" fill="{fill}"/>')
        out.append(f'<text x="{W - right + 10}" y="{y + 19}">{e(fmt_pct(score))}</text></g>')
    x = left + span * 1.0 / scale
    out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{h - 20}" stroke="#334e68" stroke-width="2" '
               f'stroke-dasharray="6 3"/>')
    out.append("</svg>")
    return "".join(out)
