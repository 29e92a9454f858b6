"""Reading a zip package under limits: opening it (`open_zip`: damaged, too many members,
zip bombs by declared ratio and size), streaming members while counting what they really
inflate to (`Budget`, `iter_member`), XML parts read as UTF-8 (`to_utf8_xml`) with a guard on
the prolog (no DOCTYPE or ENTITY), and small lookups of members by name.
"""
from __future__ import annotations

import codecs
import copy
import posixpath
import re
import struct
import zipfile
import zlib
from typing import BinaryIO, Iterator
from xml.etree.ElementTree import ParseError
import defusedxml
import defusedxml.ElementTree as SafeET

from ..errors import ENCRYPTED, HOSTILE_XML, NOT_A_WORKBOOK, TOO_LARGE, TRUNCATED, ZIP_BOMB, SourceError
from .package import ZIP_MAGIC, Limits, short_error, sniff


CHUNK = 1 << 20


_RATIO_FLOOR = 1 << 20          # ratio is only checked above this uncompressed size


MAX_PARSED_PART = 256 << 20    # parts we build a tree of ([Content_Types], workbook, rels)


_MAX_PROLOG = 64 << 10          # an XML prolog longer than this is treated as hostile


XMLISH = (".xml", ".rels", ".vml")


# --------------------------------------------------------------------------- zip plumbing

class Budget:
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


def open_zip(fh: BinaryIO, head: bytes, size: int, limits: Limits) -> zipfile.ZipFile:
    if not head.startswith(ZIP_MAGIC):
        if head.startswith(b"PK\x05\x06"):
            raise SourceError(NOT_A_WORKBOOK, "it is an empty zip archive")
        raise SourceError(NOT_A_WORKBOOK, sniff(head))
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
        raise SourceError(TRUNCATED, f"the zip structure is broken: {short_error(exc)}") from None
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
    probe.file_size = info.file_size + CHUNK     # let zipfile read past the declared end
    got = 0
    try:
        with zf.open(probe) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    return False
                got += len(chunk)
                if got > info.file_size:
                    return True
    except Exception:  # noqa: BLE001 - only a diagnosis; the caller reports damage
        return got > info.file_size


def iter_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> Iterator[bytes]:
    """Inflate one member in 1 MiB chunks, counting against the budget and the declared size."""
    got = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
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
        raise SourceError(TRUNCATED, f"{info.filename}: {short_error(exc)}") from None
    except PermissionError:
        raise
    except (zlib.error, EOFError, ValueError, OSError) as exc:   # bad header offsets, undecodable names
        raise SourceError(TRUNCATED, f"{info.filename}: {short_error(exc)}") from None
    except NotImplementedError as exc:
        raise SourceError(NOT_A_WORKBOOK, f"{info.filename}: {short_error(exc)}") from None
    except RuntimeError as exc:          # zipfile: "File ... is encrypted, password required"
        raise SourceError(ENCRYPTED, f"{info.filename}: {short_error(exc)}") from None


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


def to_utf8(chunks: Iterator[bytes], found: set | None = None, name: str = "") -> Iterator[bytes]:
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


def check_prolog(head: bytes, member: str, complete: bool) -> None:
    """Reject a DOCTYPE/ENTITY declaration: anywhere in the first 4 KB, and anywhere before the root element.

    `head` is UTF-8 (see `to_utf8`); it is the whole part when `complete`, else more than
    `_MAX_PROLOG` bytes of it (see `PrologGuard`).
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


class PrologGuard:
    """Collects the head of an XML part (whatever the chunk size) and runs `check_prolog` once."""

    def __init__(self, member: str):
        self.member = member
        self.head = b""
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if not self.done:
            self.head += chunk
            if len(self.head) > _MAX_PROLOG + 4096:
                self.done = True
                check_prolog(self.head, self.member, complete=False)
                self.head = b""

    def close(self) -> None:
        if not self.done:
            self.done = True
            check_prolog(self.head, self.member, complete=True)
            self.head = b""


def drain_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, utf16: set | None = None) -> None:
    """Inflate a member fully (size verification); check the prolog of XML parts (noting a
    UTF-16 one in `utf16`)."""
    chunks = iter_member(zf, info, budget)
    if not info.filename.lower().endswith(XMLISH):
        for _ in chunks:
            pass
        return
    guard = PrologGuard(info.filename)
    for chunk in to_utf8(chunks, utf16, info.filename):
        guard.feed(chunk)
    guard.close()


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, limit: int) -> bytes:
    if info.file_size > limit:
        raise SourceError(TOO_LARGE, f"{info.filename} is {_size(info.file_size)}")
    return b"".join(iter_member(zf, info, budget))


def parse_xml(data: bytes, member: str):
    """Parse a small part with defusedxml (a UTF-16 part as UTF-8: expat refuses one whose
    declaration names a multi-byte encoding when it has no BOM)."""
    data = to_utf8_xml(data)
    check_prolog(data, member, complete=True)
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise SourceError(HOSTILE_XML, f"in {member}") from None
    except (ParseError, ValueError, UnicodeError) as exc:
        raise SourceError(NOT_A_WORKBOOK, f"{member} is not valid XML: {short_error(exc)}") from None


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def attr(el, local_name: str) -> str | None:
    """Attribute by local name, whatever its namespace (r:id in transitional and strict OOXML)."""
    value = el.get(local_name)
    if value is not None:
        return value
    for key, value in el.attrib.items():
        if key.endswith("}" + local_name):
            return value
    return None


def _norm(name: str) -> str:
    """A zip member name as a package part name: forward slashes (some writers use "\\"), no leading "/"."""
    return name.replace("\\", "/").lstrip("/")


def member_map(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
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


def rels_of(part: str) -> str:
    """xl/workbook.xml -> xl/_rels/workbook.xml.rels"""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def zip_identity(members: dict[str, zipfile.ZipInfo], fallback: str) -> str:
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
