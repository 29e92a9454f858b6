"""Checks of what the writer produced: parts we generated are well-formed (`well_formed`), the
edited parts hold what the plan expects (`check_structure`), and the written file holds the
same members with the copied ones byte-identical (`verify`). Each raises SourceError(WRITE_FAILED).
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING
from xml.parsers import expat

import defusedxml

from ..errors import SourceError, WRITE_FAILED
from .package import resolve
from .parts import CT, MAIN, PKG_REL, REL, Document, PartError, parse
from .styles import cellxfs_count
from .workbook_xml import name_key, sort_key

if TYPE_CHECKING:
    from .plan import Plan


def _check_xml(data: bytes) -> None:
    """Well-formedness only (expat without building a tree; any DOCTYPE is refused)."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.Parse(data, True)


def _no_dtd(*_args) -> None:
    raise ValueError("a DOCTYPE declaration")


def well_formed(data: bytes, name: str) -> None:
    """A part we generated: well-formed, or the write is refused (a bug of ours, never the user's)."""
    try:
        _check_xml(data)
    except (expat.ExpatError, ValueError) as exc:
        raise SourceError(WRITE_FAILED, f"{name} would not be well-formed XML: {exc}") from None


def check_structure(plan: Plan, read, package: set[str]) -> None:
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
        target = resolve(exp.wb_dir, el.attrs.get("Target", ""))
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
    names = sorted((name_key(el) for el in (dn.children("definedName", MAIN) if dn is not None else ())),
                   key=sort_key)
    if names != exp.names:
        raise SourceError(WRITE_FAILED, "workbook.xml does not hold the expected defined names")
    if exp.xf_max >= 0:
        styles = plan.parts.get("styles")
        try:
            count = cellxfs_count(parse(read(styles), styles)) if styles else 0
        except (PartError, defusedxml.DefusedXmlException, KeyError) as exc:
            raise SourceError(WRITE_FAILED, f"{styles} does not read back: {exc}") from None
        if count <= exp.xf_max:
            raise SourceError(WRITE_FAILED, f"the styles part has {count} cell styles; our tabs use style {exp.xf_max}")
    overrides = {resolve("", el.attrs.get("PartName", "")).lower(): el.attrs.get("ContentType")
                 for el in doc("ct").root.children("Override", CT)}
    for part, ctype in exp.content_types.items():
        if overrides.get(part.lower()) != ctype:
            raise SourceError(WRITE_FAILED, f"[Content_Types].xml gives {part} no content type")
    dropped = {p.lower() for p in plan.drop}
    if any(part in dropped and part not in lower for part in overrides):
        raise SourceError(WRITE_FAILED, "[Content_Types].xml still lists a part that was removed")


def verify(path: Path, plan: Plan) -> None:
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
                check_structure(plan, zf.read, set(got))
    except SourceError:
        raise
    except (OSError, zipfile.BadZipFile, EOFError, struct.error, KeyError, ValueError, zlib.error) as exc:
        raise SourceError(WRITE_FAILED, f"the written file cannot be read back: {exc}") from None
