"""The small package parts the xlsx writer edits, as parsed trees that serialise back to their own bytes.

`workbook.xml`, its relationships, `[Content_Types].xml` and `styles.xml` are parsed with
expat under defusedxml's policy (no DOCTYPE, no entity declarations, no external
references: `defusedxml.DTDForbidden`/`EntitiesForbidden`/`ExternalReferenceForbidden`),
so a comment holding `<cellXfs>` is a comment, a self-closed `<styleSheet/>` is an empty
style sheet, and a UTF-16 part is read like a UTF-8 one.

The tree keeps, for every element, where it sits in the source. An element nothing changed
in is written back as its own bytes; one that changed keeps its start tag's bytes unless its
attributes changed, and the bytes between its children (text, comments, whitespace) as they
were. So prefixes, namespace declarations, `mc:Ignorable`, extension lists and the XML
declaration survive untouched, and removing what was inserted gives back the original bytes.
Only elements we create (or whose attributes we set) are serialised here.

    doc = parse(data, "xl/workbook.xml")
    sheets = doc.root.child("sheets", MAIN)
    sheets.append(Element.new("sheet", {...}, like=sheets))
    data = doc.serialise()
"""
from __future__ import annotations

import codecs
import re
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from ..errors import CampaignwatchError

__all__ = ["Element", "Document", "parse", "decode", "PartError", "MAIN", "REL", "PKG_REL", "CT",
           "esc_text", "esc_attr"]

MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_REL = ("http://schemas.openxmlformats.org/package/2006/relationships",)
CT = ("http://schemas.openxmlformats.org/package/2006/content-types",)

_TAG_END = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class PartError(CampaignwatchError, ValueError):
    """A part that is not well-formed XML (or not text in a known encoding)."""


def esc_text(text: str) -> str:
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def esc_attr(text: str) -> str:
    return esc_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


# --------------------------------------------------------------------------- encodings

def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding key for `encode`) of a part: BOM first, then the declaration, else UTF-8."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "utf-8-sig"
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le"), "utf-16-le-bom"
        if data.startswith(b"\xfe\xff"):
            return data[2:].decode("utf-16-be"), "utf-16-be-bom"
        if data.startswith(b"<\x00"):
            return data.decode("utf-16-le"), "utf-16-le"
        if data.startswith(b"\x00<"):
            return data.decode("utf-16-be"), "utf-16-be"
        m = re.match(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)""", data)
        enc = "utf-8"
        if m:
            try:
                enc = codecs.lookup(m.group(1).decode("ascii")).name
            except LookupError:
                raise PartError(f"unknown encoding {m.group(1).decode('ascii', 'replace')}") from None
        return data.decode(enc), enc
    except UnicodeError as exc:
        raise PartError(f"not readable text: {exc}") from None


def encode(text: str, enc: str) -> bytes:
    if enc == "utf-8":
        return text.encode("utf-8")
    if enc == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if enc.endswith("-bom"):
        return (b"\xff\xfe" if enc.startswith("utf-16-le") else b"\xfe\xff") + text.encode(enc[:-4])
    return text.encode(enc, errors="xmlcharrefreplace")


# --------------------------------------------------------------------------- the tree

class Element:
    """One element: qualified `name` as written (`x:sheet`), `attrs` in document order, `kids`
    (elements, raw source bytes between them, or new text), `text` (its direct character data
    as parsed), `ns` (prefix -> namespace in scope, "" for the default)."""

    __slots__ = ("name", "attrs", "kids", "text", "ns", "src", "start", "tag_end", "end_start", "end",
                 "closed", "dirty", "attrs_set", "parent")

    def __init__(self, name: str, attrs: dict[str, str], ns: dict[str, str]):
        self.name = name
        self.attrs = attrs
        self.ns = ns
        self.kids: list = []
        self.text = ""
        self.src: bytes | None = None
        self.start = self.tag_end = self.end_start = self.end = 0
        self.closed = False
        self.dirty = False
        self.attrs_set = False
        self.parent: Element | None = None

    @classmethod
    def new(cls, local: str, attrs: dict[str, str] | None = None, *, like: "Element",
            text: str | None = None, kids: list["Element"] | None = None) -> "Element":
        """A new element in `like`'s namespace and with its prefix."""
        el = cls(like.prefix + local, dict(attrs or {}), like.ns)
        el.dirty = True
        if text:
            el.kids.append(text)
            el.text = text
        for k in kids or ():
            el.append(k)
        return el

    # -- names
    @property
    def prefix(self) -> str:
        i = self.name.find(":")
        return self.name[:i + 1] if i >= 0 else ""

    @property
    def local(self) -> str:
        return self.name[self.name.find(":") + 1:]

    @property
    def uri(self) -> str | None:
        return self.ns.get(self.prefix[:-1])

    def is_(self, local: str, uris: tuple[str, ...]) -> bool:
        return self.local == local and self.uri in uris

    def attr_ns(self, local: str, uris: tuple[str, ...]) -> str | None:
        """A prefixed attribute by namespace (`r:id` whatever the prefix)."""
        for key, value in self.attrs.items():
            i = key.find(":")
            if i > 0 and key[i + 1:] == local and key[:i] != "xmlns" and self.ns.get(key[:i]) in uris:
                return value
        return None

    # -- children
    def elements(self) -> list["Element"]:
        return [k for k in self.kids if isinstance(k, Element)]

    def children(self, local: str, uris: tuple[str, ...]) -> list["Element"]:
        return [k for k in self.kids if isinstance(k, Element) and k.local == local and k.uri in uris]

    def child(self, local: str, uris: tuple[str, ...]) -> "Element | None":
        for k in self.kids:
            if isinstance(k, Element) and k.local == local and k.uri in uris:
                return k
        return None

    # -- edits
    def _touch(self) -> None:
        el = self
        while el is not None:
            el.dirty = True
            el = el.parent

    def set(self, key: str, value: str) -> None:
        if self.attrs.get(key) == value:
            return
        self.attrs[key] = value
        self.attrs_set = True
        self._touch()

    def insert(self, index: int, el: "Element") -> None:
        """Insert before the `index`-th child element; past the last one: right after it (the
        bytes before the end tag stay last), or at the end when there is no child element."""
        el.parent = self
        elems = [i for i, k in enumerate(self.kids) if isinstance(k, Element)]
        if index < len(elems):
            pos = elems[index]
        else:
            pos = elems[-1] + 1 if elems else len(self.kids)
        self.kids.insert(pos, el)
        self._touch()

    def append(self, el: "Element") -> None:
        self.insert(len(self.elements()), el)

    def insert_before(self, ref: "Element", el: "Element") -> None:
        el.parent = self
        self.kids.insert(self.kids.index(ref), el)
        self._touch()

    def insert_after(self, ref: "Element", el: "Element") -> None:
        el.parent = self
        self.kids.insert(self.kids.index(ref) + 1, el)
        self._touch()

    def remove(self, el: "Element") -> None:
        for i, k in enumerate(self.kids):
            if k is el:
                del self.kids[i]
                self._touch()
                return
        raise ValueError("not a child")

    # -- output
    def raw(self) -> bytes | None:
        """The element's source bytes, if it came from the source."""
        return self.src[self.start:self.end] if self.src is not None else None

    def start_tag(self) -> str:
        attrs = "".join(f' {k}="{esc_attr(v)}"' for k, v in self.attrs.items())
        return f"<{self.name}{attrs}"

    def serialise(self, out: list[bytes]) -> None:
        src = self.src
        if src is not None and not self.dirty:
            out.append(src[self.start:self.end])
            return
        has_kids = bool(self.kids)
        if src is not None and not self.attrs_set:
            head = src[self.start:self.tag_end]
            if self.closed and has_kids:
                head = head[:-2].rstrip() + b">"
        else:
            head = (self.start_tag() + (">" if has_kids or (src is not None and not self.closed) else "/>")).encode("utf-8")
        out.append(head)
        if not has_kids and head.endswith(b"/>"):
            return
        for k in self.kids:
            if isinstance(k, Element):
                k.serialise(out)
            elif isinstance(k, bytes):
                out.append(k)
            else:
                out.append(esc_text(k).encode("utf-8"))
        if src is not None and not self.closed:
            out.append(src[self.end_start:self.end])
        else:
            out.append(f"</{self.name}>".encode("utf-8"))

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        self.serialise(out)
        return b"".join(out)


class Document:
    """A parsed part: the source (as UTF-8), its root element, and its encoding."""

    def __init__(self, src: bytes, root: Element, enc: str, member: str):
        self.src = src
        self.root = root
        self.enc = enc
        self.member = member

    def serialise(self) -> bytes:
        out = [self.src[:self.root.start]]
        self.root.serialise(out)
        out.append(self.src[self.root.end:])
        data = b"".join(out)
        return data if self.enc == "utf-8" else encode(data.decode("utf-8"), self.enc)


def _forbid_dtd(*_args) -> None:
    raise DTDForbidden(None, None, None)


def _forbid_entity(name, *_args) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _forbid_external(context, base, sysid, pubid) -> None:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def parse(data: bytes, member: str = "") -> Document:
    """Parse a part (any encoding the XML spec allows).

    Raises defusedxml's DTDForbidden / EntitiesForbidden / ExternalReferenceForbidden for a
    hostile part and PartError for one that is not well-formed.
    """
    text, enc = decode(data)
    src = text.encode("utf-8")
    parser = expat.ParserCreate(encoding="utf-8")      # overrides the declared encoding: src is UTF-8
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    stack: list[Element] = []
    cursor: list[int] = []                # per open element: where its unclaimed bytes start
    roots: list[Element] = []
    tag_end = _TAG_END.match

    def start(name: str, attrs: dict[str, str]) -> None:
        pos = parser.CurrentByteIndex
        parent = stack[-1] if stack else None
        ns = parent.ns if parent is not None else {"xml": "http://www.w3.org/XML/1998/namespace"}
        if any(k == "xmlns" or k.startswith("xmlns:") for k in attrs):
            ns = dict(ns)
            for k, v in attrs.items():
                if k == "xmlns":
                    ns[""] = v
                elif k.startswith("xmlns:"):
                    ns[k[6:]] = v
        el = Element(name, attrs, ns)
        el.src = src
        el.start = pos
        m = tag_end(src, pos)
        if m is None:
            raise PartError(f"cannot find the end of <{name}>")
        el.tag_end = m.end()
        el.closed = src[el.tag_end - 2:el.tag_end] == b"/>"
        if parent is not None:
            if pos > cursor[-1]:
                parent.kids.append(src[cursor[-1]:pos])
            parent.kids.append(el)
            el.parent = parent
        else:
            roots.append(el)
        stack.append(el)
        cursor.append(el.tag_end)

    def end(name: str) -> None:
        el = stack.pop()
        last = cursor.pop()
        if el.closed:
            el.end_start = el.end = el.tag_end
        else:
            pos = parser.CurrentByteIndex
            if pos > last:
                el.kids.append(src[last:pos])
            el.end_start = pos
            gt = src.find(b">", pos)
            el.end = gt + 1
        if stack:
            cursor[-1] = el.end

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(src, True)
    except expat.ExpatError as exc:
        raise PartError(f"{member or 'the part'} is not well-formed XML: {exc}") from None
    if not roots:
        raise PartError(f"{member or 'the part'} has no root element")
    return Document(src, roots[0], enc, member)
