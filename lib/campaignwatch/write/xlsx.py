"""Write generated tabs (`TabSpec`) into people's .xlsx/.xlsm workbooks without touching theirs.

The workbook is never loaded and saved by a spreadsheet library (openpyxl drops images, form
controls, sparklines, text boxes, slicers …). Instead the zip package is rebuilt member by
member:

* every member that is not ours and that we do not edit is copied **raw**: its compressed
  bytes are streamed unchanged behind a fresh local header, so CRC-32 and sizes are identical
  (`_copy_raw`); user sheets are never even decompressed;
* four small parts are **parsed** and edited as trees (`parts.py`: expat under defusedxml's
  policy; an element nothing changed in is written back as its own bytes, so prefixes,
  namespaces, `mc:Ignorable`, extension lists and comments survive, and removing what was
  inserted gives back the original bytes): `xl/workbook.xml` (the `<sheet>` entries,
  `<definedNames>`, `<workbookView>` indices), `xl/_rels/workbook.xml.rels`,
  `[Content_Types].xml` and `xl/styles.xml` (append-only: user cells keep their style
  indices; our entries are reused by exact text, so the part does not grow run after run);
* our tabs are serialised here as sheet parts `xl/worksheets/cw_sheetN.xml` with inline
  strings (sharedStrings.xml is never touched, and text such as "=SUM(A1)" stays text).

**Which tabs are ours.** Each run lists the tabs it wrote in workbook-scoped hidden defined
names `_cw_tab_1`, `_cw_tab_2` … whose values refer to the tabs by name
(`'cw» Summary'!$A$1`). A tab is ours when its name starts with `names.MARK` *and* one of
those names refers to it. Excel and LibreOffice keep defined names when they save, renumber
parts and relationship ids but rewrite the references (a renamed tab stays referred to, a
deleted one becomes `#REF!`), so the list survives a re-save; a *copy* of one of our tabs
(Excel's or LibreOffice's "copy sheet", which keeps the name prefix, the tab colour and the
sheet-scoped names) is not referred to by the workbook-scoped list — Excel gives the copy
sheet-scoped duplicates, which do not count — so it is the team's: kept by `sync` and
`clean`, refused (NAME_TAKEN) only if it has exactly a name we must write. A workbook written
before the list existed (no `_cw_tab_N` name at all) is read by the old rule, narrowed to
the exact generated names (`names.is_known`, so copies named "… (2)" are the team's): the
sheet-scoped hidden `_cw_generated` name, a part named `cw_sheet*.xml`, or the grey tab
colour FF7F7F7F.

Workbooks campaignwatch creates (`write_new`: the sidecar, the dashboard) carry a
workbook-scoped hidden name `_cw_created`; an existing sidecar without it is not ours and is
never overwritten (`write_sidecar`: NAME_TAKEN).

Safety (see `safety.py`): refused while Excel/LibreOffice holds a lock file (LOCKED); refused
when the file changed since it was read (CHANGED, checked at the start and just before the
replace); written to `.NAME.cw-tmp-<pid>` in the same folder, fsynced, permissions copied,
verified (central directory of the copy against the original, edited parts read back and
re-parsed: every sheet has its relationship, every relationship resolves, our style indices
exist in `cellXfs`, the team's sheets and defined names are all there), the previous version
kept as a backup, then `os.replace` + fsync of the folder. A verification failure after the
replace puts the backup back and raises WRITE_FAILED.

Cell positions in `TabSpec.fills` / `TabSpec.links` are (index into `rows`, column index),
both zero-based. Links are internal (`'Tab'!E7`) and need no relationship part.
"""
from __future__ import annotations

import copy
import datetime as dt
import errno
import io
import math
import numbers
import os
import posixpath
import re
import stat as stat_mod
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote
from xml.parsers import expat

import defusedxml

from ..errors import (
    CHANGED, ENCRYPTED, HOSTILE_XML, LOCKED, MISSING, NAME_TAKEN, NOT_A_WORKBOOK, PERMISSION,
    TOO_LARGE, TRUNCATED, UNSUPPORTED, WRITE_FAILED, CampaignwatchError, SourceError,
)
from ..names import MARK, is_generated, is_known
from ..tabspec import FILLS, FORMATS, TabSpec
from . import safety
from .parts import CT, MAIN, PKG_REL, REL, Document, Element, PartError, esc_attr, esc_text, parse

__all__ = ["WriteResult", "write_tabs", "restore", "list_backups", "sidecar_path", "write_sidecar", "clean_sidecar",
           "write_new", "IN_PLACE", "TAB_COLOR"]

IN_PLACE = (".xlsx", ".xlsm")
TAB_COLOR = "FF7F7F7F"
LIST_NAME = "_cw_tab_"              # workbook-scoped hidden names _cw_tab_1 … = 'cw» Summary'!$A$1
CREATED_NAME = "_cw_created"        # workbook-scoped hidden name in workbooks campaignwatch created
LEGACY_MARKER = "_cw_generated"     # sheet-scoped name on generated tabs before the list existed
SHEET_PART_RE = re.compile(r"cw_sheet\d+\.xml\Z", re.IGNORECASE)
STYLES_RID = "rIdcwStyles"          # the relationship of a styles part we added (clean drops it)

_NS_MAIN = {"transitional": MAIN[0], "strict": MAIN[1]}
_NS_REL = {"transitional": REL[0], "strict": REL[1]}
_NS_PKG_REL = PKG_REL[0]
_NS_CT = CT[0]
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

_MAX_PART = 256 << 20           # largest part we decompress to edit (styles.xml of a bloated workbook)
_MAX_MEMBERS = 20000
_LEVEL = 6                      # zlib level of the parts we write
_MAX_TEXT = 32767               # Excel's limit on characters in a cell

NUMFMT_CODES = {"money": "#,##0.00", "percent": "0.0%", "date": "yyyy-mm-dd",
                "datetime": "yyyy-mm-dd hh:mm", "int": "#,##0", "number": "#,##0.####"}
FILL_RGB = {"red": "FFC7CE", "amber": "FFEB9C", "green": "C6EFCE", "grey": "D9D9D9"}
HEADER_RGB = "1F4E78"
LINK_RGB = "FF0563C1"
ROLES = ("title", "header", "cell", "link")


@dataclass
class WriteResult:
    path: Path
    backup: Path | None
    tabs: list[str]                 # tabs written (remove_only: tabs removed)
    seconds: float


class _Malformed(Exception):
    """A part we must edit does not have the shape we can edit safely."""


class OnlyGenerated(SourceError):
    """Removing our tabs would leave no tab: every tab of the workbook is ours (a sidecar)."""


class TabTooLarge(CampaignwatchError, ValueError):
    """A TabSpec that does not fit in a worksheet (a programming error upstream)."""


# =========================================================================== text helpers

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_esc = esc_text
_esc_attr = esc_attr


def _esc_cell_text(text: str) -> str:
    # Excel decodes _xHHHH_ in strings; escape a literal one as _x005F_xHHHH_
    if "_x" in text:
        text = _XESCAPE.sub(r"_x005F_\1", text)
    return _esc(text)


def _parse(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Document:
    """A part we edit (or read the structure of), parsed; SourceError for a hostile or broken one."""
    data = _read(zf, info)
    try:
        return parse(data, info.filename)
    except defusedxml.DefusedXmlException:
        raise SourceError(HOSTILE_XML, f"in {info.filename}") from None
    except PartError as exc:
        raise SourceError(NOT_A_WORKBOOK, str(exc)) from None


def _fragment(markup: str, like: Element) -> list[Element]:
    """New elements from markup written with `like`'s prefixes (our style entries); each
    serialises to exactly `markup`'s bytes."""
    decls = "".join(f' xmlns{":" + p if p else ""}="{esc_attr(u)}"' for p, u in like.ns.items() if p != "xml")
    doc = parse(f"<cw-fragment{decls}>{markup}</cw-fragment>".encode("utf-8"))
    kids = doc.root.elements()
    for k in kids:
        k.parent = None
    return kids


def _new(local: str, attrs: dict[str, str], like: Element, text: str | None = None) -> Element:
    return Element.new(local, attrs, like=like, text=text)


def _sheet_of_ref(ref: str) -> str | None:
    """The sheet a defined name's reference points to (`'cw» Summary'!$A$1` -> cw» Summary)."""
    t = ref.strip().lstrip("=")
    if t.startswith("["):                               # [0]'Tab'!A1 (a workbook index)
        close = t.find("]")
        t = t[close + 1:] if close > 0 else t
    if t.startswith("'"):
        out, i = [], 1
        while i < len(t):
            c = t[i]
            if c == "'":
                if t[i + 1:i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(c)
            i += 1
        else:
            return None
        return "".join(out) if t[i + 1:i + 2] == "!" else None
    bang = t.find("!")
    return t[:bang] if bang > 0 else None
# =========================================================================== zip plumbing

def _strip_zip64(extra: bytes) -> bytes:
    out, i = bytearray(), 0
    while i + 4 <= len(extra):
        xid, xlen = struct.unpack_from("<HH", extra, i)
        if xid != 1:
            out += extra[i:i + 4 + xlen]
        i += 4 + xlen
    return bytes(out)


def _data_offset(src: BinaryIO, info: zipfile.ZipInfo) -> int:
    src.seek(info.header_offset)
    head = src.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    nlen, xlen = struct.unpack_from("<HH", head, 26)
    return info.header_offset + 30 + nlen + xlen


def _copy_raw(src: BinaryIO, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> zipfile.ZipInfo:
    """Append `info` from `src` to `zout` without decompressing: new local header + same bytes."""
    offset = _data_offset(src, info)
    zi = copy.copy(info)
    zi.flag_bits &= ~0x08                     # sizes and CRC go in the local header
    zi.extra = _strip_zip64(info.extra)
    zip64 = zi.file_size > zipfile.ZIP64_LIMIT or zi.compress_size > zipfile.ZIP64_LIMIT
    fp = zout.fp
    fp.seek(zout.start_dir)
    zi.header_offset = fp.tell()
    fp.write(zi.FileHeader(zip64))
    src.seek(offset)
    left = info.compress_size
    while left:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            raise zipfile.BadZipFile(f"{info.filename} is cut short")
        fp.write(chunk)
        left -= len(chunk)
    zout.filelist.append(zi)
    zout.NameToInfo[zi.filename] = zi
    zout.start_dir = fp.tell()
    zout._didModify = True
    return zi


def _write_part(zout: zipfile.ZipFile, name: str, data: bytes, like: zipfile.ZipInfo | None) -> None:
    zi = zipfile.ZipInfo(name, date_time=like.date_time if like is not None else (1980, 1, 1, 0, 0, 0))
    if like is not None:
        zi.create_system = like.create_system
        zi.external_attr = like.external_attr
    zi.compress_type = zipfile.ZIP_DEFLATED
    zout.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL)


def _resolve(base_dir: str, target: str) -> str:
    target = target.replace("\\", "/").strip()
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(base_dir, target)
    return posixpath.normpath(unquote(path)).lstrip("/")


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part.replace("\\", "/"))
    return posixpath.join(folder, "_rels", base + ".rels")




def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_PART:
        raise SourceError(TOO_LARGE, f"{info.filename} is {info.file_size >> 20} MB")
    return zf.read(info)


# =========================================================================== styles

class _Styles:
    """Append-only surgery on a parsed styles.xml; `xf[(format, fill, role)]` is a cellXfs index."""

    ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
             "tableStyles", "colors", "extLst")
    CHILD = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
             "cellStyleXfs": "xf", "cellXfs": "xf"}

    def __init__(self, doc: Document | str):
        if isinstance(doc, str):
            doc = parse(doc.encode("utf-8"), "styles.xml")
        if not doc.root.is_("styleSheet", MAIN):
            raise _Malformed("styles part has no styleSheet root")
        self.doc = doc
        self.root = doc.root
        self.p = doc.root.prefix
        self.xf: dict[tuple[str, str | None, str], int] = {}

    # -- sections
    def _section(self, name: str) -> Element | None:
        return self.root.child(name, MAIN)

    def _ensure(self, name: str) -> Element:
        sec = self._section(name)
        if sec is not None:
            return sec
        sec = _new(name, {"count": "0"}, self.root)
        for other in self.ORDER[self.ORDER.index(name) + 1:]:
            later = self._section(other)
            if later is not None:
                self.root.insert_before(later, sec)
                return sec
        self.root.append(sec)
        return sec

    def _items(self, name: str) -> tuple[Element, list[Element]]:
        sec = self._ensure(name)
        return sec, sec.children(self.CHILD[name], MAIN)

    def _add(self, sec: Element, name: str, markup: list[str]) -> None:
        for el in _fragment("".join(markup), sec):
            sec.append(el)
        sec.set("count", str(len(sec.children(self.CHILD[name], MAIN))))

    def _append(self, name: str, items: list[str]) -> list[int]:
        """Indices of `items` in section `name`, appending those not present (by exact text)."""
        sec, kids = self._items(name)
        index: dict[bytes, int] = {}
        for i, k in enumerate(kids):
            index.setdefault(k.to_bytes(), i)
        out, added = [], []
        for item in items:
            key = item.encode("utf-8")
            if key not in index:
                index[key] = len(kids) + len(added)
                added.append(item)
            out.append(index[key])
        if added:
            self._add(sec, name, added)
        return out

    # -- the work
    def apply(self) -> bytes:
        """Add our entries (once) and return the part's new bytes."""
        p = self.p
        defaults = {
            "fonts": [f'<{p}font><{p}sz val="11"/><{p}name val="Calibri"/><{p}family val="2"/></{p}font>'],
            # fills 0 and 1 are reserved (none, gray125): a list shorter than that gets them first
            "fills": [f'<{p}fill><{p}patternFill patternType="none"/></{p}fill>',
                      f'<{p}fill><{p}patternFill patternType="gray125"/></{p}fill>'],
            "borders": [f"<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>"],
            "cellStyleXfs": [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'],
            "cellXfs": [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'],
        }
        for name, items in defaults.items():
            sec, kids = self._items(name)
            if len(kids) < len(items):
                self._add(sec, name, items[len(kids):])
        numfmt = self._numfmts()
        fonts = self._fonts()
        fill_items = [self._fill(FILL_RGB[f]) for f in FILLS] + [self._fill(HEADER_RGB)]
        fill_ids = self._append("fills", fill_items)
        fill_of = dict(zip(FILLS, fill_ids))
        header_fill = fill_ids[-1]

        keys, items = [], []
        keys.append(("text", None, "title"))
        items.append(self._xf(0, fonts["title"], 0))
        keys.append(("text", None, "header"))
        items.append(self._xf(0, fonts["header"], header_fill, 'vertical="center" wrapText="1"'))
        for role in ("cell", "link"):
            font = fonts["link"] if role == "link" else 0
            for fmt in FORMATS:
                for fill in (None, *FILLS):
                    keys.append((fmt, fill, role))
                    items.append(self._xf(numfmt.get(fmt, 0), font, fill_of[fill] if fill else 0))
        ids = self._append("cellXfs", items)
        self.xf = dict(zip(keys, ids))
        return self.doc.serialise()

    def build(self) -> str:
        """`apply`, as text (tests)."""
        from .parts import decode
        return decode(self.apply())[0]

    def _numfmts(self) -> dict[str, int]:
        p = self.p
        sec = self._section("numFmts")
        existing: dict[str, int] = {}
        max_id = 163
        for el in sec.children("numFmt", MAIN) if sec is not None else ():
            try:
                fid = int(el.attrs.get("numFmtId", ""))
            except ValueError:
                continue
            max_id = max(max_id, fid)
            existing.setdefault(el.attrs.get("formatCode", ""), fid)
        out, new = {}, []
        for fmt, code in NUMFMT_CODES.items():
            if code in existing:
                out[fmt] = existing[code]
            else:
                max_id += 1
                existing[code] = out[fmt] = max_id
                new.append(f'<{p}numFmt numFmtId="{max_id}" formatCode="{_esc_attr(code)}"/>')
        if new:
            self._add(self._ensure("numFmts"), "numFmts", new)
        return out

    def _fonts(self) -> dict[str, int]:
        p = self.p
        _, kids = self._items("fonts")
        sz, color, rest = "11", "", f'<{p}name val="Calibri"/><{p}family val="2"/>'
        if kids and kids[0].kids:
            font0 = kids[0]
            szel = font0.child("sz", MAIN)
            if szel is not None and re.fullmatch(r"\d+(\.\d+)?", szel.attrs.get("val", "")):
                sz = szel.attrs["val"]
            colel = font0.child("color", MAIN)
            if colel is not None:
                color = colel.to_bytes().decode("utf-8")
            drop = ("b", "i", "u", "strike", "color", "sz", "vertAlign", "outline", "shadow")
            pieces = []
            for k in font0.kids:
                if isinstance(k, Element):
                    if not (k.local in drop and k.uri in MAIN):
                        pieces.append(k.to_bytes().decode("utf-8"))
                elif isinstance(k, bytes):
                    pieces.append(k.decode("utf-8"))
            rest = "".join(pieces).strip()
        items = {
            "title": f'<{p}font><{p}b/><{p}sz val="13"/>{color}{rest}</{p}font>',
            "header": f'<{p}font><{p}b/><{p}sz val="{sz}"/><{p}color rgb="FFFFFFFF"/>{rest}</{p}font>',
            "link": f'<{p}font><{p}u/><{p}sz val="{sz}"/><{p}color rgb="{LINK_RGB}"/>{rest}</{p}font>',
        }
        ids = self._append("fonts", list(items.values()))
        return dict(zip(items, ids))

    def _fill(self, rgb: str) -> str:
        p = self.p
        return (f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')

    def _xf(self, numfmt: int, font: int, fill: int, align: str | None = None) -> str:
        p = self.p
        a = f'numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
        if numfmt:
            a += ' applyNumberFormat="1"'
        if font:
            a += ' applyFont="1"'
        if fill:
            a += ' applyFill="1"'
        if align:
            return f'<{p}xf {a} applyAlignment="1"><{p}alignment {align}/></{p}xf>'
        return f"<{p}xf {a}/>"


def _cellxfs_count(doc: Document) -> int:
    sec = doc.root.child("cellXfs", MAIN) if doc.root.is_("styleSheet", MAIN) else None
    return len(sec.children("xf", MAIN)) if sec is not None else 0
# =========================================================================== sheet serialisation

_COLS: list[str] = []


def _col(i: int) -> str:
    while len(_COLS) <= i:
        n, s = len(_COLS) + 1, ""
        while n:
            n, r = divmod(n - 1, 26)
            s = chr(65 + r) + s
        _COLS.append(s)
    return _COLS[i]


_D1900 = dt.date(1899, 12, 30)
_D1904 = dt.date(1904, 1, 1)
_LEAP_BUG_END = dt.date(1900, 3, 1)
_FIRST_1900 = dt.date(1900, 1, 1)


def _serial(v: dt.date, date1904: bool) -> float | int | None:
    """Excel serial number of a date/datetime, or None when Excel cannot show it."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        day = v.date()
        frac = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    else:
        day, frac = v, 0
    if date1904:
        days = (day - _D1904).days
        if days < 0:
            return None
    else:
        if day < _FIRST_1900:
            return None
        days = (day - _D1900).days - (1 if day < _LEAP_BUG_END else 0)
    return days + frac if frac else days





def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _link_location(target: str) -> str:
    target = target.strip().lstrip("#")
    bang = target.rfind("!")
    if bang <= 0:
        return target
    sheet, ref = target[:bang], target[bang + 1:]
    if not (sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2):
        sheet = _quote_sheet(sheet)
    return f"{sheet}!{ref}"


def _is_nan(v) -> bool:
    try:
        return v != v
    except Exception:  # noqa: BLE001
        return False


def _is_external(link: str) -> bool:
    """A link to another file or a URL (`teams/a.xlsx#'Expenses'!E7`, `https://…`), not a cell here."""
    target = link.split("#", 1)[0]
    return "://" in target or target.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"))


def _sheet_xml(tab: TabSpec, xf: dict, date1904: bool, selected: bool, flavor: str,
               external: list[tuple[str, str]] | None = None) -> bytes:
    """Our sheet part. External links add (relationship id, target) to `external`; the
    caller writes them into the sheet's relationships part."""
    h = tab.header_row
    ncols = max(len(tab.header), max((len(r) for r in tab.rows), default=0), len(tab.formats), 1)
    last_row = h + len(tab.rows)
    if last_row > 1_048_576 or ncols > 16_384:
        raise TabTooLarge(f"tab {tab.name!r} is larger than a worksheet ({last_row} rows, {ncols} columns)")
    last_col = _col(ncols - 1)
    formats = [tab.formats[c] if c < len(tab.formats) and tab.formats[c] in FORMATS else "text"
               for c in range(ncols)]
    cols = [_col(c) for c in range(ncols)]
    fills, links = tab.fills, tab.links
    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    w(f'<worksheet xmlns="{_NS_MAIN[flavor]}" xmlns:r="{_NS_REL[flavor]}">')
    w(f'<sheetPr><tabColor rgb="{TAB_COLOR}"/></sheetPr>')
    w(f'<dimension ref="A1:{last_col}{last_row}"/>')
    sel = ' tabSelected="1"' if selected else ""
    w(f'<sheetViews><sheetView{sel} workbookViewId="0">'
      f'<pane ySplit="{h}" topLeftCell="A{h + 1}" activePane="bottomLeft" state="frozen"/>'
      f'<selection pane="bottomLeft" activeCell="A{h + 1}" sqref="A{h + 1}"/></sheetView></sheetViews>')
    w('<sheetFormatPr defaultRowHeight="15"/>')
    w("<cols>")
    for c, width in enumerate(tab.column_widths(ncols)):
        w(f'<col min="{c + 1}" max="{c + 1}" width="{width + 0.71:.2f}" customWidth="1"/>')
    w("</cols><sheetData>")

    s_title = xf[("text", None, "title")]
    s_text = xf[("text", None, "cell")]
    s_head = xf[("text", None, "header")]
    for i, line in enumerate(tab.title):
        if line is None or line == "":
            continue
        s = s_title if i == 0 else s_text
        w(f'<row r="{i + 1}"><c r="A{i + 1}" s="{s}" t="inlineStr"><is><t xml:space="preserve">'
          f'{_esc_cell_text(str(line)[:_MAX_TEXT])}</t></is></c></row>')
    w(f'<row r="{h}">')
    for c in range(ncols):
        text = tab.header[c] if c < len(tab.header) else None
        if text is None or text == "":
            w(f'<c r="{cols[c]}{h}" s="{s_head}"/>')
        else:
            w(f'<c r="{cols[c]}{h}" s="{s_head}" t="inlineStr"><is><t xml:space="preserve">'
              f'{_esc_cell_text(str(text)[:_MAX_TEXT])}</t></is></c>')
    w("</row>")

    hyperlinks: list[str] = []
    marked_rows = {ri for ri, _ in fills} | {ri for ri, _ in links}
    plain = [xf[(formats[c], None, "cell")] for c in range(ncols)]
    for ri, row in enumerate(tab.rows):
        r = h + 1 + ri
        w(f'<row r="{r}">')
        marked = ri in marked_rows
        for c in range(ncols):
            v = row[c] if c < len(row) else None
            if not marked:                                   # no fill, no link: the fast common case
                t = type(v)
                if t is int:
                    w(f'<c r="{cols[c]}{r}" s="{plain[c]}"><v>{v}</v></c>')
                    continue
                if t is str and v and (v.isascii() and v.isalnum()):
                    w(f'<c r="{cols[c]}{r}" s="{plain[c]}" t="inlineStr"><is><t xml:space="preserve">{v[:_MAX_TEXT]}</t></is></c>')
                    continue
            fill = fills.get((ri, c)) if fills else None
            if fill not in FILL_RGB:
                fill = None
            link = links.get((ri, c)) if links else None
            role = "link" if link else "cell"
            ref = f"{cols[c]}{r}"
            fmt = formats[c]
            body = None
            t = type(v)
            if v is None or (t is str and v == ""):
                pass
            elif t is int:                                   # the common types first, by exact type
                body = f"><v>{v}</v></c>"
            elif t is float and math.isfinite(v):
                body = f"><v>{v!r}</v></c>"
            elif t is str and (v.isascii() and v.isalnum() or v.isdigit()):
                body = f' t="inlineStr"><is><t xml:space="preserve">{v[:_MAX_TEXT]}</t></is></c>'
            elif isinstance(v, str):
                body = f' t="inlineStr"><is><t xml:space="preserve">{_esc_cell_text(v[:_MAX_TEXT])}</t></is></c>'
            elif isinstance(v, bool) or type(v).__name__ == "bool_":
                body = f' t="b"><v>{1 if v else 0}</v></c>'
            elif isinstance(v, Decimal):
                if v.is_finite():
                    body = f"><v>{format(v, 'f')}</v></c>"
                elif not v.is_nan():
                    body = f' t="inlineStr"><is><t>{"-" if v < 0 else ""}∞</t></is></c>'
            elif isinstance(v, dt.date):
                if not _is_nan(v):
                    serial = _serial(v, date1904)
                    if fmt not in ("date", "datetime"):
                        fmt = "datetime" if isinstance(v, dt.datetime) else "date"
                    if serial is None:
                        body = f' t="inlineStr"><is><t>{_esc(v.isoformat())}</t></is></c>'
                        fmt = "text"
                    else:
                        body = f"><v>{serial!r}</v></c>"
            elif isinstance(v, numbers.Integral):
                body = f"><v>{int(v)}</v></c>"
            elif isinstance(v, numbers.Real):
                fv = float(v)
                if math.isfinite(fv):
                    body = f"><v>{fv!r}</v></c>"
                elif not math.isnan(fv):
                    body = f' t="inlineStr"><is><t>{"-" if fv < 0 else ""}∞</t></is></c>'
            else:
                body = f' t="inlineStr"><is><t xml:space="preserve">{_esc_cell_text(str(v)[:_MAX_TEXT])}</t></is></c>'
            s = xf[(fmt, fill, role)]
            if body is not None:
                w(f'<c r="{ref}" s="{s}"{body}')
            elif fill or link:
                w(f'<c r="{ref}" s="{s}"/>')
            if link:
                disp = f' display="{_esc_attr((v if isinstance(v, str) else str(v))[:255])}"' if body else ""
                if external is not None and _is_external(link):
                    target, _, location = link.partition("#")
                    rid = f"rIdcwL{len(external) + 1}"
                    external.append((rid, target))
                    loc = f' location="{_esc_attr(_link_location(location))}"' if location else ""
                    hyperlinks.append(f'<hyperlink ref="{ref}" r:id="{rid}"{loc}{disp}/>')
                else:
                    hyperlinks.append(f'<hyperlink ref="{ref}" location="{_esc_attr(_link_location(link))}"{disp}/>')
        w("</row>")
    w("</sheetData>")
    w('<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0" '
      'autoFilter="0" sort="0"/>')
    w(f'<autoFilter ref="A{h}:{last_col}{last_row}"/>')
    if hyperlinks:
        w("<hyperlinks>")
        out.extend(hyperlinks)
        w("</hyperlinks>")
    w('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    w("</worksheet>")
    return "".join(out).encode("utf-8")


def _filter_range(tab: TabSpec) -> str:
    h = tab.header_row
    ncols = max(len(tab.header), max((len(r) for r in tab.rows), default=0), len(tab.formats), 1)
    return f"{_quote_sheet(tab.name)}!$A${h}:${_col(ncols - 1)}${h + len(tab.rows)}"


# =========================================================================== the plan

@dataclass
class _Sheet:
    el: Element
    name: str
    rid: str | None
    part: str | None = None
    ours: bool = False
    hidden: bool = False


@dataclass
class _Expect:
    """What the edited parts must say after the write (checked by `_verify` on the written file)."""
    wb_dir: str
    sheets: list[tuple[str, str | None]]                 # (name, relationship id) in order
    names: list[tuple[str, str | None, str]]             # (name, localSheetId, value), sorted
    dangling: set[str]                                   # targets that did not resolve before either
    missing_rids: set[str | None]                        # tabs without a relationship before either
    xf_max: int = -1                                     # highest cellXfs index our sheets use
    content_types: dict[str, str] = field(default_factory=dict)   # part we added -> content type


@dataclass
class _Plan:
    infos: list[zipfile.ZipInfo]
    drop: set[str]
    edited: dict[str, bytes]
    added: list[tuple[str, bytes]]
    like: zipfile.ZipInfo
    comment: bytes
    written: list[str]
    removed: list[str]
    parts: dict[str, str] = field(default_factory=dict)  # "workbook", "rels", "ct", "styles" -> member
    expect: _Expect | None = None
    noop: bool = False


def _validate_tabs(tabs: list[TabSpec]) -> None:
    seen = set()
    for tab in tabs:
        name = tab.name
        if not is_generated(name):
            raise ValueError(f"generated tab names must start with {MARK!r}: {name!r}")
        if len(name) > 31 or re.search(r"[\[\]:*?/\\]", name) or name.endswith("'"):
            raise ValueError(f"not a valid Excel tab name: {name!r}")
        if _ILLEGAL_XML.search(name):
            raise ValueError(f"not a valid Excel tab name: {name!r}")
        key = name.casefold()
        if key in seen:
            raise ValueError(f"two generated tabs are named {name!r}")
        seen.add(key)


def _legacy_ours(zf: zipfile.ZipFile, member: str | None, members: dict[str, zipfile.ZipInfo],
                 marked: bool) -> bool:
    """Before the list of our tabs existed: our part name, our sheet-scoped marker name, or (a
    part renamed by Excel) our grey tab colour."""
    if member is None or member not in members:
        return False
    if marked or SHEET_PART_RE.search(posixpath.basename(member)):
        return True
    try:
        with zf.open(members[member]) as fh:
            head = fh.read(8192).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - unreadable: certainly not ours to drop
        return False
    end = head.find("sheetData")
    head = head[:end] if end >= 0 else head
    m = re.search(r"""<(?:[\w.\-]+:)?tabColor\s[^>]*?rgb\s*=\s*["']([0-9A-Fa-f]{8})["']""", head)
    return bool(m) and m.group(1).upper() == TAB_COLOR


def _list_index(name: str) -> bool:
    low = name.lower()
    return low.startswith(LIST_NAME) and low[len(LIST_NAME):].isdigit()


class _Package:
    """The zip's members and where the workbook part is. The only place that locates
    `xl/workbook.xml` (through the package relationships `_rels/.rels`)."""

    def __init__(self, src: BinaryIO):
        try:
            self.zf = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError) as exc:
            raise SourceError(TRUNCATED, f"the zip structure is broken: {exc}") from None
        self.infos = self.zf.infolist()
        if len(self.infos) > _MAX_MEMBERS:
            raise SourceError(TOO_LARGE, f"{len(self.infos)} parts inside")
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.lower: dict[str, str] = {}
        for info in self.infos:
            if info.filename in self.members:
                raise SourceError(NOT_A_WORKBOOK, "the zip holds two parts with the same name")
            if info.flag_bits & 0x1:
                raise SourceError(ENCRYPTED, "the zip parts are encrypted")
            self.members[info.filename] = info
            # found case-blind and with backslashes read as "/" (some writers name parts xl\workbook.xml);
            # a part keeps its own name when it is copied or edited
            self.lower[info.filename.replace("\\", "/").lower()] = info.filename
        self.workbook = self._workbook_part()

    def find(self, name: str) -> str | None:
        return name if name in self.members else self.lower.get(name.replace("\\", "/").lower())

    def parse(self, member: str) -> Document:
        return _parse(self.zf, self.members[member])

    def _workbook_part(self) -> str:
        root_rels = self.find("_rels/.rels")
        if root_rels:
            for el in self.parse(root_rels).root.children("Relationship", PKG_REL):
                a = el.attrs
                if a.get("Type", "").endswith("/officeDocument") and a.get("TargetMode", "").lower() != "external":
                    found = self.find(_resolve("", a.get("Target", "")))
                    if found:
                        return found
                    break
        found = self.find("xl/workbook.xml")
        if found is None:
            raise SourceError(NOT_A_WORKBOOK, "xl/workbook.xml is missing")
        return found


def _plan(src: BinaryIO, tabs: list[TabSpec], remove_only: bool, *, sidecar: bool = False) -> _Plan:
    pkg = _Package(src)
    zf, members, find = pkg.zf, pkg.members, pkg.find
    wb_name = pkg.workbook                          # the member's own name (it may hold backslashes)
    wb_dir = posixpath.dirname(wb_name.replace("\\", "/"))
    rels_name = find(_rels_of(wb_name))
    ct_name = find("[Content_Types].xml")
    if rels_name is None or ct_name is None:
        raise SourceError(NOT_A_WORKBOOK, f"{'the workbook relationships' if rels_name is None else '[Content_Types].xml'} is missing")
    wb = pkg.parse(wb_name)
    rels_doc = pkg.parse(rels_name)
    ct = pkg.parse(ct_name)
    book = wb.root
    if not book.is_("workbook", MAIN):
        raise _Malformed("workbook.xml has no workbook root")
    if not rels_doc.root.is_("Relationships", PKG_REL):
        raise _Malformed("the workbook relationships have no Relationships root")
    if not ct.root.is_("Types", CT):
        raise _Malformed("[Content_Types].xml has no Types root")
    flavor = "strict" if book.uri == MAIN[1] else "transitional"
    date1904 = False
    wbpr = book.child("workbookPr", MAIN)
    if wbpr is not None:
        date1904 = wbpr.attrs.get("date1904", "").strip().lower() in ("1", "true")

    # -- relationships of the workbook
    rels = rels_doc.root.children("Relationship", PKG_REL)
    rel_by_id = {el.attrs.get("Id", ""): el for el in rels}
    styles_rel = next((el for el in rels if el.attrs.get("Type", "").endswith("/styles")), None)

    def rel_target(el: Element) -> str | None:
        if el.attrs.get("TargetMode", "").lower() == "external":
            return None
        return _resolve(wb_dir, el.attrs.get("Target", ""))

    dangling = {t for t in map(rel_target, rels) if t is not None and find(t) is None}

    # -- defined names: the list of our tabs, our creation mark, the old sheet-scoped marker
    dn_el = book.child("definedNames", MAIN)
    names = dn_el.children("definedName", MAIN) if dn_el is not None else []
    listed: set[str] = set()
    has_list = created = False
    legacy_marked: set[int] = set()
    for el in names:
        name = el.attrs.get("name", "")
        local = el.attrs.get("localSheetId")
        if local is None:
            if _list_index(name):
                has_list = True
                sheet = _sheet_of_ref(el.text)
                if sheet is not None:
                    listed.add(sheet.casefold())
            elif name.lower() == CREATED_NAME:
                created = True
        elif name.lower() == LEGACY_MARKER and local.strip().isdigit():
            legacy_marked.add(int(local))

    # -- sheets
    sheets_el = book.child("sheets", MAIN)
    if sheets_el is None:
        raise _Malformed("workbook.xml has no <sheets>")
    sheets: list[_Sheet] = []
    for el in sheets_el.children("sheet", MAIN):
        a = el.attrs
        rid = el.attr_ns("id", REL)
        sh = _Sheet(el, a.get("name", ""), rid, hidden=a.get("state", "visible") in ("hidden", "veryHidden"))
        rel = rel_by_id.get(rid or "")
        if rel is not None and rel_target(rel) is not None:
            sh.part = find(rel_target(rel))
        if is_generated(sh.name):
            if has_list:
                sh.ours = sh.name.casefold() in listed
            else:
                sh.ours = is_known(sh.name) and _legacy_ours(zf, sh.part, members, len(sheets) in legacy_marked)
        sheets.append(sh)

    if sidecar and not created and not (not has_list and sheets and all(s.ours for s in sheets)):
        raise SourceError(NAME_TAKEN, "it is not a workbook campaignwatch made")

    wanted = [] if remove_only else tabs
    taken = {s.name.casefold(): s.name for s in sheets if not s.ours}
    for tab in wanted:
        if tab.name.casefold() in taken:
            raise SourceError(NAME_TAKEN, f"tab “{taken[tab.name.casefold()]}”")
    ours_old = [i for i, s in enumerate(sheets) if s.ours]
    styles_ours = styles_rel is not None and styles_rel.attrs.get("Id") == STYLES_RID
    list_names = [el for el in names if el.attrs.get("localSheetId") is None and _list_index(el.attrs.get("name", ""))]
    if remove_only and not ours_old and not list_names and not styles_ours:
        return _Plan(pkg.infos, set(), {}, [], members[wb_name], zf.comment, [], [], noop=True)

    users = [i for i, s in enumerate(sheets) if not s.ours]
    if not users and not wanted:
        raise OnlyGenerated(WRITE_FAILED, "removing the generated tabs would leave the workbook without a tab")
    if not wanted and all(sheets[i].hidden for i in users):
        raise SourceError(WRITE_FAILED, "removing the generated tabs would leave no visible tab")
    new_index = {old: j for j, old in enumerate(users)}
    ours_new = {tab.name.casefold(): len(users) + k for k, tab in enumerate(wanted)}

    def map_index(i: int) -> int | None:
        if i in new_index:
            return new_index[i]
        if 0 <= i < len(sheets) and sheets[i].ours:
            return ours_new.get(sheets[i].name.casefold())
        return None

    # -- parts to drop: our sheet parts, their rels, and what only they referenced
    drop: set[str] = set()
    for i in ours_old:
        if sheets[i].part:
            drop.add(sheets[i].part)
    _drop_orphans(pkg, drop)
    drop_rids = {sheets[i].rid for i in ours_old if sheets[i].rid}

    # -- calcChain.xml is a cache Excel rebuilds; if it lists cells of our old tabs (someone
    #    unprotected one and typed formulas) those entries would make Excel "repair" the file
    old_ids = {sheets[i].el.attrs.get("sheetId", "").strip() for i in ours_old}
    for el in rels:
        if el.attrs.get("Type", "").endswith("/calcChain") and old_ids:
            calc = find(rel_target(el) or "")
            if calc is not None:
                ctext = _read(zf, members[calc])
                if any(m.group(1).decode() in old_ids for m in re.finditer(rb"""\si\s*=\s*["'](\d+)["']""", ctext)):
                    drop.add(calc)
                    drop_rids.add(el.attrs.get("Id", ""))

    # -- a styles part we added to a workbook that had none goes when our tabs go
    styles_name = find(rel_target(styles_rel) or "") if styles_rel is not None else None
    if styles_ours and not wanted and styles_name is not None:
        drop.add(styles_name)
        drop_rids.add(STYLES_RID)

    # -- new part names and relationship ids
    used_ids = {el.attrs.get("Id", "") for el in rels}
    used_ids -= drop_rids
    taken_parts = {n.lower() for n in members if n not in drop}
    new_parts: list[tuple[TabSpec, str, str]] = []
    n = 0
    k = 0
    for tab in wanted:
        while True:
            n += 1
            part = posixpath.join(wb_dir, "worksheets", f"cw_sheet{n}.xml")
            if part.lower() not in taken_parts:
                break
        while True:
            k += 1
            rid = f"rIdcw{k}"
            if rid not in used_ids:
                break
        used_ids.add(rid)
        new_parts.append((tab, part, rid))

    # -- styles
    added: list[tuple[str, bytes]] = []
    edited: dict[str, bytes] = {}
    xf: dict = {}
    new_styles_name = None
    if wanted:
        if styles_name is not None:
            styles = _Styles(pkg.parse(styles_name))
            data = styles.apply()
            if data != _read(zf, members[styles_name]):
                edited[styles_name] = data
        else:
            styles = _Styles(_base_styles(flavor))
            if styles_rel is not None and rel_target(styles_rel):      # a relationship to a missing part
                new_styles_name = rel_target(styles_rel)
            else:
                new_styles_name = posixpath.join(wb_dir, "styles.xml")
                if new_styles_name.lower() in taken_parts:
                    new_styles_name = posixpath.join(wb_dir, "cw_styles.xml")
            added.append((new_styles_name, styles.apply()))
        xf = styles.xf

    # -- workbook.xml
    active_new, expect_names = _edit_workbook(wb, sheets, ours_old, new_parts, map_index, flavor, users,
                                              created=created or sidecar)
    edited[wb_name] = wb.serialise()

    # -- workbook rels
    rroot = rels_doc.root
    for el in rels:
        if el.attrs.get("Id") in drop_rids:
            rroot.remove(el)
    rel_type = _NS_REL[flavor] + "/worksheet"
    for _, part, rid in new_parts:
        target = posixpath.relpath(part, wb_dir) if wb_dir else part
        rroot.append(_new("Relationship", {"Id": rid, "Type": rel_type, "Target": target}, rroot))
    if new_styles_name is not None and styles_rel is None:
        target = posixpath.relpath(new_styles_name, wb_dir) if wb_dir else new_styles_name
        rroot.append(_new("Relationship", {"Id": STYLES_RID, "Type": f"{_NS_REL[flavor]}/styles",
                                           "Target": target}, rroot))
        if STYLES_RID in used_ids:
            raise _Malformed(f"the relationship id {STYLES_RID} is in use")
    edited[rels_name] = rels_doc.serialise()

    # -- content types
    croot = ct.root
    drop_lower = {d.lower() for d in drop}
    for el in croot.children("Override", CT):
        if _resolve("", el.attrs.get("PartName", "")).lower() in drop_lower:
            croot.remove(el)
    content_types = {part: CT_WORKSHEET for _, part, _ in new_parts}
    if new_styles_name is not None:
        content_types[new_styles_name] = CT_STYLES
    for part, ctype in content_types.items():
        croot.append(_new("Override", {"PartName": "/" + part, "ContentType": ctype}, croot))
    edited[ct_name] = ct.serialise()

    # -- our sheets (and, for links to other files, their relationships)
    for k, (tab, part, _) in enumerate(new_parts):
        selected = active_new == len(users) + k
        external: list[tuple[str, str]] = []
        added.append((part, _sheet_xml(tab, xf, date1904, selected, flavor, external)))
        if external:
            srels = "".join(f'<Relationship Id="{rid}" Type="{_NS_REL[flavor]}/hyperlink" '
                            f'Target="{_esc_attr(target)}" TargetMode="External"/>' for rid, target in external)
            added.append((_rels_of(part), (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_NS_PKG_REL}">{srels}</Relationships>').encode("utf-8")))

    for name, data in added:
        if name.endswith((".xml", ".rels")):
            _well_formed(data, name)

    plan = _Plan(pkg.infos, drop, edited, added, members[wb_name], zf.comment,
                 [t.name for t in wanted], [sheets[i].name for i in ours_old])
    plan.parts = {"workbook": wb_name, "rels": rels_name, "ct": ct_name}
    if styles_name is not None and styles_name not in drop:
        plan.parts["styles"] = styles_name
    elif new_styles_name is not None:
        plan.parts["styles"] = new_styles_name
    plan.expect = _Expect(
        wb_dir,
        [(sheets[i].name, sheets[i].rid) for i in users] + [(tab.name, rid) for tab, _, rid in new_parts],
        expect_names, dangling, {s.rid for s in sheets if s.rid not in rel_by_id},
        max(xf.values(), default=-1), content_types)
    added_map = dict(added)
    _check_structure(plan, lambda m: edited.get(m) or added_map.get(m) or _read(zf, members[m]),
                     (set(members) - drop) | set(added_map))
    return plan


def _check_xml(data: bytes) -> None:
    """Well-formedness only (expat without building a tree; any DOCTYPE is refused)."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.Parse(data, True)


def _no_dtd(*_args) -> None:
    raise ValueError("a DOCTYPE declaration")


def _well_formed(data: bytes, name: str) -> None:
    """A part we generated: well-formed, or the write is refused (a bug of ours, never the user's)."""
    try:
        _check_xml(data)
    except (expat.ExpatError, ValueError) as exc:
        raise SourceError(WRITE_FAILED, f"{name} would not be well-formed XML: {exc}") from None


def _drop_orphans(pkg: _Package, drop: set[str]) -> None:
    """Add to `drop` the rels of dropped parts and parts only they referenced (transitively)."""
    rels_cache: dict[str, list[str]] = {}
    find = pkg.find

    def targets(rels_member: str) -> list[str]:
        if rels_member not in rels_cache:
            out = []
            try:
                doc = pkg.parse(rels_member)
                # xl/worksheets/_rels/sheet3.xml.rels describes xl/worksheets/sheet3.xml
                folder = posixpath.dirname(posixpath.dirname(rels_member.replace("\\", "/")))
                for el in doc.root.children("Relationship", PKG_REL):
                    a = el.attrs
                    if a.get("TargetMode", "").lower() == "external":
                        continue
                    t = find(_resolve(folder, a.get("Target", "")))
                    if t:
                        out.append(t)
            except Exception:  # noqa: BLE001 - an unreadable rels part: keep what it points to
                out = []
            rels_cache[rels_member] = out
        return rels_cache[rels_member]

    all_rels = [n for n in pkg.members if n.endswith(".rels")]
    while True:
        extra = set()
        for part in list(drop):
            r = find(_rels_of(part))
            if r and r not in drop:
                extra.add(r)
        drop |= extra
        candidates = set()
        for r in [x for x in drop if x.endswith(".rels")]:
            candidates.update(targets(r))
        candidates -= drop
        if not candidates:
            break
        kept_refs = set()
        for r in all_rels:
            if r not in drop:
                kept_refs.update(targets(r))
        orphans = {c for c in candidates if c not in kept_refs
                   and not c.lower().endswith(("workbook.xml", "styles.xml", "sharedstrings.xml"))}
        if not orphans and not extra:
            break
        if not orphans:
            continue
        drop |= orphans


def _name_key(el: Element) -> tuple[str, str | None, str]:
    local = el.attrs.get("localSheetId")
    return (el.attrs.get("name", ""), local.strip() if local is not None else None, el.text)


def _edit_workbook(wb: Document, sheets: list[_Sheet], ours_old: list[int], new_parts: list, map_index,
                   flavor: str, users: list[int], *, created: bool
                   ) -> tuple[int | None, list[tuple[str, str | None, str]]]:
    """Edit the parsed workbook.xml; returns the new active tab and the defined names it must hold."""
    book = wb.root
    sheets_el = book.child("sheets", MAIN)
    for i in ours_old:
        sheets_el.remove(sheets[i].el)
    ids = []
    for s in sheets:
        if not s.ours:
            try:
                ids.append(int(s.el.attrs.get("sheetId", "0")))
            except ValueError:
                pass
    next_id = max(ids, default=0) + 1
    rel_prefixes = [p for p, ns in book.ns.items() if ns in REL and p]
    if rel_prefixes:
        rp, decl = rel_prefixes[0], {}
    else:
        rp = "r" if "r" not in book.ns else "cwr"
        decl = {f"xmlns:{rp}": _NS_REL[flavor]}
    for k, (tab, _, rid) in enumerate(new_parts):
        el = _new("sheet", {"name": tab.name, "sheetId": str(next_id + k), **decl, f"{rp}:id": rid}, sheets_el)
        sheets_el.append(el)

    # -- defined names
    ours_set = set(ours_old)
    dn_el = book.child("definedNames", MAIN)
    like = dn_el if dn_el is not None else sheets_el
    new_names = []
    for k, (tab, _, _) in enumerate(new_parts):
        new_names.append(_new("definedName", {"name": "_xlnm._FilterDatabase", "localSheetId": str(len(users) + k),
                                              "hidden": "1"}, like, _filter_range(tab)))
    for k, (tab, _, _) in enumerate(new_parts):
        new_names.append(_new("definedName", {"name": f"{LIST_NAME}{k + 1}", "hidden": "1"}, like,
                              f"{_quote_sheet(tab.name)}!$A$1"))
    if created and not any(el.attrs.get("localSheetId") is None and el.attrs.get("name", "").lower() == CREATED_NAME
                           for el in (dn_el.children("definedName", MAIN) if dn_el is not None else ())):
        new_names.append(_new("definedName", {"name": CREATED_NAME, "hidden": "1"}, like, '"campaignwatch"'))
    expect: list[tuple[str, str | None, str]] = [_name_key(el) for el in new_names]
    if dn_el is not None:
        for el in dn_el.children("definedName", MAIN):
            local = el.attrs.get("localSheetId")
            if local is None:
                if _list_index(el.attrs.get("name", "")):
                    dn_el.remove(el)                # the list is written afresh on each run
                    continue
            elif local.strip().isdigit():
                old = int(local)
                if old in ours_set:
                    dn_el.remove(el)
                    continue
                new = map_index(old)
                if new is not None and new != old:
                    el.set("localSheetId", str(new))
            expect.append(_name_key(el))
        for el in new_names:
            dn_el.append(el)
        if not dn_el.elements():
            book.remove(dn_el)
    elif new_names:
        after = None
        for local in ("externalReferences", "functionGroups", "sheets"):
            after = book.child(local, MAIN)
            if after is not None:
                break
        dn_el = _new("definedNames", {}, sheets_el)
        book.insert_after(after, dn_el)
        for el in new_names:
            dn_el.append(el)

    # -- workbook views: activeTab / firstSheet
    active_new = None
    visible_users = [j for j, u in enumerate(users) if not sheets[u].hidden]
    fallback = visible_users[0] if visible_users else (len(users) if new_parts else 0)
    views = book.child("bookViews", MAIN)
    for el in views.children("workbookView", MAIN) if views is not None else ():
        a = el.attrs
        try:
            active = int(a.get("activeTab", "0"))
        except ValueError:
            active = 0
        mapped = map_index(active)
        if mapped is None:
            mapped = fallback
        if active_new is None:
            active_new = mapped
        if mapped != active:
            el.set("activeTab", str(mapped))
        try:
            first = int(a.get("firstSheet", "0"))
        except ValueError:
            first = 0
        fmapped = map_index(first)
        fmapped = 0 if fmapped is None else min(fmapped, mapped)
        if fmapped != first:
            el.set("firstSheet", str(fmapped))
    return active_new, sorted(expect, key=_sort_key)


def _sort_key(key: tuple[str, str | None, str]) -> tuple[str, str, str]:
    return (key[0], key[1] or "", key[2])


def _check_structure(plan: _Plan, read, package: set[str]) -> None:
    """The edited parts hold what they must: the sheets we expect, each with its relationship;
    every relationship resolving to a part (unless it did not before either); our style
    indices inside `cellXfs`; a content type for each part we added and none for a part we
    dropped; the defined names we expect. `read(member)` gives a part's bytes as written (or
    about to be); `package` is the set of member names. Raises SourceError(WRITE_FAILED)."""
    exp = plan.expect
    lower = {n.replace("\\", "/").lower() for n in package}

    def doc(key: str) -> Document:
        member = plan.parts[key]
        try:
            return parse(read(member), member)
        except (PartError, defusedxml.DefusedXmlException, KeyError) as exc:
            raise SourceError(WRITE_FAILED, f"{member} does not read back: {exc}") from None

    rel_ids: set[str] = set()
    for el in doc("rels").root.children("Relationship", PKG_REL):
        rel_ids.add(el.attrs.get("Id", ""))
        if el.attrs.get("TargetMode", "").lower() == "external":
            continue
        target = _resolve(exp.wb_dir, el.attrs.get("Target", ""))
        if target.lower() not in lower and target not in exp.dangling:
            raise SourceError(WRITE_FAILED, f"a relationship points to {target}, which is not in the package")
    book = doc("workbook").root
    sheets_el = book.child("sheets", MAIN)
    got = [(el.attrs.get("name", ""), el.attr_ns("id", REL))
           for el in (sheets_el.children("sheet", MAIN) if sheets_el is not None else ())]
    if got != exp.sheets:
        raise SourceError(WRITE_FAILED, "workbook.xml does not list the expected tabs")
    for name, rid in got:
        if rid not in rel_ids and rid not in exp.missing_rids:
            raise SourceError(WRITE_FAILED, f"tab {name} has no relationship")
    dn = book.child("definedNames", MAIN)
    names = sorted((_name_key(el) for el in (dn.children("definedName", MAIN) if dn is not None else ())),
                   key=_sort_key)
    if names != exp.names:
        raise SourceError(WRITE_FAILED, "workbook.xml does not hold the expected defined names")
    if exp.xf_max >= 0:
        styles = plan.parts.get("styles")
        try:
            count = _cellxfs_count(parse(read(styles), styles)) if styles else 0
        except (PartError, defusedxml.DefusedXmlException, KeyError) as exc:
            raise SourceError(WRITE_FAILED, f"{styles} does not read back: {exc}") from None
        if count <= exp.xf_max:
            raise SourceError(WRITE_FAILED, f"the styles part has {count} cell styles; our tabs use style {exp.xf_max}")
    overrides = {_resolve("", el.attrs.get("PartName", "")).lower(): el.attrs.get("ContentType")
                 for el in doc("ct").root.children("Override", CT)}
    for part, ctype in exp.content_types.items():
        if overrides.get(part.lower()) != ctype:
            raise SourceError(WRITE_FAILED, f"[Content_Types].xml gives {part} no content type")
    dropped = {p.lower() for p in plan.drop}
    if any(part in dropped and part not in lower for part in overrides):
        raise SourceError(WRITE_FAILED, "[Content_Types].xml still lists a part that was removed")
# =========================================================================== emit and verify

def _emit(src: BinaryIO, plan: _Plan, out: BinaryIO) -> dict[str, zipfile.ZipInfo]:
    copied: dict[str, zipfile.ZipInfo] = {}
    with zipfile.ZipFile(out, "w", allowZip64=True) as zout:
        for info in plan.infos:
            name = info.filename
            if name in plan.drop:
                continue
            if name in plan.edited:
                _write_part(zout, name, plan.edited[name], info)
            else:
                _copy_raw(src, info, zout)
                copied[name] = info
        for name, data in plan.added:
            _write_part(zout, name, data, plan.like)
        zout.comment = plan.comment
    return copied


def _verify(path: Path, plan: _Plan) -> None:
    """The written package: same members, copied ones identical (central directory and local
    headers), our parts read back byte for byte. Raises SourceError(WRITE_FAILED)."""
    try:
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            got = {i.filename: i for i in infos}
            if len(got) != len(infos):
                raise SourceError(WRITE_FAILED, "duplicate parts in the written file")
            expected = [i.filename for i in plan.infos if i.filename not in plan.drop] + [n for n, _ in plan.added]
            if sorted(expected) != sorted(got):
                raise SourceError(WRITE_FAILED, "the written file does not hold the expected parts")
            for orig in plan.infos:
                name = orig.filename
                if name in plan.drop or name in plan.edited:
                    continue
                new = got[name]
                if (new.CRC, new.compress_size, new.file_size, new.compress_type) != \
                        (orig.CRC, orig.compress_size, orig.file_size, orig.compress_type):
                    raise SourceError(WRITE_FAILED, f"{name} differs from the original")
                fh.seek(new.header_offset)
                head = fh.read(30)
                if len(head) < 30 or head[:4] != b"PK\x03\x04":
                    raise SourceError(WRITE_FAILED, f"{name}: bad local header")
                flags, _, _, _, crc, csize, usize, nlen = struct.unpack_from("<HHHHIIIH", head, 6)
                if fh.read(nlen) != new._encodeFilenameFlags()[0]:
                    raise SourceError(WRITE_FAILED, f"{name}: local header names another part")
                if crc != orig.CRC or (csize != 0xFFFFFFFF and (csize, usize) != (orig.compress_size, orig.file_size)):
                    raise SourceError(WRITE_FAILED, f"{name}: local header differs")
            for name, data in list(plan.edited.items()) + plan.added:
                if zf.read(name) != data:
                    raise SourceError(WRITE_FAILED, f"{name} did not read back as written")
            if plan.expect is not None:
                _check_structure(plan, zf.read, set(got))
    except SourceError:
        raise
    except (OSError, zipfile.BadZipFile, EOFError, struct.error, KeyError, ValueError, zlib.error) as exc:
        raise SourceError(WRITE_FAILED, f"the written file cannot be read back: {exc}") from None


# =========================================================================== public API

def _error_path(exc: SourceError, path: Path) -> SourceError:
    if exc.path is None:
        exc.path = path
    return exc


def _stat(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(MISSING, str(path), path=path) from None
    except PermissionError:
        raise SourceError(PERMISSION, str(path), path=path) from None
    if not stat_mod.S_ISREG(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is not a regular file", path=path)
    return st


def _check_lock(path: Path, stale_hours: float) -> None:
    lock = safety.lock_of(path, stale_hours)
    if lock is not None:
        raise SourceError(LOCKED, lock.describe(), path=path)


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def _check_same(path: Path, expect: tuple[int, int, int]) -> None:
    """CHANGED unless the file is still the one we read (size, mtime and inode: a save replaces it)."""
    try:
        now = _identity(os.stat(path))
    except FileNotFoundError:
        raise SourceError(CHANGED, "it was moved or deleted", path=path) from None
    if now != tuple(expect):
        raise SourceError(CHANGED, "", path=path)


def write_tabs(path: str | os.PathLike, tabs: list[TabSpec], *, expect_stat: tuple[int, int] | None = None,
               backups: int = 5, backup_dir: str | os.PathLike | None = None, remove_only: bool = False,
               stale_hours: float = safety.DEFAULT_STALE_HOURS, sidecar: bool = False) -> WriteResult:
    """Put `tabs` into the workbook at `path` (replacing our earlier tabs), leaving everything else as it was.

    `remove_only` (clean): remove our tabs and whatever we added to the package (the list of
    our tabs, a styles part the workbook did not have). `sidecar`: the workbook must be one
    campaignwatch created (`write_new`), else NAME_TAKEN.

    Raises SourceError: LOCKED, CHANGED, NAME_TAKEN, WRITE_FAILED, and the reading codes
    (MISSING, PERMISSION, TRUNCATED, NOT_A_WORKBOOK, ENCRYPTED, HOSTILE_XML, UNSUPPORTED …).
    """
    t0 = time.perf_counter()
    path = Path(path)
    if path.is_symlink():                         # replace the file, not the link
        _check_lock(path, stale_hours)
        path = Path(os.path.realpath(path))
    if path.suffix.lower() not in IN_PLACE:
        raise SourceError(UNSUPPORTED, f"{path.suffix or 'this'} files are not written in place; "
                                       f"campaignwatch writes {sidecar_path(path).name} beside it", path=path)
    if not remove_only:
        _validate_tabs(tabs)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(path)
    st = _stat(path)
    safety.check_writable(path)
    _check_lock(path, stale_hours)
    base = _identity(st)
    if expect_stat is not None and tuple(expect_stat) != base[:2]:
        raise SourceError(CHANGED, "", path=path)
    safety.remove_stale_temps(path)
    tmp = safety.temp_path(path)
    backup = None
    try:
        try:
            src = open(path, "rb")
        except PermissionError:
            raise SourceError(PERMISSION, str(path), path=path) from None
        with src:
            if _identity(os.fstat(src.fileno())) != base:
                raise SourceError(CHANGED, "", path=path)
            try:
                plan = _plan(src, tabs, remove_only, sidecar=sidecar)
            except _Malformed as exc:
                raise SourceError(NOT_A_WORKBOOK, f"campaignwatch cannot edit its structure: {exc}") from None
            except (zipfile.BadZipFile, EOFError, struct.error, zlib.error) as exc:
                raise SourceError(TRUNCATED, str(exc)) from None
            except (SourceError, TabTooLarge, MemoryError):
                raise
            except UnicodeError as exc:
                raise SourceError(NOT_A_WORKBOOK, f"a part is not readable text: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - a malformed workbook must never produce a traceback
                raise SourceError(NOT_A_WORKBOOK, f"unexpected {type(exc).__name__}: {exc}") from None
            if plan.noop:
                return WriteResult(path, None, [], time.perf_counter() - t0)
            try:
                with safety.open_temp(path) as out:
                    _emit(src, plan, out)
                    out.flush()
                    os.fsync(out.fileno())
            except PermissionError:
                raise SourceError(PERMISSION, f"cannot create a file in {path.parent}") from None
            except OSError as exc:
                raise SourceError(WRITE_FAILED, exc.strerror or str(exc)) from None
            except (zipfile.BadZipFile, EOFError, struct.error) as exc:
                raise SourceError(TRUNCATED, str(exc)) from None
        _verify(tmp, plan)
        safety.copy_mode(st, tmp)
        _check_lock(path, stale_hours)
        _check_same(path, base)
        try:
            backup = safety.make_backup(path, bdir)
        except OSError as exc:
            raise SourceError(WRITE_FAILED, f"cannot keep a backup in {bdir}: {exc.strerror or exc}") from None
        try:
            _check_same(path, base)
        except SourceError:
            _unlink(backup)
            backup = None
            raise
        safety.replace(tmp, path)
    except SourceError as exc:
        _unlink(tmp)
        raise _error_path(exc, path)
    except BaseException:
        _unlink(tmp)
        raise
    try:
        _verify(path, plan)
    except SourceError as exc:
        _put_back(backup, path)
        raise _error_path(exc, path)
    if backups <= 0:
        _unlink(backup)
        backup = None
    else:
        safety.prune_backups(path, backups, bdir)
    return WriteResult(path, backup, plan.written if not remove_only else plan.removed, time.perf_counter() - t0)


def _unlink(p: Path | None) -> None:
    if p is None:
        return
    try:
        os.unlink(p)
    except OSError:
        pass


def _put_back(backup: Path | None, path: Path) -> None:
    if backup is None:
        return
    tmp = safety.copy_to_temp(backup, path)
    safety.copy_mode(os.stat(backup), tmp)
    safety.replace(tmp, path)


def list_backups(path: str | os.PathLike, backup_dir: str | os.PathLike | None = None) -> list[Path]:
    """Backups of `path` kept by `write_tabs`/`restore`, newest first."""
    return safety.list_backups(Path(path), backup_dir)


def restore(path: str | os.PathLike, backup: str | os.PathLike | None = None,
            backup_dir: str | os.PathLike | None = None, *, backups: int = 5,
            stale_hours: float = safety.DEFAULT_STALE_HOURS) -> Path:
    """Put back the newest (or the chosen) backup of `path`, atomically; returns the backup used.

    The current file is backed up first, so a restore can itself be undone.
    """
    path = Path(path)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(path)
    if backup is None:
        found = safety.list_backups(path, bdir)
        if not found:
            raise SourceError(MISSING, f"no backup in {bdir}", path=path)
        chosen = found[0]
    else:
        chosen = Path(backup)
        if not chosen.is_file():
            raise SourceError(MISSING, str(chosen), path=chosen)
    safety.check_backup(chosen, path)
    if path.exists():
        _check_lock(path, stale_hours)
    safety.remove_stale_temps(path)
    tmp = safety.copy_to_temp(chosen, path)
    try:
        if path.exists():
            st = path.stat()
            safety.copy_mode(st, tmp)
            safety.make_backup(path, bdir)
        safety.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    safety.prune_backups(path, max(backups, 1), bdir)
    return chosen


# =========================================================================== sidecar (.xls/.xlsb/.ods)
SIDECAR_SOURCES = (".xls", ".xlsb", ".ods")      # read, never written: our tabs go to NAME.campaignwatch.xlsx

def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the generated tabs go for a workbook we do not write in place: NAME.campaignwatch.xlsx."""
    path = Path(path)
    return path.with_name(f"{path.stem}.campaignwatch.xlsx")


def _base_styles(flavor: str) -> str:
    """styles.xml for a workbook that has none (and for the sidecar): Excel's minimal defaults."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{_NS_MAIN[flavor]}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
            '<family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
            '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle '
            'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _empty_package() -> bytes:
    """A workbook package with no sheet at all (our tabs make it valid)."""
    ns, rel = _NS_MAIN["transitional"], _NS_REL["transitional"]
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{_NS_CT}"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT_WORKBOOK}"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_NS_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{ns}" xmlns:r="{rel}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets></sheets>'
            f'<definedNames><definedName name="{CREATED_NAME}" hidden="1">"campaignwatch"</definedName></definedNames>'
            '<calcPr calcId="191029"/></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_NS_PKG_REL}"><Relationship Id="rId1" Type="{rel}/styles" '
            'Target="styles.xml"/></Relationships>'),
    }
    parts["xl/styles.xml"] = _base_styles("transitional")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_sidecar(path: str | os.PathLike, tabs: list[TabSpec], *, backups: int = 5,
                  backup_dir: str | os.PathLike | None = None, stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult:
    """Write `tabs` into `sidecar_path(path)`: a new workbook the first time; afterwards the
    sidecar is a workbook like any other (the team's tabs kept, a backup kept). A file of that
    name that campaignwatch did not make (no `_cw_created` mark, or not a workbook at all) is
    left alone: NAME_TAKEN."""
    target = sidecar_path(path)
    if not os.path.lexists(target):
        try:
            return write_new(target, tabs, stale_hours=stale_hours)
        except SourceError as exc:
            if exc.code != NAME_TAKEN:          # NAME_TAKEN: the file appeared meanwhile; look at it
                raise
    try:
        return write_tabs(target, tabs, backups=backups, backup_dir=backup_dir, stale_hours=stale_hours,
                          sidecar=True)
    except SourceError as exc:
        if exc.code in (NOT_A_WORKBOOK, TRUNCATED, ENCRYPTED, HOSTILE_XML, TOO_LARGE):
            raise SourceError(NAME_TAKEN, "it is not a workbook campaignwatch made", path=target) from None
        raise


def clean_sidecar(path: str | os.PathLike, *, backups: int = 5, backup_dir: str | os.PathLike | None = None,
                  stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult | None:
    """`clean` for a .xls/.xlsb/.ods source: its sidecar loses our tabs — and when it holds
    nothing else (the usual case), the sidecar itself goes, after a backup like any write. None
    when there is no sidecar. A file of that name that is not ours: NAME_TAKEN, untouched."""
    target = sidecar_path(path)
    if not os.path.lexists(target):
        return None
    t0 = time.perf_counter()
    try:
        return write_tabs(target, [], remove_only=True, backups=backups, backup_dir=backup_dir,
                          stale_hours=stale_hours, sidecar=True)
    except OnlyGenerated:
        pass
    except SourceError as exc:
        if exc.code in (NOT_A_WORKBOOK, TRUNCATED, ENCRYPTED, HOSTILE_XML, TOO_LARGE):
            raise SourceError(NAME_TAKEN, "it is not a workbook campaignwatch made", path=target) from None
        raise
    _check_lock(target, stale_hours)
    safety.check_writable(target)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(target)
    try:
        backup = safety.make_backup(target, bdir) if backups > 0 else None
        target.unlink()
        safety.fsync_dir(target.parent)
    except OSError as exc:
        raise SourceError(WRITE_FAILED, f"cannot remove it: {exc.strerror or exc}", path=target) from None
    if backups > 0:
        safety.prune_backups(target, backups, bdir)
    return WriteResult(target, backup, [], time.perf_counter() - t0)


_NO_LINK = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}


def _place_new(tmp: Path, target: Path) -> None:
    """Move the finished temp file to `target`, which must not exist (a hard link cannot
    replace a file; where links are not supported, a check just before the replace)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target) from None
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        if os.path.lexists(target):
            raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target) from None
        safety.replace(tmp, target)
        return
    _unlink(tmp)
    safety.fsync_dir(target.parent)


def write_new(target: str | os.PathLike, tabs: list[TabSpec], *, stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult:
    """Create a workbook holding only `tabs` at `target`, atomically; it carries the
    `_cw_created` mark. An existing file is never replaced (NAME_TAKEN): write into it with
    `write_tabs` (or `write_sidecar`)."""
    t0 = time.perf_counter()
    target = Path(target)
    if not tabs:
        raise ValueError("a sidecar workbook needs at least one tab")
    _validate_tabs(tabs)
    if os.path.lexists(target):
        raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target)
    plan = _plan(io.BytesIO(_empty_package()), tabs, False)
    safety.remove_stale_temps(target)
    tmp = safety.temp_path(target)
    try:
        src = io.BytesIO(_empty_package())
        with safety.open_temp(target) as out:
            _emit(src, plan, out)
            out.flush()
            os.fsync(out.fileno())
        _verify(tmp, plan)
        os.chmod(tmp, safety.default_mode())
        _place_new(tmp, target)
    except PermissionError:
        _unlink(tmp)
        raise SourceError(PERMISSION, f"cannot write in {target.parent}", path=target) from None
    except SourceError as exc:
        _unlink(tmp)
        raise _error_path(exc, target)
    except OSError as exc:
        _unlink(tmp)
        raise SourceError(WRITE_FAILED, exc.strerror or str(exc), path=target) from None
    except BaseException:
        _unlink(tmp)
        raise
    return WriteResult(target, None, plan.written, time.perf_counter() - t0)
