"""The pre-flight checks of an .xlsx/.xlsm package (`inspect_ooxml`): content types, the
workbook part found through `_rels/.rels` (`workbook_part`), the sheets and their parts, a
layout python-calamine cannot follow, and every worksheet scanned once (`sheet_scan.py`).
"""
from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from .ole import raise_for_ole_in_zip_format
from ..errors import NOT_A_WORKBOOK, SourceError, TOO_LARGE, TRUNCATED
from .package import Limits, OLE_MAGIC, PackageInfo
from .sheet_scan import scan_sheet
from .zipparts import (
    Budget, MAX_PARSED_PART, XMLISH, attr, drain_member, local, member_map, open_zip, parse_xml, read_member,
    rels_of, utf16_codec, zip_identity,
)


# --------------------------------------------------------------------------- xlsx / xlsm

def inspect_ooxml(p: Path, fh: BinaryIO, kind: str, head: bytes, size: int, limits: Limits) -> PackageInfo:
    if head.startswith(OLE_MAGIC):
        raise_for_ole_in_zip_format(fh, size, kind)
    zf = open_zip(fh, head, size, limits)
    budget = Budget(limits)
    members = member_map(zf)
    wb_name = find_workbook_part(zf, members, budget)
    if wb_name is None:
        raise SourceError(NOT_A_WORKBOOK, zip_identity(members, "it has no workbook part (xl/workbook.xml)"))
    wb_info = members[wb_name]
    done: set[str] = {members[n].filename for n in ("_rels/.rels",) if n in members}

    ct = members.get("[Content_Types].xml")
    if ct is not None:
        parse_xml(read_member(zf, ct, budget, MAX_PARSED_PART), ct.filename)
        done.add(ct.filename)
    workbook = parse_xml(read_member(zf, wb_info, budget, MAX_PARSED_PART), wb_info.filename)
    done.add(wb_info.filename)
    wb_dir = posixpath.dirname(wb_name)
    rels_name = rels_of(wb_name)
    rels_info = members.get(rels_name)
    if rels_info is None:
        raise SourceError(NOT_A_WORKBOOK, f"{rels_name} is missing")
    rels = parse_xml(read_member(zf, rels_info, budget, MAX_PARSED_PART), rels_info.filename)
    done.add(rels_info.filename)

    date1904 = False
    sheet_rids: list[tuple[str, str | None]] = []
    for el in workbook:
        tag = local(el.tag)
        if tag == "workbookPr":
            date1904 = (el.get("date1904") or "").strip().lower() in ("1", "true")
        elif tag == "sheets":
            for sheet in el:
                name = sheet.get("name")
                if local(sheet.tag) == "sheet" and name is not None:
                    sheet_rids.append((name, attr(sheet, "id")))
    targets: dict[str, tuple[str, str]] = {}           # rId -> (target, relationship type)
    for el in rels.iter():
        if local(el.tag) != "Relationship" or (el.get("TargetMode") or "").lower() == "external":
            continue
        rid, target = el.get("Id"), el.get("Target")
        if rid and target:
            targets[rid] = (target, el.get("Type") or "")

    layout = "" if wb_name == "xl/workbook.xml" else f"its workbook part is {wb_name}"
    sheet_parts: dict[str, str] = {}
    for name, rid in sheet_rids:
        target, rel_type = targets.get(rid or "", ("", ""))
        member = resolve_target(target, members, wb_dir) if target else None
        if member is None:
            raise SourceError(TRUNCATED, f"the part for sheet '{name}' is missing")
        sheet_parts[name] = members[member].filename
        if not layout and not member.startswith(_CALAMINE_SHEET_DIRS):
            layout = (f"'{name}' is an Excel 4 macro sheet" if is_macrosheet(rel_type, member)
                      else f"the part of sheet '{name}' is {member}")
    by_part: dict[str, list[str]] = {}
    for name, member in sheet_parts.items():
        by_part.setdefault(member, []).append(name)

    errors: dict[str, dict[tuple[int, int], str]] = {}
    uncalculated: dict[str, set[tuple[int, int]]] = {}
    utf16 = {n for n in done if n.lower().endswith(XMLISH) and utf16_codec(_peek(zf, n))}
    for info in zf.infolist():                     # archive order: sequential reads
        if info.filename in done or info.filename.endswith("/"):
            continue
        names = by_part.get(info.filename)
        if names is None:
            drain_member(zf, info, budget, utf16)
            continue
        found_err, found_unc, extent = scan_sheet(zf, info, budget, limits.max_cells, utf16)
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


def is_macrosheet(rel_type: str, part: str) -> bool:
    return rel_type.lower().endswith("macrosheet") or "/macrosheets/" in "/" + part.lower()


def workbook_part(zf: zipfile.ZipFile) -> str | None:
    """The zip member name of an .xlsx/.xlsm package's workbook part, or None if it has none.

    Found the way Excel finds it: the officeDocument relationship of ``_rels/.rels``; then a
    part whose content type (``[Content_Types].xml``) is a workbook's; then
    ``xl/workbook.xml``.  Member names with backslashes are matched as if they had "/", and
    the name returned is the member's own (use it with ``zf.open``).  XML is parsed with
    defusedxml; a hostile or broken ``_rels/.rels`` raises `SourceError`.
    """
    members = member_map(zf)
    found = find_workbook_part(zf, members, Budget(Limits()))
    return members[found].filename if found else None


def find_workbook_part(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], budget: Budget) -> str | None:
    root_rels = members.get("_rels/.rels")
    if root_rels is not None:
        rels = parse_xml(read_member(zf, root_rels, budget, MAX_PARSED_PART), root_rels.filename)
        for el in rels.iter():
            if local(el.tag) == "Relationship" and (el.get("Type") or "").endswith(_OFFICE_DOCUMENT):
                found = resolve_target(el.get("Target") or "", members, "")
                if found is not None:
                    return found
    ct = members.get("[Content_Types].xml")
    if ct is not None:
        types = parse_xml(read_member(zf, ct, budget, MAX_PARSED_PART), ct.filename)
        for el in types.iter():
            if local(el.tag) == "Override" and (el.get("ContentType") or "").strip() in _WORKBOOK_TYPES:
                found = resolve_target(el.get("PartName") or "", members, "")
                if found is not None:
                    return found
    return "xl/workbook.xml" if "xl/workbook.xml" in members else None


def resolve_target(target: str, members: dict[str, zipfile.ZipInfo], base: str = "xl") -> str | None:
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
