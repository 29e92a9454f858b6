"""The time of a run, in `general.timezone`, and the one way every output shows it.

`instant()` is the only place campaignwatch reads the clock; tests replace it to freeze the
time. `now(zone)` is that instant in the configured zone; `stamp(moment, zone)` is how every
generated tab, the Run log, the dashboard, the digest and the weekly report show a moment:
`2026-11-26 06:30 +08:00 (Asia/Shanghai)` — wall-clock time in the configured zone, its UTC
offset and its name. History keeps moments as ISO 8601 with their offset, so a moment
recorded under another zone is shown converted.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def instant() -> dt.datetime:
    """The current moment (aware, UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def zone(name: str | None) -> dt.tzinfo:
    """The zone named by `general.timezone`; UTC when the name is empty or unknown (the
    stamp then says UTC, so it never shows a wrong zone as the configured one)."""
    try:
        return ZoneInfo(name) if name else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def now(name: str | None) -> dt.datetime:
    """The current moment in the configured zone."""
    return instant().astimezone(zone(name))


def stamp(moment: dt.datetime | str | None, name: str | None) -> str | None:
    """`moment` (aware datetime or ISO 8601 text; naive means the machine's zone) as
    `YYYY-MM-DD HH:MM ±HH:MM (Zone/Name)` in the configured zone. Text that is not a
    moment is returned as it is."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return moment
    tz = zone(name)
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    label = getattr(tz, "key", None) or "UTC"
    return f"{local:%Y-%m-%d %H:%M} {offset} ({label})"
