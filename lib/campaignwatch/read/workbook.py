"""Read a workbook file into plain grids with python-calamine (its own API, the fast path).

The package is inspected first (`package.inspect`): it refuses broken and hostile files
with one clear `SourceError`, and finds what calamine hands over as empty strings —
formula error cells and formulas without a calculated value — and bounds each tab's grid
(`Limits.max_cells`) before calamine allocates it.  Whatever calamine raises, including a
Rust panic (pyo3's PanicException, a BaseException), becomes one `SourceError` of this
source; KeyboardInterrupt, SystemExit and GeneratorExit still propagate.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from ..errors import SourceError
from ..names import is_generated
from . import package, tidy_copy


@dataclass
class Sheet:
    name: str
    rows: list[list]                                   # row 0 is the sheet's row 1
    errors: dict[tuple[int, int], str] = field(default_factory=dict)      # (row0, col0) -> "#DIV/0!"
    uncalculated: set[tuple[int, int]] = field(default_factory=set)


@dataclass
class RawWorkbook:
    path: Path | str           # a file, or "gsheet:ID" for a Google Sheet
    kind: str                  # xlsx, xlsm, xls, xlsb, ods, gsheet
    date1904: bool
    sheets: list[Sheet]
    generated: list[str]       # names of our own generated tabs found in it
    serial_dates: bool = False  # dates arrive as serial numbers (Google's API): shown as dates where recognised

    @property
    def writable(self) -> bool:
        return self.kind in ("xlsx", "xlsm", "gsheet")


def read_workbook(path: str | Path, limits: package.Limits | None = None) -> RawWorkbook:
    path = Path(path)
    limits = limits or package.Limits()
    info = package.inspect(path, limits)
    try:
        if info.layout:          # e.g. the workbook part not at xl/workbook.xml: calamine reads a tidied copy
            book = calamine.CalamineWorkbook.from_filelike(tidy_copy.calamine_copy(path))
        else:
            book = calamine.CalamineWorkbook.from_path(str(path))
    except SourceError:
        raise
    except calamine.PasswordError:
        raise SourceError(package.ENCRYPTED, path=path) from None
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as exc:
        raise _reader_error(exc, info) from None
    except _FATAL:
        raise
    except BaseException as exc:  # noqa: BLE001 - a panic in calamine (pyo3 PanicException) is a BaseException
        raise _reader_error(exc, info) from None
    sheets, generated = [], []
    try:
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue
            if is_generated(meta.name):
                generated.append(meta.name)
                continue
            sheet = book.get_sheet_by_name(meta.name)
            grid = (sheet.end[0] + 1) * (sheet.end[1] + 1) if sheet.height else 0
            if grid > limits.max_cells:       # the scan above covers .xlsx/.xlsm; this the other formats
                raise SourceError(package.TOO_LARGE, f"tab '{meta.name}': a grid of {grid:,} cells, "
                                                     f"limits.max_cells is {limits.max_cells:,}", path=path)
            rows = sheet.to_python(skip_empty_area=False)
            sheets.append(Sheet(meta.name, rows, info.error_cells.get(meta.name, {}),
                                info.uncalculated_cells.get(meta.name, set())))
    except SourceError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for damaged parts
        raise _reader_error(exc, info) from None
    except _FATAL:
        raise
    except BaseException as exc:  # noqa: BLE001 - a panic in calamine (pyo3 PanicException)
        raise _reader_error(exc, info) from None
    finally:
        book.close()
    return RawWorkbook(path, info.kind, info.date1904, sheets, generated)


# Never turned into a source error: the user or the interpreter wants to stop.
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _reader_error(exc: BaseException, info: package.PackageInfo) -> SourceError:
    """calamine's refusal as one source error: a damaged OLE2 structure (.xls) is `damaged`; any
    other Exception means the file is not a workbook we can read; a panic (a BaseException such
    as pyo3's PanicException) in a sound file is calamine's fault: `internal`."""
    text = _first_line(exc)
    if info.damaged or text.startswith("Cfb error"):
        return SourceError(package.DAMAGED, info.damaged or text.removeprefix("Cfb error: "), path=info.path)
    if not isinstance(exc, Exception):
        return package.internal(exc, info.path)
    return SourceError(package.NOT_A_WORKBOOK, text, path=info.path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


_EPOCH = dt.datetime(1899, 12, 30)
_MAX_SERIAL = 2958466              # 10000-01-01


def serial_to_python(v: float) -> dt.date | dt.datetime | None:
    """A serial number as calamine gives a date cell: a date, or a datetime when it has a time."""
    if not (1 <= v < _MAX_SERIAL) or not math.isfinite(v):
        return None
    days = math.floor(v)
    seconds = round((v - days) * 86400)
    if seconds >= 86400:
        days, seconds = days + 1, 0
    when = _EPOCH + dt.timedelta(days=days, seconds=seconds)
    return when if seconds else when.date()
