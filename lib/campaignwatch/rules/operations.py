"""Record and execution rules: receipts, dates, duplicates, KPIs, tasks, incidents,
feedback, risks, summary reports. Whole-column operations; one flag per campaign."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exact import below
from .context import Context, Found, grouped, pct, rule


_EXPENSES = ("campaigns", "expenses")
_TASKS = ("campaigns", "tasks")


def _today(ctx: Context) -> np.datetime64:
    return np.datetime64(ctx.as_of, "D")


def _known(ctx: Context, df: pd.DataFrame) -> pd.DataFrame:
    return df[df["campaign_id"].isin(ctx.figures.campaigns.index)]


@rule(codes=("EXPENSE_NO_RECEIPT",), tables=_EXPENSES)
def expense_no_receipt(ctx: Context) -> list[Found]:
    exp = ctx.ok("expenses")
    if exp is None or not ctx.has("expenses", "receipt_no"):
        return []
    bad = _known(ctx, exp[(exp["stage"] != "committed") & exp["receipt_no"].isna()])
    return grouped(ctx, "EXPENSE_NO_RECEIPT", "expenses", bad, "expense_id", "receipt_no", "amount")


@rule(codes=("EXPENSE_RECEIPT_REUSED",), tables=_EXPENSES)
def expense_receipt_reused(ctx: Context) -> list[Found]:
    exp = ctx.ok("expenses")
    if exp is None or not ctx.has("expenses", "receipt_no"):
        return []
    has = exp[exp["receipt_no"].notna()]
    canonical = {r: r if r.isupper() and " " not in r else "".join(r.upper().split())     # each distinct once
                 for r in set(has["receipt_no"].tolist())}
    receipt = has["receipt_no"].map(canonical)
    bad = _known(ctx, has[receipt.duplicated(keep=False)])
    receipts = bad.groupby("campaign_id")["receipt_no"].agg(lambda r: ", ".join(sorted(set(r)))).to_dict()
    return grouped(ctx, "EXPENSE_RECEIPT_REUSED", "expenses", bad, "expense_id", "receipt_no", "amount",
                   receipts=receipts.get)


@rule(codes=("EXPENSE_OUTSIDE_WINDOW",), tables=_EXPENSES, fields={"dates"})
def expense_outside_window(ctx: Context) -> list[Found]:
    exp = ctx.ok("expenses")
    c = ctx.figures.campaigns
    if exp is None or exp.empty or c.empty:
        return []
    grace = np.timedelta64(ctx.thresholds.expense_grace_days, "D")
    e = _known(ctx, exp)
    start = e["campaign_id"].map(c["start_date"])
    end = e["campaign_id"].map(c["end_date"])
    bad = e[(e["date"] < start - grace) | (e["date"] > end + grace)]
    starts = {cid: str(d)[:10] for cid, d in zip(c.index, c["start_date"])}
    ends = {cid: str(d)[:10] for cid, d in zip(c.index, c["end_date"])}
    return grouped(ctx, "EXPENSE_OUTSIDE_WINDOW", "expenses", bad, "expense_id", "date", "amount",
                   start=starts.get, end=ends.get)


@rule(codes=("EXPENSE_DUPLICATE_SUSPECTED",), tables=_EXPENSES)
def expense_duplicate_suspected(ctx: Context) -> list[Found]:
    exp = ctx.ok("expenses")
    if exp is None or exp.empty or not ctx.has("expenses", "vendor"):
        return []
    e = _known(ctx, exp[exp["vendor"].notna()])
    keys = ["campaign_id", "date", "amount", "vendor"]
    bad = e[e.duplicated(keys, keep=False)]
    return grouped(ctx, "EXPENSE_DUPLICATE_SUSPECTED", "expenses", bad, "expense_id", "amount", "amount")


@rule(codes=("KPI_OFF_TRACK", "KPI_MISSED", "KPI_NO_RECENT_DATA"),
      tables=("campaigns", "kpi_targets", "kpi_actuals"), fields={"dates", "status"})
def kpi_rules(ctx: Context) -> list[Found]:
    """KPI_OFF_TRACK (running, red against expected-to-date), KPI_MISSED (ended, below
    kpi.missed_below), KPI_NO_RECENT_DATA (running, no actual within kpi_stale_days)."""
    k = ctx.figures.kpis
    c = ctx.figures.campaigns
    if k.empty:
        return []
    out = []
    rec = ctx.tables["kpi_targets"]
    today = _today(ctx)
    stale = np.timedelta64(ctx.thresholds.kpi_stale_days, "D")
    camps = c[["running", "ended", "start_date"]].to_dict("index")
    for r in k.itertuples(index=False):
        camp = camps[r.campaign_id]
        ev = [(rec.tab, int(r.sheet_row), rec.cell("target", int(r.sheet_row)))]
        p = {"where": ctx.where(r.campaign_id), "kpi": r.label, "target": _num(r.target),
             "actual": _num(r.actual), "expected": _num(r.expected), "attainment": pct(r.attainment)}
        owner = ctx.owner(r.campaign_id)
        def found(code: str, params: dict) -> Found:
            return Found(code=code, campaign_id=r.campaign_id, key=r.kpi, owner=owner, ids=(r.kpi,), evidence=ev,
                         params=params)
        if camp["running"] and r.status == "red":
            out.append(found("KPI_OFF_TRACK", p))
        if camp["ended"] and below(r.attainment_x, ctx.thresholds.missed_below):
            out.append(found("KPI_MISSED", p))
        if not camp["running"] or r.derived:
            continue
        started = np.datetime64(camp["start_date"], "D")
        if today - started >= stale:
            last = None if r.last_date is None or pd.isna(r.last_date) else np.datetime64(r.last_date, "D")
            if last is None or today - last > stale:
                out.append(found("KPI_NO_RECENT_DATA", {**p, "last": str(last) if last is not None else str(started)}))
    return out


def _num(x) -> str:
    if x is None or pd.isna(x):
        return "—"
    if abs(x) < 10 and x != int(x):
        return f"{x:.2f}"
    return f"{x:,.0f}"


@rule(codes=("TASK_OVERDUE",), tables=_TASKS)
def task_overdue(ctx: Context) -> list[Found]:
    t = ctx.ok("tasks")
    if t is None or t.empty or not ctx.has("tasks", "due"):
        return []
    done = (t["status"] == "done") | t["done_on"].notna()
    bad = _known(ctx, t[~done & t["due"].notna() & (t["due"] < _today(ctx))])
    return grouped(ctx, "TASK_OVERDUE", "tasks", bad, "task_id", "due")


@rule(codes=("TASK_NO_OWNER",), tables=_TASKS)
def task_no_owner(ctx: Context) -> list[Found]:
    t = ctx.ok("tasks")
    if t is None or t.empty or not ctx.has("tasks", "owner"):
        return []
    done = (t["status"] == "done") | t["done_on"].notna()
    bad = _known(ctx, t[~done & t["owner"].isna()])
    return grouped(ctx, "TASK_NO_OWNER", "tasks", bad, "task_id", "owner")


@rule(codes=("EXEC_PLAN_MISSING",), tables=_TASKS, fields={"status", "approved_on", "dates"})
def exec_plan_missing(ctx: Context) -> list[Found]:
    c = ctx.figures.campaigns
    if c.empty or "tasks" not in ctx.tables:
        return []
    lead = ctx.thresholds.exec_plan_lead_days
    soon = (c["starts_within"] >= 0) & (c["starts_within"] <= lead)       # approved, starting within the lead
    hit = c[(c["running"] | soon) & (c["tasks"] == 0)]
    rec = ctx.tables["campaigns"]
    return [Found(code="EXEC_PLAN_MISSING", campaign_id=cid, key=cid, owner=ctx.owner(cid), ids=(cid,),
                  evidence=[(rec.tab, int(row["sheet_row"]), rec.cell("start_date", int(row["sheet_row"])))],
                  params={"where": ctx.where(cid), "start": str(row["start_date"])[:10]})
            for cid, row in hit.iterrows()]


@rule(codes=("INCIDENT_NOT_ESCALATED",), tables=("campaigns", "incidents"))
def incident_not_escalated(ctx: Context) -> list[Found]:
    inc = ctx.ok("incidents")
    if inc is None or inc.empty or not ctx.has("incidents", "reported_at"):
        return []
    hours = ctx.thresholds.incident_escalation_hours
    limit = np.timedelta64(hours, "h")
    now = np.datetime64(ctx.as_of, "s") + np.timedelta64(1, "D")     # end of the as-of day
    occurred = inc["occurred_at"]
    reported = inc["reported_at"]
    late = reported.notna() & (reported - occurred > limit)
    never = reported.isna() & (now - occurred > limit)
    bad = _known(ctx, inc[late | never])
    return grouped(ctx, "INCIDENT_NOT_ESCALATED", "incidents", bad, "incident_id", "reported_at", hours=hours)


@rule(codes=("FEEDBACK_UNANSWERED",), tables=("campaigns", "feedback"))
def feedback_unanswered(ctx: Context) -> list[Found]:
    fb = ctx.ok("feedback")
    if fb is None or fb.empty or not (ctx.has("feedback", "response") or ctx.has("feedback", "responded_on")):
        return []
    days = ctx.thresholds.feedback_response_days
    unanswered = fb["response"].isna() & fb["responded_on"].isna()
    bad = _known(ctx, fb[unanswered & (_today(ctx) - fb["received_on"] > np.timedelta64(days, "D"))])
    return grouped(ctx, "FEEDBACK_UNANSWERED", "feedback", bad, "feedback_id", "response", days=days)


@rule(codes=("RISK_HIGH_UNMITIGATED",), tables=("campaigns", "risks"))
def risk_high_unmitigated(ctx: Context) -> list[Found]:
    r = ctx.ok("risks")
    if r is None or r.empty or not ctx.has("risks", "probability", "impact"):
        return []
    score = ctx.thresholds.risk_high_score
    high = (r["probability"] * r["impact"] >= score) & (r["status"] != "closed")
    bad = _known(ctx, r[high & (r["mitigation"].isna() | r["owner"].isna())])
    return grouped(ctx, "RISK_HIGH_UNMITIGATED", "risks", bad, "risk_id", "mitigation", score=score)


@rule(codes=("SUMMARY_OVERDUE",), tables=("campaigns",), fields={"dates", "status"})
def summary_overdue(ctx: Context) -> list[Found]:
    c = ctx.figures.campaigns
    if c.empty or not ctx.has("campaigns", "summary_report"):
        return []
    days = ctx.thresholds.summary_due_days
    end = c["end_date"].to_numpy(dtype="datetime64[D]")
    due = end + np.timedelta64(days, "D") < _today(ctx)
    hit = c[due & c["summary_report"].isna().to_numpy() & ~c["status"].isin(("cancelled", "rejected", "draft")).to_numpy()]
    rec = ctx.tables["campaigns"]
    return [Found(code="SUMMARY_OVERDUE", campaign_id=cid, key=cid, owner=ctx.owner(cid), ids=(cid,),
                  evidence=[(rec.tab, int(row["sheet_row"]), rec.cell("summary_report", int(row["sheet_row"])))],
                  params={"where": ctx.where(cid), "end": str(row["end_date"])[:10], "days": days})
            for cid, row in hit.iterrows()]


RULES = (expense_no_receipt, expense_receipt_reused, expense_outside_window, expense_duplicate_suspected,
         kpi_rules, task_overdue, task_no_owner, exec_plan_missing, incident_not_escalated,
         feedback_unanswered, risk_high_unmitigated, summary_overdue)
