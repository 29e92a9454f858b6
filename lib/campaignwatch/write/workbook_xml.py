"""Edits of the parsed workbook.xml for a plan (`edit_workbook`): our `<sheet>` entries, the
defined names (the list of our tabs, filter ranges, the team's names renumbered) and the
workbook views' active and first tab.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .package import CREATED_NAME, LIST_NAME, NS_REL, list_index, new_element
from .parts import MAIN, REL, Document, Element
from ..a1 import quote_tab
from .sheet_xml import filter_range

if TYPE_CHECKING:
    from .plan import Sheet


def name_key(el: Element) -> tuple[str, str | None, str]:
    local = el.attrs.get("localSheetId")
    return (el.attrs.get("name", ""), local.strip() if local is not None else None, el.text)


def edit_workbook(wb: Document, sheets: list[Sheet], ours_old: list[int], new_parts: list, map_index,
                   flavor: str, users: list[int], *, created: bool
                   ) -> tuple[int | None, list[tuple[str, str | None, str]]]:
    """Edit the parsed workbook.xml; returns the new active tab and the defined names it must hold."""
    book = wb.root
    sheets_el = book.child("sheets", MAIN)
    for i in ours_old:
        sheets_el.remove(sheets[i].el)
    ids = []
    for s in sheets:
        if not s.ours:
            try:
                ids.append(int(s.el.attrs.get("sheetId", "0")))
            except ValueError:
                pass
    next_id = max(ids, default=0) + 1
    rel_prefixes = [p for p, ns in book.ns.items() if ns in REL and p]
    if rel_prefixes:
        rp, decl = rel_prefixes[0], {}
    else:
        rp = "r" if "r" not in book.ns else "cwr"
        decl = {f"xmlns:{rp}": NS_REL[flavor]}
    for k, (tab, _, rid) in enumerate(new_parts):
        el = new_element("sheet", {"name": tab.name, "sheetId": str(next_id + k), **decl, f"{rp}:id": rid}, sheets_el)
        sheets_el.append(el)

    # -- defined names
    ours_set = set(ours_old)
    dn_el = book.child("definedNames", MAIN)
    like = dn_el if dn_el is not None else sheets_el
    new_names = []
    for k, (tab, _, _) in enumerate(new_parts):
        new_names.append(new_element("definedName", {"name": "_xlnm._FilterDatabase", "localSheetId": str(len(users) + k),
                                              "hidden": "1"}, like, filter_range(tab)))
    for k, (tab, _, _) in enumerate(new_parts):
        new_names.append(new_element("definedName", {"name": f"{LIST_NAME}{k + 1}", "hidden": "1"}, like,
                              f"{quote_tab(tab.name, always=True)}!$A$1"))
    if created and not any(el.attrs.get("localSheetId") is None and el.attrs.get("name", "").lower() == CREATED_NAME
                           for el in (dn_el.children("definedName", MAIN) if dn_el is not None else ())):
        new_names.append(new_element("definedName", {"name": CREATED_NAME, "hidden": "1"}, like, '"campaignwatch"'))
    expect: list[tuple[str, str | None, str]] = [name_key(el) for el in new_names]
    if dn_el is not None:
        for el in dn_el.children("definedName", MAIN):
            local = el.attrs.get("localSheetId")
            if local is None:
                if list_index(el.attrs.get("name", "")):
                    dn_el.remove(el)                # the list is written afresh on each run
                    continue
            elif local.strip().isdigit():
                old = int(local)
                if old in ours_set:
                    dn_el.remove(el)
                    continue
                new = map_index(old)
                if new is not None and new != old:
                    el.set("localSheetId", str(new))
            expect.append(name_key(el))
        for el in new_names:
            dn_el.append(el)
        if not dn_el.elements():
            book.remove(dn_el)
    elif new_names:
        after = None
        for local in ("externalReferences", "functionGroups", "sheets"):
            after = book.child(local, MAIN)
            if after is not None:
                break
        dn_el = new_element("definedNames", {}, sheets_el)
        book.insert_after(after, dn_el)
        for el in new_names:
            dn_el.append(el)

    # -- workbook views: activeTab / firstSheet
    active_new = None
    visible_users = [j for j, u in enumerate(users) if not sheets[u].hidden]
    fallback = visible_users[0] if visible_users else (len(users) if new_parts else 0)
    views = book.child("bookViews", MAIN)
    for el in views.children("workbookView", MAIN) if views is not None else ():
        a = el.attrs
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
            el.set("activeTab", str(mapped))
        try:
            first = int(a.get("firstSheet", "0"))
        except ValueError:
            first = 0
        fmapped = map_index(first)
        fmapped = 0 if fmapped is None else min(fmapped, mapped)
        if fmapped != first:
            el.set("firstSheet", str(fmapped))
    return active_new, sorted(expect, key=sort_key)


def sort_key(key: tuple[str, str | None, str]) -> tuple[str, str, str]:
    return (key[0], key[1] or "", key[2])
