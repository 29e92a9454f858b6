"""The zip package of an .xlsx/.xlsm as the writer sees it: its members, where the workbook
part is, and the parts it reads (`Package`, `parse_part`, `read_part`, `resolve`, `rels_of`);
the names and relationship ids campaignwatch puts in a package (`LIST_NAME`, `CREATED_NAME`,
`STYLES_RID` …) and the namespaces and content types it writes with.
"""
from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from typing import BinaryIO
from urllib.parse import unquote

import defusedxml

from ..errors import ENCRYPTED, HOSTILE_XML, NOT_A_WORKBOOK, TOO_LARGE, TRUNCATED, CampaignwatchError, SourceError
from ..tabspec import TAB_RGB
from .parts import CT, MAIN, PKG_REL, REL, Document, Element, PartError, esc_attr, parse


TAB_COLOR = "FF" + TAB_RGB              # ARGB, the palette in tabspec.py
LIST_NAME = "_cw_tab_"              # workbook-scoped hidden names _cw_tab_1 … = 'cw» Summary'!$A$1
CREATED_NAME = "_cw_created"        # workbook-scoped hidden name in workbooks campaignwatch created
LEGACY_MARKER = "_cw_generated"     # sheet-scoped name on generated tabs before the list existed
SHEET_PART_RE = re.compile(r"cw_sheet\d+\.xml\Z", re.IGNORECASE)
STYLES_RID = "rIdcwStyles"          # the relationship of a styles part we added (clean drops it)

NS_MAIN = {"transitional": MAIN[0], "strict": MAIN[1]}
NS_REL = {"transitional": REL[0], "strict": REL[1]}
NS_PKG_REL = PKG_REL[0]
NS_CT = CT[0]
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


MAX_PART = 256 << 20           # largest part we decompress to edit (styles.xml of a bloated workbook)
MAX_MEMBERS = 20000


class Malformed(CampaignwatchError):
    """A part we must edit does not have the shape we can edit safely."""


def parse_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Document:
    """A part we edit (or read the structure of), parsed; SourceError for a hostile or broken one."""
    data = read_part(zf, info)
    try:
        return parse(data, info.filename)
    except defusedxml.DefusedXmlException:
        raise SourceError(HOSTILE_XML, f"in {info.filename}") from None
    except PartError as exc:
        raise SourceError(NOT_A_WORKBOOK, str(exc)) from None


def fragment(markup: str, like: Element) -> list[Element]:
    """New elements from markup written with `like`'s prefixes (our style entries); each
    serialises to exactly `markup`'s bytes."""
    decls = "".join(f' xmlns{":" + p if p else ""}="{esc_attr(u)}"' for p, u in like.ns.items() if p != "xml")
    doc = parse(f"<cw-fragment{decls}>{markup}</cw-fragment>".encode("utf-8"))
    kids = doc.root.elements()
    for k in kids:
        k.parent = None
    return kids


def new_element(local: str, attrs: dict[str, str], like: Element, text: str | None = None) -> Element:
    return Element.new(local, attrs, like=like, text=text)


def sheet_of_ref(ref: str) -> str | None:
    """The sheet a defined name's reference points to (`'cw» Summary'!$A$1` -> cw» Summary)."""
    t = ref.strip().lstrip("=")
    if t.startswith("["):                               # [0]'Tab'!A1 (a workbook index)
        close = t.find("]")
        t = t[close + 1:] if close > 0 else t
    if t.startswith("'"):
        out, i = [], 1
        while i < len(t):
            c = t[i]
            if c == "'":
                if t[i + 1:i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(c)
            i += 1
        else:
            return None
        return "".join(out) if t[i + 1:i + 2] == "!" else None
    bang = t.find("!")
    return t[:bang] if bang > 0 else None


def resolve(base_dir: str, target: str) -> str:
    target = target.replace("\\", "/").strip()
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(base_dir, target)
    return posixpath.normpath(unquote(path)).lstrip("/")


def rels_of(part: str) -> str:
    folder, base = posixpath.split(part.replace("\\", "/"))
    return posixpath.join(folder, "_rels", base + ".rels")




def read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_PART:
        raise SourceError(TOO_LARGE, f"{info.filename} is {info.file_size >> 20} MB")
    return zf.read(info)


def list_index(name: str) -> bool:
    low = name.lower()
    return low.startswith(LIST_NAME) and low[len(LIST_NAME):].isdigit()


class Package:
    """The zip's members and where the workbook part is. The only place that locates
    `xl/workbook.xml` (through the package relationships `_rels/.rels`)."""

    def __init__(self, src: BinaryIO):
        try:
            self.zf = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError) as exc:
            raise SourceError(TRUNCATED, f"the zip structure is broken: {exc}") from None
        self.infos = self.zf.infolist()
        if len(self.infos) > MAX_MEMBERS:
            raise SourceError(TOO_LARGE, f"{len(self.infos)} parts inside")
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.lower: dict[str, str] = {}
        for info in self.infos:
            if info.filename in self.members:
                raise SourceError(NOT_A_WORKBOOK, "the zip holds two parts with the same name")
            if info.flag_bits & 0x1:
                raise SourceError(ENCRYPTED, "the zip parts are encrypted")
            self.members[info.filename] = info
            # found case-blind and with backslashes read as "/" (some writers name parts xl\workbook.xml);
            # a part keeps its own name when it is copied or edited
            self.lower[info.filename.replace("\\", "/").lower()] = info.filename
        self.workbook = self._workbook_part()

    def find(self, name: str) -> str | None:
        return name if name in self.members else self.lower.get(name.replace("\\", "/").lower())

    def parse(self, member: str) -> Document:
        return parse_part(self.zf, self.members[member])

    def _workbook_part(self) -> str:
        root_rels = self.find("_rels/.rels")
        if root_rels:
            for el in self.parse(root_rels).root.children("Relationship", PKG_REL):
                a = el.attrs
                if a.get("Type", "").endswith("/officeDocument") and a.get("TargetMode", "").lower() != "external":
                    found = self.find(resolve("", a.get("Target", "")))
                    if found:
                        return found
                    break
        found = self.find("xl/workbook.xml")
        if found is None:
            raise SourceError(NOT_A_WORKBOOK, "xl/workbook.xml is missing")
        return found
