"""Write generated tabs (`TabSpec`) into people's .xlsx/.xlsm workbooks without touching theirs.

The workbook is never loaded and saved by a spreadsheet library (openpyxl drops images, form
controls, sparklines, text boxes, slicers …). Instead the zip package is rebuilt member by
member:

* every member that is not ours and that we do not edit is copied **raw**: its compressed
  bytes are streamed unchanged behind a fresh local header, so CRC-32 and sizes are identical
  (`_copy_raw`); user sheets are never even decompressed;
* four small parts are edited as **text** (regular expressions on the decoded XML, never
  parse-and-reserialise, so prefixes, namespaces and `mc:Ignorable` survive):
  `xl/workbook.xml` (the `<sheet>` entries, `<definedNames>`, `<workbookView>` indices),
  `xl/_rels/workbook.xml.rels`, `[Content_Types].xml` and `xl/styles.xml` (append-only: user
  cells keep their style indices; our entries are reused by exact text, so the part does not
  grow run after run);
* our tabs are serialised here as sheet parts `xl/worksheets/cw_sheetN.xml` with inline
  strings (sharedStrings.xml is never touched, and text such as "=SUM(A1)" stays text).

Our tabs are recognised by a name starting with `names.MARK` *and* one of: a part named
`cw_sheet*.xml`, or — because Excel and LibreOffice renumber parts when they save — the
hidden sheet-scoped defined name `_cw_generated` we give every generated tab (both keep it),
or the grey tab colour FF7F7F7F (Excel keeps it; LibreOffice 7.4 drops it). A MARK-named tab
with none of these is a person's tab: if we would write a tab of that name, the write is
refused (NAME_TAKEN); otherwise it is left alone. A copy of a generated tab made in Excel
carries the marker along and is treated as generated.

Safety (see `safety.py`): refused while Excel/LibreOffice holds a lock file (LOCKED); refused
when the file changed since it was read (CHANGED, checked at the start and just before the
replace); written to `.NAME.cw-tmp-<pid>` in the same folder, fsynced, permissions copied,
verified (central directory of the copy against the original, edited parts read back), the
previous version kept as a backup, then `os.replace` + fsync of the folder. A verification
failure after the replace puts the backup back and raises WRITE_FAILED.

Cell positions in `TabSpec.fills` / `TabSpec.links` are (index into `rows`, column index),
both zero-based. Links are internal (`'Tab'!E7`) and need no relationship part.
"""
from __future__ import annotations

import codecs
import copy
import datetime as dt
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

from ..names import MARK, is_generated
from ..read.package import (
    CHANGED, ENCRYPTED, HOSTILE_XML, LOCKED, MISSING, NAME_TAKEN, NOT_A_WORKBOOK, PERMISSION,
    TOO_LARGE, TRUNCATED, UNSUPPORTED, WRITE_FAILED, SourceError,
)
from ..tabspec import FILLS, FORMATS, TabSpec
from . import safety

__all__ = ["WriteResult", "write_tabs", "restore", "list_backups", "sidecar_path", "write_sidecar",
           "IN_PLACE", "TAB_COLOR"]

IN_PLACE = (".xlsx", ".xlsm")
TAB_COLOR = "FF7F7F7F"
MARKER_NAME = "_cw_generated"       # hidden sheet-scoped defined name on each generated tab
SHEET_PART_RE = re.compile(r"cw_sheet\d+\.xml\Z", re.IGNORECASE)

_NS_MAIN = {"transitional": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "strict": "http://purl.oclc.org/ooxml/spreadsheetml/main"}
_NS_REL = {"transitional": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "strict": "http://purl.oclc.org/ooxml/officeDocument/relationships"}
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
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


class TabTooLarge(ValueError):
    """A TabSpec that does not fit in a worksheet (a programming error upstream)."""


# =========================================================================== XML text helpers

_NAME = r"[A-Za-z_][\w.\-]*"
_ATTR = r"""[^\s=/<>"']+\s*=\s*(?:"[^"]*"|'[^']*')"""
_ATTRS = rf"(?:\s+{_ATTR})*"
_ATTR_RE = re.compile(r"""([^\s=/<>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_TAG_CACHE: dict[str, re.Pattern] = {}


def _unescape(text: str) -> str:
    def sub(m: re.Match) -> str:
        ent = m.group(1)
        if ent[0] == "#":
            try:
                return chr(int(ent[2:], 16) if ent[1] in "xX" else int(ent[1:]))
            except (ValueError, OverflowError):
                return m.group(0)
        return _ENTITIES[ent]
    return _ENTITY_RE.sub(sub, text) if "&" in text else text


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _esc(text: str) -> str:
    """Text content: strip characters XML 1.0 forbids, escape markup characters."""
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _esc_attr(text: str) -> str:
    return (_esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;"))


def _esc_cell_text(text: str) -> str:
    # Excel decodes _xHHHH_ in strings; escape a literal one as _x005F_xHHHH_
    if "_x" in text:
        text = _XESCAPE.sub(r"_x005F_\1", text)
    return _esc(text)


def _attrs(raw: str) -> dict[str, str]:
    return {m.group(1): _unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTR_RE.finditer(raw)}


def _tag_re(local: str) -> re.Pattern:
    pat = _TAG_CACHE.get(local)
    if pat is None:
        pat = re.compile(rf"<((?:{_NAME}:)?){local}(?=[\s/>])({_ATTRS})\s*(/?)>")
        _TAG_CACHE[local] = pat
    return pat


@dataclass
class _El:
    start: int          # of the start tag
    end: int            # after the end tag (or after the self-closed tag)
    prefix: str         # "x:" or ""
    attr_raw: str
    inner_start: int    # == end for a self-closed element
    inner_end: int
    self_closed: bool

    @property
    def attrs(self) -> dict[str, str]:
        return _attrs(self.attr_raw)

    def start_tag(self, text: str) -> str:
        return text[self.start:self.inner_start] if not self.self_closed else text[self.start:self.end]


def _elements(text: str, local: str, lo: int = 0, hi: int | None = None) -> list[_El]:
    """All `local` elements in text[lo:hi] (any prefix); elements of that name must not nest."""
    hi = len(text) if hi is None else hi
    pat = _tag_re(local)
    out: list[_El] = []
    pos = lo
    while True:
        m = pat.search(text, pos, hi)
        if m is None:
            return out
        prefix, attr_raw, closed = m.group(1), m.group(2), m.group(3)
        if closed:
            out.append(_El(m.start(), m.end(), prefix, attr_raw, m.end(), m.end(), True))
            pos = m.end()
            continue
        close = re.compile(rf"</{re.escape(prefix)}{local}\s*>").search(text, m.end(), hi)
        if close is None:
            raise _Malformed(f"<{prefix}{local}> is not closed")
        out.append(_El(m.start(), close.end(), prefix, attr_raw, m.end(), close.start(), False))
        pos = close.end()


def _first(text: str, local: str, lo: int = 0, hi: int | None = None) -> _El | None:
    """The first `local` element in text[lo:hi], or None."""
    hi = len(text) if hi is None else hi
    m = _tag_re(local).search(text, lo, hi)
    if m is None:
        return None
    prefix, attr_raw, closed = m.group(1), m.group(2), m.group(3)
    if closed:
        return _El(m.start(), m.end(), prefix, attr_raw, m.end(), m.end(), True)
    close = re.compile(rf"</{re.escape(prefix)}{local}\s*>").search(text, m.end(), hi)
    if close is None:
        raise _Malformed(f"<{prefix}{local}> is not closed")
    return _El(m.start(), close.end(), prefix, attr_raw, m.end(), close.start(), False)


def _set_attr(tag: str, name: str, value: str) -> str:
    """Set attribute `name` in a start tag (text of the tag only)."""
    pat = re.compile(rf"""(\s{re.escape(name)}\s*=\s*)(?:"[^"]*"|'[^']*')""")
    if pat.search(tag):
        return pat.sub(lambda m: f'{m.group(1)}"{_esc_attr(value)}"', tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:end].rstrip()} {name}="{_esc_attr(value)}"{tag[end:]}'


_ROOT_RE = re.compile(rf"<(?![?!])((?:{_NAME}:)?)({_NAME})({_ATTRS})\s*/?>")


@dataclass
class _Root:
    prefix: str
    local: str
    ns: dict[str, str]      # prefix ("" = default) -> namespace
    start: int
    end: int


def _root(text: str) -> _Root:
    pos = 0
    n = len(text)
    while pos < n:
        lt = text.find("<", pos)
        if lt < 0:
            break
        if text.startswith("<?", lt):
            pos = text.find("?>", lt) + 2
            if pos < 2:
                break
            continue
        if text.startswith("<!--", lt):
            pos = text.find("-->", lt) + 3
            if pos < 3:
                break
            continue
        if text.startswith("<!", lt):
            raise SourceError(HOSTILE_XML, "a DOCTYPE declaration")
        m = _ROOT_RE.match(text, lt)
        if m is None:
            break
        ns = {}
        for key, value in _attrs(m.group(3)).items():
            if key == "xmlns":
                ns[""] = value
            elif key.startswith("xmlns:"):
                ns[key[6:]] = value
        return _Root(m.group(1), m.group(2), ns, m.start(), m.end())
    raise _Malformed("no root element")


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    m = re.match(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)""", data)
    enc = m.group(1).decode("ascii").lower() if m else "utf-8"
    try:
        enc = codecs.lookup(enc).name
    except LookupError:
        enc = "utf-8"
    return data.decode(enc), enc


def _encode(text: str, enc: str) -> bytes:
    if enc == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if enc == "utf-16":
        return text.encode("utf-16")
    return text.encode(enc, errors="xmlcharrefreplace")


class _Edits:
    """Non-overlapping replacements on one text, applied at once."""

    def __init__(self, text: str):
        self.text = text
        self.ops: list[tuple[int, int, int, str]] = []

    def replace(self, start: int, end: int, new: str) -> None:
        self.ops.append((start, end, len(self.ops), new))

    def insert(self, pos: int, new: str) -> None:
        self.ops.append((pos, pos, len(self.ops), new))

    def apply(self) -> str:
        out, pos = [], 0
        for start, end, _, new in sorted(self.ops):
            if start < pos:
                raise _Malformed("overlapping edits")
            out.append(self.text[pos:start])
            out.append(new)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)


def _check_no_dtd(text: str, member: str) -> None:
    head = text[:65536]
    if "<!DOCTYPE" in head or "<!ENTITY" in head:
        raise SourceError(HOSTILE_XML, f"in {member}")


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
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


# =========================================================================== styles

class _Styles:
    """Append-only surgery on styles.xml; `xf[(format, fill, role)]` is a cellXfs index."""

    ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
             "tableStyles", "colors", "extLst")

    def __init__(self, text: str):
        root = _root(text)
        if root.local != "styleSheet":
            raise _Malformed("styles part has no styleSheet root")
        self.p = root.prefix
        self.text = text
        self.xf: dict[tuple[str, str | None, str], int] = {}

    # -- sections
    def _section(self, name: str) -> _El | None:
        return _first(self.text, name)

    def _ensure(self, name: str, defaults: list[str]) -> None:
        if self._section(name) is not None:
            return
        p = self.p
        new = f'<{p}{name} count="{len(defaults)}">{"".join(defaults)}</{p}{name}>'
        later = self.ORDER[self.ORDER.index(name) + 1:]
        pos = None
        for other in later:
            el = self._section(other)
            if el is not None:
                pos = el.start
                break
        if pos is None:
            close = re.search(rf"</{re.escape(p)}styleSheet\s*>", self.text)
            if close is None:
                raise _Malformed("styleSheet is not closed")
            pos = close.start()
        self.text = self.text[:pos] + new + self.text[pos:]

    def _children(self, name: str, child: str) -> tuple[_El, list[_El]]:
        sec = self._section(name)
        if sec is None:
            raise _Malformed(f"no {name}")
        kids = [] if sec.self_closed else _elements(self.text, child, sec.inner_start, sec.inner_end)
        return sec, kids

    def _append(self, name: str, child: str, items: list[str]) -> list[int]:
        """Indices of `items` in section `name`, appending those not present (by exact text)."""
        sec, kids = self._children(name, child)
        index: dict[str, int] = {}
        for i, k in enumerate(kids):
            index.setdefault(self.text[k.start:k.end], i)
        out, added = [], []
        for item in items:
            if item not in index:
                index[item] = len(kids) + len(added)
                added.append(item)
            out.append(index[item])
        if added or sec.self_closed:
            self._rewrite(sec, name, len(kids) + len(added), "".join(added))
        return out

    def _rewrite(self, sec: _El, name: str, count: int, added: str) -> None:
        p = sec.prefix
        tag = sec.start_tag(self.text)
        if sec.self_closed:
            tag = tag[:-2].rstrip() + ">"
            tag_new = _set_attr(tag, "count", str(count))
            body = tag_new + added + f"</{p}{name}>"
            self.text = self.text[:sec.start] + body + self.text[sec.end:]
            return
        tag_new = _set_attr(tag, "count", str(count)) if count else tag
        self.text = (self.text[:sec.start] + tag_new + self.text[sec.inner_start:sec.inner_end] + added
                     + self.text[sec.inner_end:])

    # -- the work
    def build(self) -> str:
        p = self.p
        defaults = {
            "fonts": ("font", [f'<{p}font><{p}sz val="11"/><{p}name val="Calibri"/><{p}family val="2"/></{p}font>']),
            # fills 0 and 1 are reserved (none, gray125): a list shorter than that gets them first
            "fills": ("fill", [f'<{p}fill><{p}patternFill patternType="none"/></{p}fill>',
                               f'<{p}fill><{p}patternFill patternType="gray125"/></{p}fill>']),
            "borders": ("border", [f"<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>"]),
            "cellStyleXfs": ("xf", [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>']),
            "cellXfs": ("xf", [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']),
        }
        for name, (child, items) in defaults.items():
            self._ensure(name, items)
            sec, kids = self._children(name, child)
            if len(kids) < len(items):
                self._rewrite(sec, name, len(items), "".join(items[len(kids):]))
        numfmt = self._numfmts()
        fonts = self._fonts()
        fill_items = [self._fill(FILL_RGB[f]) for f in FILLS] + [self._fill(HEADER_RGB)]
        fill_ids = self._append("fills", "fill", fill_items)
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
        ids = self._append("cellXfs", "xf", items)
        self.xf = dict(zip(keys, ids))
        return self.text

    def _numfmts(self) -> dict[str, int]:
        p = self.p
        sec = self._section("numFmts")
        existing: dict[str, int] = {}
        max_id = 163
        if sec is not None and not sec.self_closed:
            for el in _elements(self.text, "numFmt", sec.inner_start, sec.inner_end):
                a = el.attrs
                try:
                    fid = int(a.get("numFmtId", ""))
                except ValueError:
                    continue
                max_id = max(max_id, fid)
                existing.setdefault(a.get("formatCode", ""), fid)
        out, new = {}, []
        for fmt, code in NUMFMT_CODES.items():
            if code in existing:
                out[fmt] = existing[code]
            else:
                max_id += 1
                existing[code] = out[fmt] = max_id
                new.append(f'<{p}numFmt numFmtId="{max_id}" formatCode="{_esc_attr(code)}"/>')
        if new:
            if sec is None:
                self._ensure("numFmts", [])
            sec, kids = self._children("numFmts", "numFmt")
            self._rewrite(sec, "numFmts", len(kids) + len(new), "".join(new))
        return out

    def _fonts(self) -> dict[str, int]:
        p = self.p
        _, kids = self._children("fonts", "font")
        sz, color, rest = "11", "", f'<{p}name val="Calibri"/><{p}family val="2"/>'
        if kids and not kids[0].self_closed:
            inner = self.text[kids[0].inner_start:kids[0].inner_end]
            szel = _first(inner, "sz")
            if szel is not None and re.fullmatch(r"\d+(\.\d+)?", szel.attrs.get("val", "")):
                sz = szel.attrs["val"]
            colel = _first(inner, "color")
            if colel is not None:
                color = inner[colel.start:colel.end]
            drop = []
            for local in ("b", "i", "u", "strike", "color", "sz", "vertAlign", "outline", "shadow"):
                drop += [(e.start, e.end) for e in _elements(inner, local)]
            pieces, pos = [], 0
            for s, e in sorted(drop):
                pieces.append(inner[pos:s])
                pos = e
            pieces.append(inner[pos:])
            rest = "".join(pieces).strip()
        items = {
            "title": f'<{p}font><{p}b/><{p}sz val="13"/>{color}{rest}</{p}font>',
            "header": f'<{p}font><{p}b/><{p}sz val="{sz}"/><{p}color rgb="FFFFFFFF"/>{rest}</{p}font>',
            "link": f'<{p}font><{p}u/><{p}sz val="{sz}"/><{p}color rgb="{LINK_RGB}"/>{rest}</{p}font>',
        }
        ids = self._append("fonts", "font", list(items.values()))
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
    el: _El
    raw: str
    name: str
    rid: str | None
    part: str | None = None
    ours: bool = False
    hidden: bool = False


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
    must_contain: dict[str, list[str]] = field(default_factory=dict)   # edited part -> texts
    noop: bool = False


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_PART:
        raise SourceError(TOO_LARGE, f"{info.filename} is {info.file_size >> 20} MB")
    return zf.read(info)


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


def _looks_ours(zf: zipfile.ZipFile, member: str | None, members: dict[str, zipfile.ZipInfo],
                marked: bool) -> bool:
    """Our part name, our marker name, or (a part renamed by Excel) our grey tab colour."""
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
    m = re.search(rf"<(?:{_NAME}:)?tabColor(?=[\s/>])({_ATTRS})", head)
    return bool(m) and _attrs(m.group(1)).get("rgb", "").upper() == TAB_COLOR


def _plan(src: BinaryIO, tabs: list[TabSpec], remove_only: bool) -> _Plan:
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError) as exc:
        raise SourceError(TRUNCATED, f"the zip structure is broken: {exc}") from None
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise SourceError(TOO_LARGE, f"{len(infos)} parts inside")
    members: dict[str, zipfile.ZipInfo] = {}
    lower: dict[str, str] = {}
    for info in infos:
        if info.filename in members:
            raise SourceError(NOT_A_WORKBOOK, "the zip holds two parts with the same name")
        if info.flag_bits & 0x1:
            raise SourceError(ENCRYPTED, "the zip parts are encrypted")
        members[info.filename] = info
        lower[info.filename.lower()] = info.filename

    def find(name: str) -> str | None:
        return name if name in members else lower.get(name.lower())

    # -- the workbook part, its rels, content types
    wb_name = None
    root_rels = find("_rels/.rels")
    if root_rels:
        rtext, _ = _decode(_read(zf, members[root_rels]))
        for el in _elements(rtext, "Relationship"):
            a = el.attrs
            if a.get("Type", "").endswith("/officeDocument") and a.get("TargetMode", "").lower() != "external":
                wb_name = find(_resolve("", a.get("Target", "")))
                break
    wb_name = wb_name or find("xl/workbook.xml")
    if wb_name is None:
        raise SourceError(NOT_A_WORKBOOK, "xl/workbook.xml is missing")
    wb_dir = posixpath.dirname(wb_name)
    rels_name = find(_rels_of(wb_name))
    ct_name = find("[Content_Types].xml")
    if rels_name is None or ct_name is None:
        raise SourceError(NOT_A_WORKBOOK, f"{'the workbook relationships' if rels_name is None else '[Content_Types].xml'} is missing")

    wb_text, wb_enc = _decode(_read(zf, members[wb_name]))
    rels_text, rels_enc = _decode(_read(zf, members[rels_name]))
    ct_text, ct_enc = _decode(_read(zf, members[ct_name]))
    for text, member in ((wb_text, wb_name), (rels_text, rels_name), (ct_text, ct_name)):
        _check_no_dtd(text, member)

    root = _root(wb_text)
    flavor = "strict" if _NS_MAIN["strict"] in root.ns.values() else "transitional"
    rel_prefixes = [p for p, ns in root.ns.items() if ns in _NS_REL.values() and p]
    date1904 = False
    wbpr = _first(wb_text, "workbookPr")
    if wbpr is not None:
        date1904 = wbpr.attrs.get("date1904", "").strip().lower() in ("1", "true")

    # -- relationships of the workbook
    rels = _elements(rels_text, "Relationship")
    rel_by_id = {el.attrs.get("Id", ""): el for el in rels}
    styles_rel = next((el for el in rels if el.attrs.get("Type", "").endswith("/styles")), None)

    # -- sheets
    sheets_el = _first(wb_text, "sheets")
    if sheets_el is None:
        raise _Malformed("workbook.xml has no <sheets>")
    marked: set[int] = set()
    dn_el = _first(wb_text, "definedNames")
    if dn_el is not None and not dn_el.self_closed:
        for el in _elements(wb_text, "definedName", dn_el.inner_start, dn_el.inner_end):
            a = el.attrs
            if a.get("name", "").lower() == MARKER_NAME.lower() and a.get("localSheetId", "").strip().isdigit():
                marked.add(int(a["localSheetId"]))
    sheets: list[_Sheet] = []
    if not sheets_el.self_closed:
        for el in _elements(wb_text, "sheet", sheets_el.inner_start, sheets_el.inner_end):
            a = el.attrs
            rid = next((a[f"{p}:id"] for p in rel_prefixes if f"{p}:id" in a), None)
            if rid is None:
                rid = next((v for k, v in a.items() if k.endswith(":id")), None)
            sh = _Sheet(el, wb_text[el.start:el.end], a.get("name", ""), rid,
                        hidden=a.get("state", "visible") in ("hidden", "veryHidden"))
            rel = rel_by_id.get(rid or "")
            if rel is not None and rel.attrs.get("TargetMode", "").lower() != "external":
                sh.part = find(_resolve(wb_dir, rel.attrs.get("Target", "")))
            if is_generated(sh.name):
                sh.ours = _looks_ours(zf, sh.part, members, len(sheets) in marked)
            sheets.append(sh)

    wanted = [] if remove_only else tabs
    taken = {s.name.casefold(): s.name for s in sheets if not s.ours}
    for tab in wanted:
        if tab.name.casefold() in taken:
            raise SourceError(NAME_TAKEN, f"tab “{taken[tab.name.casefold()]}”")
    ours_old = [i for i, s in enumerate(sheets) if s.ours]
    if remove_only and not ours_old:
        return _Plan(infos, set(), {}, [], members[wb_name], zf.comment, [], [], noop=True)

    users = [i for i, s in enumerate(sheets) if not s.ours]
    if not users and not wanted:
        raise SourceError(WRITE_FAILED, "removing the generated tabs would leave the workbook without a tab")
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
    _drop_orphans(zf, members, find, drop)
    drop_rids = {sheets[i].rid for i in ours_old if sheets[i].rid}

    # -- calcChain.xml is a cache Excel rebuilds; if it lists cells of our old tabs (someone
    #    unprotected one and typed formulas) those entries would make Excel "repair" the file
    old_ids = {sheets[i].el.attrs.get("sheetId", "").strip() for i in ours_old}
    for el in rels:
        if el.attrs.get("Type", "").endswith("/calcChain") and old_ids:
            calc = find(_resolve(wb_dir, el.attrs.get("Target", "")))
            if calc is not None:
                ctext, _ = _decode(_read(zf, members[calc]))
                if any(m.group(1) in old_ids for m in re.finditer(r"""\si\s*=\s*["'](\d+)["']""", ctext)):
                    drop.add(calc)
                    drop_rids.add(el.attrs.get("Id", ""))

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
    styles_name = None
    if styles_rel is not None:
        styles_name = find(_resolve(wb_dir, styles_rel.attrs.get("Target", "")))
    xf: dict = {}
    if wanted:
        if styles_name is not None:
            st_text, st_enc = _decode(_read(zf, members[styles_name]))
            _check_no_dtd(st_text, styles_name)
            styles = _Styles(st_text)
            new_styles = styles.build()
            if new_styles != st_text:
                edited[styles_name] = _encode(new_styles, st_enc)
        else:
            styles = _Styles(_base_styles(flavor))
            styles_name = posixpath.join(wb_dir, "styles.xml")
            if styles_name.lower() in taken_parts:
                styles_name = posixpath.join(wb_dir, "cw_styles.xml")
            added.append((styles_name, styles.build().encode("utf-8")))
        xf = styles.xf

    # -- workbook.xml
    wb_new, must_wb, active_new = _edit_workbook(wb_text, root, sheets, ours_old, new_parts, map_index,
                                                 rel_prefixes, flavor, users)
    edited[wb_name] = _encode(wb_new, wb_enc)

    # -- workbook rels
    p = _root(rels_text).prefix
    ed = _Edits(rels_text)
    for el in rels:
        if el.attrs.get("Id") in drop_rids:
            ed.replace(el.start, el.end, "")
    rel_type = _NS_REL[flavor] + "/worksheet"
    new_rels = "".join(f'<{p}Relationship Id="{rid}" Type="{rel_type}" '
                       f'Target="{_esc_attr(posixpath.relpath(part, wb_dir) if wb_dir else part)}"/>'
                       for _, part, rid in new_parts)
    if styles_rel is None and wanted:
        srid = "rIdcwStyles"
        while srid in used_ids:
            srid += "x"
        target = posixpath.relpath(styles_name, wb_dir) if wb_dir else styles_name
        new_rels += (f'<{p}Relationship Id="{srid}" Type="{_NS_REL[flavor]}/styles" '
                     f'Target="{_esc_attr(target)}"/>')
    close = re.search(rf"</{re.escape(p)}Relationships\s*>", rels_text)
    if close is None:
        rroot = _root(rels_text)
        if not rels_text[rroot.start:rroot.end].endswith("/>"):
            raise _Malformed("Relationships is not closed")
        tag = rels_text[rroot.start:rroot.end]
        ed.replace(rroot.start, rroot.end, tag[:-2].rstrip() + ">" + new_rels + f"</{p}Relationships>")
    else:
        ed.insert(close.start(), new_rels)
    edited[rels_name] = _encode(ed.apply(), rels_enc)
    must_rels = [rels_text[el.start:el.end] for el in rels if el.attrs.get("Id") not in drop_rids]

    # -- content types
    ctp = _root(ct_text).prefix
    ed = _Edits(ct_text)
    overrides = _elements(ct_text, "Override")
    drop_lower = {d.lower() for d in drop}
    must_ct = []
    for el in overrides:
        part = _resolve("", el.attrs.get("PartName", "")).lower()
        if part in drop_lower:
            ed.replace(el.start, el.end, "")
        else:
            must_ct.append(ct_text[el.start:el.end])
    new_ct = "".join(f'<{ctp}Override PartName="/{_esc_attr(part)}" ContentType="{CT_WORKSHEET}"/>'
                     for _, part, _ in new_parts)
    for name, _ in added:
        new_ct += f'<{ctp}Override PartName="/{_esc_attr(name)}" ContentType="{CT_STYLES}"/>'
    close = re.search(rf"</{re.escape(ctp)}Types\s*>", ct_text)
    if close is None:
        raise _Malformed("Types is not closed")
    ed.insert(close.start(), new_ct)
    edited[ct_name] = _encode(ed.apply(), ct_enc)

    # -- our sheets (and, for links to other files, their relationships)
    for k, (tab, part, _) in enumerate(new_parts):
        selected = active_new == len(users) + k
        external: list[tuple[str, str]] = []
        added.append((part, _sheet_xml(tab, xf, date1904, selected, flavor, external)))
        if external:
            rels = "".join(f'<Relationship Id="{rid}" Type="{_NS_REL[flavor]}/hyperlink" '
                           f'Target="{_esc_attr(target)}" TargetMode="External"/>' for rid, target in external)
            added.append((_rels_of(part), (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
                '</Relationships>').encode("utf-8")))

    plan = _Plan(infos, drop, edited, added, members[wb_name], zf.comment,
                 [t.name for t in wanted], [sheets[i].name for i in ours_old])
    plan.must_contain = {wb_name: must_wb, rels_name: must_rels, ct_name: must_ct}
    for name, texts in plan.must_contain.items():
        new_text = _decode(edited[name])[0]
        for t in texts:
            if t not in new_text:
                raise SourceError(WRITE_FAILED, f"{name} would lose {t[:80]}")
    for name, data in list(edited.items()) + added:
        if name.endswith((".xml", ".rels")):
            _well_formed(data, name, zf, members.get(name))
    return plan


def _no_dtd(*_args) -> None:
    raise ValueError("a DOCTYPE declaration")


def _check_xml(data: bytes) -> None:
    """Well-formedness only (expat without building a tree; any DOCTYPE is refused)."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.Parse(data, True)


def _well_formed(data: bytes, name: str, zf: zipfile.ZipFile, orig: zipfile.ZipInfo | None) -> None:
    try:
        _check_xml(data)
    except (expat.ExpatError, ValueError) as exc:
        if orig is not None:
            try:
                _check_xml(zf.read(orig))
            except (expat.ExpatError, ValueError):
                raise SourceError(NOT_A_WORKBOOK, f"{name} is not well-formed XML: {exc}") from None
        raise SourceError(WRITE_FAILED, f"{name} would not be well-formed XML: {exc}") from None


def _drop_orphans(zf, members, find, drop: set[str]) -> None:
    """Add to `drop` the rels of dropped parts and parts only they referenced (transitively)."""
    rels_cache: dict[str, list[str]] = {}

    def targets(rels_member: str) -> list[str]:
        if rels_member not in rels_cache:
            out = []
            try:
                text, _ = _decode(_read(zf, members[rels_member]))
                # xl/worksheets/_rels/sheet3.xml.rels describes xl/worksheets/sheet3.xml
                folder = posixpath.dirname(posixpath.dirname(rels_member))
                for el in _elements(text, "Relationship"):
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

    all_rels = [n for n in members if n.endswith(".rels")]
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


def _edit_workbook(text: str, root: _Root, sheets: list[_Sheet], ours_old: list[int],
                   new_parts: list, map_index, rel_prefixes: list[str], flavor: str,
                   users: list[int]) -> tuple[str, list[str], int | None]:
    ed = _Edits(text)
    sheets_el = _first(text, "sheets")
    p = sheets_el.prefix
    for i in ours_old:
        ed.replace(sheets[i].el.start, sheets[i].el.end, "")
    ids = []
    for s in sheets:
        if not s.ours:
            try:
                ids.append(int(s.el.attrs.get("sheetId", "0")))
            except ValueError:
                pass
    next_id = max(ids, default=0) + 1
    if rel_prefixes:
        rp, decl = rel_prefixes[0], ""
    else:
        rp = "r" if "r" not in root.ns else "cwr"
        decl = f' xmlns:{rp}="{_NS_REL[flavor]}"'
    new_sheets = []
    for k, (tab, _, rid) in enumerate(new_parts):
        new_sheets.append(f'<{p}sheet name="{_esc_attr(tab.name)}" sheetId="{next_id + k}"{decl} {rp}:id="{rid}"/>')
    if sheets_el.self_closed:
        tag = text[sheets_el.start:sheets_el.end]
        ed.replace(sheets_el.start, sheets_el.end, tag[:-2].rstrip() + ">" + "".join(new_sheets) + f"</{p}sheets>")
    else:
        ed.insert(sheets_el.inner_end, "".join(new_sheets))
    must = [s.raw for s in sheets if not s.ours]

    # -- defined names
    ours_set = set(ours_old)
    dn_el = _first(text, "definedNames")
    new_names = []
    for k, (tab, _, _) in enumerate(new_parts):
        new_names.append(f'<{p}definedName name="_xlnm._FilterDatabase" localSheetId="{len(users) + k}" '
                         f'hidden="1">{_esc(_filter_range(tab))}</{p}definedName>')
        new_names.append(f'<{p}definedName name="{MARKER_NAME}" localSheetId="{len(users) + k}" '
                         f'hidden="1">&quot;campaignwatch&quot;</{p}definedName>')
    if dn_el is not None:
        kept = 0
        names = [] if dn_el.self_closed else _elements(text, "definedName", dn_el.inner_start, dn_el.inner_end)
        name_edits: list[tuple[int, int, str]] = []
        for el in names:
            a = el.attrs
            local = a.get("localSheetId")
            if local is not None and local.strip().isdigit():
                old = int(local)
                if old in ours_set:
                    name_edits.append((el.start, el.end, ""))
                    continue
                new = map_index(old)
                if new is not None and new != old:
                    tag = el.start_tag(text)
                    new_tag = _set_attr(tag, "localSheetId", str(new))
                    name_edits.append((el.start, el.start + len(tag), new_tag))
                    must.append(new_tag + text[el.start + len(tag):el.end])
                    kept += 1
                    continue
            must.append(text[el.start:el.end])
            kept += 1
        if kept or new_names or dn_el.self_closed:
            for start, end, new_text in name_edits:
                ed.replace(start, end, new_text)
        if dn_el.self_closed:
            if new_names:
                tag = text[dn_el.start:dn_el.end]
                ed.replace(dn_el.start, dn_el.end, tag[:-2].rstrip() + ">" + "".join(new_names)
                           + f"</{dn_el.prefix}definedNames>")
        elif kept == 0 and not new_names:
            ed.replace(dn_el.start, dn_el.end, "")
        else:
            ed.insert(dn_el.inner_end, "".join(new_names))
    elif new_names:
        after = None
        for local in ("externalReferences", "functionGroups", "sheets"):
            el = _first(text, local)
            if el is not None:
                after = el.end
                break
        ed.insert(after, f"<{p}definedNames>{''.join(new_names)}</{p}definedNames>")

    # -- workbook views: activeTab / firstSheet
    active_new = None
    visible_users = [new_i for old_i, new_i in ((u, j) for j, u in enumerate(users)) if not sheets[old_i].hidden]
    fallback = visible_users[0] if visible_users else (len(users) if new_parts else 0)
    for el in _elements(text, "workbookView"):
        a = el.attrs
        tag = el.start_tag(text)
        new_tag = tag
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
            new_tag = _set_attr(new_tag, "activeTab", str(mapped))
        try:
            first = int(a.get("firstSheet", "0"))
        except ValueError:
            first = 0
        fmapped = map_index(first)
        fmapped = 0 if fmapped is None else min(fmapped, mapped)
        if fmapped != first:
            new_tag = _set_attr(new_tag, "firstSheet", str(fmapped))
        if new_tag != tag:
            ed.replace(el.start, el.start + len(tag), new_tag)
    return ed.apply(), must, active_new


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
               stale_hours: float = 12) -> WriteResult:
    """Put `tabs` into the workbook at `path` (replacing our earlier tabs), leaving everything else as it was.

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
                plan = _plan(src, tabs, remove_only)
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
            stale_hours: float = 12) -> Path:
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


def write_sidecar(path: str | os.PathLike, tabs: list[TabSpec], *, stale_hours: float = 12) -> WriteResult:
    """Write a fresh workbook holding only `tabs` at `sidecar_path(path)`, atomically."""
    return write_new(sidecar_path(path), tabs, stale_hours=stale_hours)


def write_new(target: str | os.PathLike, tabs: list[TabSpec], *, stale_hours: float = 12) -> WriteResult:
    """Write a fresh workbook holding only `tabs` at `target` (replacing it), atomically."""
    t0 = time.perf_counter()
    target = Path(target)
    if not tabs:
        raise ValueError("a sidecar workbook needs at least one tab")
    _validate_tabs(tabs)
    if target.exists():
        _check_lock(target, stale_hours)
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
        if target.exists():
            safety.copy_mode(target.stat(), tmp)
        else:
            os.chmod(tmp, safety.default_mode())
        safety.replace(tmp, target)
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
