"""Shared test helpers: the package on sys.path, LibreOffice re-saving, and the factories tests share.

* the command line in process (`run_cli`, `cli_json`) and as a real process (`cli_process`);
* workbooks: `write_xlsx` ({tab: rows}), `contract_sheets` ({table: [dict]} under the contract's
  headers), `demo_tabs` (the demo as typed), `messy_sheets` (a messy Chinese workbook);
* records in memory: `make_records` / `make_tables` run the real recognise and normalise stages on
  grids held in memory, no file written;
* generated tabs and packages: `make_tab`, `seven_tabs`, `members`, `sheet_names`, `tiny_png`;
* `FakeClock`: time that only moves when someone sleeps.

No test module imports another test module: what two of them share lives here.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from contextlib import chdir, redirect_stderr, redirect_stdout
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

if TYPE_CHECKING:
    from campaignwatch.tabspec import TabSpec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
_no_soffice = pytest.mark.skipif(SOFFICE is None and not os.environ.get("CI"),
                                 reason="LibreOffice (soffice) is not installed")


def needs_soffice(test):
    """A test that opens or saves workbooks in LibreOffice: skipped without soffice, and slow."""
    return pytest.mark.slow(_no_soffice(test))

AS_OF = dt.date(2026, 11, 26)
TRICKY = ["=SUM(A1)", "+1", "-x", "@foo"]      # text a spreadsheet would take for a formula


def soffice_convert(src: Path, fmt: str, outdir: Path, timeout: int = 180) -> Path:
    """Open `src` in LibreOffice and save it as `fmt` (xlsx, pdf, ...) in `outdir`."""
    if SOFFICE is None:
        raise RuntimeError("soffice is not installed (CI installs libreoffice-calc-nogui)")
    profile = outdir / ".lo-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", fmt, "--outdir", str(outdir), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"soffice failed ({proc.returncode}): {proc.stdout} {proc.stderr}")
    return out


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF


# =========================================================================== the command line

class CliResult(NamedTuple):
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict:
        """stdout as the one JSON document `--json` prints."""
        return json.loads(self.out)


def cli_run(*argv, cwd: str | Path | None = None) -> CliResult:
    """`campaignwatch ARGV` in this process: exit code, stdout and stderr."""
    from campaignwatch.cli import main
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err), chdir(cwd or os.getcwd()):
        code = main([str(a) for a in argv])
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli(*argv, cwd: str | Path | None = None) -> tuple[int, str]:
    """`campaignwatch ARGV` in this process: (exit code, stdout)."""
    r = cli_run(*argv, cwd=cwd)
    return r.code, r.out


def cli_json(*argv, cwd: str | Path | None = None) -> tuple[int, dict]:
    """`campaignwatch ARGV --json` in this process: (exit code, the JSON document)."""
    r = cli_run(*argv, "--json", cwd=cwd)
    return r.code, r.doc


def cli_process(*argv, cwd: str | Path | None = None, prefix=(), timeout: int = 180) -> subprocess.CompletedProcess:
    """`python -m campaignwatch ARGV` as a real process (exact stdout, exit codes, no traceback),
    with no CAMPAIGNWATCH_CONFIG from the environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    env.pop("CAMPAIGNWATCH_CONFIG", None)
    return subprocess.run([*prefix, sys.executable, "-m", "campaignwatch", *map(str, argv)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def history_config(folder: Path, extra: str = "") -> Path:
    """A config.toml in `folder` whose history database is in `folder` too."""
    cfg = folder / "config.toml"
    cfg.write_text(f'[history]\npath = "{(folder / "history.sqlite").as_posix()}"\n{extra}', encoding="utf-8")
    return cfg


# =========================================================================== workbooks

def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook written by openpyxl: {tab: rows}; a str starting with '=' is a formula."""
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def contract_sheets(tables: dict[str, list[dict]], lang: str = "en") -> dict[str, list[list]]:
    """{table key: [record as {column key: value}]} as {tab: rows} under the contract's tab names and
    headers in `lang`; only the columns the records use, in the order of their first use."""
    from campaignwatch.contract import TABLE_BY_KEY
    out = {}
    for key, records in tables.items():
        table = TABLE_BY_KEY[key]
        cols: list[str] = []
        for rec in records:
            cols += [c for c in rec if c not in cols]
        out[table.tab(lang)] = [[table.column(c).header(lang) for c in cols]] + \
            [[rec.get(c) for c in cols] for rec in records]
    return out


def demo_tabs(lang: str = "en") -> dict[str, list[list]]:
    """The demo workbook's content as {tab: rows}, the way a team would have typed it into a Sheet."""
    from campaignwatch.contract import TABLES
    from campaignwatch.workbook.demo import rows as demo_rows
    data = demo_rows(AS_OF, lang)
    return {t.tab(lang): [[c.header(lang) for c in t.columns]] + [[r.get(c.key) for c in t.columns]
                                                                  for r in data.get(t.key, [])] for t in TABLES}


def messy_sheets() -> dict[str, list[list]]:
    return {
        "活动": [
            ["2026年秋季活动计划"],
            [],
            ["活动编号", "活动名称", "负责人", "开始日期", "结束日期", "状态", "总预算(万元)", "我们自己的备注"],
            ["C1", "中秋促销", "王芳", "2026年9月1日", "2026/9/30", "执行中", 5, "保留此列"],
            ["C2", "国庆活动", "李强", dt.date(2026, 10, 1), dt.date(2026, 10, 7), "已批准", "1.5", ""],
        ],
        "预算明细": [
            ["活动编号", "预算科目编号", "预算金额(元)"],
            ["C1", "L1", "50,000"],
            ["C2", "L1", 15000],
        ],
        "费用记录 Expenses": [
            ["费用明细（2026年9月）"],
            ["费用编号", "活动编号", "预算科目编号", "发生日期", "金额(元)", "票据号", "备用列"],
            ["E1", "C1", "L1", "2026年9月1日", "¥2,500.00", "FP1", "x"],
            ["E2", "C1", "L1", "2026/9/30", "1.2万", "FP2", ""],
            ["E3", "C1", "L1", "2026.9.15", "１２００", "FP3", ""],
            [],
            ["E4", "C1", "L1", "2026-09-16", "abc", "FP4", ""],
            ["E5", "C1", "L1", "2026-09-17", "=1/0", "FP5", ""],
            ["E6", "C9", "L1", "2026-09-18", 300, "FP6", ""],
            ["E2", "C1", "L1", "2026-09-19", 400, "FP7", ""],
            ["E7", "C2", "L1", dt.date(2026, 10, 2), "RMB 800", "", ""],
        ],
    }


# =========================================================================== records in memory

def raw_book(sheets: dict[str, list[list]]):
    """{tab: rows} as the readers hand it over (`RawWorkbook`), without a file."""
    from campaignwatch.read.workbook import RawWorkbook, Sheet
    return RawWorkbook("memory.xlsx", "xlsx", False, [Sheet(name, [list(r) for r in rows])
                                                      for name, rows in sheets.items()], [])


def make_tables(tables: dict[str, list[dict]], *, lang: str = "en", day_first: bool = False,
                currency: str = "CNY", sheets: dict[str, list[list]] | None = None):
    """Records for several tables from lists of dicts ({column key: value as typed}), through the real
    recognise and normalise stages, no file written: (tables by key, recognition and cell findings)."""
    from campaignwatch.read.recognise import recognise
    from campaignwatch.stages.normalise import ReadOptions, normalise
    found = recognise(raw_book({**contract_sheets(tables, lang), **(sheets or {})}))
    opts = ReadOptions(day_first=day_first, currency=currency)
    out, findings = {}, list(found.findings)
    for key, raw in found.tables.items():
        out[key], cell_findings = normalise(raw, opts)
        findings += cell_findings
    return out, findings


def make_records(table: str, rows: list[dict], **kw):
    """`Records` of one table from a list of dicts, through the real recognise and normalise:
    (records, the findings of its cells and columns — not the other tables' TAB_MISSING)."""
    tables, findings = make_tables({table: rows}, **kw)
    return tables[table], [f for f in findings if f.table == table]


# =========================================================================== generated tabs, packages

def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00" + b"\x00\x00\xff\x00"          # 2x1 RGB: red, green
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw[:7])) + chunk(b"IEND", b""))


def make_tab(key: str = "summary", lang: str = "en", rows: int = 3) -> TabSpec:
    from campaignwatch.names import tab_name
    from campaignwatch.tabspec import TabSpec
    header = ["Campaign", "Formula-ish", "Plus", "Minus", "At", "Spend", "Start", "Updated", "Share",
              "Count", "Done", "Ratio"]
    formats = ["text", "text", "text", "text", "text", "money", "date", "datetime", "percent", "int",
               "text", "number"]
    body = []
    for i in range(rows):
        body.append([f"C{i + 1:03d}", *TRICKY, Decimal("12345678901.23") + i, dt.date(2026, 11, 26) + dt.timedelta(days=i),
                     dt.datetime(2026, 11, 26, 9, 30), 0.125, 42 + i, i % 2 == 0, 1.5])
    return TabSpec(key, tab_name(key, lang), [f"Campaign summary — {key}", "Generated by campaignwatch. Do not edit."],
                   header, formats, body, [12] * len(header),
                   fills={(0, 5): "red", (1, 5): "amber", (2, 5): "green", (0, 0): "grey"},
                   links={(0, 0): "费用记录!B2", (1, 0): "'Lists'!A3"})


def seven_tabs(lang: str = "en", rows: int = 5) -> list:
    keys = ["summary", "flags", "budget", "kpi", "validation", "scorecard", "runlog"]
    return [make_tab(k, lang, rows) for k in keys]


def members(path: Path) -> dict[str, tuple[bytes, int, int]]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {i.filename: (zf.read(i), i.CRC, i.compress_size) for i in zf.infolist()}


def sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook
    return CalamineWorkbook.from_path(str(path)).sheet_names


# =========================================================================== Google Sheets (with fake_sheets.google_env)

def our_tabs() -> list[str]:
    """The names of the seven generated tabs, in English, in the order they are written."""
    from campaignwatch.names import MARK
    return [MARK + n for n in ("Summary", "Flags", "Budget", "KPI", "Validation", "Scorecard", "Run log")]


def our_sheets(fake, sid) -> dict[str, dict]:
    """The sheets of spreadsheet `sid` in the fake that carry our developer metadata, by title."""
    from campaignwatch.gsheets import write as gwrite
    return {s["properties"]["title"]: s for s in fake.book(sid)["sheets"]
            if any(d["metadataKey"] == gwrite.TAB_KEY for d in s["developerMetadata"])}


def gsheet_sync_json(env, *sources, as_of=AS_OF, extra=()) -> tuple[int, dict]:
    """`sync SOURCES --json` with the config of a `google_env`."""
    r = cli_run("--config", env.config, "sync", *sources, "--as-of", as_of.isoformat(), "--json", *extra)
    return r.code, r.doc


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self):
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
