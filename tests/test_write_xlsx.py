"""Tests for campaignwatch.write: generated tabs go into people's workbooks and nothing of theirs changes.

Every workbook is built inside the test (xlsxwriter, openpyxl, LibreOffice re-saves); no binaries.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import stat
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from conftest import (
    TRICKY, make_tab, members, needs_soffice, seven_tabs, sheet_names, soffice_convert, tiny_png, write_xlsx,
)
from campaignwatch.names import MARK, tab_name
from campaignwatch.errors import CHANGED, LOCKED, NAME_TAKEN, UNSUPPORTED, WRITE_FAILED, SourceError, message
from campaignwatch.read.package import inspect
from campaignwatch.tabspec import TabSpec
from campaignwatch.write import (
    find_lock, list_backups, restore, sidecar_path, write_sidecar, write_tabs,
)
from campaignwatch.write import safety
from campaignwatch.write import emit as wemit
from campaignwatch.write import inplace as winplace
from campaignwatch.write import styles as wstyles

pytestmark = pytest.mark.filterwarnings("ignore:Sparkline Group extension:UserWarning")

EDITED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}


# --------------------------------------------------------------------------- builders

def build_rich(path: Path, *, vba: bool = False, date_1904: bool = False) -> Path:
    """A workbook with every kind of content openpyxl would lose or alter."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    data = wb.add_worksheet("费用记录")
    lists = wb.add_worksheet("Lists")
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": '¥#,##0.00;[Red]-¥#,##0.00'})
    data.write_row(0, 0, ["ID", "Amount", "Qty", "Total", "Kind"], bold)
    for r in range(1, 30):
        data.write_row(r, 0, [f"E{r:03d}", r * 10.5, r])
        data.write_formula(r, 3, f"=B{r + 1}*C{r + 1}", money, r * 10.5 * r)
        data.write(r, 4, "a")
    data.merge_range("G1:I1", "Merged title", bold)
    data.insert_image("G3", "dot.png", {"image_data": io.BytesIO(tiny_png()), "x_scale": 10, "y_scale": 10})
    data.insert_textbox("G8", "A text box people wrote", {"width": 200, "height": 60})
    data.insert_button("G13", {"macro": "say_hello", "caption": "Press"})
    data.add_sparkline("F2", {"range": "'费用记录'!B2:C2"})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "='费用记录'!$B$2:$B$10", "name": "Amount"})
    data.insert_chart("K2", chart)
    data.write_comment("A2", "Check this receipt")
    data.data_validation("E2:E30", {"validate": "list", "source": "=Lists!$A$1:$A$3"})
    data.conditional_format("B2:B30", {"type": "data_bar"})
    data.conditional_format("C2:C30", {"type": "icon_set", "icon_style": "3_traffic_lights"})
    data.freeze_panes(1, 0)
    lists.write_column(0, 0, ["a", "b", "c"])
    wb.define_name("Kinds", "=Lists!$A$1:$A$3")
    wb.define_name("Lists!LocalRate", "=Lists!$B$1")
    wb.set_properties({"title": "Campaign budget", "author": "Anna Li", "company": "ACME"})
    if vba:
        # Not a real VBA project (none can be made here without Office): an OLE2 signature and
        # filler; byte-for-byte survival is what is tested.
        wb.add_vba_project(io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8), is_stream=True)
        wb.set_vba_name("ThisWorkbook")
    wb.close()
    return path


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name).decode("utf-8")


def grid(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python(skip_empty_area=False)


def our_part(path: Path, tab: str) -> str:
    info = inspect(path)
    return part(path, info.sheet_parts[tab])


def rewrite_zip(path: Path, edit) -> None:
    """Rewrite every member of `path` through edit(name, bytes) -> bytes (tests only)."""
    src = members(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, _, _) in src.items():
            zf.writestr(name, edit(name, data))


def assert_user_content_kept(orig: Path, new: Path, *, edited=EDITED) -> None:
    a, b = members(orig), members(new)
    for name, (data, crc, csize) in a.items():
        assert name in b, f"{name} was lost"
        if name in edited:
            continue
        assert b[name][0] == data, f"{name} changed"
        assert (b[name][1], b[name][2]) == (crc, csize), f"{name} was recompressed"
    wb_old, wb_new = a["xl/workbook.xml"][0].decode(), b["xl/workbook.xml"][0].decode()
    for sheet in re.findall(r"<sheet [^>]*/>", wb_old):
        assert sheet in wb_new
    for dn in re.findall(r"<definedName[^>]*>.*?</definedName>", wb_old):
        assert dn in wb_new
    for override in re.findall(r"<Override [^>]*/>", a["[Content_Types].xml"][0].decode()):
        assert override in b["[Content_Types].xml"][0].decode()
    for rel in re.findall(r"<Relationship [^>]*/>", a["xl/_rels/workbook.xml.rels"][0].decode()):
        assert rel in b["xl/_rels/workbook.xml.rels"][0].decode()


# --------------------------------------------------------------------------- lose nothing

@pytest.mark.parametrize("ext", [".xlsx", ".xlsm"])
def test_rich_workbook_keeps_everything_and_gets_our_tabs(tmp_path, ext):
    path = build_rich(tmp_path / f"budget{ext}", vba=ext == ".xlsm")
    orig = tmp_path / f"orig{ext}"
    orig.write_bytes(path.read_bytes())
    tabs = seven_tabs()

    first = write_tabs(path, tabs)
    assert first.tabs == [t.name for t in tabs] and first.backup is not None
    styles_1 = members(path)["xl/styles.xml"][0]
    second = write_tabs(path, tabs)                      # replaces the first run's tabs
    assert members(path)["xl/styles.xml"][0] == styles_1, "styles.xml grew on the second run"
    assert second.backup.read_bytes() != orig.read_bytes()

    assert_user_content_kept(orig, path)
    m = members(path)
    if ext == ".xlsm":
        assert m["xl/vbaProject.bin"][0] == members(orig)["xl/vbaProject.bin"][0]
        assert "macroEnabled.main+xml" in m["[Content_Types].xml"][0].decode()
    ours = sorted(n for n in m if n.startswith("xl/worksheets/cw_sheet"))
    assert len(ours) == 7
    assert set(m) == set(members(orig)) | set(ours)

    names = sheet_names(path)
    assert names[:2] == ["费用记录", "Lists"]
    assert names[2:] == [t.name for t in tabs]            # each exactly once, in order
    wb = openpyxl.load_workbook(path, keep_vba=ext == ".xlsm")
    assert wb.sheetnames == names
    ws = wb[tabs[0].name]
    assert ws.freeze_panes == f"A{tabs[0].header_row + 1}"
    h = tabs[0].header_row
    assert ws.cell(h + 1, 1).hyperlink.location == "'费用记录'!B2"
    assert ws.cell(h + 2, 1).hyperlink.location == "'Lists'!A3"
    assert ws.cell(h + 1, 6).number_format == "#,##0.00"
    assert ws.cell(h + 1, 6).fill.fgColor.rgb == "FFFFC7CE"
    assert ws.cell(h, 1).font.b and ws.cell(h, 1).fill.fgColor.rgb == "FF1F4E78"
    assert ws.protection.sheet and ws.auto_filter.ref == f"A{h}:L{h + 5}"
    # user content still readable, formulas and cached results intact
    data = wb["费用记录"]
    assert data["D3"].value == "=B3*C3"
    assert grid(path, "费用记录")[2][3] == pytest.approx(2 * 10.5 * 2)
    assert "LocalRate" in wb["Lists"].defined_names


def test_cells_come_back_exactly(tmp_path):
    path = build_rich(tmp_path / "budget.xlsx")
    tab = make_tab()
    write_tabs(path, [tab])
    xml = our_part(path, tab.name)
    assert "<f>" not in xml and "<f " not in xml
    assert "<v>12345678901.23</v>" in xml and "<v>12345678902.23</v>" in xml     # Decimal, no float trip
    assert 'location="\'费用记录\'!B2"' in xml
    rows = grid(path, tab.name)
    h = tab.header_row
    assert rows[0][0] == "Campaign summary — summary"
    assert rows[h - 1][:3] == ["Campaign", "Formula-ish", "Plus"]
    first = rows[h]
    assert first[0] == "C001"
    assert first[1:5] == TRICKY                                      # text, not formulas
    assert first[5] == pytest.approx(12345678901.23)
    assert first[6] == dt.date(2026, 11, 26)
    assert first[7] == dt.datetime(2026, 11, 26, 9, 30)
    assert first[8] == pytest.approx(0.125) and first[9] == 42 and first[10] is True
    assert rows[h + 1][6] == dt.date(2026, 11, 27)
    assert len(rows) == h + 3


def test_text_is_escaped_and_cleaned(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})
    odd = ["a & b < c > d \"q\" 'a'", "bell\x07 and nul\x00 gone", "_x0041_ stays", "tab\tnew\nline", "中文 » ok"]
    tab = TabSpec("flags", tab_name("flags", "zh-CN"), ["预警"], ["Text"], ["text"], [[s] for s in odd])
    write_tabs(path, [tab])
    got = [r[0] for r in grid(path, tab.name)[tab.header_row:]]
    assert got == ["a & b < c > d \"q\" 'a'", "bell and nul gone", "_x0041_ stays", "tab\tnew\nline", "中文 » ok"]


def test_date1904_workbook_gets_1904_serials(tmp_path):
    path = build_rich(tmp_path / "mac.xlsx", date_1904=True)
    tab = make_tab()
    write_tabs(path, [tab])
    xml = our_part(path, tab.name)
    serial_1900 = (dt.date(2026, 11, 26) - dt.date(1899, 12, 30)).days
    assert f"<v>{serial_1900 - 1462}</v>" in xml
    assert grid(path, tab.name)[tab.header_row][6] == dt.date(2026, 11, 26)


def test_old_tabs_are_replaced_and_language_switch_drops_the_other_names(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Campaigns": [["id"], ["C1"]], "Budget lines": [["id"]]})
    write_tabs(path, seven_tabs("en"))
    result = write_tabs(path, [make_tab("summary", "zh-CN"), make_tab("flags", "zh-CN")])
    assert sheet_names(path) == ["Campaigns", "Budget lines", MARK + "汇总", MARK + "预警"]
    assert result.tabs == [MARK + "汇总", MARK + "预警"]
    assert sorted(n for n in members(path) if "cw_sheet" in n) == ["xl/worksheets/cw_sheet1.xml",
                                                                    "xl/worksheets/cw_sheet2.xml"]


def test_user_tab_with_our_name_is_refused(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "a.xlsx"))
    wb.add_worksheet("Data").write(0, 0, "x")
    wb.add_worksheet(tab_name("summary", "en")).write(0, 0, "my own notes")
    wb.close()
    path = tmp_path / "a.xlsx"
    before = path.read_bytes()
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab("summary")])
    assert err.value.code == NAME_TAKEN and "Summary" in err.value.detail
    assert path.read_bytes() == before
    assert "rename that tab" in message(err.value)
    # another generated name is fine, and cleaning leaves the person's tab alone
    write_tabs(path, [make_tab("flags")])
    write_tabs(path, [], remove_only=True)
    assert sheet_names(path) == ["Data", tab_name("summary", "en")]
    assert grid(path, tab_name("summary", "en"))[0][0] == "my own notes"


def test_escaped_tab_names_are_recognised(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x"]]})
    write_tabs(path, [make_tab()])
    rewrite_zip(path, lambda n, d: d.replace("»".encode(), b"&#187;") if n == "xl/workbook.xml" else d)
    assert b"&#187;" in members(path)["xl/workbook.xml"][0]
    write_tabs(path, [make_tab()])
    assert sheet_names(path) == ["Data", tab_name("summary", "en")]


def test_renamed_part_is_recognised_by_marker(tmp_path):
    """Excel renumbers parts on save (cw_sheet1.xml -> sheet2.xml): our marker name still tells."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x"]]})
    write_tabs(path, [make_tab()])

    def rename(name, data):
        if name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            return data.replace(b"cw_sheet1.xml", b"sheet9.xml")
        if name == "xl/worksheets/cw_sheet1.xml":
            return data.replace(b'<tabColor rgb="FF7F7F7F"/>', b"")
        return data
    rewrite_zip(path, rename)
    with zipfile.ZipFile(path) as zf:
        data = {n: zf.read(n) for n in zf.namelist()}
    data["xl/worksheets/sheet9.xml"] = data.pop("xl/worksheets/cw_sheet1.xml")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in data.items():
            zf.writestr(n, d)
    write_tabs(path, [make_tab()])
    assert sheet_names(path) == ["Data", tab_name("summary", "en")]
    assert "xl/worksheets/sheet9.xml" not in members(path)


def test_tab_dragged_before_user_tabs_renumbers_local_names(tmp_path):
    path = build_rich(tmp_path / "budget.xlsx")
    tab = make_tab()
    write_tabs(path, [tab])

    def drag(name, data):
        if name != "xl/workbook.xml":
            return data
        text = data.decode()
        sheets = re.findall(r"<sheet [^>]*/>", text)
        ours = [s for s in sheets if "cw" in s and "»" in s][0]
        text = text.replace(ours, "").replace("<sheets>", "<sheets>" + ours)
        # what Excel does when the tab moves to the front: local names shift by one, the view follows
        text = re.sub(r'localSheetId="(\d+)"', lambda m: f'localSheetId="{(int(m.group(1)) + 1) % 3}"', text)
        return text.replace("<workbookView ", '<workbookView activeTab="2" firstSheet="0" ', 1).encode()
    rewrite_zip(path, drag)
    assert sheet_names(path)[0] == tab.name
    write_tabs(path, [tab])
    assert sheet_names(path) == ["费用记录", "Lists", tab.name]
    wbxml = part(path, "xl/workbook.xml")
    assert 'activeTab="1"' in wbxml                      # still the Lists tab
    wb = openpyxl.load_workbook(path)
    assert "LocalRate" in wb["Lists"].defined_names
    assert wbxml.count("_cw_tab_") == 1                  # the list of our tabs, written afresh
    assert re.search(r'name="_xlnm._FilterDatabase" localSheetId="2"', wbxml)


def test_prefixed_workbook_xml(tmp_path):
    """workbook.xml written with an x: prefix for the main namespace (some generators do)."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})

    def prefix(name, data):
        if name != "xl/workbook.xml":
            return data
        text = data.decode()
        text = re.sub(r"<(/?)(?!\?)([A-Za-z]+)(?=[\s/>])", r"<\1x:\2", text)
        main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        assert main in text
        return text.replace(main, main.replace("xmlns=", "xmlns:x=")).encode()
    rewrite_zip(path, prefix)
    write_tabs(path, [make_tab()])
    wbxml = part(path, "xl/workbook.xml")
    assert f'<x:sheet name="{tab_name("summary", "en")}"' in wbxml
    assert sheet_names(path) == ["Data", tab_name("summary", "en")]
    assert openpyxl.load_workbook(path).sheetnames == ["Data", tab_name("summary", "en")]


def test_workbook_without_styles_part(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1]]})

    def nostyles(name, data):
        if name == "xl/_rels/workbook.xml.rels":
            return re.sub(rb'<Relationship [^>]*/styles"[^>]*/>', b"", data)
        return data
    rewrite_zip(path, nostyles)
    with zipfile.ZipFile(path) as zf:
        data = {n: zf.read(n) for n in zf.namelist() if n != "xl/styles.xml"}
    data["[Content_Types].xml"] = re.sub(rb'<Override PartName="/xl/styles.xml"[^>]*/>', b"",
                                         data["[Content_Types].xml"])
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in data.items():
            zf.writestr(n, d)
    write_tabs(path, [make_tab()])
    assert "xl/styles.xml" in members(path)
    wb = openpyxl.load_workbook(path)
    assert wb[tab_name("summary", "en")].cell(make_tab().header_row + 1, 6).number_format == "#,##0.00"


def test_calc_chain_listing_our_old_tab_is_dropped(tmp_path):
    """Someone typed formulas into a generated tab in Excel: its calcChain entries must go with the tab."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Data": [[1, "=A1*2"]]})
    write_tabs(path, [make_tab()])
    ours_id = re.search(r'name="cw» Summary" sheetId="(\d+)"', part(path, "xl/workbook.xml")).group(1)
    chain = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns='
             f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="B1" i="1"/>'
             f'<c r="B7" i="{ours_id}"/></calcChain>').encode()

    def add_chain(name, data):
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdCalc" Type="http://schemas.openxml'
                                b'formats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                                b"</Relationships>")
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
        return data
    rewrite_zip(path, add_chain)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/calcChain.xml", chain)
    write_tabs(path, [make_tab()])
    m = members(path)
    assert "xl/calcChain.xml" not in m
    assert b"calcChain" not in m["xl/_rels/workbook.xml.rels"][0] + m["[Content_Types].xml"][0]
    assert sheet_names(path) == ["Data", tab_name("summary", "en")]
    # a calcChain that only lists user cells stays, byte for byte
    rewrite_zip(path, add_chain)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/calcChain.xml", chain.replace(f'<c r="B7" i="{ours_id}"/>'.encode(), b""))
    before = members(path)["xl/calcChain.xml"]
    write_tabs(path, [make_tab()])
    assert members(path)["xl/calcChain.xml"] == before


def test_symlinked_workbook_is_written_through_the_link(tmp_path):
    real = write_xlsx(tmp_path / "real.xlsx", {"Data": [["x"]]})
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    write_tabs(link, [make_tab()])
    assert link.is_symlink() and sheet_names(real) == ["Data", tab_name("summary", "en")]


@pytest.mark.parametrize("styles", [
    # prefixed, no numFmts, a self-closed fills list, font 0 with colour and scheme
    '<?xml version="1.0"?><x:styleSheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<x:fonts count="1"><x:font><x:sz val="10"/><x:color theme="1"/><x:name val="等线"/><x:scheme val="minor"/>'
    '</x:font></x:fonts><x:fills count="0"/><x:borders count="1"><x:border/></x:borders>'
    '<x:cellXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></x:cellXfs></x:styleSheet>',
    # a custom format already using id 200 and our money format under another id; no cellStyleXfs
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2">'
    '<numFmt numFmtId="200" formatCode="&quot;¥&quot;#,##0"/><numFmt numFmtId="170" formatCode="#,##0.00"/>'
    '</numFmts><fonts count="1"><font/></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="200" fontId="0" '
    'fillId="0" borderId="0"/></cellXfs><dxfs count="0"/></styleSheet>',
])
def test_styles_surgery_appends_once_and_keeps_indices(styles):
    first = wstyles.Styles(styles)
    text1 = first.build()
    second = wstyles.Styles(text1)
    assert second.build() == text1 and second.xf == first.xf              # idempotent
    assert text1.startswith(styles[:styles.index("Sheet") + 5])
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text1.encode())
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    for section, child in (("numFmts", "numFmt"), ("fonts", "font"), ("fills", "fill"), ("cellXfs", "xf")):
        el = root.find(ns + section)
        assert el is not None and int(el.get("count")) == len(el.findall(ns + child))
    tags = [c.tag.replace(ns, "") for c in root]
    assert tags.index("numFmts") < tags.index("fonts") < tags.index("fills") < tags.index("cellXfs")
    xfs = root.find(ns + "cellXfs").findall(ns + "xf")
    old = ET.fromstring(styles.encode()).find(ns + "cellXfs").findall(ns + "xf")
    assert [ET.tostring(x) for x in xfs[:len(old)]] == [ET.tostring(x) for x in old]   # user indices unchanged
    fmts = {f.get("numFmtId"): f.get("formatCode") for f in root.find(ns + "numFmts")}
    money = xfs[first.xf[("money", "red", "cell")]]
    assert fmts[money.get("numFmtId")] == "#,##0.00"
    assert all(int(i) >= 164 for i in fmts if fmts[i] == "0.0%")
    fills = root.find(ns + "fills").findall(ns + "fill")
    assert [f.find(ns + "patternFill").get("patternType") for f in fills[:2]] == ["none", "gray125"]
    assert fills[int(money.get("fillId"))].find(f"{ns}patternFill/{ns}fgColor").get("rgb") == "FFFFC7CE"
    title_font = root.find(ns + "fonts").findall(ns + "font")[int(xfs[first.xf[("text", None, "title")]].get("fontId"))]
    assert title_font.find(ns + "sz").get("val") == "13" and title_font.find(ns + "b") is not None


# --------------------------------------------------------------------------- LibreOffice

@needs_soffice
def test_libreoffice_saved_workbook_survives_and_result_converts_to_pdf(tmp_path):
    src = write_xlsx(tmp_path / "src.xlsx", {
        "Campaigns": [["ID", "Planned", "Spent", "Left"], ["C1", 1000, 250, "=B2-C2"], ["C2", 500, 600, "=B3-C3"]],
        "费用记录": [["ID", "Amount"], ["E1", 12.5], ["E2", "=B2*2"]],
    })
    saved = soffice_convert(src, "xlsx", tmp_path / "lo")
    path = tmp_path / "book.xlsx"
    path.write_bytes(saved.read_bytes())
    orig = tmp_path / "orig.xlsx"
    orig.write_bytes(saved.read_bytes())
    tabs = seven_tabs("zh-CN")
    write_tabs(path, tabs)
    write_tabs(path, tabs)
    assert_user_content_kept(orig, path)
    rows = grid(path, "Campaigns")
    assert rows[1][3] == 750 and rows[2][3] == -100                  # cached formula results
    assert sheet_names(path)[2:] == [t.name for t in tabs]

    pdf = soffice_convert(path, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000

    # LibreOffice re-saves our tabs under other part names (and drops the tab colour):
    # the marker name still identifies them, so the next run replaces rather than refuses
    again = soffice_convert(path, "xlsx", tmp_path / "lo2")
    assert not any("cw_sheet" in n for n in members(again))
    write_tabs(again, tabs)
    assert sheet_names(again)[2:] == [t.name for t in tabs]
    assert sheet_names(again)[:2] == ["Campaigns", "费用记录"]


# --------------------------------------------------------------------------- safety

def excel_owner_file(name: str, ansi_enc: str = "cp1252") -> bytes:
    ansi = name.encode(ansi_enc, "replace")
    data = bytes([len(ansi)]) + ansi
    data = data.ljust(54, b" ")
    data += struct.pack("<H", len(name)) + name.encode("utf-16-le")
    return data.ljust(165, b"\x00")


@pytest.mark.parametrize("who,enc", [("Anna Li", "cp1252"), ("张伟", "gbk")])
def test_excel_lock_file_refuses_and_names_the_person(tmp_path, who, enc):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    before = path.read_bytes()
    (tmp_path / "~$x.xlsx").write_bytes(excel_owner_file(who, enc))
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == LOCKED and who in err.value.detail         # "locked by <who> for <age>"
    assert who in message(err.value) and "close it" in message(err.value)
    assert path.read_bytes() == before
    assert find_lock(path) == who
    # only the legacy-code-page copy
    (tmp_path / "~$x.xlsx").write_bytes(bytes([7]) + b"Bob Lee".ljust(60, b" "))
    assert find_lock(path) == "Bob Lee"


def test_libreoffice_lock_file_refuses(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    lock = tmp_path / ".~lock.x.xlsx#"
    lock.write_text(",Anna Li,anna-laptop,26.11.2026 10:15,file:///home/anna/.config/libreoffice/4;", "utf-8")
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == LOCKED and "Anna Li" in err.value.detail
    lock.write_text("Zhang Wei,zw,host,26.11.2026 10:15,file:///x;", "utf-8")
    assert find_lock(path) == "Zhang Wei"


def test_stale_lock_is_ignored(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    for name in ("~$x.xlsx", ".~lock.x.xlsx#"):
        lock = tmp_path / name
        lock.write_bytes(excel_owner_file("Anna Li"))
        old = time.time() - 2 * 86400
        os.utime(lock, (old, old))
    assert find_lock(path, stale_hours=12) is None
    assert find_lock(path, stale_hours=72) == "Anna Li"
    write_tabs(path, [make_tab()], stale_hours=12)     # the default honours it (72 h)
    assert tab_name("summary", "en") in sheet_names(path)


def test_changed_since_read_is_not_overwritten(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    st = path.stat()
    read_stat = (st.st_size, st.st_mtime_ns)
    write_xlsx(path, {"Data": [["x"], ["someone else's new row"]]})
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    before = path.read_bytes()
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()], expect_stat=read_stat)
    assert err.value.code == CHANGED and "not overwritten" in message(err.value)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".x.xlsx.cw-tmp-*"))


def test_changed_during_the_write_is_not_overwritten(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    real_verify = winplace.verify

    def verify_then_someone_saves(p, plan):
        real_verify(p, plan)
        write_xlsx(path, {"Data": [["saved by a person meanwhile"]]})
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 3_000_000_000))
    monkeypatch.setattr(winplace, "verify", verify_then_someone_saves)
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == CHANGED
    assert grid(path, "Data")[0][0] == "saved by a person meanwhile"
    assert not list(tmp_path.glob(".x.xlsx.cw-tmp-*"))


def test_permissions_are_kept(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    os.chmod(path, 0o640)
    write_tabs(path, [make_tab()])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    os.chmod(path, 0o604)
    write_tabs(path, [make_tab()], remove_only=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o604


def test_backups_keep_the_last_n_and_restore_puts_back_previous_bytes(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    versions = [path.read_bytes()]
    for i in range(4):
        write_tabs(path, [make_tab(rows=i + 1)], backups=2)
        versions.append(path.read_bytes())
    found = list_backups(path)
    assert len(found) == 2 and found[0].parent.name == ".campaignwatch-backups"
    assert re.fullmatch(r"x\.\d{8}T\d{12}\.xlsx", found[0].name)
    assert [b.read_bytes() for b in found] == [versions[3], versions[2]]    # newest first
    used = restore(path)
    assert used == found[0] and path.read_bytes() == versions[3]
    # the restore itself is undoable: the version it replaced is now the newest backup
    assert list_backups(path)[0].read_bytes() == versions[4]
    restore(path, list_backups(path)[0])
    assert path.read_bytes() == versions[4]
    # a chosen backup dir
    other = tmp_path / "bk"
    res = write_tabs(path, [make_tab()], backup_dir=other, backups=1)
    assert res.backup.parent == other and list_backups(path, other) == [res.backup]
    assert res.backup.read_bytes() == versions[4]


def test_remove_only_gives_back_the_users_workbook(tmp_path):
    path = build_rich(tmp_path / "budget.xlsx")
    orig = tmp_path / "orig.xlsx"
    orig.write_bytes(path.read_bytes())
    write_tabs(path, seven_tabs())
    result = write_tabs(path, [], remove_only=True)
    assert len(result.tabs) == 7
    assert sheet_names(path) == sheet_names(orig)
    assert set(members(path)) == set(members(orig))
    assert_user_content_kept(orig, path)
    wb_old, wb_new = part(orig, "xl/workbook.xml"), part(path, "xl/workbook.xml")
    assert wb_new == wb_old
    # nothing of ours: nothing written
    mtime = path.stat().st_mtime_ns
    again = write_tabs(path, [], remove_only=True)
    assert again.tabs == [] and again.backup is None and path.stat().st_mtime_ns == mtime


def test_failed_verification_keeps_the_original(tmp_path, monkeypatch):
    path = build_rich(tmp_path / "budget.xlsx")
    before = path.read_bytes()
    real = wemit.copy_raw

    def corrupting(src, info, zout):
        zi = real(src, info, zout)
        if info.filename.startswith("xl/media/"):
            zi.CRC ^= 1                               # a copy that is not identical
        return zi
    monkeypatch.setattr(wemit, "copy_raw", corrupting)
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == WRITE_FAILED and "previous version was kept" in message(err.value)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".budget.xlsx.cw-tmp-*"))


def test_failed_check_after_replace_restores_the_backup(tmp_path, monkeypatch):
    path = build_rich(tmp_path / "budget.xlsx")
    before = path.read_bytes()
    real = winplace.verify
    calls = []

    def second_fails(p, plan):
        calls.append(p)
        if len(calls) == 2:
            raise SourceError(WRITE_FAILED, "simulated")
        return real(p, plan)
    monkeypatch.setattr(winplace, "verify", second_fails)
    with pytest.raises(SourceError) as err:
        write_tabs(path, [make_tab()])
    assert err.value.code == WRITE_FAILED and calls[1] == path
    assert path.read_bytes() == before


def test_stale_temp_files_are_removed(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    dead = tmp_path / ".x.xlsx.cw-tmp-999999999"
    dead.write_bytes(b"half a workbook")
    alive = tmp_path / f".x.xlsx.cw-tmp-{os.getppid()}"
    alive.write_bytes(b"another run, still going")
    write_tabs(path, [make_tab()])
    assert not dead.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".x.xlsx")) == [alive.name]


def test_other_formats_get_a_sidecar(tmp_path):
    ods = tmp_path / "plan.ods"
    ods.write_bytes(b"not really an ods")
    with pytest.raises(SourceError) as err:
        write_tabs(ods, [make_tab()])
    assert err.value.code == UNSUPPORTED and "plan.campaignwatch.xlsx" in err.value.detail
    assert sidecar_path(ods) == tmp_path / "plan.campaignwatch.xlsx"
    res = write_sidecar(ods, seven_tabs("zh-CN"))
    assert res.path == sidecar_path(ods) and ods.read_bytes() == b"not really an ods"
    assert sheet_names(res.path) == [t.name for t in seven_tabs("zh-CN")]
    assert openpyxl.load_workbook(res.path).sheetnames == sheet_names(res.path)
    rows = grid(res.path, MARK + "汇总")
    assert rows[make_tab().header_row][1] == "=SUM(A1)"
    write_sidecar(ods, [make_tab("kpi", "zh-CN")])                # replaced, not appended
    assert sheet_names(res.path) == [MARK + "KPI达成"]
    assert stat.S_IMODE(res.path.stat().st_mode) == safety.default_mode()


def test_bad_tab_names_are_programming_errors(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Data": [["x"]]})
    bad = make_tab()
    bad.name = "Summary"
    with pytest.raises(ValueError):
        write_tabs(path, [bad])
    with pytest.raises(ValueError):
        write_tabs(path, [make_tab(), make_tab()])


def test_raw_copy_of_data_descriptor_members(tmp_path):
    """Members written with a data descriptor (streaming writers) are copied with sizes in the header."""
    path = tmp_path / "stream.xlsx"
    base = write_xlsx(tmp_path / "a.xlsx", {"Data": [["x", 1], ["y", 2]]})

    class Unseekable(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def writable(self):
            return True

        def write(self, b):
            return self.fh.write(b)
    with open(path, "wb") as fh, zipfile.ZipFile(Unseekable(fh), "w", zipfile.ZIP_DEFLATED) as zout, \
            zipfile.ZipFile(base) as zin:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    with zipfile.ZipFile(path) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())
    orig = tmp_path / "orig.xlsx"
    orig.write_bytes(path.read_bytes())
    write_tabs(path, [make_tab()])
    assert_user_content_kept(orig, path)
    with zipfile.ZipFile(path) as zf:
        assert not any(i.flag_bits & 0x08 for i in zf.infolist())
    assert grid(path, "Data")[1] == ["y", 2]


def test_damaged_workbooks_raise_source_error_and_stay_untouched(tmp_path):
    """Flip bytes in a small workbook's parts: write_tabs either works or raises SourceError; a failed
    write never changes the file."""
    import random
    good = build_rich(tmp_path / "good.xlsx")
    rnd = random.Random(7)
    src = members(good)
    names = sorted(src)
    codes = set()
    for n in range(60):
        path = tmp_path / f"bad{n}.xlsx"
        target = names[n % len(names)]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                data = bytearray(src[name][0])
                if name == target and data:
                    for _ in range(rnd.randint(1, 6)):
                        data[rnd.randrange(len(data))] = rnd.choice(b"<>&\"'/=x\x00\xff")
                zf.writestr(name, bytes(data))
        if n % 5 == 0:                               # damage the zip itself too
            raw = bytearray(path.read_bytes())
            raw[rnd.randrange(len(raw))] ^= 0xFF
            path.write_bytes(bytes(raw))
        before = path.read_bytes()
        try:
            write_tabs(path, [make_tab()])
        except SourceError as err:
            codes.add(err.code)
            assert path.read_bytes() == before
            assert message(err) and "\n" not in message(err)
    assert codes


@pytest.mark.slow
def test_write_time_on_a_100k_row_workbook(tmp_path):
    """Raw copying: writing seven small tabs costs far less than calamine reading the workbook."""
    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("费用记录")
    for r in range(100_000):
        ws.write_row(r, 0, [f"EX{r:06d}", f"C{r % 50:03d}", r * 0.37, r % 13, "note", "张伟", r,
                            "paid", f"R{r}", 1.5, "x"])
    wb.close()
    t = time.perf_counter()
    CalamineWorkbook.from_path(str(path)).get_sheet_by_name("费用记录").to_python()
    read = time.perf_counter() - t
    res = write_tabs(path, seven_tabs(rows=200))
    assert res.seconds < max(read, 0.5), (res.seconds, read)
    assert len(sheet_names(path)) == 8
