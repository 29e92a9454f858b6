"""Money and approval rules: overruns, budget use, approvals, changed plans."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ..exact import above, at_least
from ..headers import norm
from ..stages.compute import APPROVED_STATUSES
from . import MAX_IDS, Context, Flag, grouped, money, pct


@dataclass(frozen=True)
class Overrun:
    excess: int          # E = max(0, spend − planned)
    unapproved: int      # max(0, E − A − P)
    pending: int         # min(P, max(0, E − A))
    late: int            # money spent over budget before the approval covering it existed
    late_date: dt.date | int | None   # the day that amount was reached
    crossed: int | None  # index (in date order) of the expense that first went over budget


def overrun(planned: int, spend: list[tuple[dt.date, int]], approvals: list[tuple[dt.date, int]],
            pending: int) -> Overrun:
    """SPEC §5's overrun arithmetic, in integer cents.

    `spend` holds (date, amount) of every expense (committed or actual), `approvals`
    (decided_on, amount) of every approved request, `pending` the pending requests' total.
    """
    spend = sorted(spend, key=lambda x: x[0])
    approvals = sorted(approvals, key=lambda x: x[0])
    result = overrun_arrays(planned, np.array([d.toordinal() for d, _ in spend], dtype=np.int64),
                            np.array([a for _, a in spend], dtype=object),
                            np.array([d.toordinal() for d, _ in approvals], dtype=np.int64),
                            np.array([a for _, a in approvals], dtype=object), pending)
    late_date = dt.date.fromordinal(result.late_date) if result.late_date is not None else None
    return Overrun(result.excess, result.unapproved, result.pending, result.late, late_date, result.crossed)


def overrun_arrays(planned: int, days: np.ndarray, amounts: np.ndarray, appr_days: np.ndarray,
                   appr_amounts: np.ndarray, pending: int) -> Overrun:
    """The same on arrays: `days` sorted ascending (any integer day numbers), `appr_days`
    sorted too. With excess E = max(0, spend − planned), approved A and pending P:
      unapproved = max(0, E − A − P);  pending = min(P, max(0, E − A));
      late = max over the days d with spend of min(excess by d, A) − (approved on or before d), ≥ 0.
    Sums run in int64, or in Python integers when they could overflow it."""
    if len(amounts) and amounts.dtype != object and int(np.abs(amounts).max()) * len(amounts) >= 2**62:
        amounts = amounts.astype(object)
    cum = np.cumsum(amounts)
    total = int(cum[-1]) if len(cum) else 0
    A = int(sum(appr_amounts.tolist())) if len(appr_amounts) else 0
    E = max(0, total - planned)
    unapproved = max(0, E - A - pending)
    pend = min(pending, max(0, E - A))
    over = cum > planned
    crossed = int(np.argmax(over)) if len(cum) and over.any() else None
    late, late_day = 0, None
    if crossed is not None and A > 0:
        last_of_day = np.r_[np.nonzero(np.diff(days))[0], len(days) - 1]       # cumulative spend per day
        day, excess = days[last_of_day], np.maximum(cum[last_of_day] - planned, 0)
        appr_cum = np.r_[0, np.cumsum(appr_amounts)] if len(appr_amounts) else np.zeros(1, dtype=object)
        approved_by = appr_cum[np.searchsorted(appr_days, day, side="right")]
        value = np.maximum(np.minimum(excess, A) - approved_by, 0)
        k = int(np.argmax(value))
        if value[k] > 0:
            late, late_day = int(value[k]), int(day[k])
    return Overrun(E, unapproved, pend, late, late_day, crossed)


def _tolerance(ctx: Context, authorized: int) -> Decimal:
    t = ctx.thresholds
    return max(Decimal(str(t.overrun_tolerance_pct)) / 100 * authorized,
               Decimal(str(t.overrun_tolerance_min)) * 100)


def overruns(ctx: Context) -> list[Flag]:
    """OVERRUN_UNAPPROVED / OVERRUN_PENDING / OVERRUN_APPROVED_LATE per line and per campaign.
    Expenses are sorted once per view (group, date, row) and cut into contiguous groups;
    each group is a few numpy calls."""
    exp = ctx.ok("expenses")
    c = ctx.figures.campaigns
    if exp is None or exp.empty or c.empty:
        return []
    exp = exp[exp["campaign_id"].isin(c.index)]
    req = ctx.ok("overrun_requests")
    as_of = ctx.as_of.toordinal()
    approvals: dict[tuple, list] = {}
    pendings: dict[tuple, list] = {}
    if req is not None and not req.empty:
        for r in req.itertuples(index=False):
            line = r.line_id if isinstance(r.line_id, str) else None
            for key in ((r.campaign_id, None), (r.campaign_id, line)) if line else ((r.campaign_id, None),):
                if r.decision == "approved":
                    day = as_of if pd.isna(r.decided_on) else pd.Timestamp(r.decided_on).date().toordinal()
                    approvals.setdefault(key, []).append((day, int(r.amount), r))
                elif r.decision == "pending":
                    pendings.setdefault(key, []).append(r)
    out: list[Flag] = []
    budgets = {(cid, None): (int(p), int(a)) for cid, p, a in zip(c.index, c["planned"], c["authorized"])}
    lines = ctx.figures.lines
    if len(lines):
        budgets.update({(cid, line): (p, a) for cid, line, p, a in zip(
            lines.index.get_level_values(0), lines.index.get_level_values(1),
            lines["planned"].tolist(), lines["authorized"].tolist())})
    for view in ("campaign", "line"):
        e = exp if view == "campaign" else exp[exp["line_id"].notna()]
        if e.empty:
            continue               # e.g. every expense booked on the campaign as a whole (blank line)
        group_keys = e["campaign_id"] if view == "campaign" else e["campaign_id"] + "\x1f" + e["line_id"]
        codes, uniques = pd.factorize(group_keys)
        days = e["date"].to_numpy(dtype="datetime64[D]").astype(np.int64) + dt.date(1970, 1, 1).toordinal()
        order = np.lexsort((e["sheet_row"].to_numpy(), days, codes))      # by group, then date, then row
        e, days, codes = e.iloc[order], days[order], codes[order]
        amounts = e["amount"].to_numpy(dtype=np.int64)
        ids, rows = e["expense_id"].to_numpy(dtype=object), e["sheet_row"].to_numpy()
        bounds = np.r_[0, np.flatnonzero(np.diff(codes)) + 1, len(codes)]
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            key = uniques[codes[lo]]
            cid, line = (key, None) if view == "campaign" else tuple(key.split("\x1f", 1))
            if (cid, line) not in budgets:
                continue
            planned, authorized = budgets[(cid, line)]
            appr = sorted(approvals.get((cid, line), []), key=lambda a: a[0])
            pend = pendings.get((cid, line), [])
            result = overrun_arrays(planned, days[lo:hi], amounts[lo:hi],
                                    np.array([a[0] for a in appr], dtype=np.int64),
                                    np.array([a[1] for a in appr], dtype=np.int64),
                                    sum(int(p.amount) for p in pend))
            if result.unapproved or result.pending or result.late:
                out += _overrun_flags(ctx, cid, line, planned, authorized, ids[lo:hi], rows[lo:hi],
                                      amounts[lo:hi], result, [a[2] for a in appr], pend)
    return out


def _overrun_flags(ctx, cid, line, planned, authorized, ids, rows, amounts, result: Overrun, approved,
                   pending) -> list[Flag]:
    """The flags of one line or campaign; `ids`, `rows`, `amounts` are its expenses in date order."""
    tol = _tolerance(ctx, authorized)
    first = result.crossed if result.crossed is not None else len(ids)
    exp_ids = [str(x) for x in ids[first:first + MAX_IDS]]
    base = {"where": ctx.where(cid, line), "spend": money(int(amounts.sum())), "authorized": money(authorized),
            "planned": money(planned)}
    rec_exp, rec_req = ctx.tables["expenses"], ctx.tables.get("overrun_requests")
    evidence = [(rec_exp.tab, int(x), rec_exp.cell("amount", int(x))) for x in rows[first:first + MAX_IDS]]
    n_exp = len(ids) - first
    out = []

    def flag(code, amount, ids, count, extra=None, ev=None):
        out.append(Flag(code, cid, line or "", line, ctx.owner(cid), amount, count, ids[:MAX_IDS],
                        ev if ev is not None else evidence, {**base, **(extra or {})}))

    if result.unapproved > tol:
        flag("OVERRUN_UNAPPROVED", result.unapproved, exp_ids, n_exp)
    if result.pending > tol:
        ids = [str(p.request_id) for p in pending]
        ev = [(rec_req.tab, int(p.sheet_row), rec_req.cell("decision", int(p.sheet_row))) for p in pending]
        approvers = sorted({p.approver for p in pending if isinstance(p.approver, str)})
        flag("OVERRUN_PENDING", result.pending, ids + exp_ids, len(ids) + n_exp,
             {"approver": ", ".join(approvers) or {"en": "the approver", "zh-CN": "审批人"}}, ev)
    if result.late > tol:
        ids = [str(a.request_id) for a in approved]
        flag("OVERRUN_APPROVED_LATE", result.late, exp_ids + ids, n_exp + len(ids),
             {"date": dt.date.fromordinal(result.late_date).isoformat() if result.late_date else "—"})
    return out


def budget_nearly_used(ctx: Context) -> list[Flag]:
    c = ctx.figures.campaigns
    if c.empty:
        return []
    at = ctx.thresholds.nearly_used_at
    used = np.array([at_least(u, at) for u in c["utilisation_x"].tolist()], dtype=bool)
    hit = c[used & (c["spend"] <= c["authorized"]) & (c["authorized"] > 0)]
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
    ahead = [above(b, t.burn_ahead_index) and at_least(u, t.burn_ahead_min_utilisation)
             for b, u in zip(c["burn_x"].tolist(), c["utilisation_x"].tolist())]
    hit = c[c["running"] & np.array(ahead, dtype=bool)]
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
