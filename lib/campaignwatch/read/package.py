"""Pre-flight inspection of a workbook file, before python-calamine touches it.

`inspect(path)` does two jobs calamine does not do for us:

1. It refuses broken and hostile files with one `errors.SourceError` whose `code` is stable
   (see `errors.CATALOGUE`) and which `errors.message(err, lang)` turns into one clear
   sentence: missing / unreadable files, wrong content for the extension, damaged
   (truncated) zips, password-protected workbooks, zip bombs (by declared ratio and
   total size, and by what the members *actually* inflate to), XML parts with a
   DOCTYPE/ENTITY declaration, unsupported extensions.  No other exception escapes
   `inspect` for a malformed file (KeyboardInterrupt and the like still do).

2. For .xlsx/.xlsm it streams every worksheet part once and finds the cells calamine
   hands over as empty strings: formula error cells (``<c t="e">…<v>#DIV/0!</v></c>``)
   and formula cells that have an ``<f>`` but no cached ``<v>`` (files written by
   openpyxl and friends that were never recalculated).  The same pass bounds each sheet's
   grid from the cells' own references (never ``<dimension ref>``): calamine allocates the
   whole grid from A1 to the farthest value, so a single value in XFD1048576 would need
   ~512 GB; a sheet whose grid exceeds `Limits.max_cells` is TOO_LARGE, naming the cell.

The workbook part is found through ``_rels/.rels`` (`workbook_part`), member names with
backslashes are accepted, and a package calamine cannot follow as it is (workbook part not
at xl/workbook.xml, a sheet part outside xl/worksheets/, Excel 4 macro sheets) gets
`PackageInfo.layout`; `calamine_copy` then gives calamine a tidied copy.  An .xls whose
OLE2 structure our reader finds damaged is not refused here: `PackageInfo.damaged` says
what is wrong, and calamine decides (read_workbook raises DAMAGED if it cannot read it).

Coordinates are zero-based and *absolute*: A1 is (0, 0), B4 is (3, 1).  That is the
grid python-calamine returns with ``to_python(skip_empty_area=False)``; with the
default ``skip_empty_area=True`` subtract ``sheet.start``.  `error_cells` and
`uncalculated_cells` only hold sheets that have at least one such cell, so use
``.get(name, {})`` / ``.get(name, set())``.

Not detected: error cells and uncalculated formulas in .xls, .xlsb and .ods files
(those maps are always empty for these formats).  For .xls the BIFF DATEMODE record
gives `date1904` and a FILEPASS record means ENCRYPTED; for .xlsb the BrtWbProp record
gives `date1904`; .ods always reports ``date1904=False`` (ODS stores dates as ISO text).
"""
from __future__ import annotations

import codecs
import copy
import io
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

from .. import a1
from ..a1 import MAX_COLUMNS, MAX_ROWS
from ..errors import (
    ENCRYPTED, HOSTILE_XML, MISSING, NOT_A_WORKBOOK, PERMISSION, TOO_LARGE, TRUNCATED, UNSUPPORTED, ZIP_BOMB,
    CampaignwatchError, SourceError, one_line,
)
# Only for read/workbook.py and pipeline.py, which still say `package.DAMAGED`, `package.internal`,
# `package.message`, `package.NOT_CAMPAIGN`: these live in errors.py.
from ..errors import DAMAGED, NOT_CAMPAIGN, internal, message  # noqa: F401

__all__ = ["Limits", "PackageInfo", "inspect", "workbook_part", "calamine_copy"]


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 2 * 1024**3      # total uncompressed
    max_ratio: int = 200                    # per member, checked only for members whose uncompressed size > 1 MiB
    max_members: int = 10000
    max_cells: int = 20_000_000             # rows x columns of one sheet's grid (from A1), ~45 bytes each


@dataclass
class PackageInfo:
    path: Path
    kind: str                 # "xlsx", "xlsm", "xls", "xlsb", "ods"
    date1904: bool            # from xl/workbook.xml <workbookPr date1904="1"|"true">
    sheet_parts: dict[str, str] = field(default_factory=dict)   # sheet name -> zip member path (xlsx/xlsm only)
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)   # sheet -> {(row0, col0): "#DIV/0!"}
    uncalculated_cells: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # sheet -> {(row0, col0)}
    # xlsx/xlsm laid out in a way python-calamine cannot follow (the workbook part not at
    # xl/workbook.xml, a sheet outside xl/worksheets/, an Excel 4 macro sheet): why; read it
    # through `calamine_copy(path)`.  Empty for a package in the usual layout.
    layout: str = ""
    # xls whose OLE2 structure our own reader found damaged (e.g. "sector 41 lies past the end
    # of the file"); calamine may still read it.  Empty when the structure is sound.
    damaged: str = ""


KINDS = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".xlsb": "xlsb", ".ods": "ods"}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20          # ratio is only checked above this uncompressed size
_MAX_PARSED_PART = 256 << 20    # parts we build a tree of ([Content_Types], workbook, rels)
_MAX_PROLOG = 64 << 10          # an XML prolog longer than this is treated as hostile
_MAX_CELL_CARRY = 16 << 20      # a single "cell" longer than this is not carried between chunks
_XMLISH = (".xml", ".rels", ".vml")


def inspect(path: str | Path, limits: Limits = Limits()) -> PackageInfo:
    """Check that `path` is a readable, non-hostile workbook and collect what calamine cannot tell us.

    Raises SourceError (and only SourceError) for anything wrong with the file.
    """
    try:
        p = Path(path)
    except TypeError as exc:
        raise SourceError(NOT_A_WORKBOOK, f"not a file path: {type(path).__name__}") from exc
    try:
        return _inspect(p, limits)
    except SourceError as exc:
        if exc.path is None:
            exc.path = p
        raise
    except (PermissionError, IsADirectoryError):
        raise SourceError(PERMISSION, str(p), path=p) from None
    except FileNotFoundError:
        raise SourceError(MISSING, str(p), path=p) from None
    except OSError as exc:
        raise SourceError(TRUNCATED, f"read error: {exc.strerror or exc}", path=p) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(TRUNCATED, _short(exc), path=p) from None
    except defusedxml.DefusedXmlException as exc:
        raise SourceError(HOSTILE_XML, _short(exc), path=p) from None
    except MemoryError:
        raise SourceError(TOO_LARGE, "ran out of memory while checking it", path=p) from None
    except Exception as exc:  # noqa: BLE001 - a malformed file must never produce a traceback
        raise SourceError(NOT_A_WORKBOOK, f"unexpected {type(exc).__name__}: {_short(exc)}", path=p) from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return one_line(text[0]) if text else type(exc).__name__


def _inspect(p: Path, limits: Limits) -> PackageInfo:
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(MISSING, str(p)) from None
    except PermissionError:
        raise SourceError(PERMISSION, str(p)) from None
    except (OSError, ValueError) as exc:     # ENAMETOOLONG, ELOOP, embedded NUL ...
        raise SourceError(MISSING, _short(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is not a regular file")
    ext = p.suffix.lower()
    kind = KINDS.get(ext)
    if kind is None:
        raise SourceError(UNSUPPORTED, f"{ext} file" if ext else "no file extension")
    if st.st_size == 0:
        raise SourceError(TRUNCATED, "the file is empty (0 bytes)")
    try:
        fh = open(p, "rb")
    except PermissionError:
        raise SourceError(PERMISSION, str(p)) from None
    with fh:
        head = fh.read(512)
        if p.name.startswith("~$") and not head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
            raise SourceError(NOT_A_WORKBOOK, "it is Excel's lock file for an open workbook, not the workbook")
        if kind in ("xlsx", "xlsm"):
            return _inspect_ooxml(p, fh, kind, head, st.st_size, limits)
        if kind == "xls":
            return _inspect_xls(p, fh, head, st.st_size)
        return _inspect_zip_other(p, fh, kind, head, st.st_size, limits)


def _sniff(head: bytes) -> str:
    """A short description of what the file seems to be, for NOT_A_WORKBOOK details."""
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "it is a zip file"
    if head.startswith(_OLE_MAGIC):
        return "it is an old-style Office (OLE2) file"
    if head.startswith(b"%PDF"):
        return "it is a PDF"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<html" in head.lower() or b"<!doctype html" in head.lower() or b"<table" in head.lower():
            return "it is a web page (HTML) with a workbook extension"
        return "it is an XML or HTML text file with a workbook extension"
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        sample = ""
    if sample and all(ch.isprintable() or ch in "\r\n\t" for ch in sample):
        return "it is a plain text file (CSV?) with a workbook extension"
    return "its content is not a workbook"


# --------------------------------------------------------------------------- zip plumbing

class _Budget:
    """Counts bytes actually inflated across the package against the total cap."""

    def __init__(self, limits: Limits):
        self.limit = limits.max_total_bytes
        self.used = 0

    def add(self, n: int, member: str) -> None:
        self.used += n
        if self.used > self.limit:
            raise SourceError(ZIP_BOMB, f"{member} unpacks past the {_size(self.limit)} total limit")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return str(n)  # pragma: no cover


def _eocd_entry_count(fh: BinaryIO, size: int) -> int | None:
    """Entry count from the end-of-central-directory record, read before zipfile builds its index."""
    span = min(size, 65535 + 22)
    fh.seek(size - span)
    tail = fh.read(span)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack_from("<H", tail, at + 10)[0]
    if count != 0xFFFF:
        return count
    loc = at - 20                            # zip64 end-of-central-directory locator
    if loc < 0 or tail[loc:loc + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", tail, loc + 8)
    if offset + 56 > size:
        return None
    fh.seek(offset)
    rec = fh.read(56)
    if rec[:4] != b"PK\x06\x06":
        return None
    return struct.unpack_from("<Q", rec, 32)[0]


def _open_zip(fh: BinaryIO, head: bytes, size: int, limits: Limits) -> zipfile.ZipFile:
    if not head.startswith(_ZIP_MAGIC):
        if head.startswith(b"PK\x05\x06"):
            raise SourceError(NOT_A_WORKBOOK, "it is an empty zip archive")
        raise SourceError(NOT_A_WORKBOOK, _sniff(head))
    count = _eocd_entry_count(fh, size)
    if count is not None and count > limits.max_members:
        raise SourceError(TOO_LARGE, f"{count} parts inside, the limit is {limits.max_members}")
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
    except PermissionError:
        raise
    except (zipfile.BadZipFile, EOFError, struct.error, ValueError, NotImplementedError, OSError) as exc:
        # ValueError covers undecodable part names, NotImplementedError "zip file version 25.5"
        raise SourceError(TRUNCATED, f"the zip structure is broken: {_short(exc)}") from None
    _check_zip_limits(zf, limits)
    return zf


def _check_zip_limits(zf: zipfile.ZipFile, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise SourceError(TOO_LARGE, f"{len(infos)} parts inside, the limit is {limits.max_members}")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise SourceError(NOT_A_WORKBOOK, "the zip holds two parts with the same name")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise SourceError(ENCRYPTED, "the zip parts are encrypted")
        declared = info.file_size
        if declared > _RATIO_FLOOR and declared > limits.max_ratio * max(info.compress_size, 1):
            ratio = declared // max(info.compress_size, 1)
            raise SourceError(ZIP_BOMB, f"{info.filename} claims a {ratio}:1 compression ratio, "
                                        f"the limit is {limits.max_ratio}:1")
        total += declared
    if total > limits.max_total_bytes:
        raise SourceError(TOO_LARGE, f"{_size(total)} uncompressed, the limit is {_size(limits.max_total_bytes)}")


def _inflates_beyond(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """After a CRC failure: does the member really inflate past its declared size (a size lie)?"""
    probe = copy.copy(info)
    probe.file_size = info.file_size + _CHUNK     # let zipfile read past the declared end
    got = 0
    try:
        with zf.open(probe) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    return False
                got += len(chunk)
                if got > info.file_size:
                    return True
    except Exception:  # noqa: BLE001 - only a diagnosis; the caller reports damage
        return got > info.file_size


def _iter_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    """Inflate one member in 1 MiB chunks, counting against the budget and the declared size."""
    got = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                if got > info.file_size:      # zipfile truncates, but don't rely on it
                    raise SourceError(ZIP_BOMB, f"{info.filename} unpacks past its declared size")
                budget.add(len(chunk), info.filename)
                yield chunk
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc) and _inflates_beyond(zf, info):
            raise SourceError(ZIP_BOMB, f"{info.filename} unpacks past its declared "
                                        f"size of {_size(info.file_size)}") from None
        raise SourceError(TRUNCATED, f"{info.filename}: {_short(exc)}") from None
    except PermissionError:
        raise
    except (zlib.error, EOFError, ValueError, OSError) as exc:   # bad header offsets, undecodable names
        raise SourceError(TRUNCATED, f"{info.filename}: {_short(exc)}") from None
    except NotImplementedError as exc:
        raise SourceError(NOT_A_WORKBOOK, f"{info.filename}: {_short(exc)}") from None
    except RuntimeError as exc:          # zipfile: "File ... is encrypted, password required"
        raise SourceError(ENCRYPTED, f"{info.filename}: {_short(exc)}") from None


def utf16_codec(head: bytes) -> str | None:
    """The codec of an XML part that is UTF-16 — BOM-marked, or without a BOM starting with
    `<` as two bytes — or None (UTF-8 and everything else)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"<\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<"):
        return "utf-16-be"
    return None


def to_utf8_xml(data: bytes) -> bytes:
    """A whole XML part as UTF-8 (its declaration saying so): UTF-16 parts are allowed by the
    package spec, python-calamine reads only UTF-8."""
    codec = utf16_codec(data[:4])
    if codec is None:
        return data
    text = data.decode(codec, errors="replace")
    text = re.sub(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""", r"\1UTF-8\2", text, count=1)
    return text.encode("utf-8")


def _to_utf8(chunks: Iterator[bytes], found: set | None = None, name: str = "") -> Iterator[bytes]:
    """Pass UTF-8 through untouched; transcode a UTF-16 part (with or without a BOM) on the
    fly, adding `name` to `found` when one is."""
    first = True
    decoder = None
    for chunk in chunks:
        if first:
            first = False
            codec = utf16_codec(chunk[:4])
            if codec:
                decoder = codecs.getincrementaldecoder(codec)(errors="replace")
                if found is not None:
                    found.add(name)
        yield decoder.decode(chunk).encode("utf-8") if decoder else chunk
    if decoder:
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail.encode("utf-8")


_PROLOG_SKIP = re.compile(rb"[ \t\r\n]*")


def _check_prolog(head: bytes, member: str, complete: bool) -> None:
    """Reject a DOCTYPE/ENTITY declaration: anywhere in the first 4 KB, and anywhere before the root element.

    `head` is UTF-8 (see `_to_utf8`); it is the whole part when `complete`, else more than
    `_MAX_PROLOG` bytes of it (see `_PrologGuard`).
    """
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    first = head[:4096]
    if b"<!DOCTYPE" in first or b"<!ENTITY" in first:
        raise SourceError(HOSTILE_XML, f"in {member}")
    pos, n = 0, len(head)
    while True:
        pos = _PROLOG_SKIP.match(head, pos).end()
        if pos >= n:
            return                                  # no root element at all: broken, not hostile
        if head.startswith(b"<?", pos):
            end = head.find(b"?>", pos + 2)
            if end < 0:
                break
            pos = end + 2
        elif head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif head.startswith(b"<!", pos):
            raise SourceError(HOSTILE_XML, f"in {member}")
        else:
            return                                  # the root element (or not XML at all)
        if pos > _MAX_PROLOG:
            break
    if complete and pos <= _MAX_PROLOG:
        return                                      # an unterminated comment or PI: broken, not hostile
    raise SourceError(HOSTILE_XML, f"in {member}: more than {_MAX_PROLOG // 1024} KB before its first element")


class _PrologGuard:
    """Collects the head of an XML part (whatever the chunk size) and runs `_check_prolog` once."""

    def __init__(self, member: str):
        self.member = member
        self.head = b""
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if not self.done:
            self.head += chunk
            if len(self.head) > _MAX_PROLOG + 4096:
                self.done = True
                _check_prolog(self.head, self.member, complete=False)
                self.head = b""

    def close(self) -> None:
        if not self.done:
            self.done = True
            _check_prolog(self.head, self.member, complete=True)
            self.head = b""


def _drain_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, utf16: set | None = None) -> None:
    """Inflate a member fully (size verification); check the prolog of XML parts (noting a
    UTF-16 one in `utf16`)."""
    chunks = _iter_member(zf, info, budget)
    if not info.filename.lower().endswith(_XMLISH):
        for _ in chunks:
            pass
        return
    guard = _PrologGuard(info.filename)
    for chunk in _to_utf8(chunks, utf16, info.filename):
        guard.feed(chunk)
    guard.close()


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, limit: int) -> bytes:
    if info.file_size > limit:
        raise SourceError(TOO_LARGE, f"{info.filename} is {_size(info.file_size)}")
    return b"".join(_iter_member(zf, info, budget))


def _parse_xml(data: bytes, member: str):
    """Parse a small part with defusedxml (a UTF-16 part as UTF-8: expat refuses one whose
    declaration names a multi-byte encoding when it has no BOM)."""
    data = to_utf8_xml(data)
    _check_prolog(data, member, complete=True)
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise SourceError(HOSTILE_XML, f"in {member}") from None
    except (ParseError, ValueError, UnicodeError) as exc:
        raise SourceError(NOT_A_WORKBOOK, f"{member} is not valid XML: {_short(exc)}") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(el, local_name: str) -> str | None:
    """Attribute by local name, whatever its namespace (r:id in transitional and strict OOXML)."""
    value = el.get(local_name)
    if value is not None:
        return value
    for key, value in el.attrib.items():
        if key.endswith("}" + local_name):
            return value
    return None


# --------------------------------------------------------------------------- xlsx / xlsm

def _inspect_ooxml(p: Path, fh: BinaryIO, kind: str, head: bytes, size: int, limits: Limits) -> PackageInfo:
    if head.startswith(_OLE_MAGIC):
        _raise_for_ole_in_zip_format(fh, size, kind)
    zf = _open_zip(fh, head, size, limits)
    budget = _Budget(limits)
    members = _members(zf)
    wb_name = _workbook_part(zf, members, budget)
    if wb_name is None:
        raise SourceError(NOT_A_WORKBOOK, _zip_identity(members, "it has no workbook part (xl/workbook.xml)"))
    wb_info = members[wb_name]
    done: set[str] = {members[n].filename for n in ("_rels/.rels",) if n in members}

    ct = members.get("[Content_Types].xml")
    if ct is not None:
        _parse_xml(_read_member(zf, ct, budget, _MAX_PARSED_PART), ct.filename)
        done.add(ct.filename)
    workbook = _parse_xml(_read_member(zf, wb_info, budget, _MAX_PARSED_PART), wb_info.filename)
    done.add(wb_info.filename)
    wb_dir = posixpath.dirname(wb_name)
    rels_name = _rels_of(wb_name)
    rels_info = members.get(rels_name)
    if rels_info is None:
        raise SourceError(NOT_A_WORKBOOK, f"{rels_name} is missing")
    rels = _parse_xml(_read_member(zf, rels_info, budget, _MAX_PARSED_PART), rels_info.filename)
    done.add(rels_info.filename)

    date1904 = False
    sheet_rids: list[tuple[str, str | None]] = []
    for el in workbook:
        tag = _local(el.tag)
        if tag == "workbookPr":
            date1904 = (el.get("date1904") or "").strip().lower() in ("1", "true")
        elif tag == "sheets":
            for sheet in el:
                name = sheet.get("name")
                if _local(sheet.tag) == "sheet" and name is not None:
                    sheet_rids.append((name, _attr(sheet, "id")))
    targets: dict[str, tuple[str, str]] = {}           # rId -> (target, relationship type)
    for el in rels.iter():
        if _local(el.tag) != "Relationship" or (el.get("TargetMode") or "").lower() == "external":
            continue
        rid, target = el.get("Id"), el.get("Target")
        if rid and target:
            targets[rid] = (target, el.get("Type") or "")

    layout = "" if wb_name == "xl/workbook.xml" else f"its workbook part is {wb_name}"
    sheet_parts: dict[str, str] = {}
    for name, rid in sheet_rids:
        target, rel_type = targets.get(rid or "", ("", ""))
        member = _resolve_target(target, members, wb_dir) if target else None
        if member is None:
            raise SourceError(TRUNCATED, f"the part for sheet '{name}' is missing")
        sheet_parts[name] = members[member].filename
        if not layout and not member.startswith(_CALAMINE_SHEET_DIRS):
            layout = (f"'{name}' is an Excel 4 macro sheet" if _is_macrosheet(rel_type, member)
                      else f"the part of sheet '{name}' is {member}")
    by_part: dict[str, list[str]] = {}
    for name, member in sheet_parts.items():
        by_part.setdefault(member, []).append(name)

    errors: dict[str, dict[tuple[int, int], str]] = {}
    uncalculated: dict[str, set[tuple[int, int]]] = {}
    utf16 = {n for n in done if n.lower().endswith(_XMLISH) and utf16_codec(_peek(zf, n))}
    for info in zf.infolist():                     # archive order: sequential reads
        if info.filename in done or info.filename.endswith("/"):
            continue
        names = by_part.get(info.filename)
        if names is None:
            _drain_member(zf, info, budget, utf16)
            continue
        found_err, found_unc, extent = _scan_sheet(zf, info, budget, limits.max_cells, utf16)
        if extent.bound > limits.max_cells:
            raise SourceError(TOO_LARGE, f"tab '{names[0]}': {extent.cells()}, "
                                         f"limits.max_cells is {limits.max_cells:,}")
        for name in names:
            if found_err:
                errors[name] = dict(found_err)
            if found_unc:
                uncalculated[name] = set(found_unc)
    if not layout and utf16:
        layout = f"{sorted(utf16)[0]} is UTF-16"
    return PackageInfo(p, kind, date1904, sheet_parts, errors, uncalculated, layout=layout)


# where python-calamine looks for sheets (it types a sheet by the folder of its part)
_CALAMINE_SHEET_DIRS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/")
_OFFICE_DOCUMENT = ("/officeDocument/2006/relationships/officeDocument",       # transitional
                    "/officeDocument/relationships/officeDocument")            # strict
_WORKBOOK_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                   "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
                   "application/vnd.ms-excel.template.macroEnabled.main+xml")


def _norm(name: str) -> str:
    """A zip member name as a package part name: forward slashes (some writers use "\\"), no leading "/"."""
    return name.replace("\\", "/").lstrip("/")


def _members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Members by normalised part name; two members that normalise alike are refused."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.filename.endswith(("/", "\\")):
            continue
        name = _norm(info.filename)
        if name in members:
            raise SourceError(NOT_A_WORKBOOK, "the zip holds two parts with the same name")
        members[name] = info
    return members


def _rels_of(part: str) -> str:
    """xl/workbook.xml -> xl/_rels/workbook.xml.rels"""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _is_macrosheet(rel_type: str, part: str) -> bool:
    return rel_type.lower().endswith("macrosheet") or "/macrosheets/" in "/" + part.lower()


def workbook_part(zf: zipfile.ZipFile) -> str | None:
    """The zip member name of an .xlsx/.xlsm package's workbook part, or None if it has none.

    Found the way Excel finds it: the officeDocument relationship of ``_rels/.rels``; then a
    part whose content type (``[Content_Types].xml``) is a workbook's; then
    ``xl/workbook.xml``.  Member names with backslashes are matched as if they had "/", and
    the name returned is the member's own (use it with ``zf.open``).  XML is parsed with
    defusedxml; a hostile or broken ``_rels/.rels`` raises `SourceError`.
    """
    members = _members(zf)
    found = _workbook_part(zf, members, _Budget(Limits()))
    return members[found].filename if found else None


def _workbook_part(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], budget: _Budget) -> str | None:
    root_rels = members.get("_rels/.rels")
    if root_rels is not None:
        rels = _parse_xml(_read_member(zf, root_rels, budget, _MAX_PARSED_PART), root_rels.filename)
        for el in rels.iter():
            if _local(el.tag) == "Relationship" and (el.get("Type") or "").endswith(_OFFICE_DOCUMENT):
                found = _resolve_target(el.get("Target") or "", members, "")
                if found is not None:
                    return found
    ct = members.get("[Content_Types].xml")
    if ct is not None:
        types = _parse_xml(_read_member(zf, ct, budget, _MAX_PARSED_PART), ct.filename)
        for el in types.iter():
            if _local(el.tag) == "Override" and (el.get("ContentType") or "").strip() in _WORKBOOK_TYPES:
                found = _resolve_target(el.get("PartName") or "", members, "")
                if found is not None:
                    return found
    return "xl/workbook.xml" if "xl/workbook.xml" in members else None


def _resolve_target(target: str, members: dict[str, zipfile.ZipInfo], base: str = "xl") -> str | None:
    """The normalised member a relationship target names, relative to the folder `base`."""
    target = target.replace("\\", "/").strip()
    if not target:
        return None
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
    candidates = [posixpath.normpath(path)]
    decoded = unquote(candidates[0])
    if decoded != candidates[0]:
        candidates.append(decoded)
    for candidate in candidates:
        if candidate in members:
            return candidate
    lowered = {name.lower(): name for name in members}
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _peek(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as fh:
        return fh.read(4)


def calamine_copy(path: str | Path) -> io.BytesIO:
    """An in-memory copy of an .xlsx/.xlsm package (one `inspect` accepted) in the layout
    python-calamine expects, for a package whose `PackageInfo.layout` is not empty.

    The workbook part becomes xl/workbook.xml (its relationships xl/_rels/workbook.xml.rels,
    every target absolute), shared strings and styles xl/sharedStrings.xml and xl/styles.xml,
    a worksheet outside xl/worksheets/ moves there, member names get forward slashes, UTF-16
    XML parts become UTF-8, and Excel 4 macro sheets are left out of the sheet list (they hold
    macros, not data).
    Members are stored uncompressed: the copy costs one inflate of the package.
    """
    with zipfile.ZipFile(path) as zf:
        budget = _Budget(Limits(max_total_bytes=1 << 62))       # inspect() checked the sizes
        members = _members(zf)
        wb_name = _workbook_part(zf, members, budget)
        if wb_name is None:
            raise SourceError(NOT_A_WORKBOOK, "it has no workbook part", path=path)
        wb_dir = posixpath.dirname(wb_name)
        rels_name = _rels_of(wb_name)
        rels = _parse_xml(_read_member(zf, members[rels_name], budget, _MAX_PARSED_PART), rels_name)
        moved = {wb_name: "xl/workbook.xml", rels_name: "xl/_rels/workbook.xml.rels"}
        dropped: set[str] = set()
        kept: list[tuple[str, str, str]] = []                       # (Id, Type, absolute Target)
        for n, el in enumerate(rels.iter()):
            if _local(el.tag) != "Relationship":
                continue
            rid, rtype, target = el.get("Id") or "", el.get("Type") or "", el.get("Target") or ""
            if (el.get("TargetMode") or "").lower() == "external":
                continue
            part = _resolve_target(target, members, wb_dir)
            if part is None:
                continue
            if _is_macrosheet(rtype, part):
                dropped.add(rid)
                continue
            kind = rtype.rsplit("/", 1)[-1]
            new = {"sharedStrings": "xl/sharedStrings.xml", "styles": "xl/styles.xml"}.get(kind, part)
            if kind == "worksheet" and not part.startswith("xl/worksheets/"):
                new = f"xl/worksheets/cw-moved-{n}.xml"
            if new != part:
                moved[part] = new
                if _rels_of(part) in members:
                    moved[_rels_of(part)] = _rels_of(new)
            kept.append((rid, rtype, "/" + new))
        workbook = to_utf8_xml(_read_member(zf, members[wb_name], budget, _MAX_PARSED_PART))
        for rid in dropped:
            workbook = re.sub(rb"<(?:[A-Za-z_][\w.\-]*:)?sheet\s[^>]*?:id\s*=\s*[\"']"
                              + re.escape(rid.encode()) + rb"[\"'][^>]*?/>", b"", workbook)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
            for name, info in members.items():
                if name in (wb_name, rels_name, "_rels/.rels") or name in moved.values() and name not in moved:
                    continue
                with zf.open(info) as src, dst.open(moved.get(name, name), "w", force_zip64=True) as sink:
                    head = src.read(4)
                    if name.lower().endswith(_XMLISH) and utf16_codec(head):
                        sink.write(to_utf8_xml(head + src.read()))         # calamine reads UTF-8 only
                        continue
                    sink.write(head)
                    while chunk := src.read(_CHUNK):
                        sink.write(chunk)
            dst.writestr("xl/workbook.xml", workbook)
            dst.writestr("xl/_rels/workbook.xml.rels", _rels_xml(kept))
            dst.writestr("_rels/.rels", _rels_xml([("rId1", "http://schemas.openxmlformats.org/officeDocument/"
                                                   "2006/relationships/officeDocument", "xl/workbook.xml")]))
    out.seek(0)
    return out


def _rels_xml(rels: list[tuple[str, str, str]]) -> bytes:
    items = "".join(f'<Relationship Id="{escape(i, _QUOTE)}" Type="{escape(t, _QUOTE)}" '
                    f'Target="{escape(g, _QUOTE)}"/>' for i, t, g in rels)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            f'"http://schemas.openxmlformats.org/package/2006/relationships">{items}</Relationships>').encode()


_QUOTE = {'"': "&quot;"}


def _zip_identity(members: dict[str, zipfile.ZipInfo], fallback: str) -> str:
    if "word/document.xml" in members:
        return "it is a Word document"
    if "ppt/presentation.xml" in members:
        return "it is a PowerPoint presentation"
    if "xl/workbook.xml" in members:
        return "it is an .xlsx workbook with the wrong extension; rename it to .xlsx"
    if "xl/workbook.bin" in members:
        return "it is an .xlsb workbook with the wrong extension; rename it to .xlsb"
    if "content.xml" in members and "mimetype" in members:
        return "it is an OpenDocument file with the wrong extension"
    return fallback


# --------------------------------------------------------------------------- the sheet scanner

_SHEETDATA = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData(?=[\s/>])")
_ATTR_R = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ATTR_T = re.compile(rb"""\st\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_WS = rb"[ \t\r\n]*"
_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"), (b"&amp;", b"&"))


def _attr_value(pattern: re.Pattern, tag: bytes) -> bytes | None:
    m = pattern.search(tag)
    if m is None:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def _text(raw: bytes) -> str:
    for ent, ch in _ENTITIES:
        if ent in raw:
            raw = raw.replace(ent, ch)
    return raw.decode("utf-8", "replace").strip()


class _Patterns:
    """Byte patterns for one element prefix (b"" for the default namespace, b"x:" for <x:c>)."""

    _cache: dict[bytes, "_Patterns"] = {}

    def __new__(cls, prefix: bytes):
        cached = cls._cache.get(prefix)
        if cached is None:
            cached = super().__new__(cls)
            cached._build(prefix)
            cls._cache[prefix] = cached
        return cached

    def _build(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self.cell_open = b"<" + prefix + b"c"
        self.cell_close = b"</" + prefix + b"c>"
        self.f_lead = b"<" + prefix                  # what must precede the "f" of an uncalc match
        self.v_name = prefix + b"v"
        self.v_open = b"<" + prefix + b"v>"
        self.sheetdata_close = b"</" + prefix + b"sheetData>"
        self.row_open = b"<" + prefix + b"row"
        self.row_close = b"</" + prefix + b"row>"
        # a value: <is> (an inline string, even empty) or a <v> with text; calamine skips the rest
        self.value = re.compile(rb"<" + p + rb"(?:is\b|v\b[^>/]*>" + _WS + rb"[^<\s])")
        # f-element (with content or self-closing), then optionally an EMPTY v-element, then the end
        # of the cell.  The pattern starts at the "f" rather than the "<": re scans for a literal
        # first character, and "f" is rare in sheet XML while "<" is everywhere (2x faster).
        self.uncalc = re.compile(
            rb"f\b[^>]*(?:/>|>[^<]*</" + p + rb"f>)" + _WS
            + rb"(?P<v><" + p + rb"v\b[^>]*/>|<" + p + rb"v\b[^>]*>" + _WS + rb"</" + p + rb"v>)?"
            + _WS + rb"</" + p + rb"c>")


_CELL_DELIMS = frozenset(b" \t\r\n>/")


# A reference that may lie beyond row 99,999 or column Z: a cell in column AA or later, or a
# cell or row with a six- or seven-digit row number.  Everything else lies inside A1:Z99999.
_FAR_REF = re.compile(rb' r="([A-Z]{2,3}[0-9]{1,7}|[A-Z]?[0-9]{6,7})"')
_NEAR_ROWS, _NEAR_COLS = 99_999, 26


@dataclass
class _Extent:
    """How far a sheet's values reach: its grid from A1 is `rows` x `cols` cells."""
    rows: int = 0
    cols: int = 0
    row_ref: str = ""       # a cell (or row) that sets `rows`
    col_ref: str = ""       # a cell that sets `cols`
    exact: bool = False     # False: only the references outside A1:Z99999 were looked at

    def add(self, row: int, col: int, ref: str) -> None:
        if row + 1 > self.rows:
            self.rows, self.row_ref = row + 1, ref
        if col + 1 > self.cols:
            self.cols, self.col_ref = col + 1, ref

    @property
    def bound(self) -> int:
        """Cells of the grid, or (when not exact) an upper bound of it."""
        if self.exact:
            return self.rows * self.cols
        return max(self.rows, _NEAR_ROWS) * max(self.cols, _NEAR_COLS)

    def cells(self) -> str:
        refs = " and ".join(dict.fromkeys(r for r in (self.row_ref, self.col_ref) if r))
        verb = "values in {} make" if " and " in refs else "a value in {} makes"
        return f"{verb.format(refs)} a grid of {self.rows * self.cols:,} cells"


def _count_cells(content: bytes, cell_open: bytes) -> int:
    """Cell start tags in `content` (not <cols>, <col ...>: the byte after the name must end it)."""
    return sum(content.count(cell_open + d) for d in (b" ", b">", b"/", b"\t", b"\r", b"\n"))


class _SheetScanner:
    """Finds error cells and uncalculated formula cells in a worksheet part fed in chunks.

    Work is done on `buf[:cut]` where `cut` is the start of the last cell in the buffer; that
    (possibly incomplete) cell is carried over to the next chunk, so no cell is ever split.
    Per chunk the common case (no errors, no formulas) costs one memchr for "#" (every error
    value starts with "#"), one regex scan for a rare literal "f", and one short rfind.
    Each hit is then checked against the real cell start tag (r, t attributes).
    """

    def __init__(self) -> None:
        self.carry = b""
        self.state = 0                   # 0 before <sheetData>, 1 inside, 2 done
        self.pat: _Patterns | None = None
        self.errors: dict[tuple[int, int], str] = {}
        self.uncalculated: set[tuple[int, int]] = set()
        self.needs_positional = False    # a hit without an r="A1" reference
        self.extent = _Extent()          # of the values outside A1:Z99999 (see _FAR_REF)

    def feed(self, chunk: bytes) -> None:
        if self.state == 2:
            return
        buf = self.carry + chunk if self.carry else chunk
        self.carry = b""
        if self.state == 0:
            m = _SHEETDATA.search(buf)
            if m is None:
                self.carry = buf[-256:]
                return
            self.pat = _Patterns(m.group(1) or b"")
            gt = buf.find(b">", m.end())
            if gt < 0:
                self.carry = buf[m.start():]
                return
            if buf[gt - 1:gt] == b"/":          # <sheetData/>
                self.state = 2
                return
            self.state = 1
            buf = buf[gt + 1:]
        cut = self._last_cell_start(buf)
        # </sheetData> follows the last cell, so it can only be in the carried tail
        end = buf.find(self.pat.sheetdata_close, max(cut, 0))
        if end >= 0:
            self._process(buf, 0, end)
            self.state = 2
            return
        if cut <= 0:
            if len(buf) > _MAX_CELL_CARRY:      # one giant "cell": hostile or broken, don't hoard it
                self._process(buf, 0, len(buf))
            else:
                self.carry = buf
            return
        self._process(buf, 0, cut)
        self.carry = buf[cut:]

    def close(self) -> None:
        if self.state == 1 and self.carry:
            self._process(self.carry, 0, len(self.carry))
        self.carry = b""
        self.state = 2

    def _last_cell_start(self, buf: bytes, lo: int = 0, hi: int | None = None) -> int:
        needle = self.pat.cell_open
        hi = len(buf) if hi is None else hi
        k = len(needle)
        while True:
            i = buf.rfind(needle, lo, hi)
            if i < 0:
                return -1
            if i + k < len(buf) and buf[i + k] in _CELL_DELIMS:
                return i
            hi = i + k - 1

    def _process(self, buf: bytes, lo: int, hi: int) -> None:
        i = buf.find(b"#", lo, hi)
        while i >= 0:
            if buf[i - 1] == 0x3E:                  # ">#": maybe <v>#DIV/0!</v>
                self._error_hit(buf, i, lo, hi)
            i = buf.find(b"#", i + 1, hi)
        lead = self.pat.f_lead
        k = len(lead)
        for m in self.pat.uncalc.finditer(buf, lo, hi):
            f_start = m.start() - k
            if f_start >= lo and buf.startswith(lead, f_start):
                self._uncalc_hit(buf, m, f_start, lo)
        for m in _FAR_REF.finditer(buf, lo, hi):
            self._far_hit(buf, m, lo, hi)

    def _far_hit(self, buf: bytes, m: re.Match, lo: int, hi: int) -> None:
        """A reference outside A1:Z99999: count it when its cell (or row) holds a value.

        When the end of the element is not in the buffer, it counts (the bound only errs upwards).
        """
        lt = buf.rfind(b"<", max(lo, m.start() - 4096), m.start())
        if lt < 0:
            return
        pat = self.pat
        k = lt + len(pat.cell_open)
        is_cell = buf.startswith(pat.cell_open, lt) and buf[k:k + 1] in (b" ", b"\t", b"\r", b"\n")
        k = lt + len(pat.row_open)
        is_row = buf.startswith(pat.row_open, lt) and buf[k:k + 1] in (b" ", b"\t", b"\r", b"\n")
        if not (is_cell or is_row):
            return
        gt = buf.find(b">", m.end(), hi)
        if gt >= 0 and buf[gt - 1] == 0x2F:            # <c .../> or <row .../>: no value
            return
        ref = m.group(1)
        if is_cell:
            if gt >= 0:
                end = buf.find(pat.cell_close, gt, hi)
                if end >= 0 and pat.value.search(buf, gt, end) is None:
                    return
            pos = a1.parse(ref)
            if pos is not None:
                self.extent.add(pos[0], pos[1], ref.decode("ascii"))
            return
        # a far row: it counts for its cells without r= (cells with one are hits themselves)
        gt = buf.find(b">", m.end()) if gt < 0 else gt
        if gt < 0 or not ref.isdigit() or not 1 <= int(ref) <= MAX_ROWS:
            return
        end = buf.find(pat.row_close, gt)
        content = buf[gt:end] if end >= 0 else buf[gt:]
        cells = _count_cells(content, pat.cell_open)
        positional = cells - content.count(pat.cell_open + b' r="')
        if positional > 0 and pat.value.search(content) is not None:
            width = cells if end >= 0 else MAX_COLUMNS          # the rest of the row is unseen
            self.extent.add(int(ref) - 1, max(width, 1) - 1, "row " + ref.decode("ascii"))

    def _cell_tag(self, buf: bytes, child: int, lo: int, window: int) -> tuple[bytes, int] | None:
        """Start tag (and its end offset) of the cell whose content holds the child starting at `child`."""
        s = self._last_cell_start(buf, max(lo, child - window), child)
        if s < 0:
            return None
        gt = buf.find(b">", s, child)
        if gt < 0 or buf[gt - 1] == 0x2F:           # a self-closing <c/> is not our parent
            return None
        if buf.find(self.pat.cell_close, gt, child) >= 0:
            return None
        return buf[s:gt + 1], gt + 1

    def _position(self, tag: bytes) -> tuple[int, int] | None:
        ref = _attr_value(_ATTR_R, tag)
        if ref is None:
            self.needs_positional = True
            return None
        return a1.parse(ref)

    def _error_hit(self, buf: bytes, i: int, lo: int, hi: int) -> None:
        if not buf.startswith(self.pat.v_open, i - len(self.pat.v_open)):
            lt = buf.rfind(b"<", max(lo, i - 1024), i)  # <v ...attributes...>#
            if lt < 0:
                return
            tag = buf[lt + 1:i - 1]
            name = self.pat.v_name
            if not (tag.startswith(name) and tag[len(name):len(name) + 1] in (b" ", b"\t", b"\r", b"\n")):
                return                                  # the "#" is not the start of a <v> value
        else:
            lt = i - len(self.pat.v_open)
        found = self._cell_tag(buf, lt, lo, 65536)      # a formula may sit between <c> and <v>
        if found is None or (_attr_value(_ATTR_T, found[0]) or b"").strip() != b"e":
            return
        pos = self._position(found[0])
        if pos is None:
            return
        end = buf.find(b"<", i, hi)
        code = _text(buf[i:end if end >= 0 else hi])
        if code:
            self.errors[pos] = code

    def _uncalc_hit(self, buf: bytes, m: re.Match, f_start: int, lo: int) -> None:
        found = self._cell_tag(buf, f_start, lo, 4096)
        if found is None:
            return
        tag, tag_end = found
        if tag_end != f_start and buf[tag_end:f_start].strip():
            return                                      # the <f> is not the first child of the cell
        if m.group("v") is not None and (_attr_value(_ATTR_T, tag) or b"").strip() == b"str":
            return                                      # a calculated empty-string result
        pos = self._position(tag)
        if pos is not None:
            self.uncalculated.add(pos)


def _scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, max_cells: int = Limits.max_cells,
                utf16: set | None = None):
    """(error cells, uncalculated cells, extent) of one worksheet part; the extent is exact when
    its quick bound exceeds `max_cells`."""
    scanner = _SheetScanner()
    guard = _PrologGuard(info.filename)
    for chunk in _to_utf8(_iter_member(zf, info, budget), utf16, info.filename):
        guard.feed(chunk)
        scanner.feed(chunk)
    guard.close()
    scanner.close()
    extent = scanner.extent
    if extent.bound > max_cells:
        extent = _extent_scan(zf, info) or extent
    if scanner.needs_positional:
        found = _positional_scan(zf, info)
        if found is not None:
            return (*found, extent)
    return scanner.errors, scanner.uncalculated, extent


class _ChunkReader:
    """A minimal binary file object over an iterator of chunks (for iterparse)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._buf):
            self._buf, self._pos = next(self._chunks, b""), 0
        if n < 0:
            out = self._buf[self._pos:] + b"".join(self._chunks)
            self._buf, self._pos = b"", 0
            return out
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out


def _iter_cells(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[tuple[int, int, object]]:
    """(row0, col0, element) of every cell, positioned as calamine does: a row without r is the
    previous row + 1; a cell without r is the previous cell + 1 (first: column A).  The element
    is cleared once the caller has looked at it.  Raises ParseError for a malformed part."""
    budget = _Budget(Limits(max_total_bytes=info.file_size))   # sizes were already verified
    row, col = -1, -1
    sheet_data = None
    source = _ChunkReader(_iter_member(zf, info, budget))
    for event, el in SafeET.iterparse(source, events=("start", "end"), forbid_dtd=True):
        tag = _local(el.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = el
            elif tag == "row":
                r = el.get("r")
                row = int(r) - 1 if r and r.strip().isdigit() else row + 1
                col = -1
            elif tag == "c":
                pos = a1.parse(el.get("r", "").encode("ascii", "replace")) if el.get("r") else None
                if pos is None:
                    col += 1
                else:
                    row, col = pos
            continue
        if tag == "c":
            yield row, col, el
            el.clear()
        elif tag == "row" and sheet_data is not None:
            sheet_data.clear()


def _extent_scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Extent | None:
    """The exact extent of the cells holding a value (None when the part is not well-formed XML)."""
    extent = _Extent(exact=True)
    try:
        for row, col, el in _iter_cells(zf, info):
            for kid in el:
                name = _local(kid.tag)
                if name == "is" or (name == "v" and (kid.text or "").strip()):
                    extent.add(row, col, a1.ref(row, col))
                    break
    except ParseError:
        return None
    return extent


def _positional_scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    """Slow path for sheets whose cells lack r="A1": walk every row and cell like calamine does.

    A row without r is the previous row + 1; a cell without r is the previous cell + 1 (first: column A).
    Returns None when the part is not well-formed XML (calamine may still read it; the caller then
    keeps the fast scan's findings, which skip cells without a reference).
    """
    errors: dict[tuple[int, int], str] = {}
    uncalculated: set[tuple[int, int]] = set()
    try:
        for row, col, el in _iter_cells(zf, info):
            kids = {_local(k.tag): k for k in el}
            t = (el.get("t") or "").strip()
            v = kids.get("v")
            value = (v.text or "").strip() if v is not None else ""
            if t == "e" and value:
                errors[(row, col)] = value
            elif "f" in kids and not value and not (t == "str" and v is not None):
                uncalculated.add((row, col))
    except ParseError:
        return None
    return errors, uncalculated


# --------------------------------------------------------------------------- xlsb / ods

def _inspect_zip_other(p: Path, fh: BinaryIO, kind: str, head: bytes, size: int, limits: Limits) -> PackageInfo:
    if head.startswith(_OLE_MAGIC):
        _raise_for_ole_in_zip_format(fh, size, kind)
    zf = _open_zip(fh, head, size, limits)
    budget = _Budget(limits)
    members = {i.filename: i for i in zf.infolist()}
    date1904 = False
    done: set[str] = set()
    if kind == "xlsb":
        wb = members.get("xl/workbook.bin")
        if wb is None:
            raise SourceError(NOT_A_WORKBOOK, _zip_identity(members, "xl/workbook.bin is missing"))
        data = _read_member(zf, wb, budget, _MAX_PARSED_PART)
        date1904 = _xlsb_date1904(data)
        done.add(wb.filename)
    else:
        mime_info = members.get("mimetype")
        if mime_info is not None:
            mime = _read_member(zf, mime_info, budget, 4096).strip()
            done.add(mime_info.filename)
            if not mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                raise SourceError(NOT_A_WORKBOOK, f"it is a {_short_mime(mime)} document, not a spreadsheet")
        if "content.xml" not in members:
            raise SourceError(NOT_A_WORKBOOK, _zip_identity(members, "content.xml is missing"))
        manifest = members.get("META-INF/manifest.xml")
        if manifest is not None:
            data = _read_member(zf, manifest, budget, _MAX_PARSED_PART)
            _check_prolog(b"".join(_to_utf8(iter([data]))), manifest.filename, complete=True)
            done.add(manifest.filename)
            if b"encryption-data" in data:
                raise SourceError(ENCRYPTED, "the OpenDocument content is encrypted")
    for info in zf.infolist():
        if info.filename not in done and not info.filename.endswith("/"):
            _drain_member(zf, info, budget)
    return PackageInfo(p, kind, date1904, {}, {}, {})


def _short_mime(mime: bytes) -> str:
    text = mime.decode("ascii", "replace").rsplit(".", 1)[-1]
    return one_line(text, 40) or "non-spreadsheet"


def _xlsb_varint(data: bytes, pos: int, max_bytes: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(max_bytes):
        if pos >= len(data):
            raise ValueError("short record")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return value, pos


def _xlsb_date1904(data: bytes) -> bool:
    """BrtWbProp (record 0x99) flags bit 0 is f1904; it precedes the sheet list in workbook.bin."""
    pos = 0
    try:
        for _ in range(10000):
            if pos >= len(data):
                break
            rtype, pos = _xlsb_varint(data, pos, 2)
            rsize, pos = _xlsb_varint(data, pos, 4)
            if rtype == 0x99 and rsize >= 4:
                return bool(struct.unpack_from("<I", data, pos)[0] & 1)
            if rtype == 0x8F:             # BrtBeginBundleShs: past the workbook properties
                break
            pos += rsize
    except (ValueError, struct.error):
        pass
    return False


# --------------------------------------------------------------------------- OLE2 (.xls, encrypted OOXML)

class _CfbError(CampaignwatchError):
    pass


class _CfbTruncated(_CfbError):
    pass


_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF
_MAXREGSECT = 0xFFFFFFFA


class _Cfb:
    """Just enough of [MS-CFB] to list directory names and read the start of one stream."""

    def __init__(self, fh: BinaryIO, size: int):
        self.fh, self.size = fh, size
        fh.seek(0)
        hdr = fh.read(512)
        if len(hdr) < 512 or not hdr.startswith(_OLE_MAGIC):
            raise _CfbTruncated("short header")
        shift = struct.unpack_from("<H", hdr, 0x1E)[0]
        if shift not in (9, 12):
            raise _CfbError("bad sector size")
        self.ss = 1 << shift
        self.version3 = shift == 9
        self.mini_ss = 1 << struct.unpack_from("<H", hdr, 0x20)[0]
        (n_fat, first_dir, _, self.cutoff, first_minifat, n_minifat,
         first_difat, n_difat) = struct.unpack_from("<IIIIIIII", hdr, 0x2C)
        self.nsect = max(0, -(-(size - self.ss) // self.ss))
        if n_fat > self.nsect + 1 or n_difat > self.nsect + 1:
            raise _CfbTruncated("FAT larger than the file")
        difat = list(struct.unpack_from("<109I", hdr, 0x4C))
        s, hops = first_difat, 0
        per = self.ss // 4
        while s <= _MAXREGSECT and len(difat) < n_fat + 109 and hops <= n_difat:
            vals = struct.unpack(f"<{per}I", self._sector(s))
            difat.extend(vals[:-1])
            s, hops = vals[-1], hops + 1
        fat_bytes = b"".join(self._sector(x) for x in difat[:n_fat] if x <= _MAXREGSECT)
        self.fat = struct.unpack(f"<{len(fat_bytes) // 4}I", fat_bytes)
        dir_bytes = b"".join(self._sector(x) for x in self._chain(first_dir, self.fat))
        self.entries = []
        for off in range(0, len(dir_bytes) - 127, 128):
            e = dir_bytes[off:off + 128]
            nlen = struct.unpack_from("<H", e, 64)[0]
            name = e[:max(0, min(nlen, 64) - 2)].decode("utf-16-le", "replace")
            etype = e[66]
            start = struct.unpack_from("<I", e, 116)[0]
            esize = struct.unpack_from("<Q", e, 120)[0]
            if self.version3:
                esize &= 0xFFFFFFFF
            self.entries.append((name, etype, start, esize))
        self.first_minifat, self.n_minifat = first_minifat, n_minifat

    def _sector(self, s: int) -> bytes:
        if s >= self.nsect:
            raise _CfbTruncated(f"sector {s} lies past the end of the file")
        self.fh.seek((s + 1) * self.ss)
        data = self.fh.read(self.ss)
        if len(data) < self.ss:               # the last sector, cut short: padded, as other readers do
            data += bytes(self.ss - len(data))
        return data

    def _chain(self, start: int, fat, limit: int | None = None) -> Iterator[int]:
        s, hops = start, 0
        cap = len(fat) if limit is None else min(limit, len(fat))
        while s <= _MAXREGSECT:
            if s >= len(fat) or hops > cap:
                raise _CfbTruncated("broken sector chain")
            yield s
            s, hops = fat[s], hops + 1

    def names(self) -> set[str]:
        return {name for name, etype, _, _ in self.entries if etype in (1, 2)}

    def read_stream(self, names: tuple[str, ...], max_bytes: int) -> bytes | None:
        entry = next((e for e in self.entries if e[1] == 2 and e[0] in names), None)
        if entry is None:
            return None
        _, _, start, esize = entry
        if esize < self.cutoff:                   # lives in the mini stream
            root = self.entries[0]
            mini = b"".join(self._sector(x) for x in self._chain(root[2], self.fat))
            mf_bytes = b"".join(self._sector(x) for x in self._chain(self.first_minifat, self.fat))
            minifat = struct.unpack(f"<{len(mf_bytes) // 4}I", mf_bytes)
            out = bytearray()
            for ms in self._chain(start, minifat):
                out += mini[ms * self.mini_ss:(ms + 1) * self.mini_ss]
                if len(out) >= min(esize, max_bytes):
                    break
            return bytes(out[:min(esize, max_bytes)])
        out = bytearray()
        chain = self._chain(start, self.fat)
        count = 0
        for s in chain:                           # walk the whole chain: catches truncated files
            count += 1
            if len(out) < min(esize, max_bytes):
                out += self._sector(s)
            elif s >= self.nsect:
                raise _CfbTruncated("stream runs past the end of the file")
        if count * self.ss < esize:
            raise _CfbTruncated("stream shorter than declared")
        return bytes(out[:min(esize, max_bytes)])


def _ole_protection(fh: BinaryIO, size: int) -> tuple[str, str]:
    """Classify an OLE2 file: ("encrypted", detail), ("xls", detail) or ("other", detail)."""
    try:
        names = _Cfb(fh, size).names()
    except (_CfbError, struct.error, IndexError, ValueError):
        names = None
    if names is None:
        fh.seek(0)
        sample = fh.read(512 << 10)
        if "EncryptedPackage".encode("utf-16-le") in sample or "EncryptionInfo".encode("utf-16-le") in sample:
            return "encrypted", ""
        return "unknown", ""
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        if any("DRMEncrypted" in n for n in names):
            return "encrypted", "rights-management (sensitivity label) protection"
        return "encrypted", ""
    if "Workbook" in names or "Book" in names:
        return "xls", ""
    if "WordDocument" in names:
        return "other", "it is a Word document"
    if "PowerPoint Document" in names:
        return "other", "it is a PowerPoint presentation"
    return "unknown", ""


def _raise_for_ole_in_zip_format(fh: BinaryIO, size: int, kind: str) -> None:
    what, detail = _ole_protection(fh, size)
    if what == "xls":
        raise SourceError(NOT_A_WORKBOOK, f"it is an old-format .xls workbook with a .{kind} extension; "
                                          "rename it to .xls")
    if what == "other":
        raise SourceError(NOT_A_WORKBOOK, detail)
    if what == "unknown" and kind == "ods":
        raise SourceError(NOT_A_WORKBOOK, "it is an old-style Office (OLE2) file, not an OpenDocument file")
    # an OLE2 container named .xlsx/.xlsm/.xlsb is how Office stores an encrypted workbook
    raise SourceError(ENCRYPTED, detail)


def _inspect_xls(p: Path, fh: BinaryIO, head: bytes, size: int) -> PackageInfo:
    if not head.startswith(_OLE_MAGIC):
        if head.startswith(_ZIP_MAGIC):
            raise SourceError(NOT_A_WORKBOOK, "it is a zip-based (.xlsx-style) file with an .xls extension; "
                                              "rename it to .xlsx")
        raise SourceError(NOT_A_WORKBOOK, _sniff(head))
    try:
        cfb = _Cfb(fh, size)
        names = cfb.names()
        if "EncryptedPackage" in names or "EncryptionInfo" in names:
            raise SourceError(ENCRYPTED, "")
        stream = cfb.read_stream(("Workbook", "Book", "WORKBOOK", "BOOK"), 1 << 20)
    except (_CfbError, struct.error, IndexError, ValueError) as exc:
        # calamine may still read it (it reads less of the file than we check): it decides
        return PackageInfo(p, "xls", False, damaged=_short(exc) or "broken OLE2 structure")
    if stream is None:
        if "WordDocument" in names:
            raise SourceError(NOT_A_WORKBOOK, "it is a Word document")
        if "PowerPoint Document" in names:
            raise SourceError(NOT_A_WORKBOOK, "it is a PowerPoint presentation")
        raise SourceError(NOT_A_WORKBOOK, "the file has no workbook stream")
    short = "short sector" if (size - 512) % cfb.ss else ""       # the last sector is cut short
    return PackageInfo(p, "xls", _biff_globals(stream), {}, {}, {}, damaged=short)


def _biff_globals(stream: bytes) -> bool:
    """Walk the BIFF globals substream: FILEPASS -> ENCRYPTED; DATEMODE -> date1904."""
    if len(stream) < 4 or struct.unpack_from("<H", stream, 0)[0] not in (0x0809, 0x0409, 0x0209, 0x0009):
        raise SourceError(NOT_A_WORKBOOK, "the workbook stream does not start with a BIFF BOF record")
    pos = 0
    while pos + 4 <= len(stream):
        rtype, rlen = struct.unpack_from("<HH", stream, pos)
        if rtype == 0x002F:
            raise SourceError(ENCRYPTED, "")
        if rtype == 0x0022 and rlen >= 2 and pos + 6 <= len(stream):
            return struct.unpack_from("<H", stream, pos + 4)[0] != 0
        if rtype == 0x000A:                       # EOF of the globals substream
            break
        pos += 4 + rlen
    return False
