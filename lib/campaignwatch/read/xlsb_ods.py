"""The pre-flight checks of .xlsb and .ods packages (`inspect_zip_other`): the zip checks,
the right main part and MIME type, and `date1904` from the .xlsb BrtWbProp record.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from .ole import raise_for_ole_in_zip_format
from ..errors import ENCRYPTED, NOT_A_WORKBOOK, SourceError, one_line
from .package import Limits, OLE_MAGIC, PackageInfo
from .zipparts import (
    Budget, MAX_PARSED_PART, check_prolog, drain_member, open_zip, read_member, to_utf8, zip_identity,
)


# --------------------------------------------------------------------------- xlsb / ods

def inspect_zip_other(p: Path, fh: BinaryIO, kind: str, head: bytes, size: int, limits: Limits) -> PackageInfo:
    if head.startswith(OLE_MAGIC):
        raise_for_ole_in_zip_format(fh, size, kind)
    zf = open_zip(fh, head, size, limits)
    budget = Budget(limits)
    members = {i.filename: i for i in zf.infolist()}
    date1904 = False
    done: set[str] = set()
    if kind == "xlsb":
        wb = members.get("xl/workbook.bin")
        if wb is None:
            raise SourceError(NOT_A_WORKBOOK, zip_identity(members, "xl/workbook.bin is missing"))
        data = read_member(zf, wb, budget, MAX_PARSED_PART)
        date1904 = _xlsb_date1904(data)
        done.add(wb.filename)
    else:
        mime_info = members.get("mimetype")
        if mime_info is not None:
            mime = read_member(zf, mime_info, budget, 4096).strip()
            done.add(mime_info.filename)
            if not mime.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                raise SourceError(NOT_A_WORKBOOK, f"it is a {_short_mime(mime)} document, not a spreadsheet")
        if "content.xml" not in members:
            raise SourceError(NOT_A_WORKBOOK, zip_identity(members, "content.xml is missing"))
        manifest = members.get("META-INF/manifest.xml")
        if manifest is not None:
            data = read_member(zf, manifest, budget, MAX_PARSED_PART)
            check_prolog(b"".join(to_utf8(iter([data]))), manifest.filename, complete=True)
            done.add(manifest.filename)
            if b"encryption-data" in data:
                raise SourceError(ENCRYPTED, "the OpenDocument content is encrypted")
    for info in zf.infolist():
        if info.filename not in done and not info.filename.endswith("/"):
            drain_member(zf, info, budget)
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
