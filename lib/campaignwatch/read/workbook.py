"""Read a workbook file into plain grids with python-calamine (its own API, the fast path).

The package is inspected first (`package.inspect`): it refuses broken and hostile files
with one clear `SourceError`, and finds what calamine hands over as empty strings —
formula error cells and formulas without a calculated value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from ..names import is_generated
from . import package
from .package import SourceError


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

    @property
    def writable(self) -> bool:
        return self.kind in ("xlsx", "xlsm", "gsheet")


def read_workbook(path: str | Path, limits: package.Limits | None = None) -> RawWorkbook:
    path = Path(path)
    info = package.inspect(path, limits or package.Limits())
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise SourceError(package.ENCRYPTED, path=path) from None
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as exc:
        raise SourceError(package.NOT_A_WORKBOOK, _first_line(exc), path=path) from None
    sheets, generated = [], []
    try:
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue
            if is_generated(meta.name):
                generated.append(meta.name)
                continue
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            sheets.append(Sheet(meta.name, rows, info.error_cells.get(meta.name, {}),
                                info.uncalculated_cells.get(meta.name, set())))
    except Exception as exc:  # calamine raises several unrelated types for damaged parts
        raise SourceError(package.NOT_A_WORKBOOK, _first_line(exc), path=path) from None
    finally:
        book.close()
    return RawWorkbook(path, info.kind, info.date1904, sheets, generated)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
