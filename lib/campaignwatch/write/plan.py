"""The plan of a write (`make_plan`): which of the workbook's tabs are ours, which parts are
dropped, edited and added, and what the edited parts must hold afterwards (`Expect`). Nothing
is written here; `emit.py` writes the plan and `verify.py` checks it.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from ..names import MARK, is_generated, is_known
from ..errors import NAME_TAKEN, NOT_A_WORKBOOK, SourceError, WRITE_FAILED
from ..tabspec import TabSpec
from .package import (
    CREATED_NAME, CT_STYLES, CT_WORKSHEET, LEGACY_MARKER, NS_PKG_REL, NS_REL, SHEET_PART_RE, STYLES_RID, TAB_COLOR,
    Malformed, Package, list_index, new_element, read_part, rels_of, resolve, sheet_of_ref,
)
from .parts import CT, MAIN, PKG_REL, REL, Element, esc_attr
from .sheet_xml import ILLEGAL_XML, sheet_xml
from .styles import Styles, base_styles
from .verify import check_structure, well_formed
from .workbook_xml import edit_workbook


class OnlyGenerated(SourceError):
    """Removing our tabs would leave no tab: every tab of the workbook is ours (a sidecar)."""


@dataclass
class Sheet:
    el: Element
    name: str
    rid: str | None
    part: str | None = None
    ours: bool = False
    hidden: bool = False


@dataclass
class Expect:
    """What the edited parts must say after the write (checked by `verify` on the written file)."""
    wb_dir: str
    sheets: list[tuple[str, str | None]]                 # (name, relationship id) in order
    names: list[tuple[str, str | None, str]]             # (name, localSheetId, value), sorted
    dangling: set[str]                                   # targets that did not resolve before either
    missing_rids: set[str | None]                        # tabs without a relationship before either
    xf_max: int = -1                                     # highest cellXfs index our sheets use
    content_types: dict[str, str] = field(default_factory=dict)   # part we added -> content type


@dataclass
class Plan:
    infos: list[zipfile.ZipInfo]
    drop: set[str]
    edited: dict[str, bytes]
    added: list[tuple[str, bytes]]
    like: zipfile.ZipInfo
    comment: bytes
    written: list[str]
    removed: list[str]
    parts: dict[str, str] = field(default_factory=dict)  # "workbook", "rels", "ct", "styles" -> member
    expect: Expect | None = None
    noop: bool = False


def validate_tabs(tabs: list[TabSpec]) -> None:
    seen = set()
    for tab in tabs:
        name = tab.name
        if not is_generated(name):
            raise ValueError(f"generated tab names must start with {MARK!r}: {name!r}")
        if len(name) > 31 or re.search(r"[\[\]:*?/\\]", name) or name.endswith("'"):
            raise ValueError(f"not a valid Excel tab name: {name!r}")
        if ILLEGAL_XML.search(name):
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


def make_plan(src: BinaryIO, tabs: list[TabSpec], remove_only: bool, *, sidecar: bool = False) -> Plan:
    pkg = Package(src)
    zf, members, find = pkg.zf, pkg.members, pkg.find
    wb_name = pkg.workbook                          # the member's own name (it may hold backslashes)
    wb_dir = posixpath.dirname(wb_name.replace("\\", "/"))
    rels_name = find(rels_of(wb_name))
    ct_name = find("[Content_Types].xml")
    if rels_name is None or ct_name is None:
        raise SourceError(NOT_A_WORKBOOK, f"{'the workbook relationships' if rels_name is None else '[Content_Types].xml'} is missing")
    wb = pkg.parse(wb_name)
    rels_doc = pkg.parse(rels_name)
    ct = pkg.parse(ct_name)
    book = wb.root
    if not book.is_("workbook", MAIN):
        raise Malformed("workbook.xml has no workbook root")
    if not rels_doc.root.is_("Relationships", PKG_REL):
        raise Malformed("the workbook relationships have no Relationships root")
    if not ct.root.is_("Types", CT):
        raise Malformed("[Content_Types].xml has no Types root")
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
        return resolve(wb_dir, el.attrs.get("Target", ""))

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
            if list_index(name):
                has_list = True
                sheet = sheet_of_ref(el.text)
                if sheet is not None:
                    listed.add(sheet.casefold())
            elif name.lower() == CREATED_NAME:
                created = True
        elif name.lower() == LEGACY_MARKER and local.strip().isdigit():
            legacy_marked.add(int(local))

    # -- sheets
    sheets_el = book.child("sheets", MAIN)
    if sheets_el is None:
        raise Malformed("workbook.xml has no <sheets>")
    sheets: list[Sheet] = []
    for el in sheets_el.children("sheet", MAIN):
        a = el.attrs
        rid = el.attr_ns("id", REL)
        sh = Sheet(el, a.get("name", ""), rid, hidden=a.get("state", "visible") in ("hidden", "veryHidden"))
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
    list_names = [el for el in names if el.attrs.get("localSheetId") is None and list_index(el.attrs.get("name", ""))]
    if remove_only and not ours_old and not list_names and not styles_ours:
        return Plan(pkg.infos, set(), {}, [], members[wb_name], zf.comment, [], [], noop=True)

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
                ctext = read_part(zf, members[calc])
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
            styles = Styles(pkg.parse(styles_name))
            data = styles.apply()
            if data != read_part(zf, members[styles_name]):
                edited[styles_name] = data
        else:
            styles = Styles(base_styles(flavor))
            if styles_rel is not None and rel_target(styles_rel):      # a relationship to a missing part
                new_styles_name = rel_target(styles_rel)
            else:
                new_styles_name = posixpath.join(wb_dir, "styles.xml")
                if new_styles_name.lower() in taken_parts:
                    new_styles_name = posixpath.join(wb_dir, "cw_styles.xml")
            added.append((new_styles_name, styles.apply()))
        xf = styles.xf

    # -- workbook.xml
    active_new, expect_names = edit_workbook(wb, sheets, ours_old, new_parts, map_index, flavor, users,
                                              created=created or sidecar)
    edited[wb_name] = wb.serialise()

    # -- workbook rels
    rroot = rels_doc.root
    for el in rels:
        if el.attrs.get("Id") in drop_rids:
            rroot.remove(el)
    rel_type = NS_REL[flavor] + "/worksheet"
    for _, part, rid in new_parts:
        target = posixpath.relpath(part, wb_dir) if wb_dir else part
        rroot.append(new_element("Relationship", {"Id": rid, "Type": rel_type, "Target": target}, rroot))
    if new_styles_name is not None and styles_rel is None:
        target = posixpath.relpath(new_styles_name, wb_dir) if wb_dir else new_styles_name
        rroot.append(new_element("Relationship", {"Id": STYLES_RID, "Type": f"{NS_REL[flavor]}/styles",
                                           "Target": target}, rroot))
        if STYLES_RID in used_ids:
            raise Malformed(f"the relationship id {STYLES_RID} is in use")
    edited[rels_name] = rels_doc.serialise()

    # -- content types
    croot = ct.root
    drop_lower = {d.lower() for d in drop}
    for el in croot.children("Override", CT):
        if resolve("", el.attrs.get("PartName", "")).lower() in drop_lower:
            croot.remove(el)
    content_types = {part: CT_WORKSHEET for _, part, _ in new_parts}
    if new_styles_name is not None:
        content_types[new_styles_name] = CT_STYLES
    for part, ctype in content_types.items():
        croot.append(new_element("Override", {"PartName": "/" + part, "ContentType": ctype}, croot))
    edited[ct_name] = ct.serialise()

    # -- our sheets (and, for links to other files, their relationships)
    for k, (tab, part, _) in enumerate(new_parts):
        selected = active_new == len(users) + k
        external: list[tuple[str, str]] = []
        added.append((part, sheet_xml(tab, xf, date1904, selected, flavor, external)))
        if external:
            srels = "".join(f'<Relationship Id="{rid}" Type="{NS_REL[flavor]}/hyperlink" '
                            f'Target="{esc_attr(target)}" TargetMode="External"/>' for rid, target in external)
            added.append((rels_of(part), (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{NS_PKG_REL}">{srels}</Relationships>').encode("utf-8")))

    for name, data in added:
        if name.endswith((".xml", ".rels")):
            well_formed(data, name)

    plan = Plan(pkg.infos, drop, edited, added, members[wb_name], zf.comment,
                 [t.name for t in wanted], [sheets[i].name for i in ours_old])
    plan.parts = {"workbook": wb_name, "rels": rels_name, "ct": ct_name}
    if styles_name is not None and styles_name not in drop:
        plan.parts["styles"] = styles_name
    elif new_styles_name is not None:
        plan.parts["styles"] = new_styles_name
    plan.expect = Expect(
        wb_dir,
        [(sheets[i].name, sheets[i].rid) for i in users] + [(tab.name, rid) for tab, _, rid in new_parts],
        expect_names, dangling, {s.rid for s in sheets if s.rid not in rel_by_id},
        max(xf.values(), default=-1), content_types)
    added_map = dict(added)
    check_structure(plan, lambda m: edited.get(m) or added_map.get(m) or read_part(zf, members[m]),
                     (set(members) - drop) | set(added_map))
    return plan


def _drop_orphans(pkg: Package, drop: set[str]) -> None:
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
                    t = find(resolve(folder, a.get("Target", "")))
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
            r = find(rels_of(part))
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
