"""Rules (SPEC §5): each a small function from the context to what it found, with stable codes.

`RULES` is the explicit list. Adding a rule is one function, declared with `@rule(codes=…,
tables=…, fields=…)` (`context.py`) and listed in its module's `RULES`, plus one catalogue entry
per code in `flagcodes.py`; `CODE_TABLES` and `CODE_FIELDS` are derived from the declarations.
Rules are pure: records and figures in, frozen `Found` values (`flags.py`) out, built by keyword.
A rule whose table or column is missing steps aside (the missing tab/column is already a finding).

Rules that test single records give one flag per campaign and code, with the count, the
total amount and the IDs involved. A flag is identified by (source, code, campaign,
budget line or record ID) — never by a row number. What becomes of a flag across runs (open,
resolved, unverifiable, answered) is the lifecycle stage's (`stages/lifecycle.py`).
"""
from __future__ import annotations

from dataclasses import replace

from ..flagcodes import CODES, RANK
from ..flags import Found
from ..stages.normalise import Records
from . import budget, operations
from .context import (MAX_IDS, Context, Fault, RuleSpec, Thresholds, fault, grouped, money, pct, people_aliases,
                      rule)

__all__ = ["CODE_FIELDS", "CODE_TABLES", "MAX_IDS", "RULES", "Context", "Fault", "Found", "RuleSpec", "Thresholds",
           "fault", "grouped", "money", "pct", "people_aliases", "rule", "run_rules", "verifiable"]

RULES = (*budget.RULES, *operations.RULES)

# Derived from the rules' declarations: the tables each code's rule reads (a flag no longer
# raised is "resolved" only when they were read and valid for its campaign) and the campaign
# fields it reads (`Context.blocked`).
CODE_TABLES: dict[str, tuple[str, ...]] = {code: r.spec.tables for r in RULES for code in r.spec.codes}
CODE_FIELDS: dict[str, frozenset] = {code: r.spec.fields for r in RULES for code in r.spec.codes
                                     if r.spec.fields}


def run_rules(ctx: Context, severities: dict[str, str]) -> list[Found]:
    """Every rule, each contained: one that fails becomes a `Fault` in `ctx.faults` (its codes
    unverifiable), and the others still run. Each found value gets its code's severity from
    `severities` (the settings), the catalogue's default otherwise; "off" drops it."""
    flags: list[Found] = []
    for each in RULES:
        try:
            raised = list(each(ctx))
        except Exception as exc:    # noqa: BLE001 - one broken rule never takes the workbook down
            ctx.faults.append(fault(f"rule {each.__name__}", exc, each.spec.codes))
            continue
        for found in raised:
            sev = severities.get(found.code, CODES[found.code].severity)
            if sev == "off" or ctx.blocked(found.code, found.campaign_id, found.line_id):
                continue          # blocked: computed from a default, not from what people typed
            flags.append(replace(found, severity=sev))
    flags.sort(key=lambda f: (-RANK[f.severity], f.campaign_id or "", f.code, f.key))
    return flags


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
