"""Writing into the user's own .xlsx/.xlsm (`write_tabs`), and putting a backup back
(`restore`, `list_backups`): the checks around a write (lock, changed since read, writable) and
the order plan → emit → verify → install → verify again.
"""
from __future__ import annotations

import os
import stat as stat_mod
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import (
    CHANGED, LOCKED, MISSING, NOT_A_WORKBOOK, PERMISSION, TRUNCATED, UNSUPPORTED, WRITE_FAILED, SourceError,
)
from ..tabspec import TabSpec
from . import safety
from .atomic import install, put_back, unlink_quietly
from .emit import emit
from .package import Malformed
from .plan import make_plan, validate_tabs
from .sheet_xml import TabTooLarge
from .verify import verify


IN_PLACE = (".xlsx", ".xlsm")


@dataclass
class WriteResult:
    path: Path
    backup: Path | None
    tabs: list[str]                 # tabs written (remove_only: tabs removed)
    seconds: float


def with_path(exc: SourceError, path: Path) -> SourceError:
    if exc.path is None:
        exc.path = path
    return exc


def _stat(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(MISSING, str(path), path=path) from None
    except PermissionError:
        raise SourceError(PERMISSION, str(path), path=path) from None
    if not stat_mod.S_ISREG(st.st_mode):
        raise SourceError(NOT_A_WORKBOOK, "it is not a regular file", path=path)
    return st


def check_lock(path: Path, stale_hours: float) -> None:
    lock = safety.lock_of(path, stale_hours)
    if lock is not None:
        raise SourceError(LOCKED, lock.describe(), path=path)


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def _check_same(path: Path, expect: tuple[int, int, int]) -> None:
    """CHANGED unless the file is still the one we read (size, mtime and inode: a save replaces it)."""
    try:
        now = _identity(os.stat(path))
    except FileNotFoundError:
        raise SourceError(CHANGED, "it was moved or deleted", path=path) from None
    if now != tuple(expect):
        raise SourceError(CHANGED, "", path=path)


def write_tabs(path: str | os.PathLike, tabs: list[TabSpec], *, expect_stat: tuple[int, int] | None = None,
               backups: int = 5, backup_dir: str | os.PathLike | None = None, remove_only: bool = False,
               stale_hours: float = safety.DEFAULT_STALE_HOURS, sidecar: bool = False) -> WriteResult:
    """Put `tabs` into the workbook at `path` (replacing our earlier tabs), leaving everything else as it was.

    `remove_only` (clean): remove our tabs and whatever we added to the package (the list of
    our tabs, a styles part the workbook did not have). `sidecar`: the workbook must be one
    campaignwatch created (`write_new`), else NAME_TAKEN.

    Raises SourceError: LOCKED, CHANGED, NAME_TAKEN, WRITE_FAILED, and the reading codes
    (MISSING, PERMISSION, TRUNCATED, NOT_A_WORKBOOK, ENCRYPTED, HOSTILE_XML, UNSUPPORTED …).
    """
    t0 = time.perf_counter()
    path = Path(path)
    if path.is_symlink():                         # replace the file, not the link
        check_lock(path, stale_hours)
        path = Path(os.path.realpath(path))
    if path.suffix.lower() not in IN_PLACE:
        raise SourceError(UNSUPPORTED, f"{path.suffix or 'this'} files are not written in place; "
                                       f"campaignwatch writes {_sidecar_name(path)} beside it", path=path)
    if not remove_only:
        validate_tabs(tabs)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(path)
    st = _stat(path)
    safety.check_writable(path)
    check_lock(path, stale_hours)
    base = _identity(st)
    if expect_stat is not None and tuple(expect_stat) != base[:2]:
        raise SourceError(CHANGED, "", path=path)
    safety.remove_stale_temps(path)
    tmp = safety.temp_path(path)
    backup = None
    try:
        try:
            src = open(path, "rb")
        except PermissionError:
            raise SourceError(PERMISSION, str(path), path=path) from None
        with src:
            if _identity(os.fstat(src.fileno())) != base:
                raise SourceError(CHANGED, "", path=path)
            try:
                plan = make_plan(src, tabs, remove_only, sidecar=sidecar)
            except Malformed as exc:
                raise SourceError(NOT_A_WORKBOOK, f"campaignwatch cannot edit its structure: {exc}") from None
            except (zipfile.BadZipFile, EOFError, struct.error, zlib.error) as exc:
                raise SourceError(TRUNCATED, str(exc)) from None
            except (SourceError, TabTooLarge, MemoryError):
                raise
            except UnicodeError as exc:
                raise SourceError(NOT_A_WORKBOOK, f"a part is not readable text: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - a malformed workbook must never produce a traceback
                raise SourceError(NOT_A_WORKBOOK, f"unexpected {type(exc).__name__}: {exc}") from None
            if plan.noop:
                return WriteResult(path, None, [], time.perf_counter() - t0)
            try:
                with safety.open_temp(path) as out:
                    emit(src, plan, out)
                    out.flush()
                    os.fsync(out.fileno())
            except PermissionError:
                raise SourceError(PERMISSION, f"cannot create a file in {path.parent}") from None
            except OSError as exc:
                raise SourceError(WRITE_FAILED, exc.strerror or str(exc)) from None
            except (zipfile.BadZipFile, EOFError, struct.error) as exc:
                raise SourceError(TRUNCATED, str(exc)) from None
        verify(tmp, plan)
        check_lock(path, stale_hours)
        backup = install(tmp, path, mode=st, backup_dir=bdir, check=lambda: _check_same(path, base))
    except SourceError as exc:
        unlink_quietly(tmp)
        raise with_path(exc, path)
    except BaseException:
        unlink_quietly(tmp)
        raise
    try:
        verify(path, plan)
    except SourceError as exc:
        put_back(backup, path)
        raise with_path(exc, path)
    if backups <= 0:
        unlink_quietly(backup)
        backup = None
    else:
        safety.prune_backups(path, backups, bdir)
    return WriteResult(path, backup, plan.written if not remove_only else plan.removed, time.perf_counter() - t0)


def _sidecar_name(path: Path) -> str:
    from .sidecar import sidecar_path          # sidecar.py builds on write_tabs
    return sidecar_path(path).name


def list_backups(path: str | os.PathLike, backup_dir: str | os.PathLike | None = None) -> list[Path]:
    """Backups of `path` kept by `write_tabs`/`restore`, newest first."""
    return safety.list_backups(Path(path), backup_dir)


def restore(path: str | os.PathLike, backup: str | os.PathLike | None = None,
            backup_dir: str | os.PathLike | None = None, *, backups: int = 5,
            stale_hours: float = safety.DEFAULT_STALE_HOURS) -> Path:
    """Put back the newest (or the chosen) backup of `path`, atomically; returns the backup used.

    The current file is backed up first, so a restore can itself be undone.
    """
    path = Path(path)
    bdir = Path(backup_dir) if backup_dir is not None else safety.default_backup_dir(path)
    if backup is None:
        found = safety.list_backups(path, bdir)
        if not found:
            raise SourceError(MISSING, f"no backup in {bdir}", path=path)
        chosen = found[0]
    else:
        chosen = Path(backup)
        if not chosen.is_file():
            raise SourceError(MISSING, str(chosen), path=chosen)
    safety.check_backup(chosen, path)
    if path.exists():
        check_lock(path, stale_hours)
    safety.remove_stale_temps(path)
    tmp = safety.copy_to_temp(chosen, path)
    try:
        st = path.stat() if path.exists() else None
    except BaseException:
        unlink_quietly(tmp)
        raise
    install(tmp, path, mode=st, backup_dir=bdir if st is not None else None)
    safety.prune_backups(path, max(backups, 1), bdir)
    return chosen
