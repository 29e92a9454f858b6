"""OLE2 compound files: the pre-flight checks of a .xls (`inspect_xls`: BIFF globals,
DATEMODE for `date1904`, FILEPASS for ENCRYPTED, a damaged structure noted, not refused) and
password-protected .xlsx/.xlsm, which Office saves as OLE2 (`raise_for_ole_in_zip_format`).
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import ENCRYPTED, NOT_A_WORKBOOK, CampaignwatchError, SourceError
from .package import OLE_MAGIC, PackageInfo, ZIP_MAGIC, short_error, sniff


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
        if len(hdr) < 512 or not hdr.startswith(OLE_MAGIC):
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


def raise_for_ole_in_zip_format(fh: BinaryIO, size: int, kind: str) -> None:
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


def inspect_xls(p: Path, fh: BinaryIO, head: bytes, size: int) -> PackageInfo:
    if not head.startswith(OLE_MAGIC):
        if head.startswith(ZIP_MAGIC):
            raise SourceError(NOT_A_WORKBOOK, "it is a zip-based (.xlsx-style) file with an .xls extension; "
                                              "rename it to .xlsx")
        raise SourceError(NOT_A_WORKBOOK, sniff(head))
    try:
        cfb = _Cfb(fh, size)
        names = cfb.names()
        if "EncryptedPackage" in names or "EncryptionInfo" in names:
            raise SourceError(ENCRYPTED, "")
        stream = cfb.read_stream(("Workbook", "Book", "WORKBOOK", "BOOK"), 1 << 20)
    except (_CfbError, struct.error, IndexError, ValueError) as exc:
        # calamine may still read it (it reads less of the file than we check): it decides
        return PackageInfo(p, "xls", False, damaged=short_error(exc) or "broken OLE2 structure")
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
