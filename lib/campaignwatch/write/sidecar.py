"""Workbooks campaignwatch creates: the sidecar `NAME.campaignwatch.xlsx` beside a .xls/.xlsb/.ods
source (`write_sidecar`, `clean_sidecar`) and any new workbook holding only our tabs
(`write_new`, also used for the dashboard). A created workbook carries the `_cw_created` mark.
"""
from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from ..errors import (
    ENCRYPTED, HOSTILE_XML, NAME_TAKEN, NOT_A_WORKBOOK, PERMISSION, TOO_LARGE, TRUNCATED, WRITE_FAILED, SourceError,
)
from ..tabspec import TabSpec
from . import safety
from .atomic import install, unlink_quietly
from .emit import emit
from .inplace import WriteResult, check_lock, with_path, write_tabs
from .package import CREATED_NAME, CT_STYLES, CT_WORKBOOK, NS_CT, NS_MAIN, NS_PKG_REL, NS_REL
from .plan import OnlyGenerated, make_plan, validate_tabs
from .styles import base_styles
from .verify import verify


SIDECAR_SOURCES = (".xls", ".xlsb", ".ods")      # read, never written: our tabs go to NAME.campaignwatch.xlsx


def sidecar_path(path: str | os.PathLike) -> Path:
    """Where the generated tabs go for a workbook we do not write in place: NAME.campaignwatch.xlsx."""
    path = Path(path)
    return path.with_name(f"{path.stem}.campaignwatch.xlsx")


def _empty_package() -> bytes:
    """A workbook package with no sheet at all (our tabs make it valid)."""
    ns, rel = NS_MAIN["transitional"], NS_REL["transitional"]
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{NS_CT}"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT_WORKBOOK}"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{ns}" xmlns:r="{rel}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets></sheets>'
            f'<definedNames><definedName name="{CREATED_NAME}" hidden="1">"campaignwatch"</definedName></definedNames>'
            '<calcPr calcId="191029"/></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" Type="{rel}/styles" '
            'Target="styles.xml"/></Relationships>'),
    }
    parts["xl/styles.xml"] = base_styles("transitional")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                        compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_sidecar(path: str | os.PathLike, tabs: list[TabSpec], *, backups: int = 5,
                  backup_dir: str | os.PathLike | None = None, stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult:
    """Write `tabs` into `sidecar_path(path)`: a new workbook the first time; afterwards the
    sidecar is a workbook like any other (the team's tabs kept, a backup kept). A file of that
    name that campaignwatch did not make (no `_cw_created` mark, or not a workbook at all) is
    left alone: NAME_TAKEN."""
    target = sidecar_path(path)
    if not os.path.lexists(target):
        try:
            return write_new(target, tabs, stale_hours=stale_hours)
        except SourceError as exc:
            if exc.code != NAME_TAKEN:          # NAME_TAKEN: the file appeared meanwhile; look at it
                raise
    try:
        return write_tabs(target, tabs, backups=backups, backup_dir=backup_dir, stale_hours=stale_hours,
                          sidecar=True)
    except SourceError as exc:
        if exc.code in (NOT_A_WORKBOOK, TRUNCATED, ENCRYPTED, HOSTILE_XML, TOO_LARGE):
            raise SourceError(NAME_TAKEN, "it is not a workbook campaignwatch made", path=target) from None
        raise


def clean_sidecar(path: str | os.PathLike, *, backups: int = 5, backup_dir: str | os.PathLike | None = None,
                  stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult | None:
    """`clean` for a .xls/.xlsb/.ods source: its sidecar loses our tabs — and when it holds
    nothing else (the usual case), the sidecar itself goes, after a backup like any write. None
    when there is no sidecar. A file of that name that is not ours: NAME_TAKEN, untouched."""
    target = sidecar_path(path)
    if not os.path.lexists(target):
        return None
    t0 = time.perf_counter()
    try:
        return write_tabs(target, [], remove_only=True, backups=backups, backup_dir=backup_dir,
                          stale_hours=stale_hours, sidecar=True)
    except OnlyGenerated:
        pass
    except SourceError as exc:
        if exc.code in (NOT_A_WORKBOOK, TRUNCATED, ENCRYPTED, HOSTILE_XML, TOO_LARGE):
            raise SourceError(NAME_TAKEN, "it is not a workbook campaignwatch made", path=target) from None
        raise
    check_lock(target, stale_hours)
    safety.check_writable(target)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(target)
    try:
        backup = safety.make_backup(target, bdir) if backups > 0 else None
        target.unlink()
        safety.fsync_dir(target.parent)
    except OSError as exc:
        raise SourceError(WRITE_FAILED, f"cannot remove it: {exc.strerror or exc}", path=target) from None
    if backups > 0:
        safety.prune_backups(target, backups, bdir)
    return WriteResult(target, backup, [], time.perf_counter() - t0)


def write_new(target: str | os.PathLike, tabs: list[TabSpec], *, stale_hours: float = safety.DEFAULT_STALE_HOURS) -> WriteResult:
    """Create a workbook holding only `tabs` at `target`, atomically; it carries the
    `_cw_created` mark. An existing file is never replaced (NAME_TAKEN): write into it with
    `write_tabs` (or `write_sidecar`)."""
    t0 = time.perf_counter()
    target = Path(target)
    if not tabs:
        raise ValueError("a sidecar workbook needs at least one tab")
    validate_tabs(tabs)
    if os.path.lexists(target):
        raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target)
    plan = make_plan(io.BytesIO(_empty_package()), tabs, False)
    safety.remove_stale_temps(target)
    tmp = safety.temp_path(target)
    try:
        src = io.BytesIO(_empty_package())
        with safety.open_temp(target) as out:
            emit(src, plan, out)
            out.flush()
            os.fsync(out.fileno())
        verify(tmp, plan)
        install(tmp, target, mode=safety.default_mode(), new=True)
    except PermissionError:
        unlink_quietly(tmp)
        raise SourceError(PERMISSION, f"cannot write in {target.parent}", path=target) from None
    except SourceError as exc:
        unlink_quietly(tmp)
        raise with_path(exc, target)
    except OSError as exc:
        unlink_quietly(tmp)
        raise SourceError(WRITE_FAILED, exc.strerror or str(exc), path=target) from None
    except BaseException:
        unlink_quietly(tmp)
        raise
    return WriteResult(target, None, plan.written, time.perf_counter() - t0)
