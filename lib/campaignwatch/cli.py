"""The `campaignwatch` command. Each subcommand parses its options and calls one library
function with the same names; no logic lives here.

Exit codes (every command): 0 success; 1 problems found; 2 usage or configuration
problem; 3 a source could not be read or written; 4 another run holds the lock.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, load

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_SOURCE, EXIT_LOCKED = 0, 1, 2, 3, 4

COMMANDS = {
    "init": "Write a new workbook from the contract (optionally filled with a demo).",
    "validate": "Read workbooks and report, cell by cell, what cannot be read. Writes nothing.",
}


class Usage(Exception):
    """A usage problem: exit code 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="campaignwatch",
                                description="Supervise marketing campaigns kept in spreadsheets.")
    p.add_argument("--version", action="version", version=f"campaignwatch {__version__}")
    p.add_argument("--config", metavar="PATH",
                   help="settings file (default: $CAMPAIGNWATCH_CONFIG, else ./config.toml if present)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("init", help=COMMANDS["init"], description=COMMANDS["init"])
    s.add_argument("path", metavar="PATH", help="the .xlsx file to create")
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
        cfg = load(args.config)
        return COMMAND_FUNCS[args.command](args, cfg)
    except (ConfigError, Usage) as exc:
        print(f"campaignwatch: {exc}", file=sys.stderr)
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
    path = Path(args.path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise Usage(f"{path}: init writes .xlsx workbooks")
    if path.exists() and not args.force:
        raise Usage(f"{path} already exists (use --force to replace it)")
    as_of = args.as_of or today(cfg)
    write_template(path, lang=args.lang, demo=args.demo, as_of=as_of)
    what = "demo workbook" if args.demo else "workbook"
    print(f"wrote {what} {path}")
    return EXIT_OK


def cmd_validate(args, cfg) -> int:
    from .findings import count_errors
    from .pipeline import check_source
    from .report import json_document, text_report
    as_of = args.as_of or today(cfg)
    results = [check_source(src, cfg, as_of, args.lang) for src in args.sources]
    if args.json:
        print(json_document(results, as_of))
    else:
        for r in results:
            print(text_report(r))
    if any(r.status == "failed" for r in results):
        return EXIT_SOURCE
    return EXIT_PROBLEMS if any(count_errors(r.findings) for r in results) else EXIT_OK


COMMAND_FUNCS = {"init": cmd_init, "validate": cmd_validate}

if __name__ == "__main__":
    sys.exit(main())
