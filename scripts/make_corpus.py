#!/usr/bin/env python3
"""(Re)build the workbook corpus under tests/corpus/ that tests/test_corpus.py runs the CLI on.

    python scripts/make_corpus.py generated            # tests/corpus/generated/ (deterministic)
    python scripts/make_corpus.py generated --soffice  # … and the LibreOffice conversions too
    python scripts/make_corpus.py third-party SRC      # copy the listed files out of unpacked sdists

`generated` writes every case in `CASES` (hand-built zips, xlsxwriter, openpyxl, the demo of
`campaignwatch init --demo`) with fixed zip timestamps and document properties, so running it
twice gives the same bytes. The LibreOffice conversions (`lo_*`) depend on the LibreOffice
version; they are only rewritten with `--soffice` and are committed as LibreOffice 7.4 wrote
them (zip timestamps and document dates normalised for .xlsx).

`third-party SRC`: SRC holds the unpacked source distributions named NAME-VERSION (pip unpacks
them: `TMPDIR=/tmp/x pip download --no-deps --no-binary NAME --no-build-isolation --no-clean
NAME==VERSION` keeps /tmp/x/pip-download-*/NAME_*/ even when the build backend is missing).
The files listed in `THIRD_PARTY` are copied to tests/corpus/third_party/NAME/ with the
package's licence text, and MANIFEST.toml is rewritten (origin, licence, SHA-256 of each file).
"""
from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
GEN = CORPUS / "generated"
TP = CORPUS / "third_party"
FIXED = (2026, 1, 2, 3, 4, 6)           # zip timestamp of every generated member
AS_OF = "2026-11-26"
SPREADSHEET = ("*.xlsx", "*.xlsm", "*.xls", "*.xlsb", "*.ods")

# --------------------------------------------------------------------------- third-party files
# (package, version, licence, licence files, [(glob in the sdist, note)])
THIRD_PARTY = [
    ("python-calamine", "0.5.3", "MIT", ["LICENSE"], [("tests/data/*", "")]),
    ("xlrd", "1.2.0", "BSD-3-Clause (xlrd); apachepoi_*.xlsx come from Apache POI's test data, Apache-2.0",
     ["LICENSE"], [("tests/*", ""), ("examples/*", "")]),
    ("xlsx2csv", "0.8.3", "MIT", ["LICENSE.txt"], [("test/*", "")]),
    ("pyexcel-xlsx", "0.6.0", "BSD-3-Clause (New BSD)", ["LICENSE"], [("tests/fixtures/*", "")]),
    ("pyexcel-xls", "0.7.0", "BSD-3-Clause (New BSD)", ["LICENSE"], [("tests/fixtures/*", "")]),
    ("pyexcel-ods", "0.6.0", "BSD-3-Clause (New BSD)", ["LICENSE"], [("tests/fixtures/*", "")]),
    ("tablib", "3.5.0", "MIT", ["LICENSE"], [("tests/files/*", "")]),
    ("odfpy", "1.4.1", "Apache-2.0 (dual-licensed Apache-2.0 / GPL-2.0+; used under Apache-2.0)",
     ["APACHE-LICENSE-2.0.txt"], [("tests/examples/*", "")]),
    ("pandas", "0.25.3", "BSD-3-Clause", ["LICENSE"], [("pandas/tests/io/data/*", "")]),
]


def third_party(src: Path) -> None:
    lines = ["# Third-party test workbooks: where each file comes from and under which licence.",
             "# Written by scripts/make_corpus.py third-party; tests/test_corpus.py checks it is complete.",
             ""]
    for pkg, ver, licence, lic_files, globs in THIRD_PARTY:
        base = src / f"{pkg}-{ver}"
        out = TP / pkg
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        for lf in lic_files:
            shutil.copyfile(base / lf, out / ("LICENSE-" + pkg + ".txt"))
        files = []
        for pattern, _ in globs:
            for f in sorted(base.glob(pattern)):
                if f.is_file() and any(fnmatch.fnmatch(f.name.lower(), g) for g in SPREADSHEET):
                    files.append(f)
        for f in files:
            rel = f.relative_to(base).as_posix()
            shutil.copyfile(f, out / f.name)
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            lines += ["[[file]]", f'path = "{pkg}/{f.name}"', f'package = "{pkg}"', f'version = "{ver}"',
                      f'origin = "{pkg}-{ver}.tar.gz (PyPI sdist): {rel}"', f'licence = "{licence}"',
                      f'sha256 = "{digest}"', ""]
    lo = Path("/usr/lib/libreoffice/program/opencl/cl-test.ods")
    if lo.exists():
        out = TP / "libreoffice"
        out.mkdir(exist_ok=True)
        shutil.copyfile(lo, out / lo.name)
        lines += ["[[file]]", f'path = "libreoffice/{lo.name}"', 'package = "libreoffice-common (Debian)"',
                  'version = "4:7.4.7-1+deb12u14"', f'origin = "Debian package libreoffice-common: {lo}"',
                  'licence = "MPL-2.0"', f'sha256 = "{hashlib.sha256(lo.read_bytes()).hexdigest()}"', ""]
    (TP / "MANIFEST.toml").write_text("\n".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- a hand-built package
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_WS = RNS + "/worksheet"
CT_WB = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_WBM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_WS = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STY = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CT_MACRO = "application/vnd.ms-excel.macrosheet+xml"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MIN_STYLES = (f'<styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
              '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
              '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
              '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
              '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')

# A small campaign table, enough for sync to compute something.
CAMPAIGNS = [["campaign_id", "name", "team", "owner", "start_date", "end_date", "budget", "status",
              "approved_by", "approved_on"],
             ["C1", "Spring launch", "Growth", "Li Wei", "2026-10-01", "2026-12-31", 50000, "approved",
              "Zhang Min", "2026-09-20"],
             ["C2", "Winter sale", "Retail", "Wang Fang", "2026-11-01", "2026-11-20", 20000, "executing",
              "Zhang Min", "2026-10-15"]]
EXPENSES = [["expense_id", "campaign_id", "date", "amount", "vendor", "receipt_no"],
            ["E1", "C1", "2026-10-05", 12000, "Print shop", "R-1"],
            ["E2", "C2", "2026-11-03", 25000.5, "Media buy", ""],
            ["E3", "C2", "2026-11-04", "1.2万", "Venue", "R-3"]]


def col_name(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def sheet_xml(rows, *, strings: str = "inline", sst: list | None = None,
              extra_cells: list[tuple[str, str]] = (), dimension: str | None = None) -> str:
    """A worksheet. strings: "inline" (<is>), "shared" (index into sst) or "str" (t="str")."""
    out = [f'<worksheet xmlns="{NS}" xmlns:r="{RNS}">']
    if dimension:
        out.append(f'<dimension ref="{dimension}"/>')
    out.append("<sheetData>")
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{col_name(c)}{r}"
            if v is None or v == "":
                continue
            if isinstance(v, (int, float)):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            elif strings == "shared":
                if v not in sst:
                    sst.append(v)
                cells.append(f'<c r="{ref}" t="s"><v>{sst.index(v)}</v></c>')
            elif strings == "str":
                cells.append(f'<c r="{ref}" t="str"><v>{esc(v)}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{esc(v)}</t></is></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    for ref, v in extra_cells:
        row = int(re.sub(r"[A-Z]", "", ref))
        out.append(f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>{esc(v)}</t></is></c></row>')
    out.append("</sheetData></worksheet>")
    return "".join(out)


def package(sheets: dict[str, str], *, styles: str | None = MIN_STYLES, sst: list | None = None,
            wb_path: str = "xl/workbook.xml", macro: bool = False, macrosheets: dict[str, str] | None = None,
            workbook_extra: str = "", workbook_pr: str = "", encode: dict[str, str] | None = None,
            backslash: bool = False, absolute_targets: bool = False, transform=None) -> bytes:
    """A minimal SpreadsheetML package written member by member (what other programs do)."""
    wb_dir, wb_name = wb_path.rsplit("/", 1)
    rels, sheet_entries, overrides = [], [], []
    parts: dict[str, str] = {}
    rid = 0
    for i, (name, xml) in enumerate(sheets.items(), 1):
        rid += 1
        target = f"worksheets/sheet{i}.xml"
        parts[f"{wb_dir}/{target}"] = xml
        rels.append((f"rId{rid}", REL_WS, target))
        sheet_entries.append(f'<sheet name="{esc(name)}" sheetId="{i}" r:id="rId{rid}"/>')
        overrides.append((f"/{wb_dir}/{target}", CT_WS))
    for j, (name, xml) in enumerate((macrosheets or {}).items(), 1):
        rid += 1
        target = f"macrosheets/sheet{j}.xml"
        parts[f"{wb_dir}/{target}"] = xml
        rels.append((f"rId{rid}", "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet", target))
        sheet_entries.append(f'<sheet name="{esc(name)}" sheetId="{len(sheets) + j}" r:id="rId{rid}"/>')
        overrides.append((f"/{wb_dir}/{target}", CT_MACRO))
    if styles is not None:
        rid += 1
        parts[f"{wb_dir}/styles.xml"] = styles
        rels.append((f"rId{rid}", RNS + "/styles", "styles.xml"))
        overrides.append((f"/{wb_dir}/styles.xml", CT_STY))
    if sst:
        rid += 1
        si = "".join(f"<si><t xml:space=\"preserve\">{esc(s)}</t></si>" for s in sst)
        parts[f"{wb_dir}/sharedStrings.xml"] = f'<sst xmlns="{NS}" count="{len(sst)}" uniqueCount="{len(sst)}">{si}</sst>'
        rels.append((f"rId{rid}", RNS + "/sharedStrings", "sharedStrings.xml"))
        overrides.append((f"/{wb_dir}/sharedStrings.xml", CT_SST))
    parts[wb_path] = (f'<workbook xmlns="{NS}" xmlns:r="{RNS}">{workbook_pr}<sheets>{"".join(sheet_entries)}</sheets>'
                      f'{workbook_extra}</workbook>')
    if absolute_targets:
        rels = [(i, t, f"/{wb_dir}/{tg}") for i, t, tg in rels]
    parts[f"{wb_dir}/_rels/{wb_name}.rels"] = (f'<Relationships xmlns="{PKG_RELS}">' + "".join(
        f'<Relationship Id="{i}" Type="{t}" Target="{tg}"/>' for i, t, tg in rels) + "</Relationships>")
    parts["_rels/.rels"] = (f'<Relationships xmlns="{PKG_RELS}"><Relationship Id="rId1" '
                            f'Type="{RNS}/officeDocument" Target="{wb_path}"/></Relationships>')
    ct = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          f'<Override PartName="/{wb_path}" ContentType="{CT_WBM if macro else CT_WB}"/>'
          + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides) + "</Types>")
    parts["[Content_Types].xml"] = ct
    if transform:
        transform(parts)
    order = ["[Content_Types].xml", "_rels/.rels", wb_path] + [p for p in parts
                                                             if p not in ("[Content_Types].xml", "_rels/.rels", wb_path)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in order:
            text = parts[name]
            enc = (encode or {}).get(name)
            if enc:
                data = codecs_bom(enc) + (DECL.replace("UTF-8", enc.upper()) + text).encode(enc)
            else:
                data = (DECL + text).encode("utf-8")
            zname = name.replace("/", "\\") if backslash and name.startswith(wb_dir + "/") else name
            z.writestr(zipfile.ZipInfo(zname, FIXED), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def codecs_bom(enc: str) -> bytes:
    import codecs
    return {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[enc]


def basic(**kw) -> bytes:
    return package({"Campaigns": sheet_xml(CAMPAIGNS), "Expenses": sheet_xml(EXPENSES)}, **kw)


def shared(**kw) -> bytes:
    sst: list = []
    sheets = {"Campaigns": sheet_xml(CAMPAIGNS, strings="shared", sst=sst),
              "Expenses": sheet_xml(EXPENSES, strings="shared", sst=sst)}
    return package(sheets, sst=sst, **kw)


def renormalise(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps and fixed document dates (LibreOffice, openpyxl)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename in ("docProps/core.xml", "meta.xml"):
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", b"2026-01-02T03:04:06Z", body)
                body = re.sub(rb"<meta:editing-duration>[^<]*<", b"<meta:editing-duration>PT0S<", body)
                body = re.sub(rb"<meta:generator>[^<]*<", b"<meta:generator>LibreOffice<", body)
            zi = zipfile.ZipInfo(info.filename, FIXED)
            zi.compress_type = info.compress_type
            z.writestr(zi, body)
    return buf.getvalue()


# --------------------------------------------------------------------------- the cases
def far_cells(refs):
    def make() -> bytes:
        return package({"Campaigns": sheet_xml(CAMPAIGNS, extra_cells=[(r, "far") for r in refs])})
    return make


def comments_in_parts() -> bytes:
    def t(parts):
        wb = "xl/workbook.xml"
        parts[wb] = parts[wb].replace(
            "<sheets>", "<!-- <definedNames><definedName name=\"x\">Campaigns!$A$1</definedName></definedNames> "
            "<sheets><sheet name=\"Ghost\" sheetId=\"9\" r:id=\"rId9\"/></sheets> --><sheets>", 1)
        parts[wb] = parts[wb].replace("</workbook>", "<!-- </workbook> --></workbook>")
        st = "xl/styles.xml"
        parts[st] = parts[st].replace("<cellXfs", "<!-- <cellXfs count=\"0\"></cellXfs> <numFmts> --><cellXfs", 1)
        parts[st] = parts[st].replace("</styleSheet>", "<!-- </styleSheet> --></styleSheet>")
        ct = "[Content_Types].xml"
        parts[ct] = parts[ct].replace("</Types>", "<!-- <Override PartName=\"/x\"/> --></Types>")
    return basic(transform=t)


def self_closing_styles() -> bytes:
    return basic(styles=f'<styleSheet xmlns="{NS}"/>')


def self_closing_sheets_and_names() -> bytes:
    def t(parts):
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            "</sheets>", "</sheets><definedNames/><calcPr calcId=\"0\"/>")
    return basic(transform=t)


def defined_names() -> bytes:
    extra = ('<definedNames><definedName name="Budgets">Campaigns!$G$2:$G$3</definedName>'
             '<definedName name="_xlnm.Print_Area" localSheetId="1">Expenses!$A$1:$F$4</definedName>'
             '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">Campaigns!$A$1:$J$3</definedName>'
             '</definedNames>')
    return basic(workbook_extra=extra)


def workbook_prefixed() -> bytes:
    """Every element of workbook.xml under an `x:` prefix (as some .NET writers do)."""
    def t(parts):
        wb = parts["xl/workbook.xml"]
        wb = wb.replace(f'<workbook xmlns="{NS}"', f'<x:workbook xmlns:x="{NS}"').replace("</workbook>", "</x:workbook>")
        wb = re.sub(r"<(/?)(sheets|sheet)\b", r"<\1x:\2", wb)
        parts["xl/workbook.xml"] = wb
    return basic(transform=t)


def many_sheets(n=200) -> bytes:
    sheets = {"Campaigns": sheet_xml(CAMPAIGNS), "Expenses": sheet_xml(EXPENSES)}
    for i in range(n - 2):
        sheets[f"Notes {i:03d}"] = sheet_xml([["note", "value"], [f"row {i}", i]])
    return package(sheets)


def macro_sheets() -> bytes:
    macro = (f'<xm:macrosheet xmlns="{NS}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Auto_Open</t></is></c></row>'
             '<row r="2"><c r="A2"><f>RETURN()</f></c></row></sheetData></xm:macrosheet>')
    return package({"Campaigns": sheet_xml(CAMPAIGNS), "Expenses": sheet_xml(EXPENSES)},
                   macrosheets={"Macro1": macro}, macro=True)


def errors_and_uncalculated() -> bytes:
    def t(parts):
        s = parts["xl/worksheets/sheet2.xml"]
        s = s.replace('<c r="D2"><v>12000</v></c>', '<c r="D2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
        s = s.replace('<c r="D3"><v>25000.5</v></c>', '<c r="D3"><f>SUM(1,2)</f></c>')
        parts["xl/worksheets/sheet2.xml"] = s
    return basic(transform=t)


def dates_1904_hand() -> bytes:
    rows = [r[:] for r in CAMPAIGNS]
    rows[1][4], rows[1][5] = 45930 - 1462, 46021 - 1462
    return package({"Campaigns": sheet_xml(rows), "Expenses": sheet_xml(EXPENSES)},
                   workbook_pr='<workbookPr date1904="1"/>')


def name_taken() -> bytes:
    return package({"Campaigns": sheet_xml(CAMPAIGNS), "cw» Summary": sheet_xml([["my own notes"]])})


def odd_sheet_names() -> bytes:
    return package({"Campaigns": sheet_xml(CAMPAIGNS), "费用记录": sheet_xml(EXPENSES),
                    "It's & <odd>": sheet_xml([["x"]]), "A" * 31: sheet_xml([["y"]])})


def xlsxwriter_book(path: Path, *, date_1904=False, constant_memory=False, formats=True) -> None:
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904, "constant_memory": constant_memory,
                                         "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": dt.datetime(2026, 1, 2, 3, 4, 6)})
    date = wb.add_format({"num_format": "yyyy-mm-dd"}) if formats else None
    for name, rows in (("Campaigns", CAMPAIGNS), ("Expenses", EXPENSES)):
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v) and r > 0:
                    ws.write_datetime(r, c, dt.datetime.fromisoformat(v), date)
                elif v not in (None, ""):
                    ws.write(r, c, v)
    wb.close()


def openpyxl_book(path: Path) -> None:
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in (("Campaigns", CAMPAIGNS), ("Expenses", EXPENSES)):
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([dt.date.fromisoformat(v) if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", v)
                       else v for v in row])
    ws.append(["E4", "C1", dt.date(2026, 10, 9), "=D2*2", "Formula", "R-4"])
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 2, 3, 4, 6)
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(renormalise(buf.getvalue()))


def demo(path: Path, lang: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        subprocess.run([sys.executable, "-m", "campaignwatch", "init", str(out), "--demo", "--lang", lang,
                        "--as-of", AS_OF], check=True, env=env, capture_output=True, cwd=tmp)
        path.write_bytes(renormalise(out.read_bytes()))


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        raw = basic()
        src = zipfile.ZipFile(io.BytesIO(raw))
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData>", b"</sheetData>" + b" " * (8 << 20))
            z.writestr(zipfile.ZipInfo(info.filename, FIXED), body, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def hostile_xml() -> bytes:
    def t(parts):
        parts["xl/workbook.xml"] = ('<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                                    + parts["xl/workbook.xml"].replace("<sheets>", "<sheets><!-- &b; -->"))
    return basic(transform=t)


def encrypted_ole() -> bytes:
    """An OLE2 compound file holding EncryptionInfo/EncryptedPackage, as Excel writes a password-protected .xlsx."""
    return (TP / "python-calamine" / "password.xlsx").read_bytes()


# name -> builder returning bytes (or taking the path)
CASES: dict[str, object] = {
    "hand_inline_strings.xlsx": lambda: basic(),
    "hand_shared_strings.xlsx": lambda: shared(),
    "hand_t_str_cells.xlsx": lambda: package({"Campaigns": sheet_xml(CAMPAIGNS, strings="str"),
                                              "Expenses": sheet_xml(EXPENSES, strings="str")}),
    "no_styles_part.xlsx": lambda: basic(styles=None),
    "no_styles_shared_strings.xlsx": lambda: shared(styles=None),
    "styles_self_closing.xlsx": self_closing_styles,
    "workbook_empty_elements.xlsx": self_closing_sheets_and_names,
    "xml_comments_in_parts.xlsx": comments_in_parts,
    "defined_names.xlsx": defined_names,
    "workbook_prefixed_x.xlsx": workbook_prefixed,
    "utf16le_workbook.xlsx": lambda: basic(encode={"xl/workbook.xml": "utf-16-le"}),
    "utf16be_sheet.xlsx": lambda: basic(encode={"xl/worksheets/sheet1.xml": "utf-16-be"}),
    "utf16le_styles.xlsx": lambda: basic(encode={"xl/styles.xml": "utf-16-le"}),
    "utf16le_rels_and_types.xlsx": lambda: basic(encode={"xl/_rels/workbook.xml.rels": "utf-16-le",
                                                         "[Content_Types].xml": "utf-16-le"}),
    "far_cell_XFD1048576.xlsx": far_cells(["XFD1048576"]),
    "far_cell_XFD10000.xlsx": far_cells(["XFD10000"]),
    "far_dimension_only.xlsx": lambda: package({"Campaigns": sheet_xml(CAMPAIGNS, dimension="A1:XFD1048576")}),
    "many_sheets_200.xlsx": many_sheets,
    "macro_sheet.xlsm": macro_sheets,
    "workbook_part_elsewhere.xlsx": lambda: basic(wb_path="book/main.xml"),
    "absolute_rel_targets.xlsx": lambda: basic(absolute_targets=True),
    "backslash_entry_names.xlsx": lambda: basic(backslash=True),
    "error_and_uncalculated_cells.xlsx": errors_and_uncalculated,
    "date1904_hand.xlsx": dates_1904_hand,
    "name_taken_cw_tab.xlsx": name_taken,
    "odd_sheet_names.xlsx": odd_sheet_names,
    "refused_truncated.xlsx": lambda: truncated(basic()),
    "refused_empty.xlsx": lambda: b"",
    "refused_text_as_xlsx.xlsx": lambda: b"campaign_id,name\nC1,Spring\n",
    "refused_zip_not_ooxml.xlsx": lambda: _plain_zip(),
    "refused_zip_bomb.xlsx": zip_bomb,
    "refused_hostile_doctype.xlsx": hostile_xml,
    "refused_unsupported.csv": lambda: b"campaign_id,name\nC1,Spring\n",
    "refused_xls_named_xlsx.xlsx": lambda: (TP / "pyexcel-xls" / "date_field.xls").read_bytes(),
    "refused_encrypted.xlsx": encrypted_ole,
}
PATH_CASES = {
    "xlsxwriter_plain.xlsx": lambda p: xlsxwriter_book(p),
    "xlsxwriter_1904.xlsx": lambda p: xlsxwriter_book(p, date_1904=True),
    "xlsxwriter_constant_memory.xlsx": lambda p: xlsxwriter_book(p, constant_memory=True),
    "xlsxwriter_no_formats.xlsx": lambda p: xlsxwriter_book(p, formats=False),
    "openpyxl_formula_uncalculated.xlsx": openpyxl_book,
    "demo_en.xlsx": lambda p: demo(p, "en"),
    "demo_zh-CN.xlsx": lambda p: demo(p, "zh-CN"),
}
# LibreOffice conversions of the demos: (output name, source name, target format)
SOFFICE_CASES = [
    ("lo_demo_en.xlsx", "demo_en.xlsx", "xlsx"), ("lo_demo_zh-CN.xlsx", "demo_zh-CN.xlsx", "xlsx"),
    ("lo_demo_en.xls", "demo_en.xlsx", "xls"), ("lo_demo_zh-CN.xls", "demo_zh-CN.xlsx", "xls"),
    ("lo_demo_en.ods", "demo_en.xlsx", "ods"), ("lo_demo_zh-CN.ods", "demo_zh-CN.xlsx", "ods"),
    ("lo_xlsxwriter_1904.xlsx", "xlsxwriter_1904.xlsx", "xlsx"),
    ("lo_no_styles_part.xlsx", "no_styles_part.xlsx", "xlsx"),
    ("lo_demo_en.fods", "demo_en.xlsx", "fods"),
]


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("readme.txt", FIXED), "not a spreadsheet")
    return buf.getvalue()


def soffice(src: Path, fmt: str, out: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", tmp, str(src)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=240)
        made = Path(tmp) / (src.stem + "." + fmt)
        data = made.read_bytes()
        out.write_bytes(renormalise(data) if fmt in ("xlsx", "ods") else data)


def generated(with_soffice: bool) -> None:
    GEN.mkdir(parents=True, exist_ok=True)
    for name, make in PATH_CASES.items():
        make(GEN / name)
    for name, make in CASES.items():
        (GEN / name).write_bytes(make())
    if with_soffice:
        for name, src, fmt in SOFFICE_CASES:
            soffice(GEN / src, fmt, GEN / name)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    g = sub.add_parser("generated")
    g.add_argument("--soffice", action="store_true", help="also (re)write the LibreOffice conversions")
    t = sub.add_parser("third-party")
    t.add_argument("src", type=Path, help="folder of unpacked sdists named NAME-VERSION")
    a = p.parse_args(argv)
    if a.what == "generated":
        generated(a.soffice)
    else:
        third_party(a.src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
