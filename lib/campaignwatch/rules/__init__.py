"""Rules (SPEC §5): each a small function from the context to flags, with a stable code.

`RULES` is the explicit list; adding a rule is adding a function to it and its code to
`flagcodes.py`. Rules are pure: records and figures in, `Flag` values out. A rule whose
table or column is missing steps aside (the missing tab/column is already a finding).

Rules that test single records give one flag per campaign and code, with the count, the
total amount and the IDs involved. A flag is identified by (source, code, campaign,
budget line or record ID) — never by a row number.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import pandas as pd

from ..flagcodes import CODES, RANK
from ..stages.compute import Figures
from ..stages.normalise import Records
from ..values import format_money

MAX_IDS = 50          # IDs listed on one flag (the count is always complete)


@dataclass
class Flag:
    code: str
    campaign_id: str
    key: str = ""                          # budget line or record ID, part of the identity
    line_id: str | None = None
    owner: str | None = None
    amount: int | None = None              # cents
    count: int = 1
    ids: list[str] = field(default_factory=list)
    evidence: list[tuple[str, int, str]] = field(default_factory=list)   # (tab, row, cell)
    params: dict = field(default_factory=dict)
    severity: str = "medium"
    status: str = "open"                   # open | resolved | unverifiable
    first_seen: dt.date | None = None
    response: dict | None = None           # a manager's answer from the responses tab
    stored: str | None = None              # message kept in history (for flags no longer raised)
    previous_status: str | None = None     # open / unverifiable in the last run; None when new
    previous_severity: str | None = None

    @property
    def waived(self) -> bool:
        return bool(self.response and self.response.get("decision") == "waived")

    @property
    def counts_open(self) -> bool:
        """Open and not waived: what open-flag counts, statuses and --fail-on count."""
        return self.status == "open" and not self.waived

    @property
    def is_new(self) -> bool:
        return self.previous_status is None and self.status == "open"

    @property
    def escalated(self) -> bool:
        return self.previous_severity is not None and RANK[self.severity] > RANK[self.previous_severity]

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.code, self.campaign_id or "", self.key or "")

    @cached_property
    def flag_id(self) -> str:
        return flag_id(*self.identity)

    @property
    def tab(self) -> str:
        return self.evidence[0][0] if self.evidence else ""

    @property
    def row(self) -> int | None:
        return self.evidence[0][1] if self.evidence else None

    @property
    def cell(self) -> str:
        return self.evidence[0][2] if self.evidence else ""

    def message(self, lang: str = "en") -> str:
        if self.stored is not None:
            return self.stored
        c = CODES[self.code]
        return _fill(c.zh if lang == "zh-CN" else c.en, self, lang)

    def action(self, lang: str = "en") -> str:
        c = CODES[self.code]
        return _fill(c.action_zh if lang == "zh-CN" else c.action_en, self, lang)

    def to_dict(self, lang: str = "en") -> dict:
        return {"flag_id": self.flag_id, "code": self.code, "severity": self.severity,
                "campaign_id": self.campaign_id, "line_id": self.line_id, "owner": self.owner,
                "amount": None if self.amount is None else float(Decimal(self.amount) / 100),
                "count": self.count, "ids": self.ids, "tab": self.tab, "row": self.row, "cell": self.cell,
                "message": self.message(lang), "action": self.action(lang),
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "status": self.status,
                "response": self.response}


def flag_id(code: str, campaign: str, key: str) -> str:
    digest = hashlib.sha1(f"{code}|{campaign}|{key}".encode()).digest()
    return "F" + base64.b32encode(digest).decode()[:6]


class _Fields(dict):
    def __missing__(self, key):
        return "—"


def _fill(template: str, flag: Flag, lang: str) -> str:
    f = _Fields()
    f["amount"] = money(flag.amount) if flag.amount is not None else "—"
    f["count"] = flag.count
    ids = ", ".join(flag.ids[:8]) + (f" … (+{flag.count - 8})" if len(flag.ids) > 8 else "")
    f["ids"] = ids or "—"
    for k, v in flag.params.items():
        f[k] = v[lang if lang in v else "en"] if isinstance(v, dict) else v
    return template.format_map(f)


def money(cents: int | None) -> str:
    return "—" if cents is None or pd.isna(cents) else format_money(int(cents), "yuan")


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

    def blocked(self, code: str, cid: str | None) -> bool:
        """This code cannot be evaluated for this campaign: a campaign cell it reads is unreadable."""
        unknown = self._unknown.get(cid)
        return bool(unknown) and bool(unknown & CODE_FIELDS.get(code, frozenset()))

    def verifiable(self, code: str, cid: str | None) -> bool:
        """Could this run have raised the flag? (For a flag no longer raised: resolved or unverifiable.)"""
        if any(code in f.codes for f in self.faults):
            return False
        return not self.blocked(code, cid) and verifiable(self.tables, code, cid)

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
            amount_col: str | None = None, **params) -> list[Flag]:
    """One flag per campaign for the offending records in `frame` (plain arrays, no
    per-group DataFrames: a workbook may hold thousands of offending rows). A callable
    param is called with the campaign ID."""
    out: list[Flag] = []
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
        out.append(Flag(code, cid, "", None, ctx.owner(cid), amount, hi - lo, ids[lo:min(hi, lo + MAX_IDS)],
                        ctx.evidence(table, rows[lo:min(hi, lo + MAX_IDS)], cell_col), p))
    return out


def emits(*codes: str):
    """Declare the flag codes a rule raises: when the rule fails unexpectedly, exactly these are
    unverifiable for the run (never "resolved" because the check did not run)."""
    def mark(rule):
        rule.codes = frozenset(codes)
        return rule
    return mark


@dataclass(frozen=True, kw_only=True)
class Fault:
    """An unexpected fault inside one part of the pipeline (a rule, a stage, a tab): the rest ran."""
    part: str                              # e.g. "rule burn_ahead", "tab Budget"
    error: str                             # exception type and message
    codes: frozenset = frozenset()         # flag codes left unverifiable by it


def fault(part: str, exc: BaseException, codes=frozenset()) -> Fault:
    return Fault(part=part, error=f"{type(exc).__name__}: {exc}"[:300], codes=frozenset(codes))


def run_rules(ctx: Context, severities: dict[str, str]) -> list[Flag]:
    """Every rule, each contained: one that fails becomes a `Fault` in `ctx.faults` (its codes
    unverifiable), and the others still run."""
    from .budget import RULES as BUDGET
    from .operations import RULES as OPERATIONS
    flags: list[Flag] = []
    for rule in (*BUDGET, *OPERATIONS):
        try:
            raised = list(rule(ctx))
        except Exception as exc:    # noqa: BLE001 - one broken rule never takes the workbook down
            ctx.faults.append(fault(f"rule {rule.__name__}", exc, rule.codes))
            continue
        for flag in raised:
            sev = severities.get(flag.code, CODES[flag.code].severity)
            if sev == "off" or ctx.blocked(flag.code, flag.campaign_id):
                continue          # blocked: computed from a default, not from what people typed
            flag.severity = sev
            flags.append(flag)
    flags.sort(key=lambda f: (-RANK[f.severity], f.campaign_id or "", f.code, f.key))
    return flags


# The tables each rule reads: a flag that is no longer raised is "resolved" only when these
# were read and the campaign's rows in them are all valid; otherwise it is "unverifiable".
_BUDGET = ("campaigns", "budget_lines", "expenses", "overrun_requests")
CODE_TABLES: dict[str, tuple[str, ...]] = {
    **{c: _BUDGET for c in ("OVERRUN_UNAPPROVED", "OVERRUN_PENDING", "OVERRUN_APPROVED_LATE",
                            "BUDGET_NEARLY_USED", "BURN_AHEAD")},
    "BUDGET_MISMATCH": ("campaigns", "budget_lines"),
    "SPEND_BEFORE_APPROVAL": ("campaigns", "expenses"),
    **{c: ("campaigns", "expenses") for c in ("EXPENSE_NO_RECEIPT", "EXPENSE_RECEIPT_REUSED",
                                              "EXPENSE_OUTSIDE_WINDOW", "EXPENSE_DUPLICATE_SUSPECTED")},
    "SELF_APPROVAL": ("campaigns", "overrun_requests"),
    "PLAN_CHANGED_AFTER_APPROVAL": ("campaigns", "budget_lines", "expenses"),   # expenses: spend after a cancellation
    **{c: ("campaigns", "kpi_targets", "kpi_actuals") for c in ("KPI_OFF_TRACK", "KPI_NO_RECENT_DATA", "KPI_MISSED")},
    **{c: ("campaigns", "tasks") for c in ("TASK_OVERDUE", "TASK_NO_OWNER", "EXEC_PLAN_MISSING")},
    "INCIDENT_NOT_ESCALATED": ("campaigns", "incidents"),
    "FEEDBACK_UNANSWERED": ("campaigns", "feedback"),
    "RISK_HIGH_UNMITIGATED": ("campaigns", "risks"),
    "SUMMARY_OVERDUE": ("campaigns",),
}


# The campaign fields (stages.compute.FIELDS) each code reads. When one of them cannot be read for a
# campaign, the code is neither raised nor resolved for it: it is unverifiable there, and every
# other code is still checked (an overrun needs neither dates nor status).
_APPROVAL = frozenset({"status", "approved_on"})
CODE_FIELDS: dict[str, frozenset] = {
    **{c: frozenset({"planned"}) for c in ("OVERRUN_UNAPPROVED", "OVERRUN_PENDING", "OVERRUN_APPROVED_LATE",
                                           "BUDGET_NEARLY_USED")},
    "BURN_AHEAD": frozenset({"planned", "dates", "status"}),
    "BUDGET_MISMATCH": frozenset({"budget"}),
    "SPEND_BEFORE_APPROVAL": _APPROVAL,
    "SELF_APPROVAL": _APPROVAL,
    "PLAN_CHANGED_AFTER_APPROVAL": _APPROVAL | {"dates", "planned"},
    "EXEC_PLAN_MISSING": _APPROVAL | {"dates"},
    "EXPENSE_OUTSIDE_WINDOW": frozenset({"dates"}),
    **{c: frozenset({"dates", "status"}) for c in ("KPI_OFF_TRACK", "KPI_NO_RECENT_DATA", "KPI_MISSED")},
    "SUMMARY_OVERDUE": frozenset({"dates", "status"}),
}


def verifiable(tables: dict[str, Records], code: str, campaign_id: str | None) -> bool:
    """Could this run have raised the flag, as far as the records go? Its tables were read, and no
    row of its campaign (or with an unreadable campaign ID) was left out of the figures. The
    campaign's own row counts by the fields it blocks (`Context.blocked`), not as a whole."""
    for key in CODE_TABLES.get(code, ("campaigns",)):
        rec = tables.get(key)
        if rec is None:
            if key in ("overrun_requests", "kpi_actuals"):
                continue               # optional evidence: absence means none
            return False
        df = rec.df
        if key == "campaigns":
            from ..stages.compute import campaign_rows
            df = df.drop(index=campaign_rows(rec).index)
        bad = df[~df["valid"]]
        if bad.empty:
            continue
        cid = bad["campaign_id"]
        if (cid.isna() | (cid == campaign_id)).any():
            return False
    return True


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
