"""The `campaignwatch` command. Each subcommand parses its options and calls one library
function with the same names; no logic lives here.

Exit codes (every command): 0 success; 1 problems found; 2 usage or configuration
problem; 3 a source could not be read or written; 4 another run holds the lock.
"""
from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sqlite3
import sys

from . import __version__, app
from .app import Usage
from .config import ConfigError, load
from .history import HistoryError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_SOURCE, EXIT_LOCKED = 0, 1, 2, 3, 4

COMMANDS = {
    "init": "Write a new workbook from the contract (optionally filled with a demo).",
    "validate": "Read workbooks and report, cell by cell, what cannot be read. Writes nothing.",
    "sync": "Validate, compute figures, raise flags, record history and write the generated tabs back.",
    "restore": "Put back the newest (or a chosen) backup of a workbook.",
    "clean": "Remove campaignwatch's generated tabs from a workbook, leaving it as the team made it.",
    "nightly": "Run the sync of every configured source every day at schedule.time (or --once), with digest.",
    "report": "Write the weekly supervision report (a self-contained HTML file) from history.",
    "check": "Check the settings, that every configured source can be read, and the history, dashboard and "
             "digest settings. Changes nothing.",
}


def say(text: str) -> None:
    """Print, and keep working when the reader of stdout went away (`| head`)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean …?" for a misspelled command or choice."""

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in action.choices], n=1, cutoff=0.6)
            what = "command" if isinstance(action, argparse._SubParsersAction) else "choice"
            hint = f"; did you mean {close[0]}?" if close else ""
            raise argparse.ArgumentError(action, f"unknown {what} {value!r}{hint} (choose from "
                                                 f"{', '.join(map(str, action.choices))})")
        super()._check_value(action, value)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="campaignwatch",
                                description="Supervise marketing campaigns kept in spreadsheets.")
    p.add_argument("--version", action="version", version=f"campaignwatch {__version__}")
    p.add_argument("--config", metavar="PATH",
                   help="settings file (default: $CAMPAIGNWATCH_CONFIG, else ./config.toml if present)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("init", help=COMMANDS["init"], description=COMMANDS["init"])
    s.add_argument("path", metavar="PATH", nargs="?", help="the .xlsx file to create")
    s.add_argument("--google", metavar="SPREADSHEET",
                   help="lay the contract's tabs into this existing Google Sheet (gsheet:ID or URL) instead")
    s.add_argument("--lang", choices=("en", "zh-CN"), default="en", help="language of tabs and headers")
    s.add_argument("--demo", action="store_true", help="fill it with a realistic sample of campaigns")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="the day demo dates are relative to (default: today)")
    s.add_argument("--force", action="store_true", help="replace PATH if it exists")

    s = sub.add_parser("validate", help=COMMANDS["validate"], description=COMMANDS["validate"])
    s.add_argument("sources", nargs="+", metavar="SOURCE", help="workbook files (.xlsx .xlsm .xls .xlsb .ods)")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help='"today" for date checks (default: today)')
    s.add_argument("--lang", choices=("en", "zh-CN"), help="language of the report (default: the workbook's)")
    s.add_argument("--json", action="store_true", help="print exactly one JSON document and nothing else")

    s = sub.add_parser("sync", help=COMMANDS["sync"], description=COMMANDS["sync"])
    s.add_argument("sources", nargs="*", metavar="SOURCE",
                   help="workbook files or Google Sheets (default: every source in config.toml, and the dashboard)")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help='"today" for every time-based rule')
    s.add_argument("--lang", choices=("en", "zh-CN"), help="language of the report and generated tabs")
    s.add_argument("--json", action="store_true", help="print exactly one JSON document and nothing else")
    s.add_argument("--dry-run", action="store_true", help="read and report, write nothing (history included)")
    s.add_argument("--fail-on", choices=("high", "medium", "low"),
                   help="exit 1 when an open flag of this severity or above is raised")
    s.add_argument("--timings", action="store_true", help="print the time each pipeline stage took")

    s = sub.add_parser("nightly", help=COMMANDS["nightly"], description=COMMANDS["nightly"])
    s.add_argument("--once", action="store_true", help="run now, once, and exit (for cron and systemd timers)")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help='"today" for --once (default: today)')
    s.add_argument("--lang", choices=("en", "zh-CN"), help="language of reports, dashboard and digest")

    s = sub.add_parser("report", help=COMMANDS["report"], description=COMMANDS["report"])
    s.add_argument("--week", action="store_true", required=True, help="the weekly supervision report")
    s.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="last day of the week reported (default: today)")
    s.add_argument("--lang", choices=("en", "zh-CN"), help="language (default: general.language, else en)")
    s.add_argument("--out", metavar="PATH", help="HTML file to write (default: weekly-report-YYYY-Www.html)")

    s = sub.add_parser("restore", help=COMMANDS["restore"], description=COMMANDS["restore"])
    s.add_argument("source", metavar="SOURCE", help="the workbook to restore")
    s.add_argument("--backup", metavar="PATH", help="the backup to put back (default: the newest)")
    s.add_argument("--list", action="store_true", help="list the backups, newest first, and change nothing")

    s = sub.add_parser("clean", help=COMMANDS["clean"], description=COMMANDS["clean"])
    s.add_argument("source", metavar="SOURCE", help="the workbook to clean")

    s = sub.add_parser("check", help=COMMANDS["check"], description=COMMANDS["check"])
    s.add_argument("--json", action="store_true", help="print exactly one JSON document and nothing else")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:          # argparse already printed the usage message
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    if not args.command:
        p.print_help()
        return EXIT_USAGE
    try:
        cfg = None if args.command in LOADS_ITS_CONFIG else load(args.config)
        return COMMAND_FUNCS[args.command](args, cfg)
    except KeyboardInterrupt:
        print("campaignwatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        for line in _sentence(exc).splitlines() or [""]:
            print(f"campaignwatch: {line}", file=sys.stderr)
        return code


def _error_types():
    """Error type -> exit code: the one table of how failures end a command (first match wins)."""
    from .backends import NotSupported
    from .history import Locked
    from .errors import SourceError
    return ((Locked, EXIT_LOCKED), (SourceError, EXIT_SOURCE), (ConfigError, EXIT_USAGE),
            (HistoryError, EXIT_USAGE), (NotSupported, EXIT_USAGE), (sqlite3.Error, EXIT_USAGE),
            (OSError, EXIT_USAGE))


def _exit_code(exc: BaseException) -> int | None:
    return next((code for kind, code in _error_types() if isinstance(exc, kind)), None)


def _sentence(exc: BaseException) -> str:
    from .history import Locked
    from .errors import SourceError, message
    if isinstance(exc, SourceError):
        return message(exc)
    if isinstance(exc, Locked):
        return f"another run holds the lock ({exc})"
    if isinstance(exc, sqlite3.Error):
        return f"the history file cannot be used ({exc}): check history.path, then run again"
    if isinstance(exc, OSError):       # the environment (a folder, a file campaignwatch needs)
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"{where}{exc.strerror or exc}; check that this folder and file can be used, then run again"
    return str(exc)


def cmd_init(args, cfg) -> int:
    if args.google:
        added = app.init_google(args.google, config=cfg, lang=args.lang)
        say(f"laid {len(added)} tab(s) into {args.google}" + (f": {', '.join(added)}" if added else " (all were there)"))
        return EXIT_OK
    if not args.path:
        raise Usage("init needs PATH (or --google SPREADSHEET)")
    path = app.init(args.path, config=cfg, lang=args.lang, demo=args.demo, as_of=args.as_of, force=args.force)
    say(f"wrote {'demo workbook' if args.demo else 'workbook'} {path}")
    return EXIT_OK


def cmd_validate(args, cfg) -> int:
    from .findings import count_errors
    from .report import json_document, text_report
    results = app.validate(args.sources, config=cfg, as_of=args.as_of, lang=args.lang)
    if args.json:
        say(json_document(results, args.as_of or app.today(cfg)))
    else:
        for r in results:
            say(text_report(r))
    if any(r.status == "failed" for r in results):
        return EXIT_SOURCE
    return EXIT_PROBLEMS if any(count_errors(r.findings) for r in results) else EXIT_OK


def cmd_sync(args, cfg) -> int:
    from .coordinator import Progress
    from .report import json_document, sync_extra, sync_report, timings_report

    def show(r):
        if not args.json:
            say(sync_report(r, dry_run=args.dry_run))
            if args.timings:
                say(timings_report(r))
    progress = Progress(0, enabled=not args.sources and not args.json)
    run = app.sync(args.sources, config=cfg, as_of=args.as_of, lang=args.lang, dry_run=args.dry_run,
                   progress=progress, on_result=show)
    if run.dashboard and not args.json:
        say(f"dashboard: {run.dashboard}")
    if run.dashboard_error:
        print(f"campaignwatch: dashboard not written: {run.dashboard_error}", file=sys.stderr)
    if args.json:
        results = run.results
        say(json_document([r.check for r in results], args.as_of or app.today(cfg),
                          sync_extra({id(r.check): r for r in results})))
    if run.failed:
        return EXIT_SOURCE
    return EXIT_PROBLEMS if args.fail_on and run.open_at_or_above(args.fail_on) else EXIT_OK


def cmd_nightly(args, cfg) -> int:
    from .history import Locked, RunLock
    from .nightly import Stop, serve, setup_logging
    if not cfg.sources:
        raise Usage("nightly needs [[sources]] in config.toml")
    try:
        log_path = setup_logging(cfg)
    except OSError as exc:
        raise ConfigError(f"the log {cfg.resolve(cfg['log.path'])} cannot be written ({exc.strerror or exc}): "
                          "set log.path to a writable place") from None
    stop = Stop()
    stop.install()
    hist_path = cfg.resolve(cfg["history.path"])
    try:
        with RunLock(hist_path.with_name(hist_path.name + ".nightly")):
            if args.once:
                run = app.nightly_once(config=cfg, as_of=args.as_of, lang=args.lang, stop=stop)
                return EXIT_SOURCE if run.failed else EXIT_OK
            print(f"campaignwatch nightly: running at {cfg['schedule.time']} {cfg['general.timezone']}; "
                  f"log in {log_path}", file=sys.stderr)
            serve(cfg, stop, lambda: app.today(cfg), args.lang)
            return EXIT_OK
    except Locked as exc:
        print(f"campaignwatch: nightly is already running ({exc})", file=sys.stderr)
        return EXIT_LOCKED


def cmd_report(args, cfg) -> int:
    say(f"wrote {app.report(config=cfg, week=args.week, as_of=args.as_of, lang=args.lang, out=args.out)}")
    return EXIT_OK


def cmd_restore(args, cfg) -> int:
    if args.list:
        for b in app.backups(args.source, config=cfg):
            say(b)
        return EXIT_OK
    restored = app.restore(args.source, config=cfg, backup=args.backup)
    say(f"restored {args.source} from {restored}")
    return EXIT_OK


def cmd_clean(args, cfg) -> int:
    out = app.clean(args.source, config=cfg)
    if out is None:
        say(f"nothing to clean: {args.source} has no generated tabs")
    elif out.removed:
        say(f"removed {out.where}, which held only generated tabs" + (f" (backup: {out.backup})" if out.backup else ""))
    else:
        say(f"removed the generated tabs from {out.where}" + (f" (backup: {out.backup})" if out.backup else ""))
    return EXIT_OK


def cmd_check(args, cfg) -> int:
    report = app.check(args.config)
    say(report.to_json() if args.json else "\n".join(report.lines()))
    return report.exit_code


COMMAND_FUNCS = {"init": cmd_init, "validate": cmd_validate, "sync": cmd_sync, "restore": cmd_restore,
                 "clean": cmd_clean, "nightly": cmd_nightly, "report": cmd_report, "check": cmd_check}
LOADS_ITS_CONFIG = {"check"}        # reports configuration problems as its own checks

if __name__ == "__main__":
    sys.exit(main())
