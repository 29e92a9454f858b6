"""A flag as values (SPEC §5, §7): what a rule found, and where it stands in its lifecycle.

- `Found` — what a rule found: code, campaign, key (with code and campaign, the flag's
  identity and so its `flag_id`), amount in cents, records, evidence, message params; and
  the severity the run's settings give its code (the rule never chooses it: `rules.run_rules`
  applies `severity.CODE`, the catalogue default otherwise). Frozen, built by keyword.
- `FlagState` — its lifecycle: open / resolved / unverifiable, first seen, the previous run's
  status and severity, a manager's response, the message history kept for a flag no longer
  raised. Computed by the lifecycle stage (`stages/lifecycle.py`), never patched.
- `Flag` — the two together, as render, the dashboard, the digest, changes, the history and
  the JSON report read them (`f.code`, `f.status`, `f.message(lang)`, …).
- `Previous` — a flag the previous run left open or unverifiable, as history holds it: the
  lifecycle stage's input, read by the caller before the stage.

This module imports only the flag catalogue and the money formatter.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Mapping


from .catalogue import fill
from .flagcodes import CODES, MISSING, RANK
from .values import money_text



def _frozen(mapping) -> Mapping:
    """A read-only copy; a nested dict (a text per language) is made read-only too."""
    if isinstance(mapping, MappingProxyType):
        return mapping
    return MappingProxyType({k: MappingProxyType(dict(v)) if isinstance(v, dict) else v
                             for k, v in (mapping or {}).items()})


@dataclass(frozen=True, kw_only=True)
class Found:
    """What a rule found. `ids`, `evidence` and `params` are stored as a tuple, a tuple and a
    read-only mapping whatever sequence or dict is given."""
    code: str
    campaign_id: str
    key: str = ""                          # budget line or record ID, part of the identity
    line_id: str | None = None
    owner: str | None = None
    amount: int | None = None              # cents
    count: int = 1
    ids: tuple[str, ...] = ()
    evidence: tuple[tuple[str, int, str], ...] = ()      # (tab, row, cell)
    params: Mapping = field(default_factory=dict, hash=False)   # message template fields (read-only)
    severity: str | None = None            # from settings (run_rules); None: the catalogue default

    def __post_init__(self):
        set_ = object.__setattr__
        if not isinstance(self.ids, tuple):
            set_(self, "ids", tuple(self.ids))
        if not isinstance(self.evidence, tuple):
            set_(self, "evidence", tuple(tuple(e) for e in self.evidence))
        set_(self, "params", _frozen(self.params))
        if self.severity is None:
            set_(self, "severity", CODES[self.code].severity)

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.code, self.campaign_id or "", self.key or "")

    @cached_property
    def flag_id(self) -> str:
        return flag_id(*self.identity)

    def message(self, lang: str = "en") -> str:
        return fill(CODES[self.code].template(lang), self.fields(), lang, missing=MISSING)

    def action(self, lang: str = "en") -> str:
        return fill(CODES[self.code].fix_template(lang), self.fields(), lang, missing=MISSING)

    def fields(self) -> dict:
        """What the catalogue's templates may name: amount, count, ids and the rule's params."""
        ids = ", ".join(self.ids[:8]) + (f" … (+{self.count - 8})" if len(self.ids) > 8 else "")
        return {"amount": money(self.amount) if self.amount is not None else MISSING, "count": self.count,
                "ids": ids or MISSING, **self.params}


OPEN, RESOLVED, UNVERIFIABLE = "open", "resolved", "unverifiable"


@dataclass(frozen=True, kw_only=True)
class FlagState:
    """Where a flag stands after this run (the lifecycle stage's output)."""
    status: str = OPEN                     # open | resolved | unverifiable
    first_seen: dt.date | None = None
    previous_status: str | None = None     # open / unverifiable in the last run; None when new
    previous_severity: str | None = None
    response: Mapping | None = field(default=None, hash=False)   # a manager's answer (responses tab)
    stored: str | None = None              # message kept in history (for flags no longer raised)

    def __post_init__(self):
        if self.response is not None:
            object.__setattr__(self, "response", _frozen(self.response))


@dataclass(frozen=True, kw_only=True)
class Flag:
    """A flag as the outputs read it: what was found and its state."""
    found: Found
    state: FlagState = FlagState()

    # what was found
    code = property(lambda self: self.found.code)
    campaign_id = property(lambda self: self.found.campaign_id)
    key = property(lambda self: self.found.key)
    line_id = property(lambda self: self.found.line_id)
    owner = property(lambda self: self.found.owner)
    amount = property(lambda self: self.found.amount)
    count = property(lambda self: self.found.count)
    ids = property(lambda self: self.found.ids)
    evidence = property(lambda self: self.found.evidence)
    params = property(lambda self: self.found.params)
    severity = property(lambda self: self.found.severity)
    identity = property(lambda self: self.found.identity)
    flag_id = property(lambda self: self.found.flag_id)
    # its state
    status = property(lambda self: self.state.status)
    first_seen = property(lambda self: self.state.first_seen)
    previous_status = property(lambda self: self.state.previous_status)
    previous_severity = property(lambda self: self.state.previous_severity)
    response = property(lambda self: self.state.response)

    @property
    def waived(self) -> bool:
        return bool(self.response and self.response.get("decision") == "waived")

    @property
    def counts_open(self) -> bool:
        """Open and not waived: what open-flag counts, statuses and --fail-on count."""
        return self.status == OPEN and not self.waived

    @property
    def is_new(self) -> bool:
        return self.previous_status is None and self.status == OPEN

    @property
    def escalated(self) -> bool:
        return self.previous_severity is not None and RANK[self.severity] > RANK[self.previous_severity]

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
        return self.state.stored if self.state.stored is not None else self.found.message(lang)

    def action(self, lang: str = "en") -> str:
        return self.found.action(lang)

    def to_dict(self, lang: str = "en") -> dict:
        return {"flag_id": self.flag_id, "code": self.code, "severity": self.severity,
                "campaign_id": self.campaign_id, "line_id": self.line_id, "owner": self.owner,
                "amount": None if self.amount is None else float(Decimal(self.amount) / 100),
                "count": self.count, "ids": list(self.ids), "tab": self.tab, "row": self.row, "cell": self.cell,
                "message": self.message(lang), "action": self.action(lang),
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "status": self.status,
                "response": None if self.response is None else dict(self.response)}


@dataclass(frozen=True, kw_only=True)
class Previous:
    """A flag the previous run left open or unverifiable, as history holds it."""
    found: Found                           # params: only `where` (the campaign ID)
    status: str                            # open | unverifiable
    first_seen: dt.date
    message: str | None = None             # the message as last written


def flag_id(code: str, campaign: str, key: str) -> str:
    digest = hashlib.sha1(f"{code}|{campaign}|{key}".encode()).digest()
    return "F" + base64.b32encode(digest).decode()[:6]


def money(cents: int | None) -> str:
    return money_text(cents)
