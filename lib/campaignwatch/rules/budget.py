"""Money and approval rules: overruns, budget use, approvals, changed plans."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ..contract import ENUMS
from ..exact import above, at_least
from ..headers import norm
from ..stages.compute import APPROVED_STATUSES
from .context import MAX_IDS, Context, Found, grouped, money, pct, rule


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


_BUDGET = ("campaigns", "budget_lines", "expenses", "overrun_requests")
_APPROVAL = frozenset({"status", "approved_on"})


@rule(codes=("OVERRUN_UNAPPROVED", "OVERRUN_PENDING", "OVERRUN_APPROVED_LATE"), tables=_BUDGET,
      fields={"planned"})
def overruns(ctx: Context) -> list[Found]:
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
    out: list[Found] = []
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
                   pending) -> list[Found]:
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
        out.append(Found(code=code, campaign_id=cid, key=line or "", line_id=line, owner=ctx.owner(cid),
                         amount=amount, count=count, ids=ids[:MAX_IDS], evidence=ev if ev is not None else evidence,
                         params={**base, **(extra or {})}))

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


@rule(codes=("BUDGET_NEARLY_USED",), tables=_BUDGET, fields={"planned"})
def budget_nearly_used(ctx: Context) -> list[Found]:
    c = ctx.figures.campaigns
    if c.empty:
        return []
    at = ctx.thresholds.nearly_used_at
    used = np.array([at_least(u, at) for u in c["utilisation_x"].tolist()], dtype=bool)
    hit = c[used & (c["spend"] <= c["authorized"]) & (c["authorized"] > 0)]
    return [Found(code="BUDGET_NEARLY_USED", campaign_id=cid, owner=ctx.owner(cid), amount=int(row["spend"]),
                  evidence=_campaign_cell(ctx, row, "budget"),
                  params={"where": ctx.where(cid), "utilisation": pct(row["utilisation"]), "spend": money(row["spend"]),
                          "authorized": money(row["authorized"]), "available": money(row["available"])})
            for cid, row in hit.iterrows()]


@rule(codes=("BURN_AHEAD",), tables=_BUDGET, fields={"planned", "dates", "status"})
def burn_ahead(ctx: Context) -> list[Found]:
    c = ctx.figures.campaigns
    if c.empty:
        return []
    t = ctx.thresholds
    ahead = [above(b, t.burn_ahead_index) and at_least(u, t.burn_ahead_min_utilisation)
             for b, u in zip(c["burn_x"].tolist(), c["utilisation_x"].tolist())]
    hit = c[c["running"] & np.array(ahead, dtype=bool)]
    return [Found(code="BURN_AHEAD", campaign_id=cid, owner=ctx.owner(cid), amount=int(row["spend"]),
                  evidence=_campaign_cell(ctx, row, "budget"),
                  params={"where": ctx.where(cid), "utilisation": pct(row["utilisation"]),
                          "elapsed": pct(row["elapsed"]), "burn": f"{row['burn_index']:.1f}"})
            for cid, row in hit.iterrows()]


@rule(codes=("BUDGET_MISMATCH",), tables=("campaigns", "budget_lines"), fields={"budget"})
def budget_mismatch(ctx: Context) -> list[Found]:
    c = ctx.figures.campaigns
    if c.empty or not ctx.has("campaigns", "budget"):
        return []
    hit = c[(c["lines"] > 0) & c["budget"].notna()]
    hit = hit[hit["budget"].astype("int64") != hit["planned"]]
    return [Found(code="BUDGET_MISMATCH", campaign_id=cid, owner=ctx.owner(cid),
                  amount=abs(int(row["budget"]) - int(row["planned"])), ids=(cid,),
                  evidence=_campaign_cell(ctx, row, "budget"),
                  params={"where": ctx.where(cid), "budget": money(row["budget"]), "planned": money(row["planned"])})
            for cid, row in hit.iterrows()]


@rule(codes=("SPEND_BEFORE_APPROVAL",), tables=("campaigns", "expenses"), fields=_APPROVAL)
def spend_before_approval(ctx: Context) -> list[Found]:
    """Expenses of a campaign never approved, or dated before its first approval (the
    earliest approval date the workbook or history knows). A cancelled or rejected campaign
    that was approved keeps only the spend before that date here; the spend after it is a
    plan change (PLAN_CHANGED_AFTER_APPROVAL)."""
    exp = ctx.ok("expenses")
    c = ctx.figures.campaigns
    if exp is None or exp.empty or c.empty:
        return []
    approved = c["status"].isin(APPROVED_STATUSES) | (c["status"].isin(WITHDRAWN) & _was_approved(ctx))
    first = _first_approvals(ctx)
    not_approved = ~exp["campaign_id"].map(approved).fillna(False).astype(bool)
    approved_on = exp["campaign_id"].map(first)
    before = approved_on.notna() & (exp["date"] < approved_on)
    bad = exp[exp["campaign_id"].isin(c.index) & (not_approved | before)]
    return grouped(ctx, "SPEND_BEFORE_APPROVAL", "expenses", bad, "expense_id", "date", "amount")


WITHDRAWN = ("cancelled", "rejected")      # statuses that end an approved plan


def _day(text) -> dt.date | None:
    """An ISO date as history stores it ('' or 'NaT' when the date was unknown)."""
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _first_approvals(ctx: Context) -> pd.Series:
    """campaign -> first approval date (Timestamp or NaT): the earlier of the workbook's
    `approved_on` and the earliest approval date history knows, so an `approved_on`
    overwritten with a later date does not move the first approval."""
    c = ctx.figures.campaigns
    first = pd.to_datetime(c["approved_on"])
    known = {}
    for cid, hist in ctx.plans.items():
        days = [d for key, fp in getattr(hist, "approvals", {}).items()
                for d in (_day(key), _day(fp.get("approved_on"))) if d is not None]
        if days and cid in first.index:
            known[cid] = pd.Timestamp(min(days))
    if known:
        first = first.astype("datetime64[s]")
        hist = pd.Series(known, dtype="datetime64[s]").reindex(first.index)
        first = first.where(first.notna() & ~(hist < first), hist)
    return first


def _was_approved(ctx: Context) -> pd.Series:
    """campaign -> True when it was approved at some point: `approved_on` or `approved_by`
    filled in, or history saw it approved."""
    c = ctx.figures.campaigns
    by = c["approved_by"].map(lambda x: isinstance(x, str) and bool(x.strip())).astype(bool)
    seen = pd.Series(c.index.isin([cid for cid, h in ctx.plans.items() if getattr(h, "approvals", None)]),
                     index=c.index)
    return c["approved_on"].notna() | by | seen


def _person(ctx: Context, name) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return ctx.aliases.get(norm(name), norm(name))


@rule(codes=("SELF_APPROVAL",), tables=("campaigns", "overrun_requests"), fields=_APPROVAL)
def self_approval(ctx: Context) -> list[Found]:
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
                out.append(Found(
                    code="SELF_APPROVAL", campaign_id=cid, key=cid, owner=ctx.owner(cid), amount=int(row["planned"]),
                    ids=(cid,), evidence=_campaign_cell(ctx, row, "approved_by"),
                    params={"where": ctx.where(cid), "what": {"en": "the campaign was", "zh-CN": "活动"},
                            "person": row["approved_by"], "role": {"en": "campaign owner", "zh-CN": "活动负责人"},
                            "superior": superiors.get(p, sup)}))
    req = ctx.ok("overrun_requests")
    if req is not None and not req.empty and ctx.has("overrun_requests", "approver", "requested_by"):
        rec = ctx.tables["overrun_requests"]
        for r in req[req["decision"] == "approved"].itertuples(index=False):
            p = _person(ctx, r.approver)
            if p and p == _person(ctx, r.requested_by) and r.campaign_id in c.index:
                out.append(Found(
                    code="SELF_APPROVAL", campaign_id=r.campaign_id, key=str(r.request_id),
                    line_id=r.line_id if isinstance(r.line_id, str) else None, owner=ctx.owner(r.campaign_id),
                    amount=int(r.amount), ids=(str(r.request_id),),
                    evidence=[(rec.tab, int(r.sheet_row), rec.cell("approver", int(r.sheet_row)))],
                    params={"where": ctx.where(r.campaign_id),
                            "what": {"en": f"overrun request {r.request_id} was",
                                     "zh-CN": f"超预算申请 {r.request_id} "},
                            "person": r.approver, "role": {"en": "requester", "zh-CN": "申请人"},
                            "superior": superiors.get(p, sup)}))
    return out


PLAN_FIELDS = ("start_date", "end_date", "planned")     # what a change of the approved plan is
_LABELS = {"start_date": ("start", "开始日期"), "end_date": ("end", "结束日期"), "planned": ("budget", "预算")}
_CELLS = {"start_date": "start_date", "end_date": "end_date", "planned": "budget"}


def plan_fingerprint(row) -> dict:
    """A plan as history keeps it: dates, planned budget, and whether it stands ('approved')
    or was cancelled / rejected."""
    status = row["status"] if row["status"] in WITHDRAWN else "approved"
    return {"start_date": str(row["start_date"])[:10], "end_date": str(row["end_date"])[:10],
            "planned": int(row["planned"]), "status": status}


def version_key(fp: dict) -> str:
    return json.dumps({k: fp[k] for k in (*PLAN_FIELDS, "status") if k in fp}, sort_keys=True)


@dataclass(frozen=True)
class PlanState:
    """One approved (or approved, then cancelled / rejected) campaign's plan against history."""
    campaign_id: str
    now: dict                       # the plan in the workbook (plan_fingerprint)
    first_approval: dt.date | None  # earliest approval date known (workbook or history)
    approval: str | None            # history's key of the approved baseline (None: none yet)
    baseline: dict | None           # the approved plan in history
    changes: tuple                  # (field, approved, now) on fields both fingerprints hold
    withdrawn_spend: int            # cancelled / rejected: money spent on or after the first approval
    change_approved: dt.date | None
    detected: dt.date | None        # first day history saw this plan version
    confirmed: bool                 # the change approval confirms the current plan

    @property
    def withdrawn(self) -> bool:
        """Cancelled or rejected after approval, with money spent, and not so in the baseline."""
        was = (self.baseline or {}).get("status", "approved")
        return self.now["status"] in WITHDRAWN and was != self.now["status"] and self.withdrawn_spend > 0

    @property
    def unapproved(self) -> bool:
        return bool(self.changes or self.withdrawn) and not self.confirmed


def plan_states(ctx: Context) -> list[PlanState]:
    """Every campaign whose plan is approved, or was approved and is now cancelled or
    rejected, with what history knows of it.

    The baseline is the plan history holds under the latest approval date (the first
    approval, or a change approval that confirmed a change). The current plan differs from
    it when a field both fingerprints hold differs (a field added to the fingerprint later
    is never a change), or when the campaign is now cancelled / rejected with money spent
    since its first approval. A `change_approved_on` later than the baseline's approval
    date — and, when history knows when this plan version was first seen, on or after that
    day — confirms the current plan."""
    c = ctx.figures.campaigns
    if c.empty:
        return []
    withdrawn = c["status"].isin(WITHDRAWN) & _was_approved(ctx)
    hit = c[c["status"].isin(APPROVED_STATUSES) | withdrawn]
    if hit.empty:
        return []
    first = _first_approvals(ctx)
    spend = _spend_since(ctx, first, hit.index[withdrawn.reindex(hit.index).to_numpy()])
    change = pd.Series(pd.NaT, index=hit.index)
    if ctx.has("campaigns", "change_approved_on"):
        ok = ctx.ok("campaigns").drop_duplicates("campaign_id").set_index("campaign_id")
        change = ok["change_approved_on"].reindex(hit.index)
    out = []
    for cid, row in hit.iterrows():
        hist = ctx.plans.get(cid)
        approvals = getattr(hist, "approvals", {}) or {}
        versions = getattr(hist, "versions", {}) or {}
        now = plan_fingerprint(row)
        f = first.get(cid)
        f = None if pd.isna(f) else pd.Timestamp(f).date()
        key = max(approvals, key=lambda k: _day(k) or dt.date.min) if approvals else None
        base = approvals.get(key) if key is not None else None
        changes = tuple((k, base[k], now[k]) for k in PLAN_FIELDS if base and k in base and base[k] != now[k])
        cao = change.get(cid)
        cao = None if pd.isna(cao) else pd.Timestamp(cao).date()
        detected = _day(versions.get(version_key(now)))
        floor = (_day(key) if key is not None else f) or dt.date.min
        confirmed = cao is not None and cao > floor and (detected is None or cao >= detected)
        out.append(PlanState(cid, now, f, key, base, changes, int(spend.get(cid, 0)), cao, detected, confirmed))
    return out


def _spend_since(ctx: Context, first: pd.Series, cids) -> pd.Series:
    """campaign -> money spent on or after its first approval (all of it when unknown)."""
    exp = ctx.ok("expenses")
    if exp is None or exp.empty or not len(cids):
        return pd.Series(dtype="int64")
    e = exp[exp["campaign_id"].isin(cids)]
    since = e["campaign_id"].map(first)
    e = e[since.isna() | (e["date"] >= since)]
    return e.groupby("campaign_id")["amount"].sum().astype("int64")


def approved_plans(ctx: Context) -> dict[str, dict]:
    """What history records for each campaign of `plan_states`: its plan `version` (first
    day seen), and an approved baseline under its `approval` date when there is a new one —
    the plan first seen approved (under its change approval date when one is filled in and
    later than the first approval), a change confirmed by a change approval, or a baseline
    completed with fields it lacked (fields added to the fingerprint since it was stored)."""
    out = {}
    for s in plan_states(ctx):
        first = s.first_approval.isoformat() if s.first_approval else ""
        rec = {"version": version_key(s.now), "approval": None, "plan": None}
        if s.baseline is None:
            if s.now["status"] == "approved":
                later = s.change_approved and (s.first_approval is None or s.change_approved > s.first_approval)
                rec.update(approval=s.change_approved.isoformat() if later else first,
                           plan={**s.now, "approved_on": first})
            elif s.confirmed and s.withdrawn_spend > 0:
                rec.update(approval=s.change_approved.isoformat(), plan={**s.now, "approved_on": first})
        elif (s.changes or s.withdrawn) and s.confirmed:
            rec.update(approval=s.change_approved.isoformat(),
                       plan={**s.now, "approved_on": s.baseline.get("approved_on") or first})
        elif not s.changes and not s.withdrawn and s.now["status"] == s.baseline.get("status", "approved"):
            merged = {**s.now, **s.baseline}
            merged.pop("seen", None)
            if set(merged) != set(s.baseline) - {"seen"}:
                rec.update(approval=s.approval, plan=merged)
        out[s.campaign_id] = rec
    return out


@rule(codes=("PLAN_CHANGED_AFTER_APPROVAL",),
      tables=("campaigns", "budget_lines", "expenses"),        # expenses: spend after a cancellation
      fields=_APPROVAL | {"dates", "planned"})
def plan_changed(ctx: Context) -> list[Found]:
    out = []
    c = ctx.figures.campaigns
    status = ENUMS["campaign_status"]
    for s in plan_states(ctx):
        if not s.unapproved:
            continue
        en, zh = [], []
        for k, a, b in s.changes:
            a, b = (money(a), money(b)) if k == "planned" else (a, b)
            en.append(f"{_LABELS[k][0]} {a} → {b}")
            zh.append(f"{_LABELS[k][1]} {a} → {b}")
        if s.withdrawn:
            since = s.first_approval.isoformat() if s.first_approval else "—"
            new = s.now["status"]
            en.append(f"status approved → {status.english(new)}, {money(s.withdrawn_spend)} spent since "
                      f"the approval on {since}")
            zh.append(f"状态 已批准 → {status.chinese(new)}，{since} 批准后已支出 {money(s.withdrawn_spend)}")
        row = c.loc[s.campaign_id]
        moved = row["approved_on"]
        if s.first_approval and pd.notna(moved) and pd.Timestamp(moved).date() > s.first_approval:
            en.append(f"approval date {s.first_approval} → {pd.Timestamp(moved).date()} (the first approval counts)")
            zh.append(f"审批日期 {s.first_approval} → {pd.Timestamp(moved).date()}（以首次审批为准）")
        if s.withdrawn:
            amount, cell = s.withdrawn_spend, "status"
        else:
            planned = next((x for x in s.changes if x[0] == "planned"), None)
            amount = abs(planned[2] - planned[1]) if planned else None
            cell = _CELLS[s.changes[0][0]]
        seen = (s.baseline or {}).get("seen") or (s.first_approval.isoformat() if s.first_approval else "—")
        out.append(Found(code="PLAN_CHANGED_AFTER_APPROVAL", campaign_id=s.campaign_id, key=s.campaign_id,
                         owner=ctx.owner(s.campaign_id), amount=amount or None, ids=(s.campaign_id,),
                         evidence=_campaign_cell(ctx, row, cell),
                         params={"where": ctx.where(s.campaign_id), "first_seen": seen,
                                 "changes": {"en": "; ".join(en), "zh-CN": "；".join(zh)}}))
    return out


def _campaign_cell(ctx: Context, row, column: str) -> list[tuple[str, int, str]]:
    rec = ctx.tables["campaigns"]
    r = int(row["sheet_row"])
    return [(rec.tab, r, rec.cell(column, r))]


RULES = (overruns, budget_nearly_used, burn_ahead, budget_mismatch, spend_before_approval, self_approval,
         plan_changed)
