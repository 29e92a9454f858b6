"""The lifecycle stage (SPEC §5, §7): what becomes of each flag across runs. Pure: values in,
new values out — no history access, nothing mutated.

In: what the rules found this run (`flags.Found`, severity applied), the flags the previous
run left open or unverifiable (`flags.Previous`, read from history by the caller), whether
this run could have raised a flag (`rules.Context.verifiable`), the responses tab's records
and the as-of date. Out (`Lifecycle`):

- every raised flag, open, first seen when it was first seen (today when new), with the
  previous run's status and severity (escalated when the severity went up) and a manager's
  response when one applies (acknowledged; waived until a date; expired);
- every previous flag not raised now: *resolved* when this run could have raised it, else
  *unverifiable* (its tables or campaign cells could not be read, or its rule failed) — its
  message is the one history kept;
- how many raised flags are new, and a finding for each response that does not apply.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..findings import Finding
from ..flags import OPEN, RESOLVED, UNVERIFIABLE, Flag, FlagState, Found, Previous
from ..rules.context import Fault, fault
from .normalise import Records
from .responses import read_responses


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    flags: tuple[Flag, ...]            # raised in this run (open), in the rules' order
    gone: tuple[Flag, ...]             # open or unverifiable before, not raised now: resolved or unverifiable
    new: int                           # raised now, not open or unverifiable in the previous run
    findings: tuple[Finding, ...]      # responses that do not apply (RESPONSE_*)
    faults: tuple[Fault, ...] = ()     # the responses could not be read: the flags stay unanswered


def lifecycle(raised: Sequence[Found], previous: Mapping[str, Previous], *,
              verifiable: Callable[[str, str | None], bool], responses: Records | None,
              as_of: dt.date) -> Lifecycle:
    faults: tuple[Fault, ...] = ()
    try:
        answers, findings = read_responses({f.flag_id for f in raised}, responses, as_of)
    except Exception as exc:    # noqa: BLE001 - contained: the flags stay unanswered, the rest goes on
        answers, findings, faults = {}, [], (fault("responses", exc),)
    flags = tuple(Flag(found=f, state=_raised_state(previous.get(f.flag_id), answers.get(f.flag_id), as_of))
                  for f in raised)
    current = {f.flag_id for f in raised}
    gone = tuple(_gone(p, verifiable(p.found.code, p.found.campaign_id))
                 for fid, p in previous.items() if fid not in current)
    new = sum(1 for f in raised if f.flag_id not in previous)
    return Lifecycle(flags=flags, gone=gone, new=new, findings=tuple(findings), faults=faults)


def _raised_state(prev: Previous | None, response: dict | None, as_of: dt.date) -> FlagState:
    if prev is None:
        return FlagState(status=OPEN, first_seen=as_of, response=response)
    return FlagState(status=OPEN, first_seen=prev.first_seen, previous_status=prev.status,
                     previous_severity=prev.found.severity, response=response)


def _gone(prev: Previous, verifiable: bool) -> Flag:
    return Flag(found=prev.found, state=FlagState(
        status=RESOLVED if verifiable else UNVERIFIABLE, first_seen=prev.first_seen, previous_status=prev.status,
        previous_severity=prev.found.severity, stored=prev.message))
