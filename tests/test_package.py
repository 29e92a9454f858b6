"""Tests for campaignwatch.read.package: every workbook is built inside the test (no binaries)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
import time
import zipfile

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignwatch.read import package, sheet_scan, zipparts
from campaignwatch.errors import (
    CODES, ENCRYPTED, HOSTILE_XML, MISSING, NOT_A_WORKBOOK, PERMISSION, TOO_LARGE, TRUNCATED,
    UNSUPPORTED, ZIP_BOMB, SourceError, message,
)
from campaignwatch.read.package import Limits, PackageInfo, inspect

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SHEET1 = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# --------------------------------------------------------------------------- builders

def make_error_workbook(path) -> None:
    """Three sheets: errors under a title row, a clean sheet, errors on a later sheet (incl. column AB/ZZ)."""
    wb = xlsxwriter.Workbook(str(path))
    report = wb.add_worksheet("Campaigns")
    report.write(0, 0, "Q3 campaign report")          # title row
    report.write_row(1, 0, ["Campaign", "CPC", "CTR", "ROAS"])
    report.write_row(2, 0, ["Spring", 0.4, 0.02, 3.1])
    report.write(3, 0, "Summer")
    report.write_formula(3, 1, "=1/0", None, "#DIV/0!")
    report.write_formula(4, 2, "=NA()", None, "#N/A")
    report.write_formula(5, 3, "=#REF!*2", None, "#REF!")
    report.write_formula(6, 1, "=B3*2", None, 0.8)      # a calculated formula: neither list
    clean = wb.add_worksheet("Clean")
    clean.write_row(0, 0, ["a", 1, 2.5])
    clean.write_formula(1, 1, "=B1+1", None, 2)
    later = wb.add_worksheet("Budget Q4")
    later.write_formula(0, 0, "=#REF!", None, "#REF!")
    later.write_formula(10, 27, "=1/0", None, "#DIV/0!")   # AB11
    later.write_formula(99, 701, "=NA()", None, "#N/A")    # ZZ100
    wb.close()


ERRORS_EXPECTED = {
    "Campaigns": {(3, 1): "#DIV/0!", (4, 2): "#N/A", (5, 3): "#REF!"},
    "Budget Q4": {(0, 0): "#REF!", (10, 27): "#DIV/0!", (99, 701): "#N/A"},
}


def make_plain_workbook(path, **options) -> None:
    wb = xlsxwriter.Workbook(str(path), options or None)
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Campaign", "Spend"])
    ws.write_row(1, 0, ["Spring", 120.5])
    ws.write_datetime(2, 0, dt.datetime(2024, 3, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()


def rezip(src, dst, replace: dict | None = None, drop=(), add: dict | None = None) -> None:
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)


def with_zero_member(src, dst, member: str, size: int) -> None:
    """Copy a workbook, replacing `member` by `size` bytes of zeros, streamed (memory-light)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != member:
                zout.writestr(info.filename, zin.read(info.filename))
        target = zipfile.ZipInfo(member)
        target.compress_type = zipfile.ZIP_DEFLATED
        block = bytes(1 << 20)
        with zout.open(target, "w") as fh:
            for _ in range(size >> 20):
                fh.write(block)


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """Patch the uncompressed size of `member` in its local header and central directory entry."""
    buf = bytearray(data)
    name = member.encode()
    at = 0
    while (at := buf.find(b"PK\x03\x04", at)) >= 0:
        nlen = struct.unpack_from("<H", buf, at + 26)[0]
        if buf[at + 30:at + 30 + nlen] == name:
            struct.pack_into("<I", buf, at + 22, declared)
        at += 4
    at = 0
    while (at := buf.find(b"PK\x01\x02", at)) >= 0:
        nlen = struct.unpack_from("<H", buf, at + 28)[0]
        if buf[at + 46:at + 46 + nlen] == name:
            struct.pack_into("<I", buf, at + 24, declared)
        at += 4
    return bytes(buf)


def sheet_xml(body: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{p}worksheet {xmlns}><{p}dimension ref="A1"/><{p}sheetData>{body}</{p}sheetData>'
            f'<{p}pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            f'</{p}worksheet>').encode()


def with_sheet(tmp_path, body: str, prefix: str = "", name: str = "custom.xlsx"):
    base = tmp_path / "base.xlsx"
    if not base.exists():
        make_plain_workbook(base)
    out = tmp_path / name
    rezip(base, out, replace={SHEET1: sheet_xml(body, prefix)})
    return out


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal, valid OLE2 compound file (version 3) holding `streams` in regular sectors."""
    ss = 512
    data_sectors: list[bytes] = []
    entries = []
    fat: list[int] = []
    for name, content in streams.items():
        if content:
            content = content + bytes(max(0, 4096 - len(content)))       # keep out of the mini stream
            content += bytes(-len(content) % ss)
            first = len(data_sectors)
            count = len(content) // ss
            data_sectors += [content[i * ss:(i + 1) * ss] for i in range(count)]
            fat += [first + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
            entries.append((name, 2, first, len(content)))
        else:
            entries.append((name, 2, 0xFFFFFFFE, 0))
    # layout: sector 0 = FAT, sector 1 = directory, sectors 2.. = stream data
    shift = 2
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [x + shift if x < 0xFFFFFFF0 else x for x in fat]
    entries = [(n, t, s + shift if s < 0xFFFFFFF0 else s, size) for n, t, s, size in entries]
    assert len(fat) <= ss // 4 and len(entries) < 4
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + b"\xff" * (ss - 4 * len(fat))

    def dir_entry(name: str, etype: int, start: int, size: int, child: int = 0xFFFFFFFF,
                  right: int = 0xFFFFFFFF) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        e = bytearray(128)
        e[:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), etype, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, right, child)
        struct.pack_into("<IQ", e, 116, start, size)
        return bytes(e)

    dir_bytes = dir_entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1)
    for i, (n, t, s, size) in enumerate(entries):
        nxt = i + 2 if i + 1 < len(entries) else 0xFFFFFFFF
        dir_bytes += dir_entry(n, t, s, size, right=nxt)
    dir_bytes += bytes(ss - len(dir_bytes))
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    return bytes(header) + fat_sector + dir_bytes + b"".join(data_sectors)


def biff(*records: tuple[int, bytes]) -> bytes:
    out = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0)[:16]
    for rtype, data in records:
        out += struct.pack("<HH", rtype, len(data)) + data
    return out


def xlsb_record(rtype: int, data: bytes = b"") -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return varint(rtype) + varint(len(data)) + data


def make_xlsb(path, date1904: bool, extra: dict | None = None) -> None:
    props = struct.pack("<II", 1 if date1904 else 0, 0) + struct.pack("<I", 0)
    book = xlsb_record(0x83) + xlsb_record(0x99, props) + xlsb_record(0x8F) + xlsb_record(0x84)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"/>')
        z.writestr("xl/workbook.bin", book)
        for name, data in (extra or {}).items():
            z.writestr(name, data)


def make_ods(path, mimetype: str = "application/vnd.oasis.opendocument.spreadsheet",
             manifest: str = "<manifest:manifest xmlns:manifest='urn:oasis:names:tc:opendocument:xmlns:manifest:1.0'/>",
             content: str = "<office:document-content xmlns:office='urn:oasis:names:tc:opendocument:xmlns:office:1.0'/>"):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", mimetype)                 # stored, first, as ODF requires
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)


def code_of(path, limits: Limits = Limits()) -> str:
    with pytest.raises(SourceError) as info:
        inspect(path, limits)
    err = info.value
    assert err.path is not None
    assert message(err) and "\n" not in message(err)
    return err.code


# --------------------------------------------------------------------------- normal workbooks

def test_error_cells_exact_positions(tmp_path):
    path = tmp_path / "budget.xlsx"
    make_error_workbook(path)
    info = inspect(path)
    assert isinstance(info, PackageInfo)
    assert info.kind == "xlsx" and info.path == path and info.date1904 is False
    assert info.sheet_parts == {
        "Campaigns": "xl/worksheets/sheet1.xml",
        "Clean": "xl/worksheets/sheet2.xml",
        "Budget Q4": "xl/worksheets/sheet3.xml",
    }
    assert info.error_cells == ERRORS_EXPECTED
    assert info.uncalculated_cells == {}


def test_positions_match_calamine_grid(tmp_path):
    python_calamine = pytest.importorskip("python_calamine")
    path = tmp_path / "budget.xlsx"
    make_error_workbook(path)
    info = inspect(path)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    grid = book.get_sheet_by_name("Campaigns").to_python(skip_empty_area=False)
    for (r, c) in info.error_cells["Campaigns"]:
        assert grid[r][c] == ""                       # calamine hands errors over as ''
    assert grid[3][0] == "Summer" and grid[2][1] == 0.4


@pytest.mark.parametrize("chunk", [7, 64, 4096])
def test_scan_is_independent_of_chunk_boundaries(tmp_path, monkeypatch, chunk):
    path = tmp_path / "budget.xlsx"
    make_error_workbook(path)
    monkeypatch.setattr(zipparts, "CHUNK", chunk)
    assert inspect(path).error_cells == ERRORS_EXPECTED


def test_uppercase_extension_and_xlsm_kind(tmp_path):
    make_error_workbook(tmp_path / "a.xlsx")
    shutil.copy(tmp_path / "a.xlsx", tmp_path / "B.XLSX")
    shutil.copy(tmp_path / "a.xlsx", tmp_path / "macro.xlsm")
    assert inspect(tmp_path / "B.XLSX").kind == "xlsx"
    info = inspect(str(tmp_path / "macro.xlsm"))
    assert info.kind == "xlsm" and info.error_cells == ERRORS_EXPECTED


def test_openpyxl_formulas_are_uncalculated(tmp_path):
    path = tmp_path / "openpyxl.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["A1"] = 10
    ws["B1"] = "=A1*2"
    ws["C3"] = "=SUM(A1:B1)"
    other = wb.create_sheet("Notes")
    other["A1"] = "no formulas here"
    wb.save(path)
    info = inspect(path)
    assert info.uncalculated_cells == {"Plan": {(0, 1), (2, 2)}}
    assert info.error_cells == {}


def test_date1904(tmp_path):
    make_plain_workbook(tmp_path / "mac.xlsx", date_1904=True)
    make_plain_workbook(tmp_path / "win.xlsx")
    assert inspect(tmp_path / "mac.xlsx").date1904 is True
    assert inspect(tmp_path / "win.xlsx").date1904 is False


def test_date1904_true_spelling_and_absolute_rels_target(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    with zipfile.ZipFile(tmp_path / "base.xlsx") as z:
        wb_xml = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    wb_xml = wb_xml.replace("<workbookPr", '<workbookPr date1904="true"', 1)
    rels = rels.replace('Target="worksheets/sheet1.xml"', 'Target="/xl/worksheets/sheet1.xml"')
    rezip(tmp_path / "base.xlsx", tmp_path / "abs.xlsx",
          replace={"xl/workbook.xml": wb_xml, "xl/_rels/workbook.xml.rels": rels})
    info = inspect(tmp_path / "abs.xlsx")
    assert info.date1904 is True
    assert info.sheet_parts == {"Data": "xl/worksheets/sheet1.xml"}


def test_namespaced_prefix_attribute_order_and_quotes(tmp_path):
    body = ('<x:row r="2"><x:c t="e" r="B2" s="3"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c>'
            "<x:c r='C2' t='e'><x:v>#NAME?</x:v></x:c>"
            '<x:c s="1" t = "e" r="D2"><x:f t="shared" si="0"/><x:v>#VALUE!</x:v></x:c></x:row>'
            '<x:row r="7"><x:c r="A7" t="e"><x:f>X</x:f><x:v>#SPILL!</x:v></x:c>'
            '<x:c r="B7" t="e"><x:v>#GETTING_DATA</x:v></x:c><x:c r="C7"><x:f>A1</x:f></x:c></x:row>')
    info = inspect(with_sheet(tmp_path, body, prefix="x"))
    assert info.error_cells == {"Data": {(1, 1): "#DIV/0!", (1, 2): "#NAME?", (1, 3): "#VALUE!",
                                         (6, 0): "#SPILL!", (6, 1): "#GETTING_DATA"}}
    assert info.uncalculated_cells == {"Data": {(6, 2)}}


def test_uncalculated_variants(tmp_path):
    body = ('<row r="1"><c r="A1"><f>1+1</f></c>'                       # no <v>
            '<c r="B1"><f t="shared" ref="B1:B3" si="0">A1</f><v></v></c>'  # empty <v>
            '<c r="C1"><f>2</f><v /></c>'                                   # openpyxl style
            '<c r="D1" t="str"><f>""</f><v></v></c>'                        # calculated "": not reported
            '<c r="E1"><f>3</f><v>3</v></c>'                                 # calculated
            '<c r="F1" t="inlineStr"><is><t>#hashtag t="e" f</t></is></c></row>'
            '<row r="2"><c r="B2"><f t="shared" si="0"/></c>'               # shared child, no value
            '<c r="C2" t="e"><f>1/0</f></c></row>')                        # error type, no value
    info = inspect(with_sheet(tmp_path, body))
    assert info.uncalculated_cells == {"Data": {(0, 0), (0, 1), (0, 2), (1, 1), (1, 2)}}
    assert info.error_cells == {}


def test_cells_without_references_use_calamine_positions(tmp_path):
    body = ('<row><c><v>1</v></c><c t="e"><v>#N/A</v></c></row>'
            '<row r="4"><c><v>1</v></c><c r="D4"><v>2</v></c><c t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
            '<row><c><f>A1</f></c></row>')
    info = inspect(with_sheet(tmp_path, body))
    assert info.error_cells == {"Data": {(0, 1): "#N/A", (3, 4): "#DIV/0!"}}
    assert info.uncalculated_cells == {"Data": {(4, 0)}}


def test_many_errors_across_chunks(tmp_path):
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>#tag {r}</t></is></c>'
                    f'<c r="C{r}" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="D{r}"><v>{r}</v></c></row>'
                    for r in range(1, 40001, 7))
    info = inspect(with_sheet(tmp_path, cells))
    assert info.error_cells == {"Data": {(r - 1, 2): "#DIV/0!" for r in range(1, 40001, 7)}}


# --------------------------------------------------------------------------- broken files

def test_missing_file(tmp_path):
    assert code_of(tmp_path / "nope.xlsx") == MISSING
    assert code_of(tmp_path / "no_dir" / "nope.xlsx") == MISSING


def test_directory_and_fifo(tmp_path):
    (tmp_path / "folder.xlsx").mkdir()
    assert code_of(tmp_path / "folder.xlsx") == NOT_A_WORKBOOK
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.xlsx")
        assert code_of(tmp_path / "pipe.xlsx") == NOT_A_WORKBOOK    # and it must not block


def test_unsupported_extension(tmp_path):
    for name in ("report.csv", "report.txt", "report", "report.xltx"):
        (tmp_path / name).write_text("a,b\n1,2\n")
        assert code_of(tmp_path / name) == UNSUPPORTED


def test_text_renamed_to_xlsx(tmp_path):
    (tmp_path / "fake.xlsx").write_text("Campaign,Spend\nSpring,10\n")
    (tmp_path / "page.xls").write_text("<html><table><tr><td>1</td></tr></table></html>")
    (tmp_path / "~$budget.xlsx").write_bytes(b"\x05owner" + bytes(160))
    assert code_of(tmp_path / "fake.xlsx") == NOT_A_WORKBOOK
    assert code_of(tmp_path / "page.xls") == NOT_A_WORKBOOK
    assert code_of(tmp_path / "~$budget.xlsx") == NOT_A_WORKBOOK


def test_empty_file_and_empty_zip(tmp_path):
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert code_of(tmp_path / "empty.xlsx") == TRUNCATED
    with zipfile.ZipFile(tmp_path / "emptyzip.xlsx", "w"):
        pass
    assert code_of(tmp_path / "emptyzip.xlsx") == NOT_A_WORKBOOK


def test_truncated_zip(tmp_path):
    make_error_workbook(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    (tmp_path / "half.xlsx").write_bytes(data[: len(data) // 2])
    assert code_of(tmp_path / "half.xlsx") == TRUNCATED


def test_corrupted_member_data(tmp_path):
    make_plain_workbook(tmp_path / "ok.xlsx")
    data = bytearray((tmp_path / "ok.xlsx").read_bytes())
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as z:
        info = z.getinfo(SHEET1)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + min(info.compress_size, 60)):
        data[i] ^= 0x5A
    (tmp_path / "bad.xlsx").write_bytes(bytes(data))
    assert code_of(tmp_path / "bad.xlsx") == TRUNCATED


def test_other_zip_documents(tmp_path):
    with zipfile.ZipFile(tmp_path / "letter.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document xmlns:w='w'/>")
    assert code_of(tmp_path / "letter.xlsx") == NOT_A_WORKBOOK
    make_plain_workbook(tmp_path / "real.xlsx")
    shutil.copy(tmp_path / "real.xlsx", tmp_path / "renamed.xls")
    assert code_of(tmp_path / "renamed.xls") == NOT_A_WORKBOOK
    rezip(tmp_path / "real.xlsx", tmp_path / "norels.xlsx", drop=("xl/_rels/workbook.xml.rels",))
    assert code_of(tmp_path / "norels.xlsx") == NOT_A_WORKBOOK
    rezip(tmp_path / "real.xlsx", tmp_path / "nosheet.xlsx", drop=(SHEET1,))
    assert code_of(tmp_path / "nosheet.xlsx") == TRUNCATED
    rezip(tmp_path / "real.xlsx", tmp_path / "badxml.xlsx", replace={"xl/workbook.xml": b"<workbook><sheets>"})
    assert code_of(tmp_path / "badxml.xlsx") == NOT_A_WORKBOOK


def test_permission_denied(tmp_path, monkeypatch):
    make_plain_workbook(tmp_path / "locked.xlsx")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(package, "open", denied, raising=False)
    assert code_of(tmp_path / "locked.xlsx") == PERMISSION


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied_chmod(tmp_path):
    path = tmp_path / "locked.xlsx"
    make_plain_workbook(path)
    path.chmod(0)
    try:
        assert code_of(path) == PERMISSION
    finally:
        path.chmod(0o644)


# --------------------------------------------------------------------------- protected files

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def test_ole_blob_with_encrypted_package_name(tmp_path):
    blob = OLE_MAGIC + bytes(1000) + "EncryptedPackage".encode("utf-16-le") + bytes(3000)
    for name in ("secret.xlsx", "secret.xlsm"):
        (tmp_path / name).write_bytes(blob)
        assert code_of(tmp_path / name) == ENCRYPTED


def test_real_compound_file_encrypted(tmp_path):
    data = cfb({"EncryptionInfo": b"\x04\x00\x04\x00" + bytes(200), "EncryptedPackage": bytes(5000)})
    for name in ("secret.xlsx", "secret.xlsb", "secret.xls"):
        (tmp_path / name).write_bytes(data)
        assert code_of(tmp_path / name) == ENCRYPTED


def test_xls_filepass_and_datemode(tmp_path):
    (tmp_path / "pw.xls").write_bytes(cfb({"Workbook": biff((0x002F, bytes(54)), (0x000A, b""))}))
    assert code_of(tmp_path / "pw.xls") == ENCRYPTED
    (tmp_path / "mac.xls").write_bytes(cfb({"Workbook": biff((0x0022, b"\x01\x00"), (0x000A, b""))}))
    (tmp_path / "win.xls").write_bytes(cfb({"Workbook": biff((0x0022, b"\x00\x00"), (0x000A, b""))}))
    mac = inspect(tmp_path / "mac.xls")
    assert (mac.kind, mac.date1904, mac.error_cells, mac.sheet_parts) == ("xls", True, {}, {})
    assert inspect(tmp_path / "win.xls").date1904 is False
    full = (tmp_path / "mac.xls").read_bytes()
    (tmp_path / "cut.xls").write_bytes(full[:2000])
    assert inspect(tmp_path / "cut.xls").damaged        # calamine decides (tests/test_read_odd.py)
    (tmp_path / "old.xlsx").write_bytes(full)          # an .xls renamed .xlsx is not "encrypted"
    assert code_of(tmp_path / "old.xlsx") == NOT_A_WORKBOOK
    (tmp_path / "doc.xls").write_bytes(cfb({"WordDocument": bytes(5000)}))
    assert code_of(tmp_path / "doc.xls") == NOT_A_WORKBOOK


def test_xlsb_and_ods(tmp_path):
    make_xlsb(tmp_path / "mac.xlsb", date1904=True)
    make_xlsb(tmp_path / "win.xlsb", date1904=False)
    info = inspect(tmp_path / "mac.xlsb")
    assert (info.kind, info.date1904, info.error_cells, info.uncalculated_cells) == ("xlsb", True, {}, {})
    assert inspect(tmp_path / "win.xlsb").date1904 is False
    make_xlsb(tmp_path / "evil.xlsb", False, {"docProps/app.xml": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'})
    assert code_of(tmp_path / "evil.xlsb") == HOSTILE_XML

    make_ods(tmp_path / "plan.ods")
    info = inspect(tmp_path / "plan.ods")
    assert (info.kind, info.date1904, info.error_cells) == ("ods", False, {})
    make_ods(tmp_path / "letter.ods", mimetype="application/vnd.oasis.opendocument.text")
    assert code_of(tmp_path / "letter.ods") == NOT_A_WORKBOOK
    make_ods(tmp_path / "locked.ods", manifest="<manifest:manifest xmlns:manifest='m'><manifest:file-entry>"
                                               "<manifest:encryption-data/></manifest:file-entry></manifest:manifest>")
    assert code_of(tmp_path / "locked.ods") == ENCRYPTED
    make_ods(tmp_path / "evil.ods", content='<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://x/y"><d/>')
    assert code_of(tmp_path / "evil.ods") == HOSTILE_XML
    (tmp_path / "text.ods").write_text("not a zip")
    assert code_of(tmp_path / "text.ods") == NOT_A_WORKBOOK


# --------------------------------------------------------------------------- zip bombs and limits

def test_zip_bomb_ratio_cap(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    with_zero_member(tmp_path / "base.xlsx", tmp_path / "bomb.xlsx", SHEET1, 20 << 20)
    assert code_of(tmp_path / "bomb.xlsx") == ZIP_BOMB


def test_total_size_cap(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    with_zero_member(tmp_path / "base.xlsx", tmp_path / "big.xlsx", SHEET1, 20 << 20)
    limits = Limits(max_total_bytes=8 << 20, max_ratio=10**9)     # ratio cap out of the way
    assert code_of(tmp_path / "big.xlsx", limits) == TOO_LARGE
    assert code_of(tmp_path / "big.xlsx", Limits(max_total_bytes=64 << 20)) == ZIP_BOMB   # ratio cap


def test_member_count_cap(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    assert code_of(tmp_path / "base.xlsx", Limits(max_members=3)) == TOO_LARGE
    inspect(tmp_path / "base.xlsx", Limits(max_members=50))


def test_member_lying_about_its_size(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    for member in (SHEET1, "xl/styles.xml"):
        with_zero_member(tmp_path / "base.xlsx", tmp_path / "liar.xlsx", member, 5 << 20)
        data = lie_about_size((tmp_path / "liar.xlsx").read_bytes(), member, 1000)
        (tmp_path / "liar.xlsx").write_bytes(data)
        assert code_of(tmp_path / "liar.xlsx") == ZIP_BOMB


def test_stream_counts_against_total_cap(tmp_path, monkeypatch):
    """The cap applies to bytes actually inflated, not only to declared sizes."""
    make_plain_workbook(tmp_path / "base.xlsx")
    monkeypatch.setattr(zipparts, "_check_zip_limits", lambda zf, limits: None)   # skip the declared check
    assert code_of(tmp_path / "base.xlsx", Limits(max_total_bytes=500)) == ZIP_BOMB


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
 <sheets><sheet name="&lol4;" sheetId="1" r:id="rId1"/></sheets></workbook>"""


def test_billion_laughs_in_workbook_xml(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    rezip(tmp_path / "base.xlsx", tmp_path / "lol.xlsx", replace={"xl/workbook.xml": BILLION_LAUGHS})
    assert code_of(tmp_path / "lol.xlsx") == HOSTILE_XML


def test_doctype_in_sheet_and_other_parts(tmp_path):
    make_plain_workbook(tmp_path / "base.xlsx")
    with zipfile.ZipFile(tmp_path / "base.xlsx") as z:
        sheet = z.read(SHEET1).decode()
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    evil = sheet.replace(decl, decl + '<!DOCTYPE worksheet SYSTEM "file:///etc/passwd">\n')
    assert evil != sheet
    rezip(tmp_path / "base.xlsx", tmp_path / "sheet.xlsx", replace={SHEET1: evil})
    assert code_of(tmp_path / "sheet.xlsx") == HOSTILE_XML
    hidden = sheet.replace(decl, decl + "<!--" + "x" * 6000 + '-->\n<!DOCTYPE w [<!ENTITY e "e">]>')
    rezip(tmp_path / "base.xlsx", tmp_path / "hidden.xlsx", replace={SHEET1: hidden})
    assert code_of(tmp_path / "hidden.xlsx") == HOSTILE_XML
    rezip(tmp_path / "base.xlsx", tmp_path / "props.xlsx",
          replace={"docProps/app.xml": '<!DOCTYPE p [<!ENTITY x SYSTEM "http://evil/">]><p>&x;</p>'})
    assert code_of(tmp_path / "props.xlsx") == HOSTILE_XML
    rezip(tmp_path / "base.xlsx", tmp_path / "ct.xlsx",
          replace={"[Content_Types].xml": '<?xml version="1.0"?><!DOCTYPE Types []><Types/>'})
    assert code_of(tmp_path / "ct.xlsx") == HOSTILE_XML


def test_utf16_sheet_is_scanned(tmp_path):
    body = '<row r="3"><c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
    xml = sheet_xml(body).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    make_plain_workbook(tmp_path / "base.xlsx")
    rezip(tmp_path / "base.xlsx", tmp_path / "u16.xlsx", replace={SHEET1: xml.encode("utf-16")})
    assert inspect(tmp_path / "u16.xlsx").error_cells == {"Data": {(2, 1): "#DIV/0!"}}
    evil = xml.replace("?>", '?><!DOCTYPE w [<!ENTITY e "e">]>', 1)
    rezip(tmp_path / "base.xlsx", tmp_path / "u16evil.xlsx", replace={SHEET1: evil.encode("utf-16")})
    assert code_of(tmp_path / "u16evil.xlsx") == HOSTILE_XML


# --------------------------------------------------------------------------- never a traceback

@pytest.fixture(scope="module")
def sample_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample.xlsx"
    make_error_workbook(path)
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_only_raise_source_error(tmp_path, sample_bytes, data):
    raw = bytearray(sample_bytes)
    mode = data.draw(st.sampled_from(["flip", "cut", "splice"]))
    if mode == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif mode == "flip":
        for _ in range(data.draw(st.integers(1, 30))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    else:
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    ext = data.draw(st.sampled_from([".xlsx", ".xlsm", ".xlsb", ".ods", ".xls"]))
    path = tmp_path / f"fuzz{ext}"
    path.write_bytes(bytes(raw))
    try:
        inspect(path)
    except SourceError as err:
        assert err.code in CODES
        assert message(err, "zh-CN") and "\n" not in message(err, "en")


# --------------------------------------------------------------------------- messages

@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_message_one_line_per_code(code, lang):
    for err in (SourceError(code, "xl/worksheets/sheet1.xml", path="/data/budget.xlsx"),
                SourceError(code, path="/data/budget.xlsx"),
                SourceError(code, "multi\nline\tdetail")):
        text = message(err, lang)
        assert text.strip() and "\n" not in text and "\r" not in text
        assert text.rstrip().endswith(("." if lang == "en" else "。"))
        assert "{" not in text
        if err.path:
            assert "budget.xlsx" in text and "/data/" not in text


def test_message_languages_and_str():
    err = SourceError(ENCRYPTED, path="budget.xlsx")
    assert message(err).startswith("budget.xlsx is password-protected")
    assert message(err, "zh-CN").startswith("budget.xlsx 受密码保护")
    assert message(err, "fr") == message(err, "en")
    assert str(err) == message(err)
    assert (err.code, err.detail) == (ENCRYPTED, "")
    assert message(SourceError("brand_new_code", "x")).strip()


def test_limits_defaults():
    assert Limits() == Limits(max_total_bytes=2 * 1024**3, max_ratio=200, max_members=10000)


# --------------------------------------------------------------------------- speed

@pytest.mark.slow
def test_scan_speed_100k_rows(tmp_path):
    """100,000 rows x 11 columns laid out like xlsxwriter's constant_memory output (~47 MB of XML)."""
    rows = []
    for r in range(1, 100_001):
        rows.append(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Campaign {r % 977}</t></is></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>Search</t></is></c><c r="C{r}" s="1"><v>{45292 + r % 365}</v></c>'
            f'<c r="D{r}"><v>{r * 1.5}</v></c><c r="E{r}"><v>{r % 1000}</v></c><c r="F{r}"><v>{r % 97 / 7}</v></c>'
            f'<c r="G{r}" t="inlineStr"><is><t>utm_source=news{r % 50}</t></is></c><c r="H{r}"><v>{r}</v></c>'
            f'<c r="I{r}" s="1"><v>{45000 + r % 700}</v></c><c r="J{r}" t="inlineStr"><is><t>NL</t></is></c>'
            f'<c r="K{r}"><v>{r % 20 / 20}</v></c></row>')
    rows[49_999] = rows[49_999].replace('<c r="K50000"><v>0.0</v></c>',
                                        '<c r="K50000" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
    path = with_sheet(tmp_path, "".join(rows), name="big.xlsx")
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(SHEET1)
        assert info.file_size > 30 << 20
        best = min(_timed(sheet_scan.scan_sheet, z, info, zipparts.Budget(Limits())) for _ in range(3))
    found = inspect(path)
    assert found.error_cells == {"Data": {(49_999, 10): "#DIV/0!"}}
    print(f"\nscan of {info.file_size / 1e6:.1f} MB sheet XML: {best:.3f} s")
    assert best < 1.0          # measured ~0.10 s; generous bound for slow CI machines


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- LibreOffice

def _soffice_convert(tmp_path, fmt: str, *sources) -> None:
    out = tmp_path / "out"
    profile = tmp_path / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", fmt, "--outdir", str(out), *map(str, sources)],
                   check=True, timeout=120, capture_output=True)


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_resaved_workbook(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    wb = xlsxwriter.Workbook(str(src / "lo.xlsx"))
    ws = wb.add_worksheet("Report")
    ws.write(0, 0, "Campaign report")
    ws.write_row(2, 0, ["Campaign", "Spend", "Clicks", "CPC"])
    ws.write_row(3, 0, ["Spring", 100, 0])
    ws.write_formula(3, 3, "=1/0", None, "#DIV/0!")
    wb.close()
    book = openpyxl.Workbook()                         # never calculated: LibreOffice computes it
    book.active.title = "Calc"
    book.active["C2"] = "=1/0"
    book.save(src / "fresh.xlsx")
    _soffice_convert(tmp_path, "xlsx", src / "lo.xlsx", src / "fresh.xlsx")
    assert inspect(tmp_path / "out" / "lo.xlsx").error_cells == {"Report": {(3, 3): "#DIV/0!"}}
    fresh = inspect(tmp_path / "out" / "fresh.xlsx")
    assert fresh.error_cells == {"Calc": {(1, 2): "#DIV/0!"}} and fresh.uncalculated_cells == {}


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_xls_and_ods(tmp_path):
    make_plain_workbook(tmp_path / "mac.xlsx", date_1904=True)
    _soffice_convert(tmp_path, "xls", tmp_path / "mac.xlsx")
    _soffice_convert(tmp_path, "ods", tmp_path / "mac.xlsx")
    xls = inspect(tmp_path / "out" / "mac.xls")
    assert (xls.kind, xls.date1904) == ("xls", True)
    assert inspect(tmp_path / "out" / "mac.ods").kind == "ods"
