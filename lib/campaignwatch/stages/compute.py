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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import SETTING_BY_KEY
from ..contract import KPI_CATALOGUE, Kpi
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
    camps = _ok(tables, "campaigns")
    if camps is None:
        empty = pd.DataFrame()
        return Figures(empty, empty, empty, {k: int((~r.df["valid"]).sum()) for k, r in tables.items()})
    today = np.datetime64(as_of, "D")
    c = camps.set_index("campaign_id")[["name", "team", "owner", "status", "start_date", "end_date",
                                         "budget", "approved_by", "approved_on", "summary_report",
                                         "sheet_row"]].copy()
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
    start = c["start_date"].to_numpy(dtype="datetime64[D]")
    end = c["end_date"].to_numpy(dtype="datetime64[D]")
    total = (end - start).astype("int64") + 1
    gone = (today - start).astype("int64") + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        elapsed = np.clip(gone / np.where(total > 0, total, 1), 0.0, 1.0)
    c["elapsed"] = elapsed
    c["running"] = (start <= today) & (today <= end) & c["status"].isin(RUNNING_STATUSES).to_numpy()
    c["ended"] = end < today
    c["expected_to_date"] = np.rint(c["planned"].to_numpy() * elapsed).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        c["burn_index"] = np.where(elapsed > 0, c["utilisation"].to_numpy(dtype=float) / elapsed, np.nan)
        forecast = np.where(c["running"] & (elapsed > 0), c["spend"].to_numpy() / elapsed, np.nan)
    c["forecast"] = pd.array([None if np.isnan(v) else int(round(v)) for v in forecast], dtype="Int64")

    kpis = _kpis(tables, c, as_of, kpi)
    _kpi_rollup(c, kpis)
    _execution(tables, c, today)
    excluded = {k: int((~r.df["valid"]).sum()) for k, r in tables.items()}
    return Figures(c, lines, kpis, excluded)


def _money_figures(df: pd.DataFrame) -> None:
    if not len(df):
        for col in ("spend", "authorized", "available", "variance", "excess"):
            df[col] = pd.Series(dtype="int64")
        df["utilisation"] = pd.Series(dtype=float)
        df["variance_pct"] = pd.Series(dtype=float)
        return
    df["spend"] = df["committed"] + df["actual"]
    df["authorized"] = df["planned"] + df["approved"]
    df["available"] = df["authorized"] - df["spend"]
    df["variance"] = df["available"]
    df["excess"] = (df["spend"] - df["planned"]).clip(lower=0)
    auth = df["authorized"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["utilisation"] = np.where(auth > 0, df["spend"].to_numpy(dtype=float) / auth, np.nan)
        df["variance_pct"] = np.where(auth > 0, df["variance"].to_numpy(dtype=float) / auth, np.nan)


def _kpis(tables: Tables, c: pd.DataFrame, as_of: dt.date, s: KpiSettings) -> pd.DataFrame:
    targets = _ok(tables, "kpi_targets")
    cols = ["campaign_id", "kpi", "label", "target", "unit", "direction", "weight", "aggregate",
            "actual", "last_date", "expected", "attainment", "pacing", "score", "status", "derived", "sheet_row"]
    if targets is None or targets.empty:
        return pd.DataFrame(columns=cols)
    actuals = _ok(tables, "kpi_actuals")
    agg: dict[tuple[str, str], dict] = {}
    if actuals is not None and not actuals.empty:
        a = actuals[actuals["date"] <= np.datetime64(as_of, "D")]
        keys = {k: kpi_key(k)[0] for k in a["kpi"].unique()}
        a = a.assign(key=a["kpi"].map(keys)).sort_values(["date", "sheet_row"], kind="stable")
        g = a.groupby(["campaign_id", "key"])["value"]
        table = pd.DataFrame({"sum": g.sum(), "latest": g.last(), "average": g.mean(),
                              "last_date": a.groupby(["campaign_id", "key"])["date"].max()})
        agg = table.to_dict("index")
    camps = c[["running", "ended", "elapsed", "spend"]].to_dict("index")
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
            actual, last = float(found[aggregate]), found["last_date"]
        elif key in ("roi", "cpa"):
            actual = _derived(key, camps[t.campaign_id]["spend"], agg.get((t.campaign_id, "sales")),
                              agg.get((t.campaign_id, "conversions")))
            derived = actual is not None
        camp = camps[t.campaign_id]
        running, ended = bool(camp["running"]), bool(camp["ended"])
        target = float(t.target)
        expected = target * float(camp["elapsed"]) if (running and aggregate == "sum") else target
        attainment = _attain(actual, target, direction, s.cap)
        pacing = _attain(actual, expected, direction, s.cap)
        score = attainment if (ended or not running) else pacing
        if actual is None or not (running or ended):
            status = "grey"
        else:
            status = "green" if score >= s.green_at else "amber" if score >= s.amber_at else "red"
        weight = 1.0 if pd.isna(t.weight) else float(t.weight)
        rows.append([t.campaign_id, key, t.kpi, target, t.unit, direction, weight, aggregate, actual, last,
                     expected, attainment, pacing, score, status, derived, t.sheet_row])
    return pd.DataFrame(rows, columns=cols)


def _derived(key: str, spend_cents: int, sales: dict | None, conversions: dict | None) -> float | None:
    """ROI = (sales − spend) ÷ spend; CPA = spend ÷ conversions (sales and conversions summed)."""
    spend = float(spend_cents) / 100
    if key == "roi":
        return None if sales is None or spend <= 0 else (float(sales["sum"]) - spend) / spend
    total = None if conversions is None else float(conversions["sum"])
    return spend / total if total else None


def _attain(actual: float | None, target: float, direction: str, cap: float) -> float | None:
    """higher: actual ÷ target; lower: 2 − actual ÷ target; clamped to [0, cap].
    A zero target: higher is met by anything ≥ 0 (1.0); lower is met only by ≤ 0."""
    if actual is None:
        return None
    if target == 0:
        met = actual >= 0 if direction == "higher" else actual <= 0
        return 1.0 if met else 0.0
    ratio = actual / target
    value = ratio if direction == "higher" else 2 - ratio
    return float(min(max(value, 0.0), cap))


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
