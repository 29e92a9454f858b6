"""`calamine_copy(path)`: an in-memory copy of an .xlsx/.xlsm package laid out the way
python-calamine expects (workbook part at xl/workbook.xml, sheet parts under xl/worksheets/,
UTF-16 parts as UTF-8), for the packages whose `PackageInfo.layout` says calamine cannot
follow them as they are.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .ooxml import find_workbook_part, is_macrosheet, resolve_target
from ..errors import NOT_A_WORKBOOK, SourceError
from .package import Limits
from .zipparts import (
    Budget, CHUNK, MAX_PARSED_PART, XMLISH, local, member_map, parse_xml, read_member, rels_of, to_utf8_xml,
    utf16_codec,
)


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
        budget = Budget(Limits(max_total_bytes=1 << 62))       # inspect() checked the sizes
        members = member_map(zf)
        wb_name = find_workbook_part(zf, members, budget)
        if wb_name is None:
            raise SourceError(NOT_A_WORKBOOK, "it has no workbook part", path=path)
        wb_dir = posixpath.dirname(wb_name)
        rels_name = rels_of(wb_name)
        rels = parse_xml(read_member(zf, members[rels_name], budget, MAX_PARSED_PART), rels_name)
        moved = {wb_name: "xl/workbook.xml", rels_name: "xl/_rels/workbook.xml.rels"}
        dropped: set[str] = set()
        kept: list[tuple[str, str, str]] = []                       # (Id, Type, absolute Target)
        for n, el in enumerate(rels.iter()):
            if local(el.tag) != "Relationship":
                continue
            rid, rtype, target = el.get("Id") or "", el.get("Type") or "", el.get("Target") or ""
            if (el.get("TargetMode") or "").lower() == "external":
                continue
            part = resolve_target(target, members, wb_dir)
            if part is None:
                continue
            if is_macrosheet(rtype, part):
                dropped.add(rid)
                continue
            kind = rtype.rsplit("/", 1)[-1]
            new = {"sharedStrings": "xl/sharedStrings.xml", "styles": "xl/styles.xml"}.get(kind, part)
            if kind == "worksheet" and not part.startswith("xl/worksheets/"):
                new = f"xl/worksheets/cw-moved-{n}.xml"
            if new != part:
                moved[part] = new
                if rels_of(part) in members:
                    moved[rels_of(part)] = rels_of(new)
            kept.append((rid, rtype, "/" + new))
        workbook = to_utf8_xml(read_member(zf, members[wb_name], budget, MAX_PARSED_PART))
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
                    if name.lower().endswith(XMLISH) and utf16_codec(head):
                        sink.write(to_utf8_xml(head + src.read()))         # calamine reads UTF-8 only
                        continue
                    sink.write(head)
                    while chunk := src.read(CHUNK):
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
