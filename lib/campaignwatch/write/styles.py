"""Append-only surgery on styles.xml (`Styles`): the number formats, fonts, fills and cell
styles our tabs use, added once and found again by exact text; `base_styles` for a workbook
that has no styles part; the palette and number formats (`FILL_RGB`, `NUMFMT_CODES` …).
"""
from __future__ import annotations

import re

from .. import tabspec
from ..tabspec import FILL_RGB, FILLS, FORMATS, HEADER_RGB, NUMFMT_CODES  # noqa: F401 (re-read by write/)
from .package import NS_MAIN, Malformed, fragment, new_element
from .parts import MAIN, Document, Element, esc_attr, parse


LINK_RGB = "FF" + tabspec.LINK_RGB           # ARGB
ROLES = ("title", "header", "cell", "link")


class Styles:
    """Append-only surgery on a parsed styles.xml; `xf[(format, fill, role)]` is a cellXfs index."""

    ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
             "tableStyles", "colors", "extLst")
    CHILD = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
             "cellStyleXfs": "xf", "cellXfs": "xf"}

    def __init__(self, doc: Document | str):
        if isinstance(doc, str):
            doc = parse(doc.encode("utf-8"), "styles.xml")
        if not doc.root.is_("styleSheet", MAIN):
            raise Malformed("styles part has no styleSheet root")
        self.doc = doc
        self.root = doc.root
        self.p = doc.root.prefix
        self.xf: dict[tuple[str, str | None, str], int] = {}

    # -- sections
    def _section(self, name: str) -> Element | None:
        return self.root.child(name, MAIN)

    def _ensure(self, name: str) -> Element:
        sec = self._section(name)
        if sec is not None:
            return sec
        sec = new_element(name, {"count": "0"}, self.root)
        for other in self.ORDER[self.ORDER.index(name) + 1:]:
            later = self._section(other)
            if later is not None:
                self.root.insert_before(later, sec)
                return sec
        self.root.append(sec)
        return sec

    def _items(self, name: str) -> tuple[Element, list[Element]]:
        sec = self._ensure(name)
        return sec, sec.children(self.CHILD[name], MAIN)

    def _add(self, sec: Element, name: str, markup: list[str]) -> None:
        for el in fragment("".join(markup), sec):
            sec.append(el)
        sec.set("count", str(len(sec.children(self.CHILD[name], MAIN))))

    def _append(self, name: str, items: list[str]) -> list[int]:
        """Indices of `items` in section `name`, appending those not present (by exact text)."""
        sec, kids = self._items(name)
        index: dict[bytes, int] = {}
        for i, k in enumerate(kids):
            index.setdefault(k.to_bytes(), i)
        out, added = [], []
        for item in items:
            key = item.encode("utf-8")
            if key not in index:
                index[key] = len(kids) + len(added)
                added.append(item)
            out.append(index[key])
        if added:
            self._add(sec, name, added)
        return out

    # -- the work
    def apply(self) -> bytes:
        """Add our entries (once) and return the part's new bytes."""
        p = self.p
        defaults = {
            "fonts": [f'<{p}font><{p}sz val="11"/><{p}name val="Calibri"/><{p}family val="2"/></{p}font>'],
            # fills 0 and 1 are reserved (none, gray125): a list shorter than that gets them first
            "fills": [f'<{p}fill><{p}patternFill patternType="none"/></{p}fill>',
                      f'<{p}fill><{p}patternFill patternType="gray125"/></{p}fill>'],
            "borders": [f"<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>"],
            "cellStyleXfs": [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'],
            "cellXfs": [f'<{p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'],
        }
        for name, items in defaults.items():
            sec, kids = self._items(name)
            if len(kids) < len(items):
                self._add(sec, name, items[len(kids):])
        numfmt = self._numfmts()
        fonts = self._fonts()
        fill_items = [self._fill(FILL_RGB[f]) for f in FILLS] + [self._fill(HEADER_RGB)]
        fill_ids = self._append("fills", fill_items)
        fill_of = dict(zip(FILLS, fill_ids))
        header_fill = fill_ids[-1]

        keys, items = [], []
        keys.append(("text", None, "title"))
        items.append(self._xf(0, fonts["title"], 0))
        keys.append(("text", None, "header"))
        items.append(self._xf(0, fonts["header"], header_fill, 'vertical="center" wrapText="1"'))
        for role in ("cell", "link"):
            font = fonts["link"] if role == "link" else 0
            for fmt in FORMATS:
                for fill in (None, *FILLS):
                    keys.append((fmt, fill, role))
                    items.append(self._xf(numfmt.get(fmt, 0), font, fill_of[fill] if fill else 0))
        ids = self._append("cellXfs", items)
        self.xf = dict(zip(keys, ids))
        return self.doc.serialise()

    def build(self) -> str:
        """`apply`, as text (tests)."""
        from .parts import decode
        return decode(self.apply())[0]

    def _numfmts(self) -> dict[str, int]:
        p = self.p
        sec = self._section("numFmts")
        existing: dict[str, int] = {}
        max_id = 163
        for el in sec.children("numFmt", MAIN) if sec is not None else ():
            try:
                fid = int(el.attrs.get("numFmtId", ""))
            except ValueError:
                continue
            max_id = max(max_id, fid)
            existing.setdefault(el.attrs.get("formatCode", ""), fid)
        out, new = {}, []
        for fmt, code in NUMFMT_CODES.items():
            if code in existing:
                out[fmt] = existing[code]
            else:
                max_id += 1
                existing[code] = out[fmt] = max_id
                new.append(f'<{p}numFmt numFmtId="{max_id}" formatCode="{esc_attr(code)}"/>')
        if new:
            self._add(self._ensure("numFmts"), "numFmts", new)
        return out

    def _fonts(self) -> dict[str, int]:
        p = self.p
        _, kids = self._items("fonts")
        sz, color, rest = "11", "", f'<{p}name val="Calibri"/><{p}family val="2"/>'
        if kids and kids[0].kids:
            font0 = kids[0]
            szel = font0.child("sz", MAIN)
            if szel is not None and re.fullmatch(r"\d+(\.\d+)?", szel.attrs.get("val", "")):
                sz = szel.attrs["val"]
            colel = font0.child("color", MAIN)
            if colel is not None:
                color = colel.to_bytes().decode("utf-8")
            drop = ("b", "i", "u", "strike", "color", "sz", "vertAlign", "outline", "shadow")
            pieces = []
            for k in font0.kids:
                if isinstance(k, Element):
                    if not (k.local in drop and k.uri in MAIN):
                        pieces.append(k.to_bytes().decode("utf-8"))
                elif isinstance(k, bytes):
                    pieces.append(k.decode("utf-8"))
            rest = "".join(pieces).strip()
        items = {
            "title": f'<{p}font><{p}b/><{p}sz val="13"/>{color}{rest}</{p}font>',
            "header": f'<{p}font><{p}b/><{p}sz val="{sz}"/><{p}color rgb="FFFFFFFF"/>{rest}</{p}font>',
            "link": f'<{p}font><{p}u/><{p}sz val="{sz}"/><{p}color rgb="{LINK_RGB}"/>{rest}</{p}font>',
        }
        ids = self._append("fonts", list(items.values()))
        return dict(zip(items, ids))

    def _fill(self, rgb: str) -> str:
        p = self.p
        return (f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')

    def _xf(self, numfmt: int, font: int, fill: int, align: str | None = None) -> str:
        p = self.p
        a = f'numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
        if numfmt:
            a += ' applyNumberFormat="1"'
        if font:
            a += ' applyFont="1"'
        if fill:
            a += ' applyFill="1"'
        if align:
            return f'<{p}xf {a} applyAlignment="1"><{p}alignment {align}/></{p}xf>'
        return f"<{p}xf {a}/>"


def cellxfs_count(doc: Document) -> int:
    sec = doc.root.child("cellXfs", MAIN) if doc.root.is_("styleSheet", MAIN) else None
    return len(sec.children("xf", MAIN)) if sec is not None else 0


def base_styles(flavor: str) -> str:
    """styles.xml for a workbook that has none (and for the sidecar): Excel's minimal defaults."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{NS_MAIN[flavor]}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
            '<family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
            '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" '
            'fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle '
            'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
