"""What changed in a run: the input of the digest, the dashboard and the weekly report.

Built from the `SyncResult`s of one run (pure). A flag is *new* when it was not open in the
previous run, *escalated* when its severity went up, *resolved* or *unverifiable* when it
is no longer raised (see sync), *waived* while a manager's waiver is in force.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .flags import Flag

KINDS = ("new", "escalated", "resolved", "unverifiable", "waived")


@dataclass
class Change:
    kind: str                 # one of KINDS
    source: str               # display name of the source
    flag: Flag


@dataclass
class SourceOutcome:
    source: str               # display name
    status: str               # ok | failed
    error: str | None = None  # one sentence when failed
    open_flags: int = 0
    team: str = ""
    over_budget: int = 0      # campaigns over budget (render.over_budget)


@dataclass
class RunChanges:
    as_of: dt.date
    outcomes: list[SourceOutcome] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)      # person (and aliases) -> e-mail, from people tables
    lang: str = "en"

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def empty(self) -> bool:
        return not self.changes and not self.failed

    def for_owner(self, owner: str) -> "RunChanges":
        """Only the changes on campaigns this person owns (failures are the coordinator's)."""
        return RunChanges(self.as_of, [], [c for c in self.changes if c.flag.owner == owner], self.emails, self.lang)

    def owners(self) -> set[str]:
        return {c.flag.owner for c in self.changes if c.flag.owner}


def collect(results, as_of: dt.date, specs: dict | None = None) -> RunChanges:
    """RunChanges from `sync.SyncResult`s; `specs` maps a source to its configured SourceSpec."""
    from .render import over_budget
    from .sources import display_name
    out = RunChanges(as_of)
    langs = []
    for r in results:
        name = display_name(r.check.source)
        spec = (specs or {}).get(r.check.source)
        err = r.error
        out.outcomes.append(SourceOutcome(
            spec.name if spec and spec.name else name, r.status,
            None if err is None else _message(err, r.check.language),
            sum(1 for f in r.flags if f.counts_open), spec.team if spec else "", len(over_budget(r.flags))))
        langs.append(r.check.language)
        label = out.outcomes[-1].source
        for f in r.flags:
            if f.waived:
                out.changes.append(Change("waived", label, f))
            elif f.is_new:
                out.changes.append(Change("new", label, f))
            elif f.escalated:
                out.changes.append(Change("escalated", label, f))
        for f in r.gone:
            if f.status == "resolved":
                out.changes.append(Change("resolved", label, f))
            elif f.status == "unverifiable" and f.previous_status == "open":
                out.changes.append(Change("unverifiable", label, f))
        out.emails.update(_emails(r))
    out.lang = max(set(langs), key=langs.count) if langs else "en"
    return out


def _message(err, lang: str) -> str:
    from .errors import message
    return message(err, lang)


def _emails(r) -> dict[str, str]:
    rec = r.check.tables.get("people")
    if rec is None or "email" not in rec.present:
        return {}
    out = {}
    for name, aliases, email in zip(rec.ok["name"], rec.ok["aliases"], rec.ok["email"]):
        if isinstance(email, str) and "@" in email:
            out[name] = email
            for a in (aliases or "").replace("，", ",").split(","):
                if a.strip():
                    out.setdefault(a.strip(), email)
    return out
