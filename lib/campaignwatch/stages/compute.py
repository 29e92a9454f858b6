"""Compute (SPEC §4): budget figures per line and campaign, KPI attainment, execution.

Pure: validated records in, figures out. Only rows that passed validation (`_ok`) count;
the figures say how many rows each table left out. Money stays in integer cents from
end to end; shares (utilisation, attainment, …) are floats, used for display and
thresholds, never for the over-budget comparison itself.

Formulas (the README repeats them):
  planned      = Σ budget lines' planned amount (the campaign's budget cell when it has no lines)
  approved     = Σ approved overrun requests;  pending = Σ pending requests
  authorized   = planned + approved
  committed    = Σ expenses at stage committed;  actual = Σ expenses at stage actual
  spend        = committed + actual
  available    = authorized − spend;  variance = authorized − spend (positive = under budget)
  variance %   = variance ÷ authorized;  utilisation = spend ÷ authorized
  elapsed      = (as-of − start + 1) ÷ (end − start + 1), clamped to [0, 1]
  expected     = planned × elapsed;  burn index = utilisation ÷ elapsed
  forecast     = spend ÷ elapsed (running campaigns only)
  ROI          = (sales − spend) ÷ spend;  CPA = spend ÷ conversions
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from ..config import SETTING_BY_KEY
from ..contract import KPI_CATALOGUE, Kpi
from ..exact import frac, ratio, show
from ..headers import norm
from .normalise import Records

Tables = dict[str, Records]
RUNNING_STATUSES = ("approved", "executing")
APPROVED_STATUSES = ("approved", "executing", "completed")


@dataclass
class KpiSettings:
    """Defaults are the settings' (config.SETTINGS), not a copy."""
    cap: float = SETTING_BY_KEY["kpi.attainment_cap"].default
    green_at: float = SETTING_BY_KEY["kpi.green_at"].default
    amber_at: float = SETTING_BY_KEY["kpi.amber_at"].default


@dataclass
class Figures:
    campaigns: pd.DataFrame          # one row per campaign (index campaign_id)
    lines: pd.DataFrame              # one row per (campaign_id, line_id)
    kpis: pd.DataFrame               # one row per (campaign_id, kpi)
    excluded_rows: dict[str, int] = field(default_factory=dict)


_KPI_INDEX: dict[str, Kpi] = {norm(n): k for k in KPI_CATALOGUE for n in (k.key, k.en, k.zh, *k.aliases)}


def kpi_key(text: str) -> tuple[str, Kpi | None]:
    """The catalogue key of a KPI as typed (custom KPIs keep their text)."""
    k = _KPI_INDEX.get(norm(text))
    return (k.key, k) if k else (text.strip(), None)


def _ok(tables: Tables, key: str) -> pd.DataFrame | None:
    rec = tables.get(key)
    return None if rec is None else rec.ok


def _sum_by(df: pd.DataFrame | None, keys: list[str], value: str, mask=None) -> pd.Series:
    if df is None or df.empty:
        return pd.Series(dtype="int64")
    if mask is not None:
        df = df[mask]
    return df.groupby(keys, dropna=True)[value].sum().astype("int64")


def compute(tables: Tables, as_of: dt.date, kpi: KpiSettings | None = None) -> Figures:
    kpi = kpi or KpiSettings()
    rec = tables.get("campaigns")
    if rec is None:
        empty = pd.DataFrame()
        return Figures(empty, empty, empty, {k: int((~r.df["valid"]).sum()) for k, r in tables.items()})
    today = np.datetime64(as_of, "D")
    c = campaign_rows(rec).set_index("campaign_id")[
        ["name", "team", "owner", "status", "start_date", "end_date", "budget", "approved_by", "approved_on",
         "summary_report", "sheet_row", "valid"]].copy()
    lines_df = _ok(tables, "budget_lines")
    exp = _ok(tables, "expenses")
    req = _ok(tables, "overrun_requests")

    # -- per budget line --------------------------------------------------------------
    if lines_df is not None and not lines_df.empty:
        lines = lines_df.set_index(["campaign_id", "line_id"])[["category", "planned_amount", "sheet_row"]].copy()
        lines = lines[lines.index.get_level_values(0).isin(c.index)]
        lines = lines.rename(columns={"planned_amount": "planned"})
        lines["planned"] = lines["planned"].astype("int64")
    else:
        lines = pd.DataFrame({"category": pd.Series(dtype=object), "planned": pd.Series(dtype="int64"),
                              "sheet_row": pd.Series(dtype="int64")},
                             index=pd.MultiIndex.from_tuples([], names=["campaign_id", "line_id"]))
    stage_committed = None if exp is None else exp["stage"] == "committed"
    decision = None if req is None else req["decision"]
    line_keys = ["campaign_id", "line_id"]
    for name, series in (
        ("committed", _sum_by(exp, line_keys, "amount", stage_committed)),
        ("actual", _sum_by(exp, line_keys, "amount", None if exp is None else ~stage_committed)),
        ("approved", _sum_by(req, line_keys, "amount", None if req is None else decision == "approved")),
        ("pending", _sum_by(req, line_keys, "amount", None if req is None else decision == "pending")),
    ):
        lines[name] = series.reindex(lines.index, fill_value=0).astype("int64") if len(lines) else \
            pd.Series(dtype="int64")
    _money_figures(lines)

    # -- per campaign -----------------------------------------------------------------
    by_c = ["campaign_id"]
    line_planned = lines.groupby(level=0)["planned"].sum() if len(lines) else pd.Series(dtype="int64")
    c["lines"] = lines.groupby(level=0).size().reindex(c.index, fill_value=0).astype("int64") \
        if len(lines) else 0
    c["planned"] = line_planned.reindex(c.index).astype("Int64")
    no_lines = c["lines"] == 0
    c.loc[no_lines, "planned"] = c.loc[no_lines, "budget"]
    c["planned_known"] = c["planned"].notna()
    c["planned"] = c["planned"].fillna(0).astype("int64")
    for name, series in (
        ("committed", _sum_by(exp, by_c, "amount", stage_committed)),
        ("actual", _sum_by(exp, by_c, "amount", None if exp is None else ~stage_committed)),
        ("approved", _sum_by(req, by_c, "amount", None if req is None else decision == "approved")),
        ("pending", _sum_by(req, by_c, "amount", None if req is None else decision == "pending")),
    ):
        c[name] = series.reindex(c.index, fill_value=0).astype("int64")
    _money_figures(c)
    _blocked(c, rec, tables.get("budget_lines"))
    _time_figures(c, today)
    _line_time_figures(lines, c)

    kpis = _kpis(tables, c, as_of, kpi)
    _kpi_rollup(c, kpis)
    _execution(tables, c, today)
    excluded = {k: int((~r.df["valid"]).sum()) for k, r in tables.items()}
    return Figures(c, lines, kpis, excluded)


def campaign_rows(rec: Records) -> pd.DataFrame:
    """Every campaign of the Campaigns tab — also one whose dates, status or budget cannot be read
    (it stays visible, marked with what blocks it): each row with an ID, the first of a repeated ID."""
    df = rec.df
    cid = df["campaign_id"]
    return df[cid.notna() & ~cid.duplicated(keep="first")]


# The campaign cells a rule may read, by field; a field is blocked for a campaign when its cell holds
# something that could not be understood. `rules.CODE_FIELDS` says which fields each flag code reads.
FIELDS = ("dates", "status", "budget", "planned", "approved_on")


def _blocked(c: pd.DataFrame, rec: Records, lines_rec: Records | None) -> None:
    """`blocked`: the campaign's cells that cannot be read, as (column key, cell, value as typed);
    `unknown`: the fields (FIELDS) that the rules therefore cannot use for this campaign."""
    rows = campaign_rows(rec)
    pos = np.flatnonzero(rec.df.index.isin(rows.index))
    start, end = rows["start_date"].to_numpy(), rows["end_date"].to_numpy()
    order = ~np.isnat(start) & ~np.isnat(end) & (end < start)
    cells = {
        "start_date": np.isnat(start) | order | rec.unreadable("start_date")[pos],
        "end_date": np.isnat(end) | order | rec.unreadable("end_date")[pos],
        "status": rows["status"].isna().to_numpy() | rec.unreadable("status")[pos],
        "budget": rec.unreadable("budget")[pos],
        "approved_on": rec.unreadable("approved_on")[pos],
    }
    bad_lines: dict[str, list] = {}           # campaign -> its budget-line cells left out (they block `planned`)
    if lines_rec is not None:
        df = lines_rec.df
        for p in np.flatnonzero(~df["valid"].to_numpy()).tolist():
            cid = df["campaign_id"].iat[p]
            if isinstance(cid, str):
                r = int(df["sheet_row"].iat[p])
                bad_lines.setdefault(cid, []).append(("planned_amount", lines_rec.cell("planned_amount", r),
                                                      lines_rec.typed("planned_amount", p)))
    no_lines = (c["lines"] == 0).to_numpy()
    planned_bad = (cells["budget"] & no_lines) | c.index.isin(list(bad_lines))
    blocked, unknown = [], []
    for i in range(len(c)):
        row = int(rows["sheet_row"].iat[i])
        blocked.append(tuple((k, rec.cell(k, row), rec.typed(k, int(pos[i]))) for k, m in cells.items() if m[i])
                       + tuple(bad_lines.get(c.index[i], ())[:8]))
        u = set()
        if cells["start_date"][i] or cells["end_date"][i]:
            u.add("dates")
        if cells["status"][i]:
            u.add("status")
        if cells["budget"][i]:
            u.add("budget")
        if planned_bad[i]:
            u.add("planned")
        if cells["approved_on"][i]:
            u.add("approved_on")
        unknown.append(frozenset(u))
    c["blocked"] = pd.Series(blocked, index=c.index, dtype=object)
    c["unknown"] = pd.Series(unknown, index=c.index, dtype=object)


def _time_figures(df: pd.DataFrame, today: np.datetime64) -> None:
    """Time elapsed (both ends counted, clamped to [0, 1]), expected to date, burn index and
    forecast — exact where a threshold reads them (`*_x` columns hold Fractions)."""
    start = df["start_date"].to_numpy(dtype="datetime64[D]")
    end = df["end_date"].to_numpy(dtype="datetime64[D]")
    known = ~np.isnat(start) & ~np.isnat(end) & (end >= start)
    total = np.where(known, (end - start).astype("int64") + 1, 0)
    gone = np.where(known, np.clip((today - start).astype("int64") + 1, 0, np.maximum(total, 0)), 0)
    df["days_total"], df["days_gone"] = total, gone
    status = df["status"]
    df["running"] = known & (start <= today) & (today <= end) & status.isin(RUNNING_STATUSES).to_numpy()
    df["ended"] = known & (end < today) & status.isin(APPROVED_STATUSES).to_numpy()
    df["starts_within"] = np.where(known & status.isin(RUNNING_STATUSES).to_numpy() & (today < start),
                                   (start - today).astype("int64"), -1)
    elapsed = [ratio(g, t) if k else None for g, t, k in zip(gone.tolist(), total.tolist(), known.tolist())]
    util = df["utilisation_x"].tolist()
    burn = [None if e is None or u is None or e == 0 else u / e for e, u in zip(elapsed, util)]
    df["elapsed_x"] = pd.Series(elapsed, index=df.index, dtype=object)
    df["burn_x"] = pd.Series(burn, index=df.index, dtype=object)
    df["elapsed"] = [show(e) for e in elapsed]
    df["burn_index"] = [show(b) for b in burn]
    planned = df["planned"].tolist()
    df["expected_to_date"] = pd.array([None if e is None else round(p * e) for p, e in zip(planned, elapsed)],
                                      dtype="Int64")
    spend = df["spend"].tolist()
    df["forecast"] = pd.array([round(s / e) if r and e else None
                               for s, e, r in zip(spend, elapsed, df["running"].tolist())], dtype="Int64")


def _line_time_figures(lines: pd.DataFrame, c: pd.DataFrame) -> None:
    """Budget lines take their campaign's time: elapsed, expected to date, burn index, forecast."""
    if not len(lines):
        for col in ("elapsed", "burn_index"):
            lines[col] = pd.Series(dtype=float)
        for col in ("expected_to_date", "forecast"):
            lines[col] = pd.Series(dtype="Int64")
        lines["burn_x"] = pd.Series(dtype=object)
        return
    cids = lines.index.get_level_values(0)
    elapsed = c["elapsed_x"].reindex(cids).tolist()
    running = c["running"].reindex(cids).tolist()
    util = lines["utilisation_x"].tolist()
    burn = [None if e is None or u is None or e == 0 else u / e for e, u in zip(elapsed, util)]
    lines["elapsed"] = [show(e) for e in elapsed]
    lines["burn_x"] = pd.Series(burn, index=lines.index, dtype=object)
    lines["burn_index"] = [show(b) for b in burn]
    lines["expected_to_date"] = pd.array([None if e is None else round(p * e)
                                          for p, e in zip(lines["planned"].tolist(), elapsed)], dtype="Int64")
    lines["forecast"] = pd.array([round(s / e) if r and e else None
                                  for s, e, r in zip(lines["spend"].tolist(), elapsed, running)], dtype="Int64")


def _money_figures(df: pd.DataFrame) -> None:
    if not len(df):
        for col in ("spend", "authorized", "available", "variance", "excess"):
            df[col] = pd.Series(dtype="int64")
        df["utilisation"] = pd.Series(dtype=float)
        df["utilisation_x"] = pd.Series(dtype=object)
        df["variance_pct"] = pd.Series(dtype=float)
        return
    df["spend"] = df["committed"] + df["actual"]
    df["authorized"] = df["planned"] + df["approved"]
    df["available"] = df["authorized"] - df["spend"]
    df["variance"] = df["available"]
    df["excess"] = (df["spend"] - df["planned"]).clip(lower=0)
    auth = df["authorized"].tolist()
    util = [ratio(s, a) if a > 0 else None for s, a in zip(df["spend"].tolist(), auth)]
    df["utilisation_x"] = pd.Series(util, index=df.index, dtype=object)
    df["utilisation"] = [show(u) for u in util]
    df["variance_pct"] = [show(ratio(v, a)) if a > 0 else math.nan for v, a in zip(df["variance"].tolist(), auth)]


def _kpis(tables: Tables, c: pd.DataFrame, as_of: dt.date, s: KpiSettings) -> pd.DataFrame:
    """Per campaign and KPI. Actuals aggregate exactly (each cell at its shortest decimal form),
    attainment and pacing are Fractions compared exactly with the thresholds (`attainment_x`),
    and shown as floats."""
    targets = _ok(tables, "kpi_targets")
    cols = ["campaign_id", "kpi", "label", "target", "unit", "direction", "weight", "aggregate",
            "actual", "last_date", "expected", "attainment", "pacing", "score", "status", "derived", "sheet_row",
            "attainment_x"]
    if targets is None or targets.empty:
        return pd.DataFrame(columns=cols)
    actuals = _ok(tables, "kpi_actuals")
    agg: dict[tuple[str, str], dict] = {}
    if actuals is not None and not actuals.empty:
        a = actuals[actuals["date"] <= np.datetime64(as_of, "D")]
        keys = {k: kpi_key(k)[0] for k in a["kpi"].unique()}
        exact = {v: frac(v) for v in set(a["value"].tolist())}
        a = a.assign(key=a["kpi"].map(keys), x=a["value"].map(exact)).sort_values(["date", "sheet_row"], kind="stable")
        g = a.groupby(["campaign_id", "key"])["x"]
        total = g.apply(lambda v: sum(v, Fraction(0)))
        count = g.size()
        average = pd.Series([t / int(n) for t, n in zip(total.tolist(), count.tolist())], index=total.index,
                            dtype=object)
        table = pd.DataFrame({"sum": total, "latest": g.last(), "average": average,
                              "last_date": a.groupby(["campaign_id", "key"])["date"].max()})
        agg = table.to_dict("index")
    camps = c[["running", "ended", "elapsed_x", "spend"]].to_dict("index")
    cap, green, amber = frac(s.cap), frac(s.green_at), frac(s.amber_at)
    rows = []
    for t in targets.itertuples(index=False):
        if t.campaign_id not in camps:
            continue
        key, cat = kpi_key(t.kpi)
        direction = t.direction if isinstance(t.direction, str) else (cat.direction if cat else "higher")
        aggregate = cat.aggregate if cat else "sum"
        found = agg.get((t.campaign_id, key))
        actual, last, derived = None, None, False
        if found is not None:
            actual, last = found[aggregate], found["last_date"]
        elif key in ("roi", "cpa"):
            actual = _derived(key, camps[t.campaign_id]["spend"], agg.get((t.campaign_id, "sales")),
                              agg.get((t.campaign_id, "conversions")))
            derived = actual is not None
        camp = camps[t.campaign_id]
        running, ended = bool(camp["running"]), bool(camp["ended"])
        target = frac(t.target)
        expected = target * camp["elapsed_x"] if (running and aggregate == "sum") else target
        attainment = _attain(actual, target, direction, cap)
        pacing = _attain(actual, expected, direction, cap)
        score = attainment if (ended or not running) else pacing
        if actual is None or not (running or ended):
            status = "grey"
        else:
            status = "green" if score >= green else "amber" if score >= amber else "red"
        weight = 1.0 if pd.isna(t.weight) else float(t.weight)
        rows.append([t.campaign_id, key, t.kpi, float(target), t.unit, direction, weight, aggregate,
                     None if actual is None else float(actual), last, float(expected), show_or_none(attainment),
                     show_or_none(pacing), show_or_none(score), status, derived, t.sheet_row, attainment])
    return pd.DataFrame(rows, columns=cols)


def show_or_none(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def _derived(key: str, spend_cents: int, sales: dict | None, conversions: dict | None) -> Fraction | None:
    """ROI = (sales − spend) ÷ spend; CPA = spend ÷ conversions (sales and conversions summed)."""
    spend = Fraction(int(spend_cents), 100)
    if key == "roi":
        return None if sales is None or spend <= 0 else (sales["sum"] - spend) / spend
    total = None if conversions is None else conversions["sum"]
    return spend / total if total else None


def _attain(actual: Fraction | None, target: Fraction, direction: str, cap: Fraction) -> Fraction | None:
    """higher: actual ÷ target; lower: 2 − actual ÷ target; clamped to [0, cap] — exactly.
    A zero target: higher is met by anything ≥ 0 (1); lower is met only by ≤ 0."""
    if actual is None:
        return None
    if target == 0:
        met = actual >= 0 if direction == "higher" else actual <= 0
        return Fraction(1 if met else 0)
    r = actual / target
    value = r if direction == "higher" else 2 - r
    return min(max(value, Fraction(0)), cap)


def _kpi_rollup(c: pd.DataFrame, kpis: pd.DataFrame) -> None:
    """Weighted campaign score over the KPIs that have data; how many have none."""
    c["kpi_score"] = np.nan
    c["kpis"] = 0
    c["kpis_without_data"] = 0
    c["kpi_red"] = 0
    c["kpi_amber"] = 0
    if kpis.empty:
        return
    k = kpis.copy()
    k["has"] = k["score"].notna()
    k["w"] = np.where(k["has"], k["weight"], 0.0)
    k["ws"] = np.where(k["has"], k["weight"] * k["score"].fillna(0).astype(float), 0.0)
    g = k.groupby("campaign_id")
    wsum = g["w"].sum()
    score = (g["ws"].sum() / wsum.replace(0, np.nan))
    c["kpi_score"] = score.reindex(c.index)
    c["kpis"] = g.size().reindex(c.index, fill_value=0)
    c["kpis_without_data"] = g["has"].apply(lambda s: int((~s).sum())).reindex(c.index, fill_value=0)
    c["kpi_red"] = (k["status"] == "red").groupby(k["campaign_id"]).sum().reindex(c.index, fill_value=0)
    c["kpi_amber"] = (k["status"] == "amber").groupby(k["campaign_id"]).sum().reindex(c.index, fill_value=0)


def _execution(tables: Tables, c: pd.DataFrame, today: np.datetime64) -> None:
    """Tasks: total, done, done on time, overdue (due, not done), without owner."""
    tasks = _ok(tables, "tasks")
    for col in ("tasks", "tasks_done", "tasks_on_time", "tasks_overdue", "tasks_no_owner"):
        c[col] = 0
    if tasks is None or tasks.empty:
        return
    t = tasks[tasks["campaign_id"].isin(c.index)]
    done = (t["status"] == "done") | t["done_on"].notna()
    on_time = done & t["done_on"].notna() & t["due"].notna() & (t["done_on"] <= t["due"])
    overdue = ~done & t["due"].notna() & (t["due"] < today)
    no_owner = t["owner"].isna()
    g = t["campaign_id"]
    c["tasks"] = g.value_counts().reindex(c.index, fill_value=0)
    for col, mask in (("tasks_done", done), ("tasks_on_time", on_time), ("tasks_overdue", overdue),
                      ("tasks_no_owner", no_owner)):
        c[col] = mask.groupby(g).sum().reindex(c.index, fill_value=0).astype(int)
