"""The streaming worksheet scanner: one pass over a sheet part's bytes finds formula error
cells and formulas without a cached value, and bounds the sheet's grid from the cells' own
references (`scan_sheet`), refusing a grid larger than `Limits.max_cells` before calamine
allocates it.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import Iterator
from xml.etree.ElementTree import ParseError
import defusedxml.ElementTree as SafeET

from ..a1 import MAX_COLUMNS, MAX_ROWS
from ..a1 import parse as a1_parse
from .package import Limits
from .zipparts import Budget, PrologGuard, iter_member, local, to_utf8


_MAX_CELL_CARRY = 16 << 20      # a single "cell" longer than this is not carried between chunks


# --------------------------------------------------------------------------- the sheet scanner

_SHEETDATA = re.compile(rb"<([A-Za-z_][\w.\-]*:)?sheetData(?=[\s/>])")


_ATTR_R = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_ATTR_T = re.compile(rb"""\st\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_WS = rb"[ \t\r\n]*"


_MAX_ROW, _MAX_COL = MAX_ROWS, MAX_COLUMNS


_ENTITIES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"), (b"&amp;", b"&"))


def _attr_value(pattern: re.Pattern, tag: bytes) -> bytes | None:
    m = pattern.search(tag)
    if m is None:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def _text(raw: bytes) -> str:
    for ent, ch in _ENTITIES:
        if ent in raw:
            raw = raw.replace(ent, ch)
    return raw.decode("utf-8", "replace").strip()


class _Patterns:
    """Byte patterns for one element prefix (b"" for the default namespace, b"x:" for <x:c>)."""

    _cache: dict[bytes, "_Patterns"] = {}

    def __new__(cls, prefix: bytes):
        cached = cls._cache.get(prefix)
        if cached is None:
            cached = super().__new__(cls)
            cached._build(prefix)
            cls._cache[prefix] = cached
        return cached

    def _build(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self.cell_open = b"<" + prefix + b"c"
        self.cell_close = b"</" + prefix + b"c>"
        self.f_lead = b"<" + prefix                  # what must precede the "f" of an uncalc match
        self.v_name = prefix + b"v"
        self.v_open = b"<" + prefix + b"v>"
        self.sheetdata_close = b"</" + prefix + b"sheetData>"
        self.row_open = b"<" + prefix + b"row"
        self.row_close = b"</" + prefix + b"row>"
        # a value: <is> (an inline string, even empty) or a <v> with text; calamine skips the rest
        self.value = re.compile(rb"<" + p + rb"(?:is\b|v\b[^>/]*>" + _WS + rb"[^<\s])")
        # f-element (with content or self-closing), then optionally an EMPTY v-element, then the end
        # of the cell.  The pattern starts at the "f" rather than the "<": re scans for a literal
        # first character, and "f" is rare in sheet XML while "<" is everywhere (2x faster).
        self.uncalc = re.compile(
            rb"f\b[^>]*(?:/>|>[^<]*</" + p + rb"f>)" + _WS
            + rb"(?P<v><" + p + rb"v\b[^>]*/>|<" + p + rb"v\b[^>]*>" + _WS + rb"</" + p + rb"v>)?"
            + _WS + rb"</" + p + rb"c>")


_CELL_DELIMS = frozenset(b" \t\r\n>/")


# A reference that may lie beyond row 99,999 or column Z: a cell in column AA or later, or a
# cell or row with a six- or seven-digit row number.  Everything else lies inside A1:Z99999.
_FAR_REF = re.compile(rb' r="([A-Z]{2,3}[0-9]{1,7}|[A-Z]?[0-9]{6,7})"')


_NEAR_ROWS, _NEAR_COLS = 99_999, 26


@dataclass
class _Extent:
    """How far a sheet's values reach: its grid from A1 is `rows` x `cols` cells."""
    rows: int = 0
    cols: int = 0
    row_ref: str = ""       # a cell (or row) that sets `rows`
    col_ref: str = ""       # a cell that sets `cols`
    exact: bool = False     # False: only the references outside A1:Z99999 were looked at

    def add(self, row: int, col: int, ref: str) -> None:
        if row + 1 > self.rows:
            self.rows, self.row_ref = row + 1, ref
        if col + 1 > self.cols:
            self.cols, self.col_ref = col + 1, ref

    @property
    def bound(self) -> int:
        """Cells of the grid, or (when not exact) an upper bound of it."""
        if self.exact:
            return self.rows * self.cols
        return max(self.rows, _NEAR_ROWS) * max(self.cols, _NEAR_COLS)

    def cells(self) -> str:
        refs = " and ".join(dict.fromkeys(r for r in (self.row_ref, self.col_ref) if r))
        verb = "values in {} make" if " and " in refs else "a value in {} makes"
        return f"{verb.format(refs)} a grid of {self.rows * self.cols:,} cells"


def _count_cells(content: bytes, cell_open: bytes) -> int:
    """Cell start tags in `content` (not <cols>, <col ...>: the byte after the name must end it)."""
    return sum(content.count(cell_open + d) for d in (b" ", b">", b"/", b"\t", b"\r", b"\n"))


class _SheetScanner:
    """Finds error cells and uncalculated formula cells in a worksheet part fed in chunks.

    Work is done on `buf[:cut]` where `cut` is the start of the last cell in the buffer; that
    (possibly incomplete) cell is carried over to the next chunk, so no cell is ever split.
    Per chunk the common case (no errors, no formulas) costs one memchr for "#" (every error
    value starts with "#"), one regex scan for a rare literal "f", and one short rfind.
    Each hit is then checked against the real cell start tag (r, t attributes).
    """

    def __init__(self) -> None:
        self.carry = b""
        self.state = 0                   # 0 before <sheetData>, 1 inside, 2 done
        self.pat: _Patterns | None = None
        self.errors: dict[tuple[int, int], str] = {}
        self.uncalculated: set[tuple[int, int]] = set()
        self.needs_positional = False    # a hit without an r="A1" reference
        self.extent = _Extent()          # of the values outside A1:Z99999 (see _FAR_REF)

    def feed(self, chunk: bytes) -> None:
        if self.state == 2:
            return
        buf = self.carry + chunk if self.carry else chunk
        self.carry = b""
        if self.state == 0:
            m = _SHEETDATA.search(buf)
            if m is None:
                self.carry = buf[-256:]
                return
            self.pat = _Patterns(m.group(1) or b"")
            gt = buf.find(b">", m.end())
            if gt < 0:
                self.carry = buf[m.start():]
                return
            if buf[gt - 1:gt] == b"/":          # <sheetData/>
                self.state = 2
                return
            self.state = 1
            buf = buf[gt + 1:]
        cut = self._last_cell_start(buf)
        # </sheetData> follows the last cell, so it can only be in the carried tail
        end = buf.find(self.pat.sheetdata_close, max(cut, 0))
        if end >= 0:
            self._process(buf, 0, end)
            self.state = 2
            return
        if cut <= 0:
            if len(buf) > _MAX_CELL_CARRY:      # one giant "cell": hostile or broken, don't hoard it
                self._process(buf, 0, len(buf))
            else:
                self.carry = buf
            return
        self._process(buf, 0, cut)
        self.carry = buf[cut:]

    def close(self) -> None:
        if self.state == 1 and self.carry:
            self._process(self.carry, 0, len(self.carry))
        self.carry = b""
        self.state = 2

    def _last_cell_start(self, buf: bytes, lo: int = 0, hi: int | None = None) -> int:
        needle = self.pat.cell_open
        hi = len(buf) if hi is None else hi
        k = len(needle)
        while True:
            i = buf.rfind(needle, lo, hi)
            if i < 0:
                return -1
            if i + k < len(buf) and buf[i + k] in _CELL_DELIMS:
                return i
            hi = i + k - 1

    def _process(self, buf: bytes, lo: int, hi: int) -> None:
        i = buf.find(b"#", lo, hi)
        while i >= 0:
            if buf[i - 1] == 0x3E:                  # ">#": maybe <v>#DIV/0!</v>
                self._error_hit(buf, i, lo, hi)
            i = buf.find(b"#", i + 1, hi)
        lead = self.pat.f_lead
        k = len(lead)
        for m in self.pat.uncalc.finditer(buf, lo, hi):
            f_start = m.start() - k
            if f_start >= lo and buf.startswith(lead, f_start):
                self._uncalc_hit(buf, m, f_start, lo)
        for m in _FAR_REF.finditer(buf, lo, hi):
            self._far_hit(buf, m, lo, hi)

    def _far_hit(self, buf: bytes, m: re.Match, lo: int, hi: int) -> None:
        """A reference outside A1:Z99999: count it when its cell (or row) holds a value.

        When the end of the element is not in the buffer, it counts (the bound only errs upwards).
        """
        lt = buf.rfind(b"<", max(lo, m.start() - 4096), m.start())
        if lt < 0:
            return
        pat = self.pat
        k = lt + len(pat.cell_open)
        is_cell = buf.startswith(pat.cell_open, lt) and buf[k:k + 1] in (b" ", b"\t", b"\r", b"\n")
        k = lt + len(pat.row_open)
        is_row = buf.startswith(pat.row_open, lt) and buf[k:k + 1] in (b" ", b"\t", b"\r", b"\n")
        if not (is_cell or is_row):
            return
        gt = buf.find(b">", m.end(), hi)
        if gt >= 0 and buf[gt - 1] == 0x2F:            # <c .../> or <row .../>: no value
            return
        ref = m.group(1)
        if is_cell:
            if gt >= 0:
                end = buf.find(pat.cell_close, gt, hi)
                if end >= 0 and pat.value.search(buf, gt, end) is None:
                    return
            pos = a1_parse(ref)
            if pos is not None:
                self.extent.add(pos[0], pos[1], ref.decode("ascii"))
            return
        # a far row: it counts for its cells without r= (cells with one are hits themselves)
        gt = buf.find(b">", m.end()) if gt < 0 else gt
        if gt < 0 or not ref.isdigit() or not 1 <= int(ref) <= _MAX_ROW:
            return
        end = buf.find(pat.row_close, gt)
        content = buf[gt:end] if end >= 0 else buf[gt:]
        cells = _count_cells(content, pat.cell_open)
        positional = cells - content.count(pat.cell_open + b' r="')
        if positional > 0 and pat.value.search(content) is not None:
            width = cells if end >= 0 else _MAX_COL             # the rest of the row is unseen
            self.extent.add(int(ref) - 1, max(width, 1) - 1, "row " + ref.decode("ascii"))

    def _cell_tag(self, buf: bytes, child: int, lo: int, window: int) -> tuple[bytes, int] | None:
        """Start tag (and its end offset) of the cell whose content holds the child starting at `child`."""
        s = self._last_cell_start(buf, max(lo, child - window), child)
        if s < 0:
            return None
        gt = buf.find(b">", s, child)
        if gt < 0 or buf[gt - 1] == 0x2F:           # a self-closing <c/> is not our parent
            return None
        if buf.find(self.pat.cell_close, gt, child) >= 0:
            return None
        return buf[s:gt + 1], gt + 1

    def _position(self, tag: bytes) -> tuple[int, int] | None:
        ref = _attr_value(_ATTR_R, tag)
        if ref is None:
            self.needs_positional = True
            return None
        return a1_parse(ref)

    def _error_hit(self, buf: bytes, i: int, lo: int, hi: int) -> None:
        if not buf.startswith(self.pat.v_open, i - len(self.pat.v_open)):
            lt = buf.rfind(b"<", max(lo, i - 1024), i)  # <v ...attributes...>#
            if lt < 0:
                return
            tag = buf[lt + 1:i - 1]
            name = self.pat.v_name
            if not (tag.startswith(name) and tag[len(name):len(name) + 1] in (b" ", b"\t", b"\r", b"\n")):
                return                                  # the "#" is not the start of a <v> value
        else:
            lt = i - len(self.pat.v_open)
        found = self._cell_tag(buf, lt, lo, 65536)      # a formula may sit between <c> and <v>
        if found is None or (_attr_value(_ATTR_T, found[0]) or b"").strip() != b"e":
            return
        pos = self._position(found[0])
        if pos is None:
            return
        end = buf.find(b"<", i, hi)
        code = _text(buf[i:end if end >= 0 else hi])
        if code:
            self.errors[pos] = code

    def _uncalc_hit(self, buf: bytes, m: re.Match, f_start: int, lo: int) -> None:
        found = self._cell_tag(buf, f_start, lo, 4096)
        if found is None:
            return
        tag, tag_end = found
        if tag_end != f_start and buf[tag_end:f_start].strip():
            return                                      # the <f> is not the first child of the cell
        if m.group("v") is not None and (_attr_value(_ATTR_T, tag) or b"").strip() == b"str":
            return                                      # a calculated empty-string result
        pos = self._position(tag)
        if pos is not None:
            self.uncalculated.add(pos)


def scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, max_cells: int = Limits.max_cells,
                utf16: set | None = None):
    """(error cells, uncalculated cells, extent) of one worksheet part; the extent is exact when
    its quick bound exceeds `max_cells`."""
    scanner = _SheetScanner()
    guard = PrologGuard(info.filename)
    for chunk in to_utf8(iter_member(zf, info, budget), utf16, info.filename):
        guard.feed(chunk)
        scanner.feed(chunk)
    guard.close()
    scanner.close()
    extent = scanner.extent
    if extent.bound > max_cells:
        extent = _extent_scan(zf, info) or extent
    if scanner.needs_positional:
        found = _positional_scan(zf, info)
        if found is not None:
            return (*found, extent)
    return scanner.errors, scanner.uncalculated, extent


class _ChunkReader:
    """A minimal binary file object over an iterator of chunks (for iterparse)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if self._pos >= len(self._buf):
            self._buf, self._pos = next(self._chunks, b""), 0
        if n < 0:
            out = self._buf[self._pos:] + b"".join(self._chunks)
            self._buf, self._pos = b"", 0
            return out
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out


def _iter_cells(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[tuple[int, int, object]]:
    """(row0, col0, element) of every cell, positioned as calamine does: a row without r is the
    previous row + 1; a cell without r is the previous cell + 1 (first: column A).  The element
    is cleared once the caller has looked at it.  Raises ParseError for a malformed part."""
    budget = Budget(Limits(max_total_bytes=info.file_size))   # sizes were already verified
    row, col = -1, -1
    sheet_data = None
    source = _ChunkReader(iter_member(zf, info, budget))
    for event, el in SafeET.iterparse(source, events=("start", "end"), forbid_dtd=True):
        tag = local(el.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = el
            elif tag == "row":
                r = el.get("r")
                row = int(r) - 1 if r and r.strip().isdigit() else row + 1
                col = -1
            elif tag == "c":
                pos = a1_parse(el.get("r", "").encode("ascii", "replace")) if el.get("r") else None
                if pos is None:
                    col += 1
                else:
                    row, col = pos
            continue
        if tag == "c":
            yield row, col, el
            el.clear()
        elif tag == "row" and sheet_data is not None:
            sheet_data.clear()


def _extent_scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Extent | None:
    """The exact extent of the cells holding a value (None when the part is not well-formed XML)."""
    extent = _Extent(exact=True)
    try:
        for row, col, el in _iter_cells(zf, info):
            for kid in el:
                name = local(kid.tag)
                if name == "is" or (name == "v" and (kid.text or "").strip()):
                    extent.add(row, col, _rc_to_ref(row, col))
                    break
    except ParseError:
        return None
    return extent


def _rc_to_ref(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def _positional_scan(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    """Slow path for sheets whose cells lack r="A1": walk every row and cell like calamine does.

    A row without r is the previous row + 1; a cell without r is the previous cell + 1 (first: column A).
    Returns None when the part is not well-formed XML (calamine may still read it; the caller then
    keeps the fast scan's findings, which skip cells without a reference).
    """
    errors: dict[tuple[int, int], str] = {}
    uncalculated: set[tuple[int, int]] = set()
    try:
        for row, col, el in _iter_cells(zf, info):
            kids = {local(k.tag): k for k in el}
            t = (el.get("t") or "").strip()
            v = kids.get("v")
            value = (v.text or "").strip() if v is not None else ""
            if t == "e" and value:
                errors[(row, col)] = value
            elif "f" in kids and not value and not (t == "str" and v is not None):
                uncalculated.add((row, col))
    except ParseError:
        return None
    return errors, uncalculated
