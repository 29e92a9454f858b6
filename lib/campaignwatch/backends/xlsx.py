"""Local workbooks: .xlsx/.xlsm read with python-calamine and written in place by zip surgery
(`write/xlsx.py`); .xls/.xlsb/.ods read, their generated tabs in a sidecar
`NAME.campaignwatch.xlsx` beside them."""
from __future__ import annotations

import glob
from pathlib import Path

from . import NotSupported, Source, Written


class XlsxBackend:
    name = "xlsx"

    def read(self, source: Source, cfg):
        from ..read.workbook import read_workbook
        from ..pipeline import limits
        return read_workbook(source.location, limits(cfg))

    def stat(self, source: Source) -> tuple[int, int] | None:
        """(size, mtime_ns) now: a write refuses a file that changed since it was read."""
        p = Path(source.location)
        try:
            st = p.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def write(self, source: Source, tabs, cfg, *, expect=None, create: bool = False) -> Written:
        """Into the workbook in place (a .xls/.xlsb/.ods: into its sidecar); `create`: a workbook
        that does not exist yet is made (the dashboard), never replacing one that appeared."""
        from ..write import xlsx
        path = Path(source.location)
        opts = {"backups": cfg["output.backups"], "stale_hours": cfg["output.stale_lock_hours"]}
        if create and not path.exists():
            return Written(str(xlsx.write_new(path, tabs, stale_hours=opts["stale_hours"]).path))
        if path.suffix.lower() in xlsx.SIDECAR_SOURCES:
            out = xlsx.write_sidecar(path, tabs, **opts)
        else:
            out = xlsx.write_tabs(path, tabs, expect_stat=expect, **opts)
        return Written(str(out.path), out.backup)

    def clean(self, source: Source, cfg) -> Written | None:
        from ..write import xlsx
        path = Path(source.location)
        opts = {"backups": cfg["output.backups"], "stale_hours": cfg["output.stale_lock_hours"]}
        if path.suffix.lower() in xlsx.SIDECAR_SOURCES:       # read-only formats: our tabs live in the sidecar
            out = xlsx.clean_sidecar(path, **opts)
            return None if out is None else Written(str(out.path), out.backup, removed=not out.path.exists())
        out = xlsx.write_tabs(path, [], remove_only=True, **opts)
        return Written(str(out.path), out.backup)

    def backups(self, source: Source, cfg) -> list[Path]:
        from ..write import xlsx
        return xlsx.list_backups(Path(source.location))

    def restore(self, source: Source, cfg, backup: Path | None = None) -> Path:
        from ..write import xlsx
        path = Path(source.location)
        if path.suffix.lower() in xlsx.SIDECAR_SOURCES:
            raise NotSupported(f"{path.name} is never written (its generated tabs are in "
                               f"{xlsx.sidecar_path(path).name}): nothing to restore")
        return xlsx.restore(path, backup, backups=cfg["output.backups"], stale_hours=cfg["output.stale_lock_hours"])

    def expand(self, source: Source, cfg) -> list[Source]:
        """A glob's workbooks, sorted (lock files and our sidecars are not sources). A glob that
        matches nothing stays itself, so it fails as `missing` instead of quietly leaving the run."""
        pattern = str(cfg.resolve(source.location))
        if not glob.has_magic(pattern):
            return [Source("file", pattern, pattern)]
        matches = sorted(p for p in glob.glob(pattern) if not Path(p).name.startswith(("~$", ".~lock"))
                         and not p.endswith(".campaignwatch.xlsx"))
        return [Source("file", m, m) for m in matches] or [Source("file", pattern, pattern)]

    def link(self, source: Source, cell: str, from_folder: Path | None) -> str | None:
        """A path relative to the dashboard's folder (so both can move together) and the cell."""
        import os
        if from_folder is None:
            return None
        rel = os.path.relpath(source.location, from_folder).replace(os.sep, "/")
        return f"{rel}#{cell}" if cell else rel
