"""File safety for writers: lock files of open workbooks, temp files, backups, atomic replace.

Nothing here knows about the workbook format; `inplace.py`, `sidecar.py` and `atomic.py` compose these steps:

    check_writable(path)         PERMISSION unless this user may replace the file (called before any write)
    find_lock(path)              who holds the workbook open in Excel / LibreOffice (or None)
    lock_of(path)                … with how long (a `Lock`, whose `describe()` the LOCKED message carries)
    check_backup(backup, path)   BAD_BACKUP unless `backup` is a workbook of the kind of `path`
    remove_stale_temps(path)     temp files left by a run that was killed
    temp_path(path)              `.NAME.cw-tmp-<pid>` in the same folder (same file system)
    make_backup(path, dir)       a hard link (or an atomic copy) of the current version
    replace(tmp, path)           os.replace + fsync of the folder
    prune_backups(path, keep)    keep the newest `keep` backups

Backups live in `backup_dir` (default `.campaignwatch-backups` beside the workbook) and are
named `NAME.YYYYmmddTHHMMSSffffff.xlsx` (the workbook's own extension), so sorting by name is
sorting by age.
"""
from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
import stat
import time
from pathlib import Path

__all__ = [
    "check_writable", "check_backup", "Lock", "lock_of", "describe_age", "DEFAULT_STALE_HOURS", "find_lock", "excel_owner_name", "libreoffice_lock_name", "temp_path", "open_temp", "copy_to_temp",
    "remove_stale_temps", "default_backup_dir", "list_backups", "make_backup", "prune_backups", "copy_mode", "fsync_dir",
    "replace", "file_stat", "default_mode", "BACKUP_DIR_NAME",
]

BACKUP_DIR_NAME = ".campaignwatch-backups"
_TEMP_MARK = ".cw-tmp-"
_UNKNOWN = "an unknown user"
DEFAULT_STALE_HOURS = 72          # output.stale_lock_hours: a workbook left open over a weekend is still open


# --------------------------------------------------------------------------- permission

def check_writable(path: str | os.PathLike) -> None:
    """Raise PERMISSION unless campaignwatch may replace `path`: called before anything is written.

    Refused: a file whose mode grants its owner no write permission (0444 — people make a
    workbook read-only on purpose, and root would replace it regardless, so the mode bits are
    judged, not `os.access` alone); a file this user may not write; a folder in which this user
    may not create the temporary copy and replace the file. A path that does not exist yet
    only needs a writable folder.
    """
    from ..errors import PERMISSION, SourceError
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except PermissionError:
        raise SourceError(PERMISSION, f"cannot look at {path}", path=path) from None
    if st is not None and stat.S_ISREG(st.st_mode):
        if not st.st_mode & stat.S_IWUSR:
            raise SourceError(PERMISSION, f"the file is read-only (mode {stat.S_IMODE(st.st_mode):04o})",
                              path=path)
        if not os.access(path, os.W_OK):
            raise SourceError(PERMISSION, "this user may not write the file", path=path)
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SourceError(PERMISSION, f"this user may not create files in {folder}", path=path)


# --------------------------------------------------------------------------- lock files

def _lock_candidates(path: Path) -> list[Path]:
    # Excel: "~$" + the full file name (Word shortens long names; Excel does not).
    # LibreOffice: ".~lock." + the full file name + "#".
    return [path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")]


class Lock:
    """Who holds a workbook open, and for how long (by the lock file's modification time)."""

    def __init__(self, holder: str, seconds: float):
        self.holder, self.seconds = holder, max(0.0, seconds)

    def describe(self) -> str:
        """e.g. "locked by Chen Chen for 2 days 3 hours" (the LOCKED error's detail)."""
        return f"locked by {self.holder} for {describe_age(self.seconds)}"


def describe_age(seconds: float) -> str:
    """A duration as people say it: "2 days 3 hours", "5 hours", "12 minutes", "less than a minute"."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60

    def n(v: int, unit: str) -> str:
        return f"{v} {unit}" + ("" if v == 1 else "s")
    if days:
        return n(days, "day") + (f" {n(hours, 'hour')}" if hours else "")
    if hours:
        return n(hours, "hour") + (f" {n(mins, 'minute')}" if mins else "")
    return n(mins, "minute") if mins else "less than a minute"


def lock_of(path: str | os.PathLike, stale_hours: float | None = DEFAULT_STALE_HOURS) -> Lock | None:
    """Whoever has `path` open in Excel or LibreOffice and since when, or None.

    A lock file older than `stale_hours` (by its modification time) is taken as left over
    from a crash and ignored; the default keeps a workbook left open over a long weekend
    locked. When the lock file holds no readable name, the holder is "an unknown user"
    (still a lock).
    """
    path = Path(path)
    now = time.time()
    for lock in _lock_candidates(path):
        try:
            st = lock.stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        age = now - st.st_mtime
        if stale_hours is not None and age > stale_hours * 3600:
            continue
        try:
            with open(lock, "rb") as fh:
                data = fh.read(4096)
        except OSError:
            return Lock(_UNKNOWN, age)      # exists but unreadable (Windows keeps it open exclusively)
        if lock.name.startswith("~$"):
            name = excel_owner_name(data)
        else:
            name = libreoffice_lock_name(data)
        return Lock(name or _UNKNOWN, age)
    return None


def find_lock(path: str | os.PathLike, stale_hours: float | None = DEFAULT_STALE_HOURS) -> str | None:
    """The name of whoever has `path` open in Excel or LibreOffice, or None (see `lock_of`)."""
    lock = lock_of(path, stale_hours)
    return None if lock is None else lock.holder


def _printable(text: str) -> bool:
    return bool(text) and all(ch.isprintable() for ch in text)


def excel_owner_name(data: bytes) -> str:
    """The user name in an Excel owner file (`~$Book.xlsx`), or "".

    Layout: byte 0 = length n of the name in the legacy ("ANSI") code page, bytes 1..n the
    name, padding to offset 54; from there a UTF-16LE copy (2-byte length, then the name).
    The UTF-16 copy is preferred because the legacy code page is unknown here.
    """
    if not data:
        return ""
    # UTF-16LE copy: a 16-bit character count followed by that many characters, near offset 54.
    for at in (54, 55, 53, 56, 52):
        if at + 2 > len(data):
            continue
        n = int.from_bytes(data[at:at + 2], "little")
        if not 0 < n <= 256 or at + 2 + 2 * n > len(data):
            continue
        try:
            text = data[at + 2:at + 2 + 2 * n].decode("utf-16-le").strip()
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return text
    # ... or without the count: up to a NUL character or the space padding
    for at in (56, 54, 55, 57):
        chunk = data[at:at + 512]
        chars = []
        for i in range(0, len(chunk) - 1, 2):
            unit = chunk[i:i + 2]
            if unit in (b"\x00\x00", b"  "):     # NUL, or the space padding (U+2020 is no name)
                break
            chars.append(unit)
        try:
            text = b"".join(chars).decode("utf-16-le").strip()
        except UnicodeDecodeError:
            continue
        if len(text) >= 2 and _printable(text) and not text.isspace():
            return text
    n = data[0]
    raw = data[1:1 + n].rstrip(b" \x00")
    if n and len(raw) <= n:
        for enc in ("utf-8", "gbk", "cp1252"):
            try:
                text = raw.decode(enc).strip()
            except UnicodeDecodeError:
                continue
            if _printable(text):
                return text
    return ""


def _split_lo(line: str) -> list[str]:
    """LibreOffice lock-file fields: ',' separated, ';' ends the record, '\\' escapes."""
    fields, cur, esc = [], [], False
    for ch in line:
        if esc:
            cur.append(ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == ",":
            fields.append("".join(cur))
            cur = []
        elif ch == ";":
            break
        else:
            cur.append(ch)
    fields.append("".join(cur))
    return fields


def libreoffice_lock_name(data: bytes) -> str:
    """The user in a LibreOffice lock file (`.~lock.Book.xlsx#`), or "".

    Content: `FormalName,UserName,host,dd.mm.yyyy hh:mm,file:///profile;`. The formal name
    (Tools › Options › User Data) is often empty; then the second field is used.
    """
    for enc in ("utf-8", "gbk", "latin-1"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    fields = [f.strip() for f in _split_lo(text.lstrip("\ufeff").splitlines()[0] if text.strip() else "")]
    for f in fields[:2]:
        if _printable(f):
            return f
    return ""


# --------------------------------------------------------------------------- temp files

def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TEMP_MARK}{os.getpid()}")


def open_temp(path: Path):
    """Create `temp_path(path)` exclusively, readable by us only until `copy_mode` (a binary file object)."""
    check_writable(path)                  # never a byte written for a workbook we may not replace
    tmp = temp_path(path)
    try:
        os.unlink(tmp)                        # our own leftover from an earlier failure in this process
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    return os.fdopen(fd, "wb")


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":            # os.kill(pid, 0) terminates processes on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_temps(path: Path, max_age_hours: float = 24) -> list[Path]:
    """Delete `.NAME.cw-tmp-<pid>` files whose process is gone (or that are older than a day)."""
    removed = []
    prefix = f".{path.name}{_TEMP_MARK}"
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        tail = entry.name[len(prefix):]
        pid = int(tail) if tail.isdigit() else None
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > max_age_hours * 3600
        except OSError:
            continue
        if pid == os.getpid() or pid is None or old or not _pid_alive(pid):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


# --------------------------------------------------------------------------- durability

def fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_mode(st: os.stat_result, target: Path) -> None:
    """Give `target` the permission bits of `st` (and, as root, its owner; best effort)."""
    os.chmod(target, stat.S_IMODE(st.st_mode))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            os.chown(target, st.st_uid, st.st_gid)
        except OSError:
            pass


def default_mode() -> int:
    """Permission bits a new file gets here (0o666 minus the umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def replace(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    fsync_dir(path.parent)


def file_stat(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


# --------------------------------------------------------------------------- backups

def default_backup_dir(path: Path) -> Path:
    return path.parent / BACKUP_DIR_NAME


def _backup_re(path: Path) -> re.Pattern:
    return re.compile(re.escape(path.stem) + r"\.(\d{8}T\d{12})" + re.escape(path.suffix) + r"\Z")


def list_backups(path: str | os.PathLike, backup_dir: str | os.PathLike | None = None) -> list[Path]:
    """Backups of `path`, newest first."""
    path = Path(path)
    folder = Path(backup_dir) if backup_dir is not None else default_backup_dir(path)
    pattern = _backup_re(path)
    try:
        names = [e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
    except OSError:
        return []
    found = [(m.group(1), n) for n in names if (m := pattern.match(n))]
    return [folder / n for _, n in sorted(found, reverse=True)]


def _fresh_backup_name(path: Path, folder: Path) -> Path:
    stamp = dt.datetime.now()
    while True:
        candidate = folder / f"{path.stem}.{stamp.strftime('%Y%m%dT%H%M%S%f')}{path.suffix}"
        if not os.path.lexists(candidate):
            return candidate
        stamp += dt.timedelta(microseconds=1)


def make_backup(path: Path, backup_dir: Path | None = None, *, link: bool = True) -> Path:
    """Keep the current version of `path` as a new backup and return it.

    A hard link costs nothing and stays valid because writers replace the workbook with a new
    file (a new inode) rather than rewriting it in place; `link=False` (or a folder on another
    file system) copies instead, to a temporary name first so a crash never leaves half a backup.
    """
    folder = Path(backup_dir) if backup_dir is not None else default_backup_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    target = _fresh_backup_name(path, folder)
    if link:
        try:
            os.link(path, target)
            fsync_dir(folder)
            return target
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EMLINK,
                                 getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)) and os.name != "nt":
                raise
    part = target.with_name(target.name + ".part")
    try:
        with open(path, "rb") as src, open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(path, part)
        os.replace(part, target)
    except BaseException:
        try:
            os.unlink(part)
        except OSError:
            pass
        raise
    fsync_dir(folder)
    return target


def copy_to_temp(src: Path, path: Path) -> Path:
    """A private, fsynced copy of `src` beside `path` (for an atomic restore)."""
    tmp = temp_path(path)
    try:
        with open(src, "rb") as fin, open_temp(path) as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return tmp


def prune_backups(path: Path, keep: int, backup_dir: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups of `path`; return the deleted ones."""
    removed = []
    for old in list_backups(path, backup_dir)[max(keep, 0):]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass
    return removed


# --------------------------------------------------------------------------- restore

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_PARTS = {".xlsx": ("xl/workbook.xml",), ".xlsm": ("xl/workbook.xml",), ".xlsb": ("xl/workbook.bin",)}


def check_backup(backup: str | os.PathLike, path: str | os.PathLike) -> None:
    """Raise BAD_BACKUP unless `backup` is a workbook of the same kind as `path`: the same
    extension, and for .xlsx/.xlsm/.xlsb a zip package with `[Content_Types].xml` and a workbook
    part (.ods: a zip package with its mimetype; .xls: an OLE compound file)."""
    import zipfile
    from ..errors import BAD_BACKUP, SourceError
    backup, path = Path(backup), Path(path)
    suffix = path.suffix.lower()
    if backup.suffix.lower() != suffix:
        raise SourceError(BAD_BACKUP, f"a {backup.suffix or 'extension-less'} file cannot replace a "
                                      f"{path.suffix or 'extension-less'} workbook", path=backup)
    try:
        with open(backup, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise SourceError(BAD_BACKUP, exc.strerror or str(exc), path=backup) from None
    if suffix == ".xls":
        if head != _OLE_MAGIC:
            raise SourceError(BAD_BACKUP, "it is not an Excel 97-2003 file", path=backup)
        return
    try:
        with zipfile.ZipFile(backup) as zf:
            names = set(zf.namelist())
            if suffix == ".ods":
                ok = "mimetype" in names and "content.xml" in names
            else:
                parts = _WORKBOOK_PARTS.get(suffix, ("xl/workbook.xml",))
                ok = "[Content_Types].xml" in names and any(p in names for p in parts)
            if ok and zf.testzip() is not None:
                raise SourceError(BAD_BACKUP, "it is damaged", path=backup)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise SourceError(BAD_BACKUP, "it is not a workbook package (zip)", path=backup) from None
    if not ok:
        raise SourceError(BAD_BACKUP, "it holds no workbook", path=backup)
