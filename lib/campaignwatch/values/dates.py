"""Dates and date-times typed as text in Chinese or English forms or as Excel serials
(`parse_date`, `parse_datetime`) and their formatters (`format_date`, `format_datetime`).
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Any

from .limits import (
    AMBIGUOUS, DATETIME_STYLES, DATE_MAX_YEAR, DATE_MIN_YEAR, DATE_STYLES, EPOCH_1900, EPOCH_1904, MAX_TEXT,
    OUT_OF_RANGE, UNREADABLE,
)
from .text import clean_cell


# --------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------

_DATE_FORMS = (
    # (regex matched at the start, day/month-first?, may the time follow directly?)
    (re.compile(r"(?P<y>\d{4})\ ?年\ ?(?P<m>\d{1,2})\ ?月\ ?(?P<d>\d{1,2})\ ?[日号號]", re.ASCII),
     False, True),
    (re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})", re.ASCII),
     False, False),
    (re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})", re.ASCII),
     True, False),
    (re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", re.ASCII),
     False, False),
)


_TIME_RE = re.compile(
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,6}))?)?"
    r"|(?P<zH>\d{1,2})\ ?[时時点點](?:\ ?(?P<zM>\d{1,2})\ ?分(?:\ ?(?P<zS>\d{1,2})\ ?秒)?)?",
    re.ASCII,
)


_SERIAL_BOUNDS = {
    epoch: ((_dt.date(DATE_MIN_YEAR, 1, 1) - epoch).days,
            (_dt.date(DATE_MAX_YEAR, 12, 31) - epoch).days)
    for epoch in (EPOCH_1900, EPOCH_1904)
}


def _in_range(d: _dt.date) -> bool:
    return DATE_MIN_YEAR <= d.year <= DATE_MAX_YEAR


def _parse_time(rest: str) -> _dt.time | None:
    m = _TIME_RE.fullmatch(rest)
    if m is None:
        return None
    if m["H"] is not None:
        frac = m["F"]
        parts = (m["H"], m["M"], m["S"] or 0, int(frac.ljust(6, "0")) if frac else 0)
    else:
        parts = (m["zH"], m["zM"] or 0, m["zS"] or 0, 0)
    try:
        return _dt.time(*map(int, parts))
    except ValueError:  # 25:00, 10:61 ...
        return None


def _datetime_text(s: str, dayfirst: bool) -> tuple[_dt.datetime | None, str | None]:
    """Parse cleaned date(+time) text."""
    if len(s) > MAX_TEXT:
        return None, UNREADABLE
    for regex, day_month_first, time_glued in _DATE_FORMS:
        m = regex.match(s)
        if m is None:
            continue
        issue = None
        if day_month_first:
            a, b = int(m["a"]), int(m["b"])
            if a > 12 and b > 12:
                return None, UNREADABLE
            if a > 12 or (b <= 12 and dayfirst):
                day, month = a, b
            else:
                month, day = a, b
            if a <= 12 and b <= 12 and a != b:
                issue = AMBIGUOUS
        else:
            month, day = int(m["m"]), int(m["d"])
        rest = s[m.end():]
        time = _dt.time()
        if rest:
            if rest[0] in " T":
                rest = rest[1:]
            elif not time_glued:
                return None, UNREADABLE
            parsed_time = _parse_time(rest)
            if parsed_time is None:
                return None, UNREADABLE
            time = parsed_time
        try:
            result = _dt.datetime.combine(_dt.date(int(m["y"]), month, day), time)
        except ValueError:
            return None, UNREADABLE
        return result, issue
    return None, UNREADABLE


def _serial_datetime(x: float, date1904: bool, keep_time: bool):
    if not math.isfinite(x):
        return None, UNREADABLE
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    low, high = _SERIAL_BOUNDS[epoch]
    days = math.floor(x)
    if not low <= days <= high:
        return None, OUT_OF_RANGE
    base = _dt.datetime.combine(epoch, _dt.time())
    if not keep_time:
        return base + _dt.timedelta(days=days), None
    seconds = round((x - days) * 86400)
    return base + _dt.timedelta(days=days, seconds=seconds), None


def _to_datetime(raw: Any, dayfirst: bool, date1904: bool,
                 keep_time: bool) -> tuple[_dt.datetime | None, str | None]:
    if isinstance(raw, _dt.datetime):
        result, issue = raw, None
    elif isinstance(raw, _dt.date):
        result, issue = _dt.datetime.combine(raw, _dt.time()), None
    elif isinstance(raw, str):
        result, issue = _datetime_text(raw, dayfirst)
    elif isinstance(raw, bool):
        return None, UNREADABLE
    elif isinstance(raw, (int, float, Decimal)):
        if isinstance(raw, int) and raw.bit_length() > 64:
            return None, OUT_OF_RANGE
        if isinstance(raw, Decimal) and not raw.is_finite():
            return None, UNREADABLE
        result, issue = _serial_datetime(float(raw), date1904, keep_time)
    else:
        return None, UNREADABLE
    if result is None:
        return None, issue
    if not _in_range(result):
        return None, OUT_OF_RANGE
    return result, issue


def parse_date(raw: Any, *, dayfirst: bool = False,
               date1904: bool = False) -> tuple[_dt.date | None, str | None]:
    """Parse a date cell (text, Excel serial, or date/datetime value).

    Any time part is validated and then dropped; a serial's fraction is
    ignored.  ``dayfirst`` settles ``03/04/2026``-style text (issue AMBIGUOUS);
    ``date1904`` selects the workbook's 1904 date system for serials.
    """
    raw = clean_cell(raw)
    if raw is None:
        return None, None
    try:
        result, issue = _to_datetime(raw, dayfirst, date1904, keep_time=False)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE
    return (result.date() if result is not None else None), issue


def parse_datetime(raw: Any, *, dayfirst: bool = False,
                   date1904: bool = False) -> tuple[_dt.datetime | None, str | None]:
    """Like :func:`parse_date` but keeps the time of day.

    Date-only input gives midnight; a serial's fraction becomes a time rounded
    to the second; text keeps up to microseconds; datetime values pass through
    unchanged (including any tzinfo).
    """
    raw = clean_cell(raw)
    if raw is None:
        return None, None
    try:
        return _to_datetime(raw, dayfirst, date1904, keep_time=True)
    except Exception:  # pragma: no cover - defensive
        return None, UNREADABLE


def _serial(dt: _dt.datetime, style: str) -> float:
    epoch = EPOCH_1904 if style == "serial1904" else EPOCH_1900
    delta = dt - _dt.datetime.combine(epoch, _dt.time(), tzinfo=dt.tzinfo)
    return delta.days + delta.seconds / 86400


def format_date(d: _dt.date, style: str = "iso") -> str | float:
    """Format a date: ``iso`` 2026-11-26, ``slash`` 2026/11/26, ``dot``
    2026.11.26, ``zh`` 2026年11月26日, ``compact`` 20261126, ``serial`` /
    ``serial1904`` an Excel serial number (float) in that date system.
    A datetime is formatted by its date."""
    if isinstance(d, _dt.datetime):
        d = d.date()
    if not isinstance(d, _dt.date):
        raise TypeError("d must be a date")
    if style == "iso":
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if style == "slash":
        return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"
    if style == "dot":
        return f"{d.year:04d}.{d.month:02d}.{d.day:02d}"
    if style == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "compact":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if style in ("serial", "serial1904"):
        return _serial(_dt.datetime.combine(d, _dt.time()), style)
    raise ValueError(f"unknown date style {style!r}; expected one of {DATE_STYLES}")


def format_datetime(dt: _dt.datetime, style: str = "iso") -> str | float:
    """Format a datetime at second resolution (microseconds are dropped):
    ``iso`` 2026-11-26T10:30:15, ``zh`` 2026年11月26日 10时30分15秒,
    ``serial`` / ``serial1904`` an Excel serial (float).  A date is midnight."""
    if not isinstance(dt, _dt.datetime):
        if not isinstance(dt, _dt.date):
            raise TypeError("dt must be a datetime")
        dt = _dt.datetime.combine(dt, _dt.time())
    dt = dt.replace(microsecond=0)
    if style == "iso":
        return f"{format_date(dt, 'iso')}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if style == "zh":
        return f"{format_date(dt, 'zh')} {dt.hour}时{dt.minute}分{dt.second}秒"
    if style in ("serial", "serial1904"):
        return _serial(dt, style)
    raise ValueError(f"unknown datetime style {style!r}; expected one of {DATETIME_STYLES}")
