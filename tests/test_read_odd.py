"""Workbooks other readers open and we used to refuse or crash on (issue 10, items 3 and 8).

- A stray value far from the tables (XFD1048576) made python-calamine allocate the whole
  dense grid (~512 GB: the process aborted, and every other source of the run with it).
- Packages whose workbook part is not at xl/workbook.xml, with backslash member names, or
  with Excel 4 macro sheets; .xls files whose last sector is short or whose structure is
  damaged; a panic inside calamine.
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import pytest
import python_calamine

from conftest import AS_OF, ROOT, needs_soffice, soffice_convert, write_xlsx
from campaignwatch.read import ooxml, package, sheet_scan, tidy_copy, workbook
from campaignwatch.errors import DAMAGED, INTERNAL, TOO_LARGE, SourceError, message
from campaignwatch.read.package import Limits, inspect
from campaignwatch.read.workbook import read_workbook

SHEET1 = "xl/worksheets/sheet1.xml"


def small_book(path: Path, far: dict[str, object] | None = None, rows: int = 3) -> Path:
    """An Expenses tab (ID, Amount) of `rows` rows plus values at the cells in `far`."""
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "Expenses"
    ws.append(["ID", "Amount"])
    for i in range(1, rows):
        ws.append([f"E{i}", i * 1.5])
    for ref, value in (far or {}).items():
        ws[ref] = value
    wb.save(path)
    return path


def rebuild(src: Path, dst: Path, rename=None, edit=None, extra=None) -> Path:
    """Copy a zip package: members renamed ({old: new}), edited ({new name: fn(bytes) -> bytes}), added."""
    rename, edit = rename or {}, edit or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = rename.get(info.filename, info.filename)
            data = zin.read(info)
            if name in edit:
                data = edit[name](data)
            zout.writestr(zipfile.ZipInfo(name, info.date_time), data, zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def read_in_child(path: Path, timeout: int = 60) -> tuple[int, dict, float]:
    """read_workbook in a child process (a dense blow-up aborts the process, not the tests):
    (exit code, {"code", "detail"} or {"rows", "cols"}, seconds)."""
    script = ("import json, sys; sys.path.insert(0, sys.argv[1])\n"
              "from campaignwatch.read.workbook import read_workbook\n"
              "from campaignwatch.errors import SourceError\n"
              "try:\n"
              "    s = read_workbook(sys.argv[2]).sheets[0]\n"
              "    print(json.dumps({'rows': len(s.rows), 'cols': len(s.rows[0]), 'last': s.rows[-1][:1]}))\n"
              "except SourceError as e:\n"
              "    print(json.dumps({'code': e.code, 'detail': e.detail}))\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script, str(ROOT / "lib"), str(path)],
                          capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    return proc.returncode, (json.loads(proc.stdout) if proc.returncode == 0 else {}), seconds


# --------------------------------------------------------------------------- item 3: a stray value far away

@pytest.mark.parametrize("ref, cells", [("XFD1048576", 1_048_576 * 16_384), ("XFD10000", 10_000 * 16_384)])
def test_a_stray_value_far_away_is_refused_in_seconds(tmp_path, ref, cells):
    path = small_book(tmp_path / "far.xlsx", {ref: 0})
    rc, out, seconds = read_in_child(path)
    assert rc == 0 and out["code"] == TOO_LARGE
    assert ref in out["detail"] and f"{cells:,}" in out["detail"]
    assert seconds < 20                       # measured 0.2 s (was: abort / 9-62 s and 6.2 GiB)


def test_a_stray_value_far_down_one_column_is_read(tmp_path):
    path = small_book(tmp_path / "down.xlsx", {"A1048576": 0})
    rc, out, _ = read_in_child(path)
    assert rc == 0 and (out["rows"], out["cols"], out["last"]) == (1_048_576, 2, [0])


def test_a_stray_value_next_to_a_small_table_is_read(tmp_path):
    """XFD1 over a 10-row table: 10 x 16,384 cells, well under the limit (the exact count decides)."""
    path = small_book(tmp_path / "wide.xlsx", {"XFD1": "note"}, rows=10)
    book = read_workbook(path)
    assert (len(book.sheets[0].rows), len(book.sheets[0].rows[0])) == (10, 16_384)
    assert book.sheets[0].rows[0][16_383] == "note"


def _edit_sheet(src: Path, dst: Path, fn) -> Path:
    return rebuild(src, dst, edit={SHEET1: fn})


def test_a_lying_dimension_is_ignored(tmp_path):
    base = small_book(tmp_path / "base.xlsx", rows=10)
    path = _edit_sheet(base, tmp_path / "lie.xlsx",
                       lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d))
    assert len(read_workbook(path).sheets[0].rows) == 10
    assert inspect(path, Limits(max_cells=1000)).kind == "xlsx"


def test_far_cells_without_a_value_do_not_count(tmp_path):
    """Formatting (<c r="XFD1048576" s="1"/>), an empty <v></v>, a formatted row: calamine skips them."""
    base = small_book(tmp_path / "base.xlsx")
    extra = (b'<row r="1048575" ht="30" customHeight="1"/><row r="1048576"><c r="XFD1048576" s="0"/>'
             b'<c r="XFC1048576"><v></v></c></row>')
    path = _edit_sheet(base, tmp_path / "styled.xlsx", lambda d: d.replace(b"</sheetData>", extra + b"</sheetData>"))
    assert len(read_workbook(path).sheets[0].rows) == 3


def test_far_cells_out_of_order_and_without_references_count(tmp_path):
    """A far row first, a row whose cells carry no r=: both are where calamine puts them."""
    base = small_book(tmp_path / "base.xlsx")
    first = _edit_sheet(base, tmp_path / "first.xlsx", lambda d: d.replace(
        b"<sheetData>", b'<sheetData><row r="10000"><c r="XFD10000"><v>1</v></c></row>'))
    assert _code(lambda: read_workbook(first)) == TOO_LARGE
    positional = _edit_sheet(base, tmp_path / "positional.xlsx", lambda d: d.replace(
        b"</sheetData>", b'<row r="1048576">' + b"<c><v>1</v></c>" * 30 + b"</row></sheetData>"))
    err = _error(lambda: read_workbook(positional))
    assert err.code == TOO_LARGE and f"{1_048_576 * 30:,}" in err.detail


def test_max_cells_is_the_limit(tmp_path):
    path = small_book(tmp_path / "t.xlsx", rows=600)                  # 600 x 2 = 1,200 cells
    assert len(read_workbook(path, Limits(max_cells=1200)).sheets[0].rows) == 600
    err = _error(lambda: read_workbook(path, Limits(max_cells=1199)))
    assert err.code == TOO_LARGE and "1,200" in err.detail


def test_max_cells_setting_reaches_the_reader(tmp_path):
    from campaignwatch.config import load
    from campaignwatch.pipeline import limits
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text("[limits]\nmax_cells = 5000\n", encoding="utf-8")
    assert limits(load(str(cfg_path))).max_cells == 5000


def test_other_formats_are_bounded_before_the_python_grid(tmp_path):
    """.xls/.xlsb/.ods are not scanned beforehand; the grid calamine reports is checked before to_python."""
    path = small_book(tmp_path / "t.xlsx", rows=600)
    original = package.inspect
    with pytest.MonkeyPatch.context() as mp:                        # skip the xlsx scan
        mp.setattr(package, "inspect", lambda p, limits: original(p, Limits()))
        assert _code(lambda: read_workbook(path, Limits(max_cells=1000))) == TOO_LARGE


def test_sync_of_a_far_cell_workbook_still_syncs_the_next_source(tmp_path):
    from conftest import messy_sheets
    far = small_book(tmp_path / "far.xlsx", {"XFD1048576": 0})
    good = write_xlsx(tmp_path / "good.xlsx", messy_sheets())
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    config = tmp_path / "config.toml"
    config.write_text(f'[history]\npath = "{(tmp_path / "history.sqlite").as_posix()}"\n', encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "campaignwatch", "--config", str(config), "sync", str(far),
                           str(good), "--json", "--as-of", AS_OF.isoformat()],
                          capture_output=True, text=True, env=env, timeout=120)
    assert time.perf_counter() - start < 60
    doc = json.loads(proc.stdout)
    assert proc.returncode == 3
    first, second = doc["sources"]
    assert (first["status"], first["error_code"]) == ("failed", TOO_LARGE)
    assert second["status"] != "failed" and second["error_code"] is None
    assert read_workbook(good).generated                           # its generated tabs were written


# --------------------------------------------------------------------------- item 8: what other readers read

def _workbook_moved(base: Path, dst: Path, part: str) -> Path:
    """`base` with its workbook part at `part` (rels beside it), found only through _rels/.rels."""
    folder = posixpath.dirname(part)
    rels = posixpath.join(folder, "_rels", posixpath.basename(part) + ".rels")

    def fix_rels(d: bytes) -> bytes:                       # relative targets now start from `folder`
        return re.sub(rb'Target="(?!/)([^"]*)"', lambda m: b'Target="' + posixpath.relpath(
            "xl/" + m.group(1).decode(), folder or ".").encode() + b'"', d)

    return rebuild(base, dst, rename={"xl/workbook.xml": part, "xl/_rels/workbook.xml.rels": rels},
                   edit={"[Content_Types].xml": lambda d: d.replace(b"/xl/workbook.xml", b"/" + part.encode()),
                         "_rels/.rels": lambda d: d.replace(b'Target="xl/workbook.xml"', f'Target="{part}"'.encode()),
                         rels: fix_rels})


@pytest.mark.parametrize("part", ["xl/wb/book.xml", "workbook.xml", "xl/workbook2.xml", "excel/wb/workbook.xml"])
def test_the_workbook_part_is_found_through_the_root_relationships(tmp_path, part):
    base = write_xlsx(tmp_path / "base.xlsx", {"Expenses": [["ID", "Amount"], ["E1", 5], ["E2", "=1+1"]]})
    path = _workbook_moved(base, tmp_path / "moved.xlsx", part)
    with zipfile.ZipFile(path) as z:
        assert "xl/workbook.xml" not in z.namelist()
        assert ooxml.workbook_part(z) == part
    book = read_workbook(path)
    assert [(s.name, s.rows, s.uncalculated) for s in book.sheets] == [
        ("Expenses", [["ID", "Amount"], ["E1", 5.0], ["E2", ""]], {(2, 1)})]


def test_backslash_member_names_are_read(tmp_path):
    base = write_xlsx(tmp_path / "base.xlsx", {"Expenses": [["ID", "Amount"], ["E1", 5], ["E2", "=1+1"]]})
    with zipfile.ZipFile(base) as z:
        names = z.namelist()
    path = rebuild(base, tmp_path / "back.xlsx", rename={n: n.replace("/", "\\") for n in names})
    with zipfile.ZipFile(path) as z:
        assert ooxml.workbook_part(z) == "xl\\workbook.xml"
    book = read_workbook(path)
    assert book.sheets[0].rows == [["ID", "Amount"], ["E1", 5.0], ["E2", ""]]
    assert book.sheets[0].uncalculated == {(2, 1)}                # the scan found the backslashed sheet


MACROSHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
              b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
              b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
              b'<row r="1"><c r="A1" t="str"><f>GET.WORKSPACE(1)</f><v>Windows</v></c></row>'
              b'<row r="2"><c r="A2" t="b"><f>HALT()</f><v>1</v></c></row></sheetData></xm:macrosheet>')


def _with_macrosheet(base: Path, dst: Path, folder: str = "macrosheets") -> Path:
    part = f"xl/{folder}/sheet9.xml"
    return rebuild(base, dst, extra={part: MACROSHEET}, edit={
        "[Content_Types].xml": lambda d: d.replace(b"</Types>", f'<Override PartName="/{part}" ContentType='
                                                  f'"application/vnd.ms-excel.macrosheet+xml"/></Types>'.encode()),
        "xl/_rels/workbook.xml.rels": lambda d: d.replace(b"</Relationships>", (
            '<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" '
            f'Target="{folder}/sheet9.xml"/></Relationships>').encode()),
        "xl/workbook.xml": lambda d: re.sub(rb"(<sheet [^>]*/>)", rb'\1<sheet name="Auto_Open" sheetId="99" '
                                                                  rb'state="hidden" r:id="rId99"/>', d, count=1)})


@pytest.mark.parametrize("folder", ["macrosheets", "sheets"])
def test_excel4_macro_sheets_are_skipped_and_the_rest_read(tmp_path, folder):
    base = write_xlsx(tmp_path / "base.xlsx", {"Expenses": [["ID", "Amount"], ["E1", 5]], "Tasks": [["Task"], ["x"]]})
    path = _with_macrosheet(base, tmp_path / "macro.xlsm", folder)
    with pytest.raises(python_calamine.CalamineError):              # what calamine alone does with it
        python_calamine.CalamineWorkbook.from_path(str(path))
    book = read_workbook(path)
    assert [(s.name, s.rows) for s in book.sheets] == [("Expenses", [["ID", "Amount"], ["E1", 5.0]]),
                                                         ("Tasks", [["Task"], ["x"]])]
    assert "Auto_Open" in inspect(path).layout


def test_a_usual_package_is_read_straight_from_the_file(tmp_path, monkeypatch):
    base = write_xlsx(tmp_path / "base.xlsx", {"Expenses": [["ID"], ["E1"]]})
    assert inspect(base).layout == ""
    monkeypatch.setattr(tidy_copy, "calamine_copy", lambda p: pytest.fail("no copy for a usual package"))
    assert read_workbook(base).sheets[0].rows == [["ID"], ["E1"]]


@pytest.fixture(scope="module")
def lo_xls(tmp_path_factory) -> bytes:
    """A real .xls written by LibreOffice: Expenses, a header and 300 rows."""
    folder = tmp_path_factory.mktemp("xls")
    rows = [["ID", "Amount"]] + [[f"E{i}", i * 1.5] for i in range(300)]
    return soffice_convert(write_xlsx(folder / "src.xlsx", {"Expenses": rows}), "xls", folder).read_bytes()


@needs_soffice
def test_xls_with_a_short_last_sector_is_read(tmp_path, lo_xls):
    assert len(lo_xls) % 512 == 0
    (tmp_path / "short.xls").write_bytes(lo_xls[:-1])       # the last sector one byte short
    book = read_workbook(tmp_path / "short.xls")
    assert len(book.sheets[0].rows) == 301 and book.sheets[0].rows[300] == ["E299", 448.5]


@needs_soffice
@pytest.mark.parametrize("cut, detail", [(100, "short sector"), (4096, "past the end")])
def test_damaged_xls_says_so_without_blaming_the_download(tmp_path, lo_xls, cut, detail):
    path = tmp_path / "damaged.xls"
    path.write_bytes(lo_xls[:-cut])
    err = _error(lambda: read_workbook(path))
    assert err.code == DAMAGED and detail in err.detail
    assert "download" not in message(err) and "下载" not in message(err, "zh-CN")


# --------------------------------------------------------------------------- a panic inside calamine

class FakePanic(BaseException):
    """Like pyo3_runtime.PanicException: a BaseException, not an Exception."""


def _calamine_raising(exc: BaseException, where: str):
    class Book:
        def __init__(self, real):
            self.real = real
            self.sheets_metadata = real.sheets_metadata

        def get_sheet_by_name(self, name):
            raise exc

        def close(self):
            self.real.close()

    class Workbook:
        @staticmethod
        def from_path(p):
            if where == "open":
                raise exc
            return Book(python_calamine.CalamineWorkbook.from_path(p))

    fake = types.SimpleNamespace(**{k: getattr(python_calamine, k) for k in dir(python_calamine) if not k.startswith("__")})
    fake.CalamineWorkbook = Workbook
    return fake


@pytest.mark.parametrize("where", ["open", "sheet"])
def test_a_panic_in_calamine_is_this_sources_error(tmp_path, monkeypatch, where):
    path = write_xlsx(tmp_path / "t.xlsx", {"Expenses": [["ID"], ["E1"]]})
    monkeypatch.setattr(workbook, "calamine", _calamine_raising(FakePanic("index out of bounds"), where))
    err = _error(lambda: read_workbook(path))
    assert err.code == INTERNAL and "FakePanic" in err.detail


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_interrupts_still_stop_the_read(tmp_path, monkeypatch, stop):
    path = write_xlsx(tmp_path / "t.xlsx", {"Expenses": [["ID"], ["E1"]]})
    monkeypatch.setattr(workbook, "calamine", _calamine_raising(stop(), "sheet"))
    with pytest.raises(stop):
        read_workbook(path)


# --------------------------------------------------------------------------- helpers

def _error(fn) -> SourceError:
    with pytest.raises(SourceError) as info:
        fn()
    return info.value


def _code(fn) -> str:
    return _error(fn).code


@pytest.mark.slow
def test_a_long_sheet_needs_no_exact_count(tmp_path, monkeypatch):
    """150,000 rows x 3 columns: rows past 99,999 are looked at one by one, never the whole sheet again."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>x</t></is></c>'
                   f'<c r="C{r}"><v>1.5</v></c></row>' for r in range(1, 150_001))
    base = small_book(tmp_path / "base.xlsx")
    path = _edit_sheet(base, tmp_path / "long.xlsx", lambda d: re.sub(
        rb"<sheetData>.*</sheetData>", lambda _: b"<sheetData>" + rows.encode() + b"</sheetData>", d, flags=re.S))
    monkeypatch.setattr(sheet_scan, "_extent_scan", lambda *a: pytest.fail("exact count of a sheet within the limit"))
    assert inspect(path).kind == "xlsx"                             # bound 150,000 x 26 columns
    monkeypatch.undo()
    assert inspect(path, Limits(max_cells=450_000)).kind == "xlsx"  # exact: 150,000 x 3
    err = _error(lambda: inspect(path, Limits(max_cells=449_999)))
    assert err.code == TOO_LARGE and "450,000" in err.detail
