"""One generated tab (`TabSpec`) rendered as a worksheet part (`sheet_xml`): inline strings,
Excel date serials, fills and links by style index, frozen header, filter and protection.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from decimal import Decimal

from ..a1 import column_letter, quote_tab
from ..errors import CampaignwatchError
from ..tabspec import FORMATS, TabSpec
from .package import NS_MAIN, NS_REL, TAB_COLOR
from .parts import esc_attr, esc_text
from .styles import FILL_RGB


_MAX_TEXT = 32767               # Excel's limit on characters in a cell


class TabTooLarge(CampaignwatchError, ValueError):
    """A TabSpec that does not fit in a worksheet (a programming error upstream)."""


ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
esc_text = esc_text
esc_attr = esc_attr


def _esc_cell_text(text: str) -> str:
    # Excel decodes _xHHHH_ in strings; escape a literal one as _x005F_xHHHH_
    if "_x" in text:
        text = _XESCAPE.sub(r"_x005F_\1", text)
    return esc_text(text)


_D1900 = dt.date(1899, 12, 30)
_D1904 = dt.date(1904, 1, 1)
_LEAP_BUG_END = dt.date(1900, 3, 1)
_FIRST_1900 = dt.date(1900, 1, 1)


def _serial(v: dt.date, date1904: bool) -> float | int | None:
    """Excel serial number of a date/datetime, or None when Excel cannot show it."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.replace(tzinfo=None)
        day = v.date()
        frac = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    else:
        day, frac = v, 0
    if date1904:
        days = (day - _D1904).days
        if days < 0:
            return None
    else:
        if day < _FIRST_1900:
            return None
        days = (day - _D1900).days - (1 if day < _LEAP_BUG_END else 0)
    return days + frac if frac else days





def _link_location(target: str) -> str:
    target = target.strip().lstrip("#")
    bang = target.rfind("!")
    if bang <= 0:
        return target
    sheet, ref = target[:bang], target[bang + 1:]
    if not (sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2):
        sheet = quote_tab(sheet, always=True)
    return f"{sheet}!{ref}"


def _is_nan(v) -> bool:
    try:
        return v != v
    except Exception:  # noqa: BLE001
        return False


def _is_external(link: str) -> bool:
    """A link to another file or a URL (`teams/a.xlsx#'Expenses'!E7`, `https://…`), not a cell here."""
    target = link.split("#", 1)[0]
    return "://" in target or target.lower().endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"))


def sheet_xml(tab: TabSpec, xf: dict, date1904: bool, selected: bool, flavor: str,
               external: list[tuple[str, str]] | None = None) -> bytes:
    """Our sheet part. External links add (relationship id, target) to `external`; the
    caller writes them into the sheet's relationships part."""
    h = tab.header_row
    ncols = max(len(tab.header), max((len(r) for r in tab.rows), default=0), len(tab.formats), 1)
    last_row = h + len(tab.rows)
    if last_row > 1_048_576 or ncols > 16_384:
        raise TabTooLarge(f"tab {tab.name!r} is larger than a worksheet ({last_row} rows, {ncols} columns)")
    last_col = column_letter(ncols - 1)
    formats = [tab.formats[c] if c < len(tab.formats) and tab.formats[c] in FORMATS else "text"
               for c in range(ncols)]
    cols = [column_letter(c) for c in range(ncols)]
    fills, links = tab.fills, tab.links
    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    w(f'<worksheet xmlns="{NS_MAIN[flavor]}" xmlns:r="{NS_REL[flavor]}">')
    w(f'<sheetPr><tabColor rgb="{TAB_COLOR}"/></sheetPr>')
    w(f'<dimension ref="A1:{last_col}{last_row}"/>')
    sel = ' tabSelected="1"' if selected else ""
    w(f'<sheetViews><sheetView{sel} workbookViewId="0">'
      f'<pane ySplit="{h}" topLeftCell="A{h + 1}" activePane="bottomLeft" state="frozen"/>'
      f'<selection pane="bottomLeft" activeCell="A{h + 1}" sqref="A{h + 1}"/></sheetView></sheetViews>')
    w('<sheetFormatPr defaultRowHeight="15"/>')
    w("<cols>")
    for c, width in enumerate(tab.column_widths(ncols)):
        w(f'<col min="{c + 1}" max="{c + 1}" width="{width + 0.71:.2f}" customWidth="1"/>')
    w("</cols><sheetData>")

    s_title = xf[("text", None, "title")]
    s_text = xf[("text", None, "cell")]
    s_head = xf[("text", None, "header")]
    for i, line in enumerate(tab.title):
        if line is None or line == "":
            continue
        s = s_title if i == 0 else s_text
        w(f'<row r="{i + 1}"><c r="A{i + 1}" s="{s}" t="inlineStr"><is><t xml:space="preserve">'
          f'{_esc_cell_text(str(line)[:_MAX_TEXT])}</t></is></c></row>')
    w(f'<row r="{h}">')
    for c in range(ncols):
        text = tab.header[c] if c < len(tab.header) else None
        if text is None or text == "":
            w(f'<c r="{cols[c]}{h}" s="{s_head}"/>')
        else:
            w(f'<c r="{cols[c]}{h}" s="{s_head}" t="inlineStr"><is><t xml:space="preserve">'
              f'{_esc_cell_text(str(text)[:_MAX_TEXT])}</t></is></c>')
    w("</row>")

    hyperlinks: list[str] = []
    marked_rows = {ri for ri, _ in fills} | {ri for ri, _ in links}
    plain = [xf[(formats[c], None, "cell")] for c in range(ncols)]
    for ri, row in enumerate(tab.rows):
        r = h + 1 + ri
        w(f'<row r="{r}">')
        marked = ri in marked_rows
        for c in range(ncols):
            v = row[c] if c < len(row) else None
            if not marked:                                   # no fill, no link: the fast common case
                t = type(v)
                if t is int:
                    w(f'<c r="{cols[c]}{r}" s="{plain[c]}"><v>{v}</v></c>')
                    continue
                if t is str and v and (v.isascii() and v.isalnum()):
                    w(f'<c r="{cols[c]}{r}" s="{plain[c]}" t="inlineStr"><is><t xml:space="preserve">{v[:_MAX_TEXT]}</t></is></c>')
                    continue
            fill = fills.get((ri, c)) if fills else None
            if fill not in FILL_RGB:
                fill = None
            link = links.get((ri, c)) if links else None
            role = "link" if link else "cell"
            ref = f"{cols[c]}{r}"
            fmt = formats[c]
            body = None
            t = type(v)
            if v is None or (t is str and v == ""):
                pass
            elif t is int:                                   # the common types first, by exact type
                body = f"><v>{v}</v></c>"
            elif t is float and math.isfinite(v):
                body = f"><v>{v!r}</v></c>"
            elif t is str and (v.isascii() and v.isalnum() or v.isdigit()):
                body = f' t="inlineStr"><is><t xml:space="preserve">{v[:_MAX_TEXT]}</t></is></c>'
            elif isinstance(v, str):
                body = f' t="inlineStr"><is><t xml:space="preserve">{_esc_cell_text(v[:_MAX_TEXT])}</t></is></c>'
            elif isinstance(v, bool) or type(v).__name__ == "bool_":
                body = f' t="b"><v>{1 if v else 0}</v></c>'
            elif isinstance(v, Decimal):
                if v.is_finite():
                    body = f"><v>{format(v, 'f')}</v></c>"
                elif not v.is_nan():
                    body = f' t="inlineStr"><is><t>{"-" if v < 0 else ""}∞</t></is></c>'
            elif isinstance(v, dt.date):
                if not _is_nan(v):
                    serial = _serial(v, date1904)
                    if fmt not in ("date", "datetime"):
                        fmt = "datetime" if isinstance(v, dt.datetime) else "date"
                    if serial is None:
                        body = f' t="inlineStr"><is><t>{esc_text(v.isoformat())}</t></is></c>'
                        fmt = "text"
                    else:
                        body = f"><v>{serial!r}</v></c>"
            elif isinstance(v, numbers.Integral):
                body = f"><v>{int(v)}</v></c>"
            elif isinstance(v, numbers.Real):
                fv = float(v)
                if math.isfinite(fv):
                    body = f"><v>{fv!r}</v></c>"
                elif not math.isnan(fv):
                    body = f' t="inlineStr"><is><t>{"-" if fv < 0 else ""}∞</t></is></c>'
            else:
                body = f' t="inlineStr"><is><t xml:space="preserve">{_esc_cell_text(str(v)[:_MAX_TEXT])}</t></is></c>'
            s = xf[(fmt, fill, role)]
            if body is not None:
                w(f'<c r="{ref}" s="{s}"{body}')
            elif fill or link:
                w(f'<c r="{ref}" s="{s}"/>')
            if link:
                disp = f' display="{esc_attr((v if isinstance(v, str) else str(v))[:255])}"' if body else ""
                if external is not None and _is_external(link):
                    target, _, location = link.partition("#")
                    rid = f"rIdcwL{len(external) + 1}"
                    external.append((rid, target))
                    loc = f' location="{esc_attr(_link_location(location))}"' if location else ""
                    hyperlinks.append(f'<hyperlink ref="{ref}" r:id="{rid}"{loc}{disp}/>')
                else:
                    hyperlinks.append(f'<hyperlink ref="{ref}" location="{esc_attr(_link_location(link))}"{disp}/>')
        w("</row>")
    w("</sheetData>")
    w('<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0" '
      'autoFilter="0" sort="0"/>')
    w(f'<autoFilter ref="A{h}:{last_col}{last_row}"/>')
    if hyperlinks:
        w("<hyperlinks>")
        out.extend(hyperlinks)
        w("</hyperlinks>")
    w('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    w("</worksheet>")
    return "".join(out).encode("utf-8")


def filter_range(tab: TabSpec) -> str:
    h = tab.header_row
    ncols = max(len(tab.header), max((len(r) for r in tab.rows), default=0), len(tab.formats), 1)
    return f"{quote_tab(tab.name, always=True)}!$A${h}:${column_letter(ncols - 1)}${h + len(tab.rows)}"
