"""Managers answer flags in the responses tab (SPEC §2, §5). Pure: the raised flags' IDs and
the records in; each answered flag's response and the findings out (the lifecycle stage,
`stages/lifecycle.py`, puts the responses in the flags' state).

- acknowledged: the flag stays open, marked as seen (by whom, when);
- waived with a reason until a date: the flag does not count as open until that date
  passes, and is listed as waived (on the dashboard and in the digest) so superiors see
  every waiver. A waiver whose date has passed no longer applies.
A response naming an unknown flag ID, a waiver without a reason or without an end date
gets a finding (and does not apply).
"""
from __future__ import annotations

import datetime as dt
from typing import Collection

import pandas as pd

from ..findings import Finding
from .normalise import Records


def _day(v) -> dt.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def read_responses(flag_ids: Collection[str], rec: Records | None,
                   as_of: dt.date) -> tuple[dict[str, dict], list[Finding]]:
    """flag ID -> the response that applies to it (the last valid row naming it), and a finding
    for each row that does not apply."""
    answers: dict[str, dict] = {}
    if rec is None or rec.ok.empty:
        return answers, []
    findings = []
    for pos, r in enumerate(rec.df.to_dict("records")):
        if not r["valid"]:
            continue
        fid = (r["flag_id"] or "").strip().upper()
        row = int(r["sheet_row"])

        def finding(code: str, key: str) -> Finding:
            return Finding(code, rec.table.key, rec.tab, row, rec.headers.get(key, key), rec.cell(key, row),
                           rec.typed(key, pos))
        if fid not in flag_ids:
            findings.append(finding("RESPONSE_UNKNOWN_FLAG", "flag_id"))
            continue
        reason = _text(r["reason"])
        response = {"decision": r["decision"], "by": _text(r["by"]), "on": _iso(r["on"]), "reason": reason,
                    "until": _iso(r["until"]), "row": row}
        if r["decision"] == "waived":
            if not reason:
                findings.append(finding("RESPONSE_NO_REASON", "reason"))
                continue
            until = _day(r["until"])
            if until is None:
                findings.append(finding("RESPONSE_NO_UNTIL", "until"))
                continue
            if until < as_of:
                response["decision"] = "expired"
        answers[fid] = response
    return answers, findings


def _text(v) -> str | None:
    """A text cell as text; a blank (None, or pandas' NaN for a blank beside filled cells) as None."""
    return v.strip() or None if isinstance(v, str) else None


def _iso(v) -> str | None:
    d = _day(v)
    return d.isoformat() if d else None
