"""Writing a plan out as a new zip (`emit`): members we do not edit are copied raw, their
compressed bytes unchanged behind a fresh local header (`copy_raw`); edited and added parts
are deflated.
"""
from __future__ import annotations

import copy
import struct
import zipfile
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from .plan import Plan


_LEVEL = 6                      # zlib level of the parts we write


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


def copy_raw(src: BinaryIO, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> zipfile.ZipInfo:
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


def emit(src: BinaryIO, plan: Plan, out: BinaryIO) -> dict[str, zipfile.ZipInfo]:
    copied: dict[str, zipfile.ZipInfo] = {}
    with zipfile.ZipFile(out, "w", allowZip64=True) as zout:
        for info in plan.infos:
            name = info.filename
            if name in plan.drop:
                continue
            if name in plan.edited:
                _write_part(zout, name, plan.edited[name], info)
            else:
                copy_raw(src, info, zout)
                copied[name] = info
        for name, data in plan.added:
            _write_part(zout, name, data, plan.like)
        zout.comment = plan.comment
    return copied
