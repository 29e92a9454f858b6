"""Write generated tabs (`TabSpec`) into people's .xlsx/.xlsm workbooks without touching theirs.

The workbook is never loaded and saved by a spreadsheet library (openpyxl drops images, form
controls, sparklines, text boxes, slicers …). Instead the zip package is rebuilt member by
member:

* every member that is not ours and that we do not edit is copied **raw**: its compressed
  bytes are streamed unchanged behind a fresh local header, so CRC-32 and sizes are identical
  (`emit.copy_raw`); user sheets are never even decompressed;
* four small parts are **parsed** and edited as trees (`parts.py`: expat under defusedxml's
  policy; an element nothing changed in is written back as its own bytes, so prefixes,
  namespaces, `mc:Ignorable`, extension lists and comments survive, and removing what was
  inserted gives back the original bytes): `xl/workbook.xml` (the `<sheet>` entries,
  `<definedNames>`, `<workbookView>` indices), `xl/_rels/workbook.xml.rels`,
  `[Content_Types].xml` and `xl/styles.xml` (append-only: user cells keep their style
  indices; our entries are reused by exact text, so the part does not grow run after run);
* our tabs are serialised (`sheet_xml.py`) as sheet parts `xl/worksheets/cw_sheetN.xml` with inline
  strings (sharedStrings.xml is never touched, and text such as "=SUM(A1)" stays text).

**Which tabs are ours.** Each run lists the tabs it wrote in workbook-scoped hidden defined
names `_cw_tab_1`, `_cw_tab_2` … whose values refer to the tabs by name
(`'cw» Summary'!$A$1`). A tab is ours when its name starts with `names.MARK` *and* one of
those names refers to it. Excel and LibreOffice keep defined names when they save, renumber
parts and relationship ids but rewrite the references (a renamed tab stays referred to, a
deleted one becomes `#REF!`), so the list survives a re-save; a *copy* of one of our tabs
(Excel's or LibreOffice's "copy sheet", which keeps the name prefix, the tab colour and the
sheet-scoped names) is not referred to by the workbook-scoped list — Excel gives the copy
sheet-scoped duplicates, which do not count — so it is the team's: kept by `sync` and
`clean`, refused (NAME_TAKEN) only if it has exactly a name we must write. A workbook written
before the list existed (no `_cw_tab_N` name at all) is read by the old rule, narrowed to
the exact generated names (`names.is_known`, so copies named "… (2)" are the team's): the
sheet-scoped hidden `_cw_generated` name, a part named `cw_sheet*.xml`, or the grey tab
colour FF7F7F7F.

Workbooks campaignwatch creates (`write_new`: the sidecar, the dashboard) carry a
workbook-scoped hidden name `_cw_created`; an existing sidecar without it is not ours and is
never overwritten (`write_sidecar`: NAME_TAKEN).

Safety (see `safety.py` and `atomic.py`): refused while Excel/LibreOffice holds a lock file (LOCKED); refused
when the file changed since it was read (CHANGED, checked at the start and just before the
replace); written to `.NAME.cw-tmp-<pid>` in the same folder, fsynced, permissions copied,
verified (central directory of the copy against the original, edited parts read back and
re-parsed: every sheet has its relationship, every relationship resolves, our style indices
exist in `cellXfs`, the team's sheets and defined names are all there), the previous version
kept as a backup, then `os.replace` + fsync of the folder. A verification failure after the
replace puts the backup back and raises WRITE_FAILED.

Cell positions in `TabSpec.fills` / `TabSpec.links` are (index into `rows`, column index),
both zero-based. Links are internal (`'Tab'!E7`) and need no relationship part.

This module is the public entry point; the work is done in the modules beside it:

    package.py       the zip's members, where the workbook part is, the names we put in a package
    plan.py          what a write changes: tabs that are ours, parts dropped, edited, added
    workbook_xml.py  the edits of workbook.xml (sheets, defined names, views)
    styles.py        append-only styles.xml surgery, the palette and number formats
    sheet_xml.py     one TabSpec as a worksheet part
    emit.py          the plan written out as a zip (raw copies of untouched members)
    verify.py        the written file checked against the plan
    atomic.py        the one atomic-replace sequence (permissions, backup, replace)
    inplace.py       write_tabs, restore, list_backups
    sidecar.py       write_new, write_sidecar, clean_sidecar, sidecar_path
"""
from __future__ import annotations

from .inplace import IN_PLACE, WriteResult, list_backups, restore, write_tabs
from .package import TAB_COLOR
from .plan import OnlyGenerated
from .sheet_xml import TabTooLarge
from .sidecar import SIDECAR_SOURCES, clean_sidecar, sidecar_path, write_new, write_sidecar
from .styles import FILL_RGB, HEADER_RGB, LINK_RGB, NUMFMT_CODES

__all__ = ["WriteResult", "write_tabs", "restore", "list_backups", "sidecar_path", "write_sidecar", "clean_sidecar",
           "write_new", "IN_PLACE", "TAB_COLOR", "SIDECAR_SOURCES", "OnlyGenerated", "TabTooLarge",
           "FILL_RGB", "HEADER_RGB", "LINK_RGB", "NUMFMT_CODES"]
