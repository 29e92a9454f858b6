"""Issue 10 (5, 6, 7): which tabs are ours, the sidecar as a workbook, the edited parts parsed.

Workbooks are built inside the tests (openpyxl, xlsxwriter, LibreOffice re-saves) and edited
at the zip level the way Excel, LibreOffice and other tools leave them.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from conftest import make_tab, needs_soffice, seven_tabs, sheet_names, soffice_convert, write_xlsx
from campaignwatch.names import tab_name
from campaignwatch.errors import NAME_TAKEN, WRITE_FAILED, SourceError
from campaignwatch.write import list_backups, sidecar_path, write_sidecar, write_tabs
from campaignwatch.write import inplace as winplace
from campaignwatch.write import styles as wstyles
from campaignwatch.write import xlsx as wx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SUMMARY = tab_name("summary", "en")
NOTE = "Manager's note: call the agency about C002"


# --------------------------------------------------------------------------- zip helpers

def read_all(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_all(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def sheet_entries(wbxml: str) -> list[str]:
    return re.findall(r"<sheet [^>]*/>", wbxml)


def part_of(parts: dict[str, bytes], tab: str) -> str:
    """The member holding tab `tab` (through workbook.xml and its rels)."""
    wbxml = parts["xl/workbook.xml"].decode()
    entry = next(s for s in sheet_entries(wbxml) if f'name="{tab}"' in s)
    rid = re.search(r'r:id="([^"]+)"', entry).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def copy_sheet(path: Path, source: str, copy: str, note: str = NOTE) -> str:
    """Do what Excel's "Move or Copy… › Create a copy" does: a new sheet part (same content, a
    note typed into it), placed right after the source, with copies of the source's
    sheet-scoped names and — for each workbook-scoped name referring to the source — a
    sheet-scoped duplicate referring to the copy. Returns the new part's name."""
    parts = read_all(path)
    src_part = part_of(parts, source)
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in parts:
        n += 1
    new_part = f"xl/worksheets/sheet{n}.xml"
    body = parts[src_part].decode()
    body = body.replace("</sheetData>", f'<row r="99"><c r="A99" t="inlineStr"><is><t>{note}</t></is></c></row>'
                        "</sheetData>")
    parts[new_part] = body.encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace("</Relationships>", f'<Relationship Id="rIdCopy{n}" Type="http://schemas.openxmlformats.org/'
                        f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace("</Types>", f'<Override PartName="/{new_part}" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.worksheet+xml"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()

    wbxml = parts["xl/workbook.xml"].decode()
    entries = sheet_entries(wbxml)
    src_index = next(i for i, s in enumerate(entries) if f'name="{source}"' in s)
    copy_index = src_index + 1
    next_id = max(int(x) for x in re.findall(r'sheetId="(\d+)"', wbxml)) + 1
    entry = f'<sheet name="{copy}" sheetId="{next_id}" r:id="rIdCopy{n}"/>'
    wbxml = wbxml.replace(entries[src_index], entries[src_index] + entry)

    def shift(m: re.Match) -> str:                 # sheets after the copy move one to the right
        i = int(m.group(1))
        return f'localSheetId="{i + 1 if i >= copy_index else i}"'
    wbxml = re.sub(r'localSheetId="(\d+)"', shift, wbxml)
    names = re.findall(r"<definedName [^>]*>.*?</definedName>", wbxml)
    extra = []
    quoted = "'" + source.replace("'", "''") + "'"
    for dn in names:
        if f'localSheetId="{src_index}"' in dn:
            extra.append(dn.replace(f'localSheetId="{src_index}"', f'localSheetId="{copy_index}"')
                         .replace(quoted, "'" + copy + "'"))
        elif "localSheetId" not in dn and quoted + "!" in dn:
            extra.append(dn.replace("<definedName ", f'<definedName localSheetId="{copy_index}" ', 1)
                         .replace(quoted, "'" + copy + "'"))
    wbxml = wbxml.replace("</definedNames>", "".join(extra) + "</definedNames>")
    parts["xl/workbook.xml"] = wbxml.encode()
    write_all(path, parts)
    return new_part


def add_user_sheet(path: Path, name: str, text: str) -> str:
    """A tab the team adds (one text cell), the way any tool adds a sheet."""
    parts = read_all(path)
    n = 1
    while f"xl/worksheets/team{n}.xml" in parts:
        n += 1
    member = f"xl/worksheets/team{n}.xml"
    parts[member] = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1">'
                     f'<c r="A1" t="inlineStr"><is><t>{text}</t></is></c></row></sheetData></worksheet>').encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>", f'<Relationship Id="rIdTeam{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/worksheet" Target="worksheets/team{n}.xml"/></Relationships>').encode()
    ct = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = ct.replace(
        "</Types>", f'<Override PartName="/{member}" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>').encode()
    wbxml = parts["xl/workbook.xml"].decode()
    next_id = max(int(x) for x in re.findall(r'sheetId="(\d+)"', wbxml)) + 1
    parts["xl/workbook.xml"] = re.sub(r"(<sheets>.*?)(</sheets>)", lambda m: m.group(1) + (
        f'<sheet name="{name}" sheetId="{next_id}" r:id="rIdTeam{n}"/>') + m.group(2), wbxml, flags=re.S).encode()
    write_all(path, parts)
    return member


def cell_texts(path: Path, tab: str) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [c.value for row in wb[tab].iter_rows() for c in row if isinstance(c.value, str)]


# --------------------------------------------------------------------------- 5: a copy is the team's

@pytest.mark.parametrize("copy", [SUMMARY + " (2)", SUMMARY + "_2"])       # Excel's and LibreOffice's copy names
def test_copy_of_a_generated_tab_survives_sync_and_clean(tmp_path, copy):
    path = write_xlsx(tmp_path / "a.xlsx", {"Campaigns": [["id"], ["C1"]]})
    write_tabs(path, [make_tab("summary"), make_tab("flags")])
    copied = copy_sheet(path, SUMMARY, copy)
    note_part = read_all(path)[copied]

    write_tabs(path, [make_tab("summary"), make_tab("flags")])
    assert sheet_names(path) == ["Campaigns", copy, SUMMARY, tab_name("flags", "en")]
    assert read_all(path)[copied] == note_part                  # the copy's part, byte for byte
    assert NOTE in cell_texts(path, copy)

    write_tabs(path, [], remove_only=True)
    assert sheet_names(path) == ["Campaigns", copy]
    assert read_all(path)[copied] == note_part


def test_copy_renamed_to_our_name_is_refused_not_overwritten(tmp_path):
    """Someone deleted our tab and gave the copy its name: a tab we did not list, with a name we
    must write (the workbook-scoped reference of the deleted tab became #REF!)."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Campaigns": [["id"]]})
    write_tabs(path, [make_tab("summary")])
    copy_sheet(path, SUMMARY, SUMMARY + " (2)")
    parts = read_all(path)
    wbxml = parts["xl/workbook.xml"].decode()
    ours = next(s for s in sheet_entries(wbxml) if f'name="{SUMMARY}"' in s)
    wbxml = wbxml.replace(ours, "").replace(f'name="{SUMMARY} (2)"', f'name="{SUMMARY}"')
    wbxml = wbxml.replace(f"'{SUMMARY}'!$A$1", "#REF!$A$1")
    wbxml = re.sub(r'localSheetId="(\d+)"', lambda m: f'localSheetId="{max(int(m.group(1)) - 1, 0)}"', wbxml)
    parts["xl/workbook.xml"] = wbxml.encode()
    write_all(path, parts)
    before = path.read_bytes()
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab("summary")])
    assert err.value.code == NAME_TAKEN
    assert path.read_bytes() == before
    # a clean removes nothing of the team's (only our stale list)
    write_tabs(path, [], remove_only=True)
    assert sheet_names(path) == ["Campaigns", SUMMARY] and NOTE in cell_texts(path, SUMMARY)
    assert not re.search(r'<definedName name="_cw_tab_\d+" hidden', read_all(path)["xl/workbook.xml"].decode())


def test_workbook_from_an_earlier_version_is_still_recognised(tmp_path):
    """Written before the list existed: the sheet-scoped marker still tells (exact names only)."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Campaigns": [["id"]]})
    write_tabs(path, [make_tab("summary")])
    parts = read_all(path)
    wbxml = parts["xl/workbook.xml"].decode()
    wbxml = re.sub(r'<definedName name="_cw_tab_\d+"[^>]*>.*?</definedName>', "", wbxml)
    wbxml = wbxml.replace("</definedNames>", '<definedName name="_cw_generated" localSheetId="1" hidden="1">'
                          "&quot;campaignwatch&quot;</definedName></definedNames>")
    parts["xl/workbook.xml"] = wbxml.encode()
    write_all(path, parts)
    copy_sheet(path, SUMMARY, SUMMARY + " (2)")
    write_tabs(path, [make_tab("summary")])
    assert sheet_names(path) == ["Campaigns", SUMMARY + " (2)", SUMMARY]
    assert NOTE in cell_texts(path, SUMMARY + " (2)")


@needs_soffice
def test_libreoffice_resave_keeps_our_tabs_ours_and_copies_the_teams(tmp_path):
    src = write_xlsx(tmp_path / "src.xlsx", {"Campaigns": [["id", "x"], ["C1", 1]], "Notes": [["n"]]})
    tabs = seven_tabs("zh-CN")
    write_tabs(src, tabs)
    saved = soffice_convert(src, "xlsx", tmp_path / "lo")
    parts = read_all(saved)
    assert not any("cw_sheet" in n for n in parts)                       # parts and ids renumbered
    assert "_cw_tab_1" in parts["xl/workbook.xml"].decode()
    path = tmp_path / "book.xlsx"
    path.write_bytes(saved.read_bytes())
    copy_sheet(path, tabs[0].name, tabs[0].name + "_2")
    write_tabs(path, tabs)                                               # replaced, not duplicated nor refused
    names = sheet_names(path)
    assert names == ["Campaigns", "Notes", tabs[0].name + "_2"] + [t.name for t in tabs]
    again = soffice_convert(path, "xlsx", tmp_path / "lo2")
    write_tabs(again, tabs[:2])
    assert sheet_names(again) == ["Campaigns", "Notes", tabs[0].name + "_2"] + [t.name for t in tabs[:2]]
    assert NOTE in cell_texts(again, tabs[0].name + "_2")


# --------------------------------------------------------------------------- 6: the sidecar is a workbook

def test_sidecar_keeps_the_teams_tabs_and_a_backup(tmp_path):
    ods = tmp_path / "plan.ods"
    ods.write_bytes(b"an ods")
    first = write_sidecar(ods, seven_tabs())
    side = sidecar_path(ods)
    assert first.path == side and first.backup is None
    team = add_user_sheet(side, "Team notes", "keep me")
    team_bytes = read_all(side)[team]
    before = side.read_bytes()
    second = write_sidecar(ods, [make_tab("kpi")])
    assert sheet_names(side) == ["Team notes", tab_name("kpi", "en")]
    assert read_all(side)[team] == team_bytes
    assert second.backup is not None and second.backup.read_bytes() == before
    assert list_backups(side) == [second.backup]


@pytest.mark.parametrize("kind", ["workbook", "text"])
def test_file_that_is_not_our_sidecar_is_not_overwritten(tmp_path, kind):
    ods = tmp_path / "plan.ods"
    ods.write_bytes(b"an ods")
    side = sidecar_path(ods)
    if kind == "workbook":
        write_xlsx(side, {"Budget 2027": [["a", 1]]})
    else:
        side.write_bytes(b"someone's notes, nothing to do with campaignwatch")
    before = side.read_bytes()
    with pytest.raises(SourceError) as err:
        write_sidecar(ods, [make_tab()])
    assert err.value.code == NAME_TAKEN
    assert side.read_bytes() == before
    assert not list_backups(side)


def test_sidecar_from_an_earlier_version_is_taken_over(tmp_path):
    """Written before the `_cw_created` mark: every tab is one of ours by the old rule."""
    ods = tmp_path / "plan.ods"
    ods.write_bytes(b"an ods")
    write_sidecar(ods, [make_tab("summary")])
    side = sidecar_path(ods)
    parts = read_all(side)
    wbxml = parts["xl/workbook.xml"].decode()
    wbxml = re.sub(r'<definedName name="_cw_(tab_\d+|created)"[^>]*>.*?</definedName>', "", wbxml)
    wbxml = wbxml.replace("</definedNames>", '<definedName name="_cw_generated" localSheetId="0" hidden="1">'
                          "&quot;campaignwatch&quot;</definedName></definedNames>")
    parts["xl/workbook.xml"] = wbxml.encode()
    write_all(side, parts)
    write_sidecar(ods, [make_tab("flags")])
    assert sheet_names(side) == [tab_name("flags", "en")]
    assert "_cw_created" in read_all(side)["xl/workbook.xml"].decode()


# --------------------------------------------------------------------------- 7: edited parts are parsed

def edit_part(path: Path, member: str, edit) -> None:
    parts = read_all(path)
    parts[member] = edit(parts[member])
    write_all(path, parts)


def assert_styles_resolve(path: Path) -> None:
    """Every s= in every sheet is an index into the written cellXfs; openpyxl opens the file."""
    parts = read_all(path)
    root = ET.fromstring(parts["xl/styles.xml"])
    count = len(root.find(f"{{{MAIN}}}cellXfs").findall(f"{{{MAIN}}}xf"))
    for name, data in parts.items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            used = [int(s) for s in re.findall(rb'<c [^>]*?\bs="(\d+)"', data)]
            assert max(used, default=0) < count, name
    openpyxl.load_workbook(path)


def test_comment_holding_cellxfs_in_styles_is_a_comment(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    comment = b'<!-- old: <cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs> -->'
    edit_part(path, "xl/styles.xml", lambda d: re.sub(rb"(<styleSheet[^>]*>)", lambda m: m.group(1) + comment, d, 1))
    write_tabs(path, [make_tab()])
    styles = read_all(path)["xl/styles.xml"]
    assert comment in styles                                      # untouched, and nothing added inside it
    assert_styles_resolve(path)
    ws = openpyxl.load_workbook(path)[SUMMARY]
    assert ws.cell(make_tab().header_row + 1, 6).number_format == "#,##0.00"


def test_self_closed_stylesheet(tmp_path):
    """An empty `<styleSheet/>` (Apache POI's test files have one) gets the entries it needs."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    edit_part(path, "xl/styles.xml", lambda d: f'<?xml version="1.0" encoding="UTF-8"?>\n<styleSheet xmlns="{MAIN}"/>'.encode())
    write_tabs(path, [make_tab()])
    assert_styles_resolve(path)
    ws = openpyxl.load_workbook(path)[SUMMARY]
    assert ws.cell(make_tab().header_row + 1, 6).number_format == "#,##0.00"


def test_comment_holding_definednames_in_workbook(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    comment = b'<!-- <definedNames><definedName name="Old">Data!$A$1</definedName></definedNames> -->'
    edit_part(path, "xl/workbook.xml", lambda d: d.replace(b"<sheets>", comment + b"<sheets>"))
    write_tabs(path, [make_tab()])
    wbxml = read_all(path)["xl/workbook.xml"]
    assert comment in wbxml
    assert sheet_names(path) == ["Data", SUMMARY]
    write_tabs(path, [], remove_only=True)
    assert sheet_names(path) == ["Data"] and comment in read_all(path)["xl/workbook.xml"]


UTF16 = {"bom": (lambda t: t.encode("utf-16-le"), b"\xff\xfe"),          # with a byte order mark
         "le": (lambda t: t.encode("utf-16-le"), b""),                     # without one (expat, LibreOffice
         "be": (lambda t: t.encode("utf-16-be"), b"")}                     # and openpyxl read these too)


@pytest.mark.parametrize("variant", sorted(UTF16))
def test_utf16_parts_are_edited_and_stay_utf16(tmp_path, variant):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    edited = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml")
    encode, bom = UTF16[variant]
    parts = read_all(path)
    for member in edited:
        text = parts[member].decode("utf-8")
        text = re.sub(r"^<\?xml[^>]*\?>", "", text).lstrip()
        parts[member] = bom + encode('<?xml version="1.0" encoding="UTF-16" standalone="yes"?>\n' + text)
    write_all(path, parts)
    openpyxl.load_workbook(path)                                    # a valid workbook to begin with
    write_tabs(path, [make_tab()])
    out = read_all(path)
    for member in edited:
        assert out[member].startswith(bom + encode("<?xml")), member
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", SUMMARY]
    assert wb[SUMMARY].cell(make_tab().header_row + 1, 6).number_format == "#,##0.00"
    write_tabs(path, [], remove_only=True)
    assert openpyxl.load_workbook(path).sheetnames == ["Data"]


EXCEL_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15 xr xr6 xr10 xr2" '
    'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
    'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2">'
    '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27328"/>'
    '<workbookPr defaultThemeVersion="166925"/>'
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\anna\\" '
    'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice></mc:AlternateContent>'
    '<xr:revisionPtr revIDLastSave="0" documentId="8_{0D3C}" xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" '
    'xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}"/>'
    '<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" windowHeight="15840" '
    'xr2:uid="{4A5B}"/></bookViews><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets>'
    '<calcPr calcId="191029"/><extLst><ext uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}" '
    'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
    '<x15:workbookPr chartTrackingRefBase="1"/></ext></extLst></workbook>')

EXCEL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    f'<styleSheet xmlns="{MAIN}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x14ac x16r2 xr" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
    '<fonts count="1" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
    '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>'
    '<extLst><ext uri="{EB79DEF2-80B8-43e5-95BD-54CBDDF9020C}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:slicerStyles '
    'defaultSlicerStyle="SlicerStyleLight1"/></ext></extLst></styleSheet>')


def test_excel_namespaces_and_extensions_survive(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    parts = read_all(path)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    sheet_rid = re.search(r'Id="(rId\d+)"[^>]*Target="/?(?:xl/)?worksheets/sheet1.xml"', rels)
    wbxml = EXCEL_WORKBOOK.replace('r:id="rId1"', f'r:id="{sheet_rid.group(1)}"') if sheet_rid else EXCEL_WORKBOOK
    parts["xl/workbook.xml"] = wbxml.encode()
    parts["xl/styles.xml"] = EXCEL_STYLES.encode()
    write_all(path, parts)
    write_tabs(path, [make_tab()])
    out = read_all(path)
    wb_new, st_new = out["xl/workbook.xml"].decode(), out["xl/styles.xml"].decode()
    for original, new in ((wbxml, wb_new), (EXCEL_STYLES, st_new)):
        head = original[:original.index(">", original.index("<", 5)) + 1]
        assert new.startswith(head)                                  # declaration and root start tag, as they were
    for piece in re.findall(r"<mc:AlternateContent.*?</mc:AlternateContent>|<xr:revisionPtr[^>]*/>|<extLst>.*?</extLst>",
                            wbxml):
        assert piece in wb_new
    assert wb_new.index("<definedNames>") < wb_new.index("<calcPr")
    assert '<fonts count="4" x14ac:knownFonts="1">' in st_new
    assert st_new.endswith(EXCEL_STYLES[EXCEL_STYLES.index("<extLst>"):])   # extLst still last, unchanged
    assert_styles_resolve(path)
    assert openpyxl.load_workbook(path).sheetnames == ["Data", SUMMARY]
    write_tabs(path, [], remove_only=True)
    assert read_all(path)["xl/workbook.xml"].decode() == wbxml


@pytest.mark.parametrize("maker", ["openpyxl", "xlsxwriter"])
def test_clean_gives_back_the_packages_parts_exactly(tmp_path, maker):
    path = tmp_path / "a.xlsx"
    if maker == "openpyxl":
        write_xlsx(path, {"Data": [["x", 1]]})
    else:
        wb = xlsxwriter.Workbook(str(path))
        wb.add_worksheet("Data").write_row(0, 0, ["x", 1])
        wb.define_name("Rate", "=Data!$B$1")
        wb.close()
    orig = read_all(path)
    write_tabs(path, seven_tabs())
    write_tabs(path, seven_tabs())
    write_tabs(path, [], remove_only=True)
    out = read_all(path)
    assert set(out) == set(orig)
    for name in orig:
        if name == "xl/styles.xml":
            continue                                                 # our styles stay appended (indices kept)
        if maker == "openpyxl" and name == "xl/workbook.xml":
            assert out[name] == orig[name].replace(b"<definedNames />", b"")
            continue
        assert out[name] == orig[name], name


def test_clean_removes_the_styles_part_it_added(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    parts = read_all(path)
    del parts["xl/styles.xml"]
    parts["xl/_rels/workbook.xml.rels"] = re.sub(rb'<Relationship [^>]*/styles"[^>]*/>', b"",
                                                 parts["xl/_rels/workbook.xml.rels"])
    parts["[Content_Types].xml"] = re.sub(rb'<Override PartName="/xl/styles.xml"[^>]*/>', b"",
                                          parts["[Content_Types].xml"])
    write_all(path, parts)
    orig = read_all(path)
    write_tabs(path, [make_tab()])
    assert "xl/styles.xml" in read_all(path)
    assert_styles_resolve(path)
    write_tabs(path, [make_tab()])
    write_tabs(path, [], remove_only=True)
    out = read_all(path)
    assert set(out) == set(orig)
    for name in orig:                      # openpyxl's empty <definedNames /> is not put back
        assert out[name] == orig[name].replace(b"<definedNames />", b""), name


def test_post_write_check_refuses_styles_that_do_not_hold_our_indices(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    before = path.read_bytes()
    real = wstyles.Styles.apply

    def forgetful(self):
        real(self)
        return read_all(path)["xl/styles.xml"]                       # the styles part as it was
    monkeypatch.setattr(wstyles.Styles, "apply", forgetful)
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == WRITE_FAILED
    assert path.read_bytes() == before


def test_post_write_check_refuses_a_relationship_to_nothing(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    before = path.read_bytes()
    real = winplace.emit

    def loses_our_sheet(src, plan, out):
        plan.added = [(n, d) for n, d in plan.added if "cw_sheet" not in n]
        plan.expect.content_types.clear()
        return real(src, plan, out)
    monkeypatch.setattr(winplace, "emit", loses_our_sheet)
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == WRITE_FAILED
    assert path.read_bytes() == before
