"""The one atomic-replace sequence every writer ends with (`install`): a finished, fsynced temp
file beside the target gets its permission bits, the target is checked once more, its current
version is kept as a backup, and the temp file takes its place (`os.replace` + fsync of the
folder — or, for a new file, a hard link that never replaces one). On any failure the temp file
is removed and the target is untouched.

`write_tabs`, `write_new`, `restore` and the put-back after a failed check all go through here.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Callable

from ..errors import NAME_TAKEN, SourceError, WRITE_FAILED
from . import safety

__all__ = ["install", "put_back", "unlink_quietly"]

_NO_LINK = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}


def unlink_quietly(p: Path | None) -> None:
    if p is None:
        return
    try:
        os.unlink(p)
    except OSError:
        pass


def install(tmp: Path, path: Path, *, mode: os.stat_result | int | None = None, backup_dir: Path | None = None,
            check: Callable[[], None] | None = None, new: bool = False) -> Path | None:
    """Put the finished temp file `tmp` in `path`'s place; return the backup kept (or None).

    1. `tmp` gets the permission bits of `mode`: the stat of the file it replaces (owner too,
       as root), bits for a new file, or None to leave them;
    2. `check()` (the target is still the one we read: CHANGED …);
    3. with `backup_dir`, the current version is kept there (WRITE_FAILED when it cannot be),
       and `check()` runs again — if it fails, the backup goes;
    4. `os.replace` + fsync of the folder; `new`: `path` must not exist (NAME_TAKEN) and a hard
       link puts the file there, so an existing file is never replaced.
    """
    backup = None
    try:
        if isinstance(mode, int):
            os.chmod(tmp, mode)
        elif mode is not None:
            safety.copy_mode(mode, tmp)
        if check is not None:
            check()
        if backup_dir is not None:
            try:
                backup = safety.make_backup(path, backup_dir)
            except OSError as exc:
                raise SourceError(WRITE_FAILED, f"cannot keep a backup in {backup_dir}: {exc.strerror or exc}") from None
            if check is not None:
                try:
                    check()
                except SourceError:
                    unlink_quietly(backup)
                    raise
        if new:
            _place_new(tmp, path)
        else:
            safety.replace(tmp, path)
    except BaseException:
        unlink_quietly(tmp)
        raise
    return backup


def _place_new(tmp: Path, target: Path) -> None:
    """Move the finished temp file to `target`, which must not exist (a hard link cannot
    replace a file; where links are not supported, a check just before the replace)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target) from None
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        if os.path.lexists(target):
            raise SourceError(NAME_TAKEN, "a file of that name is already there", path=target) from None
        safety.replace(tmp, target)
        return
    unlink_quietly(tmp)
    safety.fsync_dir(target.parent)


def put_back(backup: Path | None, path: Path) -> None:
    """Put `backup` back in `path`'s place (after a check of the written file failed)."""
    if backup is None:
        return
    install(safety.copy_to_temp(backup, path), path, mode=os.stat(backup))
