"""Pre-flight inspection of a workbook file, before python-calamine touches it.

`inspect(path)` does two jobs calamine does not do for us:

1. It refuses broken and hostile files with one `SourceError` whose `code` is stable
   (see the module constants) and which `message(err, lang)` turns into one clear
   sentence: missing / unreadable files, wrong content for the extension, damaged
   (truncated) zips, password-protected workbooks, zip bombs (by declared ratio and
   total size, and by what the members *actually* inflate to), XML parts with a
   DOCTYPE/ENTITY declaration, unsupported extensions.  No other exception escapes
   `inspect` for a malformed file (KeyboardInterrupt and the like still do).

2. For .xlsx/.xlsm it streams every worksheet part once and finds the cells calamine
   hands over as empty strings: formula error cells (``<c t="e">…<v>#DIV/0!</v></c>``)
   and formula cells that have an ``<f>`` but no cached ``<v>`` (files written by
   openpyxl and friends that were never recalculated).  The same pass bounds each sheet's
   grid from the cells' own references (never ``<dimension ref>``): calamine allocates the
   whole grid from A1 to the farthest value, so a single value in XFD1048576 would need
   ~512 GB; a sheet whose grid exceeds `Limits.max_cells` is TOO_LARGE, naming the cell.

The workbook part is found through ``_rels/.rels`` (`workbook_part`), member names with
backslashes are accepted, and a package calamine cannot follow as it is (workbook part not
at xl/workbook.xml, a sheet part outside xl/worksheets/, Excel 4 macro sheets) gets
`PackageInfo.layout`; `tidy_copy.calamine_copy` then gives calamine a tidied copy.  An .xls whose
OLE2 structure our reader finds damaged is not refused here: `PackageInfo.damaged` says
what is wrong, and calamine decides (read_workbook raises DAMAGED if it cannot read it).

Coordinates are zero-based and *absolute*: A1 is (0, 0), B4 is (3, 1).  That is the
grid python-calamine returns with ``to_python(skip_empty_area=False)``; with the
default ``skip_empty_area=True`` subtract ``sheet.start``.  `error_cells` and
`uncalculated_cells` only hold sheets that have at least one such cell, so use
``.get(name, {})`` / ``.get(name, set())``.

Not detected: error cells and uncalculated formulas in .xls, .xlsb and .ods files
(those maps are always empty for these formats).  For .xls the BIFF DATEMODE record
gives `date1904` and a FILEPASS record means ENCRYPTED; for .xlsb the BrtWbProp record
gives `date1904`; .ods always reports ``date1904=False`` (ODS stores dates as ISO text).

This module holds `inspect`, its results (`Limits`, `PackageInfo`) and, for now, the source
error codes and messages; the checks themselves live beside it: `zipparts.py` (zip limits,
members, XML prologs), `ooxml.py` (.xlsx/.xlsm), `sheet_scan.py` (error cells, grid extent),
`xlsb_ods.py`, `ole.py` (.xls and encrypted OOXML) and `tidy_copy.py` (`calamine_copy`).
"""
from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml

from ..errors import (  # the catalogue of codes and messages lives in errors.py
    DAMAGED, ENCRYPTED, HOSTILE_XML, MISSING, NOT_A_WORKBOOK, NOT_CAMPAIGN, PERMISSION, TOO_LARGE, TRUNCATED,
    UNSUPPORTED, ZIP_BOMB, SourceError, internal, message, one_line,
)

__all__ = ["Limits", "PackageInfo", "inspect", "short_error", "sniff", "KINDS",
           # codes that read/workbook.py and pipeline.py still read as `package.X` (declared in errors.py)
           "DAMAGED", "ENCRYPTED", "HOSTILE_XML", "MISSING", "NOT_A_WORKBOOK", "NOT_CAMPAIGN", "PERMISSION",
           "TOO_LARGE", "TRUNCATED", "UNSUPPORTED", "ZIP_BOMB", "SourceError", "internal", "message", "one_line"]


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 2 * 1024**3      # total uncompressed
    max_ratio: int = 200                    # per member, checked only for members whose uncompressed size > 1 MiB
    max_members: int = 10000
    max_cells: int = 20_000_000             # rows x columns of one sheet's grid (from A1), ~45 bytes each


@dataclass
class PackageInfo:
    path: Path
    kind: str                 # "xlsx", "xlsm", "xls", "xlsb", "ods"
    date1904: bool            # from xl/workbook.xml <workbookPr date1904="1"|"true">
    sheet_parts: dict[str, str] = field(default_factory=dict)   # sheet name -> zip member path (xlsx/xlsm only)
    error_cells: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)   # sheet -> {(row0, col0): "#DIV/0!"}
    uncalculated_cells: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # sheet -> {(row0, col0)}
    # xlsx/xlsm laid out in a way python-calamine cannot follow (the workbook part not at
    # xl/workbook.xml, a sheet outside xl/worksheets/, an Excel 4 macro sheet): why; read it
    # through `calamine_copy(path)`.  Empty for a package in the usual layout.
    layout: str = ""
    # xls whose OLE2 structure our own reader found damaged (e.g. "sector 41 lies past the end
    # of the file"); calamine may still read it.  Empty when the structure is sound.
    damaged: str = ""



KINDS = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".xlsb": "xlsb", ".ods": "ods"}

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def inspect(path: str | Path, limits: Limits = Limits()) -> PackageInfo:
    """Check that `path` is a readable, non-hostile workbook and collect what calamine cannot tell us.

    Raises SourceError (and only SourceError) for anything wrong with the file.
    """
    try:
        p = Path(path)
    except TypeError as exc:
        raise SourceError(NOT_A_WORKBOOK, f"not a file path: {type(path).__name__}") from exc
    try:
        return _inspect(p, limits)
    except SourceError as exc:
        if exc.path is None:
            exc.path = p
        raise
    except (PermissionError, IsADirectoryError):
        raise SourceError(PERMISSION, str(p), path=p) from None
    except FileNotFoundError:
        raise SourceError(MISSING, str(p), path=p) from None
    except OSError as exc:
        raise SourceError(TRUNCATED, f"read error: {exc.strerror or exc}", path=p) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(TRUNCATED, short_error(exc), path=p) from None
    except defusedxml.DefusedXmlException as exc:
        raise SourceError(HOSTILE_XML, short_error(exc), path=p) from None
    except MemoryError:
        raise SourceError(TOO_LARGE, "ran out of memory while checking it", path=p) from None
    except Exception as exc:  # noqa: BLE001 - a malformed file must never produce a traceback
        raise SourceError(NOT_A_WORKBOOK, f"unexpected {type(exc).__name__}: {short_error(exc)}", path=p) from None


def short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return one_line(text[0]) if text else type(exc).__name__


def _inspect(p: Path, limits: Limits) -> PackageInfo:
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(MISSING, str(p)) from None
    except PermissionError:
        raise SourceError(PERMISSION, str(p)) from None
    except (OSError, ValueError) as exc:     # ENAMETOOLONG, ELOOP, embedded NUL ...
        raise SourceError(MISSING, short_error(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is not a regular file")
    ext = p.suffix.lower()
    kind = KINDS.get(ext)
    if kind is None:
        raise SourceError(UNSUPPORTED, f"{ext} file" if ext else "no file extension")
    if st.st_size == 0:
        raise SourceError(TRUNCATED, "the file is empty (0 bytes)")
    try:
        fh = open(p, "rb")
    except PermissionError:
        raise SourceError(PERMISSION, str(p)) from None
    from .ole import inspect_xls               # the format checks import this module's codes
    from .ooxml import inspect_ooxml
    from .xlsb_ods import inspect_zip_other
    with fh:
        head = fh.read(512)
        if p.name.startswith("~$") and not head.startswith((ZIP_MAGIC, OLE_MAGIC)):
            raise SourceError(NOT_A_WORKBOOK, "it is Excel's lock file for an open workbook, not the workbook")
        if kind in ("xlsx", "xlsm"):
            return inspect_ooxml(p, fh, kind, head, st.st_size, limits)
        if kind == "xls":
            return inspect_xls(p, fh, head, st.st_size)
        return inspect_zip_other(p, fh, kind, head, st.st_size, limits)


def sniff(head: bytes) -> str:
    """A short description of what the file seems to be, for NOT_A_WORKBOOK details."""
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "it is a zip file"
    if head.startswith(OLE_MAGIC):
        return "it is an old-style Office (OLE2) file"
    if head.startswith(b"%PDF"):
        return "it is a PDF"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<html" in head.lower() or b"<!doctype html" in head.lower() or b"<table" in head.lower():
            return "it is a web page (HTML) with a workbook extension"
        return "it is an XML or HTML text file with a workbook extension"
    try:
        sample = head.decode("utf-8")
    except UnicodeDecodeError:
        sample = ""
    if sample and all(ch.isprintable() or ch in "\r\n\t" for ch in sample):
        return "it is a plain text file (CSV?) with a workbook extension"
    return "its content is not a workbook"
