"""`build_weekly` (history → HTML text) and `write_weekly` (atomically to a file).
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from .. import clock

from ..history import flags_of, known_sources, open_for_reading, runs_between
from .data import SourceWeek, read_snapshot, select_sources, source_labels
from .page import render_page


KPI_GREEN, KPI_AMBER = 0.95, 0.8          # defaults of kpi.green_at / kpi.amber_at


TIMEZONE = "Asia/Shanghai"                # default of general.timezone


# -- the report -----------------------------------------------------------------------------

def build_weekly(history_path: Path, as_of: dt.date, lang: str, sources: list[str] | None = None, *,
                 kpi_green: float = KPI_GREEN, kpi_amber: float = KPI_AMBER, timezone: str = TIMEZONE) -> str:
    """The report as one HTML document. `lang`: en, zh-CN, or auto (the language most flag
    messages in the history are in). `sources`: only these (paths, file names or gsheet:ID);
    None: every source in the history. `kpi_green` / `kpi_amber`: the kpi.green_at and
    kpi.amber_at settings, for the colours of the KPI chart. `timezone`: general.timezone,
    in which the time the report was generated is shown."""
    start = as_of - dt.timedelta(days=as_of.weekday())
    prev_start, prev_end = start - dt.timedelta(days=7), start - dt.timedelta(days=1)
    db = open_for_reading(Path(history_path))
    try:
        keys = select_sources(known_sources(db), sources)
        labels = source_labels(keys)
        weeks: list[SourceWeek] = []
        for k in keys:
            sw = SourceWeek(k, labels[k], read_snapshot(db, k, None, as_of), read_snapshot(db, k, start, as_of),
                            read_snapshot(db, k, prev_start, prev_end))
            week_runs = runs_between(db, k, start, as_of)
            sw.run_ids = {r[0] for r in week_runs}
            sw.runs, sw.failed_runs = len(week_runs), sum(1 for r in week_runs if r[1] == "failed")
            weeks.append(sw)
        flags = flags_of(db, keys)
    finally:
        db.close()
    flags = [f for f in flags if f["first_seen"][:10] <= as_of.isoformat()]     # as the history stood then
    if lang not in ("en", "zh-CN"):
        cjk = sum(1 for f in flags if any("\u4e00" <= ch <= "\u9fff" for ch in (f["message"] or "")))
        lang = "zh-CN" if flags and cjk * 2 > len(flags) else "en"
    for f in flags:
        f["label"] = labels.get(f["source"], f["source"])
    return render_page(lang, as_of, start, prev_start, prev_end, Path(history_path), weeks, flags, (kpi_green, kpi_amber),
                   clock.stamp(clock.now(timezone), timezone))


def write_weekly(history_path: Path, out_path: Path, as_of: dt.date, lang: str,
                 sources: list[str] | None = None, **kpi) -> Path:
    """Write the report to `out_path` atomically (a temporary file beside it, synced, then
    moved over it in one step)."""
    out_path = Path(out_path)
    text = build_weekly(Path(history_path), as_of, lang, sources, **kpi)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, out_path.stat().st_mode & 0o777 if out_path.exists() else 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return out_path
