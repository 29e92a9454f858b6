"""Money and approval rules: overruns, budget use, approvals, changed plans."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ..headers import norm
from ..stages.compute import APPROVED_STATUSES
from . import MAX_IDS, Context, Flag, grouped, money, pct


@dataclass(frozen=True)
class Overrun:
    excess: int          # E = max(0, spend − planned)
    unapproved: int      # max(0, E − A − P)
    pending: int         # min(P, max(0, E − A))
    late: int            # money spent over budget before the approval covering it existed
    late_date: dt.date | None   # the day that amount was reached
    crossed: int | None  # index (in date order) of the expense that first went over budget


def overrun(planned: int, spend: list[tuple[dt.date, int]], approvals: list[tuple[dt.date, int]],
            pending: int) -> Overrun:
    """SPEC §5's overrun arithmetic, in integer cents.

    `spend` holds (date, amount) of every expense (committed or actual), `approvals`
    (decided_on, amount) of every approved request, `pending` the pending requests' total.
    late = max over the dates d on which spend was recorded of
    min(excess by d, A) − (approvals decided on or before d), floored at 0.
    """
    spend = sorted(spend, key=lambda x: x[0])
    total = sum(a for _, a in spend)
    A = sum(a for _, a in approvals)
    E = max(0, total - planned)
    unapproved = max(0, E - A - pending)
    pend = min(pending, max(0, E - A))
    late, late_date, crossed = 0, None, None
    decided = sorted(approvals, key=lambda x: x[0])
    cum, j, approved_by_d = 0, 0, 0
    i = 0
    while i < len(spend):
        d = spend[i][0]
        while i < len(spend) and spend[i][0] == d:          # all spend recorded on day d
            cum += spend[i][1]
            if crossed is None and cum > planned:
                crossed = i
            i += 1
        while j < len(decided) and decided[j][0] <= d:
            approved_by_d += decided[j][1]
            j += 1
        value = max(0, min(max(0, cum - planned), A) - approved_by_d)
        if value > late:
            late, late_date = value, d
    return Overrun(E, unapproved, pend, late, late_date, crossed)


def _tolerance(ctx: Context, authorized: int) -> Decimal:
    t = ctx.thresholds
    return max(Decimal(str(t.overrun_tolerance_pct)) / 100 * authorized,
               Decimal(str(t.overrun_tolerance_min)) * 100)


def _days(values) -> list[dt.date]:
    return [dt.date.fromisoformat(str(v)[:10]) for v in values]


def overruns(ctx: Context) -> list[Flag]:
    """OVERRUN_UNAPPROVED / OVERRUN_PENDING / OVERRUN_APPROVED_LATE per line and per campaign."""
    exp = ctx.ok("expenses")
    if exp is None or exp.empty:
        return []
    req = ctx.ok("overrun_requests")
    if req is None:
        req = pd.DataFrame(columns=["campaign_id", "line_id", "decision", "decided_on", "amount", "request_id", "sheet_row"])
    figures = ctx.figures
    as_of = np.datetime64(ctx.as_of, "D")
    exp = exp.sort_values(["date", "sheet_row"], kind="stable")
    out: list[Flag] = []
    exp_by_c = dict(tuple(exp.groupby("campaign_id")))
    req_by_c = dict(tuple(req.groupby("campaign_id"))) if len(req) else {}
    for cid, row in figures.campaigns.iterrows():
        e = exp_by_c.get(cid)
        if e is None:
            continue
        r = req_by_c.get(cid, req.iloc[0:0])
        out += _overrun_flags(ctx, cid, None, int(row["planned"]), int(row["authorized"]), e, r, as_of)
        if len(figures.lines) and cid in figures.lines.index.get_level_values(0):
            for line, lrow in figures.lines.loc[cid].iterrows():
                le = e[e["line_id"] == line]
                if le.empty:
                    continue
                lr = r[r["line_id"] == line]
                out += _overrun_flags(ctx, cid, line, int(lrow["planned"]), int(lrow["authorized"]), le, lr, as_of)
    return out


def _overrun_flags(ctx, cid, line, planned, authorized, e, r, as_of) -> list[Flag]:
    approved = r[r["decision"] == "approved"]
    pending = r[r["decision"] == "pending"]
    decided = approved["decided_on"].fillna(as_of)
    result = overrun(planned, list(zip(_days(e["date"]), e["amount"].astype("int64").tolist())),
                     list(zip(_days(decided), approved["amount"].astype("int64").tolist())),
                     int(pending["amount"].sum()) if len(pending) else 0)
    tol = _tolerance(ctx, authorized)
    key = line or ""
    crossing = e.iloc[result.crossed:] if result.crossed is not None else e.iloc[0:0]
    exp_ids = [str(x) for x in crossing["expense_id"]]
    spend = int(e["amount"].sum())
    base = {"where": ctx.where(cid, line), "spend": money(spend), "authorized": money(authorized),
            "planned": money(planned)}
    rec_exp, rec_req = ctx.tables["expenses"], ctx.tables.get("overrun_requests")
    evidence = [(rec_exp.tab, int(x), rec_exp.cell("amount", int(x))) for x in crossing["sheet_row"].head(MAX_IDS)]
    out = []

    def flag(code, amount, ids, extra=None, ev=None):
        out.append(Flag(code, cid, key, line, ctx.owner(cid), amount, len(ids), ids[:MAX_IDS],
                        ev if ev is not None else evidence, {**base, **(extra or {})}))

    if result.unapproved > tol:
        flag("OVERRUN_UNAPPROVED", result.unapproved, exp_ids)
    if result.pending > tol:
        ids = [str(x) for x in pending["request_id"]]
        ev = [(rec_req.tab, int(x), rec_req.cell("decision", int(x))) for x in pending["sheet_row"]] if rec_req else None
        approvers = sorted({a for a in pending.get("approver", pd.Series(dtype=object)) if isinstance(a, str)})
        flag("OVERRUN_PENDING", result.pending, ids + exp_ids,
             {"approver": ", ".join(approvers) or {"en": "the approver", "zh-CN": "审批人"}}, ev)
    if result.late > tol:
        ids = [str(x) for x in approved["request_id"]]
        flag("OVERRUN_APPROVED_LATE", result.late, exp_ids + ids,
             {"date": result.late_date.isoformat() if result.late_date else "—"})
    return out


def budget_nearly_used(ctx: Context) -> list[Flag]:
    c = ctx.figures.campaigns
    if c.empty:
        return []
    at = ctx.thresholds.nearly_used_at
    hit = c[(c["utilisation"] >= at) & (c["spend"] <= c["authorized"]) & (c["authorized"] > 0)]
    return [Flag("BUDGET_NEARLY_USED", cid, "", None, ctx.owner(cid), int(row["spend"]), 1, [],
                 _campaign_cell(ctx, row, "budget"),
                 {"where": ctx.where(cid), "utilisation": pct(row["utilisation"]), "spend": money(row["spend"]),
                  "authorized": money(row["authorized"]), "available": money(row["available"])})
            for cid, row in hit.iterrows()]


def burn_ahead(ctx: Context) -> list[Flag]:
    c = ctx.figures.campaigns
    if c.empty:
        return []
    t = ctx.thresholds
    hit = c[c["running"] & (c["burn_index"] > t.burn_ahead_index) & (c["utilisation"] >= t.burn_ahead_min_utilisation)]
    return [Flag("BURN_AHEAD", cid, "", None, ctx.owner(cid), int(row["spend"]), 1, [],
                 _campaign_cell(ctx, row, "budget"),
                 {"where": ctx.where(cid), "utilisation": pct(row["utilisation"]), "elapsed": pct(row["elapsed"]),
                  "burn": f"{row['burn_index']:.1f}"})
            for cid, row in hit.iterrows()]


def budget_mismatch(ctx: Context) -> list[Flag]:
    c = ctx.figures.campaigns
    if c.empty or not ctx.has("campaigns", "budget"):
        return []
    hit = c[(c["lines"] > 0) & c["budget"].notna()]
    hit = hit[hit["budget"].astype("int64") != hit["planned"]]
    return [Flag("BUDGET_MISMATCH", cid, "", None, ctx.owner(cid), abs(int(row["budget"]) - int(row["planned"])),
                 1, [cid], _campaign_cell(ctx, row, "budget"),
                 {"where": ctx.where(cid), "budget": money(row["budget"]), "planned": money(row["planned"])})
            for cid, row in hit.iterrows()]


def spend_before_approval(ctx: Context) -> list[Flag]:
    exp = ctx.ok("expenses")
    c = ctx.figures.campaigns
    if exp is None or exp.empty or c.empty:
        return []
    status = exp["campaign_id"].map(c["status"])
    approved_on = exp["campaign_id"].map(c["approved_on"])
    not_approved = ~status.isin(APPROVED_STATUSES)
    before = approved_on.notna() & (exp["date"] < approved_on)
    bad = exp[exp["campaign_id"].isin(c.index) & (not_approved | before)]
    return grouped(ctx, "SPEND_BEFORE_APPROVAL", "expenses", bad, "expense_id", "date", "amount")


def _person(ctx: Context, name) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return ctx.aliases.get(norm(name), norm(name))


def self_approval(ctx: Context) -> list[Flag]:
    out = []
    c = ctx.figures.campaigns
    sup = {"en": "their superior", "zh-CN": "上级"}
    people = ctx.ok("people")
    superiors = {}
    if people is not None and not people.empty:
        superiors = {_person(ctx, n): s for n, s in zip(people["name"], people["superior"]) if isinstance(s, str)}
    if not c.empty and ctx.has("campaigns", "approved_by", "owner"):
        for cid, row in c.iterrows():
            p = _person(ctx, row["approved_by"])
            if p and p == _person(ctx, row["owner"]):
                out.append(Flag("SELF_APPROVAL", cid, cid, None, ctx.owner(cid), int(row["planned"]), 1, [cid],
                                _campaign_cell(ctx, row, "approved_by"),
                                {"where": ctx.where(cid), "what": {"en": "the campaign was", "zh-CN": "活动"},
                                 "person": row["approved_by"], "role": {"en": "campaign owner", "zh-CN": "活动负责人"},
                                 "superior": superiors.get(p, sup)}))
    req = ctx.ok("overrun_requests")
    if req is not None and not req.empty and ctx.has("overrun_requests", "approver", "requested_by"):
        rec = ctx.tables["overrun_requests"]
        for r in req[req["decision"] == "approved"].itertuples(index=False):
            p = _person(ctx, r.approver)
            if p and p == _person(ctx, r.requested_by) and r.campaign_id in c.index:
                out.append(Flag("SELF_APPROVAL", r.campaign_id, str(r.request_id), r.line_id if isinstance(r.line_id, str) else None,
                                ctx.owner(r.campaign_id), int(r.amount), 1, [str(r.request_id)],
                                [(rec.tab, int(r.sheet_row), rec.cell("approver", int(r.sheet_row)))],
                                {"where": ctx.where(r.campaign_id),
                                 "what": {"en": f"overrun request {r.request_id} was", "zh-CN": f"超预算申请 {r.request_id} "},
                                 "person": r.approver, "role": {"en": "requester", "zh-CN": "申请人"},
                                 "superior": superiors.get(p, sup)}))
    return out


def plan_fingerprint(row) -> dict:
    """What PLAN_CHANGED_AFTER_APPROVAL compares: dates and planned budget of an approved plan."""
    return {"start_date": str(row["start_date"])[:10], "end_date": str(row["end_date"])[:10],
            "planned": int(row["planned"]), "approved_on": str(row["approved_on"])[:10]}


def approved_plans(ctx: Context) -> dict[str, dict]:
    c = ctx.figures.campaigns
    if c.empty:
        return {}
    hit = c[c["status"].isin(APPROVED_STATUSES)]
    return {cid: plan_fingerprint(row) for cid, row in hit.iterrows()}


def plan_changed(ctx: Context) -> list[Flag]:
    out = []
    labels = {"start_date": ("start", "开始日期"), "end_date": ("end", "结束日期"), "planned": ("budget", "预算")}
    for cid, now in approved_plans(ctx).items():
        first = ctx.plans.get(cid, {}).get(now["approved_on"])
        if not first:
            continue                       # first seen approved now, or re-approved: nothing to compare
        changes_en, changes_zh = [], []
        for k, (en, zh) in labels.items():
            if first[k] != now[k]:
                a, b = (money(first[k]), money(now[k])) if k == "planned" else (first[k], now[k])
                changes_en.append(f"{en} {a} → {b}")
                changes_zh.append(f"{zh} {a} → {b}")
        if changes_en:
            row = ctx.figures.campaigns.loc[cid]
            amount = abs(now["planned"] - first["planned"]) or None
            out.append(Flag("PLAN_CHANGED_AFTER_APPROVAL", cid, cid, None, ctx.owner(cid), amount, 1, [cid],
                            _campaign_cell(ctx, row, "end_date" if first["planned"] == now["planned"] else "budget"),
                            {"where": ctx.where(cid), "first_seen": first.get("seen", "—"),
                             "changes": {"en": "; ".join(changes_en), "zh-CN": "；".join(changes_zh)}}))
    return out


def _campaign_cell(ctx: Context, row, column: str) -> list[tuple[str, int, str]]:
    rec = ctx.tables["campaigns"]
    r = int(row["sheet_row"])
    return [(rec.tab, r, rec.cell(column, r))]


RULES = (overruns, budget_nearly_used, burn_ahead, budget_mismatch, spend_before_approval, self_approval,
         plan_changed)
