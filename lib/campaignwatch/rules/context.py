"""What every rule works with: the context (records, figures, thresholds, as-of), the `@rule`
declaration, `grouped` (one flag per campaign for offending records), contained faults, and
the money / share formatting of message params. The rules import this module; the package
(`rules/__init__.py`) lists them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from ..flags import Found, money
from ..stages.compute import Figures
from ..stages.normalise import Records

MAX_IDS = 50          # IDs listed on one flag (the count is always complete)

__all__ = ["MAX_IDS", "Context", "Fault", "Found", "RuleSpec", "Thresholds", "fault", "grouped", "money", "pct",
           "people_aliases", "rule"]


def pct(x: float | None) -> str:
    return "—" if x is None or pd.isna(x) else f"{x:.0%}"


def _default(key: str):
    from ..config import SETTING_BY_KEY
    return SETTING_BY_KEY[key].default


@dataclass
class Thresholds:
    """The rules' thresholds; defaults are the settings' (config.SETTINGS), not a copy."""
    overrun_tolerance_pct: float = _default("rules.overrun_tolerance_pct")
    overrun_tolerance_min: float = _default("rules.overrun_tolerance_min")
    nearly_used_at: float = _default("rules.nearly_used_at")
    burn_ahead_index: float = _default("rules.burn_ahead_index")
    burn_ahead_min_utilisation: float = _default("rules.burn_ahead_min_utilisation")
    expense_grace_days: int = _default("rules.expense_grace_days")
    kpi_stale_days: int = _default("rules.kpi_stale_days")
    exec_plan_lead_days: int = _default("rules.exec_plan_lead_days")
    incident_escalation_hours: int = _default("rules.incident_escalation_hours")
    feedback_response_days: int = _default("rules.feedback_response_days")
    risk_high_score: int = _default("rules.risk_high_score")
    summary_due_days: int = _default("rules.summary_due_days")
    missed_below: float = _default("kpi.missed_below")

    @classmethod
    def from_config(cls, cfg) -> "Thresholds":
        t = cls(**{k: cfg[f"rules.{k}"] for k in cls.__dataclass_fields__ if f"rules.{k}" in cfg.values})
        t.missed_below = cfg["kpi.missed_below"]
        return t


@dataclass
class Context:
    tables: dict[str, Records]
    figures: Figures
    as_of: dt.date
    thresholds: Thresholds
    lang: str = "en"
    plans: dict = field(default_factory=dict)               # campaign -> history.PlanHistory (approved plans seen)
    aliases: dict[str, str] = field(default_factory=dict)   # normalised name/alias -> person
    faults: list = field(default_factory=list)              # rules that failed unexpectedly (Fault)

    def ok(self, key: str) -> pd.DataFrame | None:
        rec = self.tables.get(key)
        return None if rec is None else rec.ok

    def has(self, key: str, *columns: str) -> bool:
        rec = self.tables.get(key)
        return rec is not None and set(columns) <= rec.present

    @cached_property
    def _unknown(self) -> dict[str, frozenset]:
        c = self.figures.campaigns
        return {} if c.empty else {cid: u for cid, u in zip(c.index, c["unknown"]) if u}

    def blocked(self, code: str, cid: str | None, line: str | None = None) -> bool:
        """This code cannot be evaluated for this campaign: a campaign cell it reads is unreadable.
        A budget line's own flag needs only that line's planned amount: a readable line is checked
        even when another line of the campaign was left out."""
        from . import CODE_FIELDS
        unknown = self._unknown.get(cid)
        hit = bool(unknown) and unknown & CODE_FIELDS.get(code, frozenset())
        if hit and line and hit == {"planned"}:
            lines = self.figures.lines
            return not (len(lines) and (cid, line) in lines.index)
        return bool(hit)

    def verifiable(self, code: str, cid: str | None) -> bool:
        """Could this run have raised the flag? (For a flag no longer raised: resolved or unverifiable.)"""
        from . import verifiable as records_allow
        if any(code in f.codes for f in self.faults):
            return False
        return not self.blocked(code, cid) and records_allow(self.tables, code, cid)

    @cached_property
    def _campaign_text(self) -> dict[str, tuple[str, str | None]]:
        c = self.figures.campaigns
        if c.empty:
            return {}
        return {cid: (f"{cid} {n}".strip() if isinstance(n, str) else cid, o if isinstance(o, str) else None)
                for cid, n, o in zip(c.index, c["name"], c["owner"])}

    def where(self, cid: str, line: str | None = None) -> str:
        text = self._campaign_text.get(cid, (cid, None))[0]
        return f"{text} / {line}" if line else text

    def owner(self, cid: str) -> str | None:
        return self._campaign_text.get(cid, (cid, None))[1]

    def evidence(self, table: str, rows, column: str) -> list[tuple[str, int, str]]:
        rec = self.tables[table]
        return [(rec.tab, int(r), rec.cell(column, int(r))) for r in rows]


def grouped(ctx: Context, code: str, table: str, frame: pd.DataFrame, id_col: str, cell_col: str,
            amount_col: str | None = None, **params) -> list[Found]:
    """One flag per campaign for the offending records in `frame` (plain arrays, no
    per-group DataFrames: a workbook may hold thousands of offending rows). A callable
    param is called with the campaign ID."""
    out: list[Found] = []
    if frame is None or frame.empty:
        return out
    frame = frame.sort_values(["campaign_id", "sheet_row"], kind="stable")
    cids = frame["campaign_id"].tolist()
    ids = [str(x) for x in frame[id_col].tolist()]
    rows = frame["sheet_row"].tolist()
    amounts = frame[amount_col].to_numpy(dtype=object) if amount_col else None
    starts = [0] + [i for i in range(1, len(cids)) if cids[i] != cids[i - 1]] + [len(cids)]
    for lo, hi in zip(starts, starts[1:]):
        cid = cids[lo]
        amount = int(sum(amounts[lo:hi])) if amount_col else None
        p = {"where": ctx.where(cid)}
        for k, v in params.items():
            p[k] = v(cid) if callable(v) else v
        out.append(Found(code=code, campaign_id=cid, owner=ctx.owner(cid), amount=amount, count=hi - lo,
                         ids=ids[lo:min(hi, lo + MAX_IDS)],
                         evidence=ctx.evidence(table, rows[lo:min(hi, lo + MAX_IDS)], cell_col), params=p))
    return out


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    """What a rule declares next to its code (`@rule`)."""
    codes: tuple[str, ...]          # the flag codes it raises, each in flagcodes.CODES
    tables: tuple[str, ...]         # the tables it reads (`rules.verifiable`)
    fields: frozenset = frozenset()  # the campaign fields it reads (stages.compute.FIELDS; `Context.blocked`)


def rule(*, codes: tuple[str, ...], tables: tuple[str, ...], fields=frozenset()):
    """Declare what a rule raises and reads, next to its code:
    - `codes`: when the rule fails unexpectedly, exactly these are unverifiable for the run
      (never "resolved" because the check did not run);
    - `tables`: a flag that is no longer raised is "resolved" only when these were read and the
      campaign's rows in them are all valid; otherwise it is "unverifiable";
    - `fields`: when one of these campaign fields cannot be read for a campaign, its codes are
      neither raised nor resolved for it (unverifiable there), and every other code is still checked.
    `rules.RULES`, `CODE_TABLES` and `CODE_FIELDS` are derived from these declarations."""
    def mark(fn):
        fn.spec = RuleSpec(codes=tuple(codes), tables=tuple(tables), fields=frozenset(fields))
        return fn
    return mark


@dataclass(frozen=True, kw_only=True)
class Fault:
    """An unexpected fault inside one part of the pipeline (a rule, a stage, a tab): the rest ran."""
    part: str                              # e.g. "rule burn_ahead", "tab Budget"
    error: str                             # exception type and message
    codes: frozenset = frozenset()         # flag codes left unverifiable by it


def fault(part: str, exc: BaseException, codes=frozenset()) -> Fault:
    return Fault(part=part, error=f"{type(exc).__name__}: {exc}"[:300], codes=frozenset(codes))


def people_aliases(tables: dict[str, Records]) -> dict[str, str]:
    """Normalised name or alias -> the person's name, from the people table."""
    from ..headers import norm
    rec = tables.get("people")
    out: dict[str, str] = {}
    if rec is None:
        return out
    for name, aliases in zip(rec.ok["name"], rec.ok["aliases"]):
        out[norm(name)] = name
        if isinstance(aliases, str):
            for a in aliases.replace("，", ",").replace("、", ",").replace(";", ",").split(","):
                if a.strip():
                    out.setdefault(norm(a), name)
    return out
