"""`campaignwatch nightly`: the scheduled run, one instance at a time.

Every day at `schedule.time` (in `general.timezone`) it syncs every configured source,
rebuilds the dashboard and sends the digest of what changed. `--once` runs it now and
exits (for cron and systemd timers). A lock beside the history file (`PATH.nightly.lock`)
keeps a second instance out; it names the holder. SIGTERM/SIGINT stop it cleanly: the
source being synced is finished (writes are atomic anyway) and no further one is started.
Logs go to a rotating file (`log.*`) and to stderr.
"""
from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import signal
import time
from pathlib import Path

from .config import Config

log = logging.getLogger("campaignwatch")


class Stop:
    """Set by SIGTERM/SIGINT; checked between sources and while waiting."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum=None, frame=None) -> None:
        self.requested = True
        log.info("stop requested (signal %s); finishing the current source", signum)

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


def setup_logging(cfg: Config) -> Path:
    path = cfg.resolve(cfg["log.path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    log.setLevel(logging.INFO)
    log.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    for handler in (logging.handlers.RotatingFileHandler(path, maxBytes=cfg["log.max_kb"] * 1024,
                                                         backupCount=cfg["log.backups"], encoding="utf-8"),
                    logging.StreamHandler()):
        handler.setFormatter(fmt)
        log.addHandler(handler)
    return path


def run_once(cfg: Config, as_of: dt.date, stop: Stop | None, lang: str | None = None):
    """Sync every configured source, rebuild the dashboard, send the digest. Returns the Run."""
    from . import app
    from .changes import collect
    from .report import sync_report
    log.info("run for %s", as_of.isoformat())
    stopped = (lambda: stop.requested) if stop is not None else (lambda: False)
    run = app.sync(None, config=cfg, as_of=as_of, lang=lang, command="nightly",
                   on_result=lambda r: log.info("%s", sync_report(r, top=0).splitlines()[0]), should_stop=stopped)
    if run.dashboard:
        log.info("dashboard written to %s", run.dashboard)
    if run.dashboard_error:
        log.error("dashboard not written: %s", run.dashboard_error)
    if cfg["digest.enabled"] and not stopped():
        from .notify import deliver
        for line in deliver(cfg, collect(run.results, as_of, run.specs)):
            log.info("digest: %s", line)
    return run


def serve(cfg: Config, stop: Stop, today, lang: str | None = None) -> None:
    """Run at schedule.time every day until stopped."""
    import schedule
    scheduler = schedule.Scheduler()
    def job():
        try:
            run_once(cfg, today(), stop, lang)
        except Exception:                     # a bad night must not end the service
            log.exception("nightly run failed")
    scheduler.every().day.at(cfg["schedule.time"], cfg["general.timezone"]).do(job)
    log.info("nightly: next run at %s", scheduler.next_run)
    while not stop.requested:
        scheduler.run_pending()
        time.sleep(1)
    log.info("nightly: stopped")
