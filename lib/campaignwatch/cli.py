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
from pathlib import Path

from . import __version__
from .config import ConfigError, load
from .errors import CampaignwatchError
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


class Usage(CampaignwatchError):
    """A usage problem: exit code 2."""


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
    except (ConfigError, Usage, HistoryError) as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"campaignwatch: {line}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:       # the environment (a folder, a file campaignwatch needs): one sentence, exit 2
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"campaignwatch: {where}{exc.strerror or exc}; check that this folder and file can be used, "
              "then run again", file=sys.stderr)
        return EXIT_USAGE
    except sqlite3.Error as exc:
        print(f"campaignwatch: the history file cannot be used ({exc}): check history.path, then run again",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("campaignwatch: interrupted", file=sys.stderr)
        return 130


def today(cfg) -> dt.date:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return dt.datetime.now(ZoneInfo(cfg["general.timezone"])).date()
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {cfg['general.timezone']!r} (general.timezone)") from None


def cmd_init(args, cfg) -> int:
    from .workbook.template import write_template
    if args.google:
        from .gsheets.init import init_spreadsheet
        from .errors import SourceError, message
        try:
            added = init_spreadsheet(args.google, cfg, lang=args.lang)
        except SourceError as err:
            print(f"campaignwatch: {message(err)}", file=sys.stderr)
            return EXIT_SOURCE
        say(f"laid {len(added)} tab(s) into {args.google}" + (f": {', '.join(added)}" if added else " (all were there)"))
        return EXIT_OK
    if not args.path:
        raise Usage("init needs PATH (or --google SPREADSHEET)")
    path = Path(args.path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise Usage(f"{path}: init writes .xlsx workbooks")
    if path.exists() and not args.force:
        raise Usage(f"{path} already exists (use --force to replace it)")
    as_of = args.as_of or today(cfg)
    try:
        write_template(path, lang=args.lang, demo=args.demo, as_of=as_of)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be written ({exc.strerror or exc}): choose a writable place") from None
    what = "demo workbook" if args.demo else "workbook"
    say(f"wrote {what} {path}")
    return EXIT_OK


def cmd_validate(args, cfg) -> int:
    from .findings import count_errors
    from .pipeline import check_source
    from .report import json_document, text_report
    as_of = args.as_of or today(cfg)
    results = [check_source(src, cfg, as_of, args.lang) for src in args.sources]
    if args.json:
        say(json_document(results, as_of))
    else:
        for r in results:
            say(text_report(r))
    if any(r.status == "failed" for r in results):
        return EXIT_SOURCE
    return EXIT_PROBLEMS if any(count_errors(r.findings) for r in results) else EXIT_OK


def cmd_sync(args, cfg) -> int:
    from .coordinator import Progress, expand, run_sources, write_dashboard
    from .history import History, Locked, RunLock
    from .report import json_document, sync_extra, sync_report, timings_report
    as_of = args.as_of or today(cfg)
    configured = not args.sources
    if configured:
        if not cfg.sources:
            raise Usage("no SOURCE given and no [[sources]] in config.toml")
        sources = expand(cfg)          # a glob that matches nothing is a source that fails as `missing`
    else:
        sources = [(s, None) for s in args.sources]
    hist_path = cfg.resolve(cfg["history.path"])

    def show(r):
        if not args.json:
            say(sync_report(r, dry_run=args.dry_run))
            if args.timings:
                say(timings_report(r))
    try:
        with RunLock(hist_path) if not args.dry_run else _nolock():
            history = History(hist_path, dry_run=args.dry_run)
            history.start_run(as_of, "sync")
            progress = Progress(len(sources), enabled=configured and not args.json)
            run = run_sources(sources, cfg, as_of, history, lang=args.lang, dry_run=args.dry_run,
                              progress=progress, on_result=show)
            if configured and not args.dry_run:
                write_dashboard(run, cfg, as_of, history, args.lang)
                if run.dashboard and not args.json:
                    say(f"dashboard: {run.dashboard}")
                if run.dashboard_error:
                    print(f"campaignwatch: dashboard not written: {run.dashboard_error}", file=sys.stderr)
            history.finish_run("failed" if run.failed else "ok")
            history.close()
    except Locked as exc:
        print(f"campaignwatch: another run holds the lock ({exc})", file=sys.stderr)
        return EXIT_LOCKED
    results = run.results
    if args.json:
        say(json_document([r.check for r in results], as_of, sync_extra({id(r.check): r for r in results})))
    if run.failed:
        return EXIT_SOURCE
    if args.fail_on:
        from .flagcodes import RANK
        if any(RANK[f.severity] >= RANK[args.fail_on] for r in results for f in r.flags if f.counts_open):
            return EXIT_PROBLEMS
    return EXIT_OK


def cmd_nightly(args, cfg) -> int:
    from .history import Locked, RunLock
    from .nightly import Stop, run_once, serve, setup_logging
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
                run = run_once(cfg, args.as_of or today(cfg), stop, args.lang)
                return EXIT_SOURCE if run.failed else EXIT_OK
            print(f"campaignwatch nightly: running at {cfg['schedule.time']} {cfg['general.timezone']}; "
                  f"log in {log_path}", file=sys.stderr)
            serve(cfg, stop, lambda: today(cfg), args.lang)
            return EXIT_OK
    except Locked as exc:
        print(f"campaignwatch: nightly is already running ({exc})", file=sys.stderr)
        return EXIT_LOCKED


def cmd_report(args, cfg) -> int:
    from .weekly import write_weekly
    as_of = args.as_of or today(cfg)
    lang = args.lang or cfg["general.language"]          # "auto": the language of the stored flags
    year, week, _ = as_of.isocalendar()
    out = Path(args.out) if args.out else Path(f"weekly-report-{year}-W{week:02d}.html")
    hist = cfg.resolve(cfg["history.path"])
    if not hist.exists():
        raise Usage(f"no history at {hist}: run sync first")
    try:
        write_weekly(hist, out, as_of, lang, kpi_green=cfg["kpi.green_at"], kpi_amber=cfg["kpi.amber_at"],
                     timezone=cfg["general.timezone"])
    except OSError as exc:
        raise ConfigError(f"the report {out} cannot be written ({exc.strerror or exc}): choose another --out") from None
    say(f"wrote {out}")
    return EXIT_OK


class _nolock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def cmd_restore(args, cfg) -> int:
    from .errors import SourceError, message
    from .sources import is_google
    from .write import xlsx
    if is_google(args.source):
        raise Usage("a Google Sheet keeps its own versions: use File › Version history in Google Sheets")
    path = Path(args.source)
    if args.list:
        for b in xlsx.list_backups(path):
            say(b)
        return EXIT_OK
    try:
        restored = xlsx.restore(path, Path(args.backup) if args.backup else None, backups=cfg["output.backups"],
                                stale_hours=cfg["output.stale_lock_hours"])
    except SourceError as err:
        print(f"campaignwatch: {message(err)}", file=sys.stderr)
        return EXIT_SOURCE
    say(f"restored {path} from {restored}")
    return EXIT_OK


def cmd_clean(args, cfg) -> int:
    from .errors import SourceError, message
    from .sources import is_google
    from .write import xlsx
    if is_google(args.source):
        from .gsheets.write import clean_spreadsheet
        try:
            clean_spreadsheet(args.source, cfg)
        except SourceError as err:
            print(f"campaignwatch: {message(err)}", file=sys.stderr)
            return EXIT_SOURCE
        say(f"removed the generated tabs from {args.source}")
        return EXIT_OK
    path = Path(args.source)
    opts = {"backups": cfg["output.backups"], "stale_hours": cfg["output.stale_lock_hours"]}
    try:
        if path.suffix.lower() in xlsx.SIDECAR_SOURCES:          # read-only formats: our tabs live in the sidecar
            out = xlsx.clean_sidecar(path, **opts)
            if out is None:
                say(f"nothing to clean: {path} has no sidecar {xlsx.sidecar_path(path).name}")
                return EXIT_OK
            path = out.path
        else:
            out = xlsx.write_tabs(path, [], remove_only=True, **opts)
    except SourceError as err:
        print(f"campaignwatch: {message(err)}", file=sys.stderr)
        return EXIT_SOURCE
    gone = not path.exists()
    say((f"removed {path}, which held only generated tabs" if gone else f"removed the generated tabs from {path}")
        + (f" (backup: {out.backup})" if out.backup else ""))
    return EXIT_OK


def cmd_check(args, cfg) -> int:
    from .doctor import check
    report = check(args.config)
    say(report.to_json() if args.json else "\n".join(report.lines()))
    return report.exit_code


COMMAND_FUNCS = {"init": cmd_init, "validate": cmd_validate, "sync": cmd_sync, "restore": cmd_restore,
                 "clean": cmd_clean, "nightly": cmd_nightly, "report": cmd_report, "check": cmd_check}
LOADS_ITS_CONFIG = {"check"}        # reports configuration problems as its own checks

if __name__ == "__main__":
    sys.exit(main())
