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

import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml

__all__ = [
    "SourceError", "Limits", "PackageInfo", "inspect", "message",
    "MISSING", "NOT_A_WORKBOOK", "TRUNCATED", "ENCRYPTED", "TOO_LARGE", "ZIP_BOMB",
    "HOSTILE_XML", "UNSUPPORTED", "PERMISSION", "DAMAGED", "CODES",
    "LOCKED", "CHANGED", "NAME_TAKEN", "WRITE_FAILED", "NOT_CAMPAIGN", "BAD_BACKUP",
]

# --------------------------------------------------------------------------- errors

MISSING = "missing"
NOT_A_WORKBOOK = "not_a_workbook"
TRUNCATED = "truncated"
ENCRYPTED = "encrypted"
TOO_LARGE = "too_large"
ZIP_BOMB = "zip_bomb"
HOSTILE_XML = "hostile_xml"
UNSUPPORTED = "unsupported"
PERMISSION = "permission"
DAMAGED = "damaged"          # the internal structure is broken, whoever made the copy
# writer codes (write/xlsx.py)
LOCKED = "locked"
CHANGED = "changed"
NAME_TAKEN = "name_taken"
WRITE_FAILED = "write_failed"
# a readable workbook without any table of the contract (pipeline.check_source): never written
NOT_CAMPAIGN = "not_campaign"
# `restore --backup FILE` where FILE is not a workbook of the same kind (write/safety.check_backup)
BAD_BACKUP = "bad_backup"
CODES = (MISSING, NOT_A_WORKBOOK, TRUNCATED, ENCRYPTED, TOO_LARGE, ZIP_BOMB,
         HOSTILE_XML, UNSUPPORTED, PERMISSION, DAMAGED,
         LOCKED, CHANGED, NAME_TAKEN, WRITE_FAILED, NOT_CAMPAIGN, BAD_BACKUP)


class SourceError(Exception):
    """One clear reason a source cannot be read or written. `code` is stable; `detail` is a short English fragment (e.g. the path or size).

    `path` (optional, keyword-only) is the file concerned; `message()` uses its name.
    `inspect()` always fills it in.  ``str(err)`` is the English `message()`.
    """

    def __init__(self, code: str, detail: str = "", *, path: str | os.PathLike | None = None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.path = path

    def __str__(self) -> str:
        return message(self, "en")


_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        MISSING: "{name} was not found{detail}: check the path and the file name, then run again.",
        NOT_A_WORKBOOK: "{name} is not a workbook campaignwatch can read{detail}: open it in Excel or "
                        "LibreOffice and save it as .xlsx, then run again.",
        TRUNCATED: "{name} is damaged or incomplete{detail}: download or copy it again (or open it in "
                   "Excel and save a new copy), then run again.",
        ENCRYPTED: "{name} is password-protected{detail}: remove the password (File › Info › Protect "
                   "Workbook) or save an unprotected copy, then run again.",
        TOO_LARGE: "{name} is too large to read safely{detail}: clear stray values far outside the "
                   "tables, delete unused sheets or split it into smaller workbooks, then run again.",
        ZIP_BOMB: "{name} was not opened because it unpacks to far more data than its size suggests, "
                  "the way malicious “zip bomb” files do{detail}: get a fresh copy from a trusted source.",
        HOSTILE_XML: "{name} was not opened because it contains XML declarations (DOCTYPE/ENTITY) that "
                     "can be used to attack the computer reading it{detail}: re-save it as .xlsx in Excel "
                     "or LibreOffice, or get a fresh copy from a trusted source.",
        UNSUPPORTED: "{name} is not a file type campaignwatch reads{detail}: save it as .xlsx (or .xlsm, "
                     ".xls, .xlsb, .ods), then run again.",
        PERMISSION: "{name} could not be opened or saved because access was denied{detail}: close it in "
                    "Excel if it is open and check your permissions on the file and its folder, then "
                    "run again.",
        DAMAGED: "The internal structure of {name} is damaged{detail}: if Excel or LibreOffice can open it, "
                 "save it there again (as .xlsx), then run again.",
        "": "{name} could not be read{detail}: open it in Excel or LibreOffice and save it as .xlsx, "
            "then run again.",
        LOCKED: "{name} is open in Excel or LibreOffice{detail}, so campaignwatch did not write to it: "
                "close it there (or ask that person to), then run again.",
        CHANGED: "{name} changed since campaignwatch read it{detail}; it was not overwritten: run again "
                 "to use the new version.",
        NAME_TAKEN: "{name} already has a tab with the name of a tab campaignwatch generates{detail}, and "
                    "campaignwatch did not make it: rename that tab, then run again.",
        WRITE_FAILED: "{name} could not be written safely{detail}; the previous version was kept: check "
                      "the free disk space and your permissions on its folder, then run again.",
        NOT_CAMPAIGN: "{name} has no tab campaignwatch recognises as a campaign table{detail}, so it was "
                      "neither checked nor written: check that this source is the right workbook (or name its "
                      "tabs as in `campaignwatch init`), then run again.",
        BAD_BACKUP: "{name} is not a backup of this workbook{detail}, so nothing was restored and the workbook "
                    "was left as it was: choose one listed by `campaignwatch restore --list`, then run again.",
    },
    "zh-CN": {
        MISSING: "找不到 {name}{detail}：请检查路径和文件名后重试。",
        NOT_A_WORKBOOK: "{name} 不是 campaignwatch 能读取的工作簿{detail}：请用 Excel 或 LibreOffice "
                        "打开并另存为 .xlsx 后重试。",
        TRUNCATED: "{name} 已损坏或不完整{detail}：请重新下载或复制（或用 Excel 打开后另存一份）后重试。",
        ENCRYPTED: "{name} 受密码保护{detail}：请取消密码（文件 › 信息 › 保护工作簿）或另存一份未加密的副本后重试。",
        TOO_LARGE: "{name} 太大，无法安全读取{detail}：请清除表格以外远处的零散数值、删除不用的工作表或拆分成较小的工作簿后重试。",
        ZIP_BOMB: "{name} 解压后的数据量远超其文件大小，与恶意“压缩炸弹”文件特征相同，因此未打开{detail}："
                  "请从可信来源重新获取该文件。",
        HOSTILE_XML: "{name} 含有可被用来攻击本机的 XML 声明（DOCTYPE/ENTITY），因此未打开{detail}："
                     "请用 Excel 或 LibreOffice 另存为 .xlsx，或从可信来源重新获取该文件。",
        UNSUPPORTED: "campaignwatch 不读取 {name} 这种文件类型{detail}：请另存为 .xlsx（或 .xlsm、.xls、"
                     ".xlsb、.ods）后重试。",
        PERMISSION: "无法打开或保存 {name}，访问被拒绝{detail}：如果它正在 Excel 中打开请先关闭，"
                    "并检查文件及其所在文件夹的权限后重试。",
        DAMAGED: "{name} 的内部结构已损坏{detail}：如果 Excel 或 LibreOffice 能打开它，请在其中重新保存（另存为 .xlsx）后重试。",
        "": "无法读取 {name}{detail}：请用 Excel 或 LibreOffice 打开并另存为 .xlsx 后重试。",
        LOCKED: "{name} 正在 Excel 或 LibreOffice 中打开{detail}，campaignwatch 未写入：请先关闭它"
                "（或请对方关闭）后重试。",
        CHANGED: "{name} 在 campaignwatch 读取后已被修改{detail}，因此未覆盖：请重新运行以使用新版本。",
        NAME_TAKEN: "{name} 中已有一个与 campaignwatch 生成的工作表同名、但并非由 campaignwatch 创建的工作表"
                    "{detail}：请将其改名后重试。",
        WRITE_FAILED: "{name} 无法安全写入{detail}，已保留原来的版本：请检查磁盘剩余空间以及对其所在文件夹的权限后重试。",
        NOT_CAMPAIGN: "{name} 中没有 campaignwatch 能识别的活动表格{detail}，因此既未检查也未写入：请确认该数据源是"
                      "正确的工作簿（或按 `campaignwatch init` 的模板命名工作表）后重试。",
        BAD_BACKUP: "{name} 不是该工作簿的备份{detail}，因此未做任何恢复，工作簿保持原样：请从 "
                    "`campaignwatch restore --list` 列出的备份中选择后重试。",
    },
}
_DEFAULT_NAME = {"en": "The file", "zh-CN": "该文件"}
_DETAIL_WRAP = {"en": " ({})", "zh-CN": "（{}）"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _one_line(text: str, limit: int = 200) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(err: SourceError, lang: str = "en") -> str:
    """One sentence (no newline) saying what is wrong with the file and what to do; `lang` is "en" or "zh-CN"."""
    key = "zh-CN" if str(lang).lower().replace("_", "-").startswith("zh") else "en"
    code = getattr(err, "code", "")
    template = _MESSAGES[key].get(code) or _MESSAGES[key][""]
    path = getattr(err, "path", None)
    name = _one_line(os.path.basename(os.fspath(path))) if path else ""
    name = name or _DEFAULT_NAME[key]
    detail = _one_line(str(getattr(err, "detail", "") or ""))
    if code not in _MESSAGES[key] and code:
        detail = f"{code}: {detail}" if detail else str(code)
    detail = _DETAIL_WRAP[key].format(detail) if detail else ""
    return template.format(name=name, detail=detail)


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


one_line = _one_line          # shared with the format checks (the catalogue above stays as it is)

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
    return _one_line(text[0]) if text else type(exc).__name__


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


# --------------------------------------------------------------------------- Google Sheets codes (gsheets/)

AUTH = "auth"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
QUOTA = "quota"
UNREACHABLE = "unreachable"
REJECTED = "rejected"
CODES += (AUTH, NOT_FOUND, FORBIDDEN, QUOTA, UNREACHABLE, REJECTED)
__all__ += ["AUTH", "NOT_FOUND", "FORBIDDEN", "QUOTA", "UNREACHABLE", "REJECTED"]
_MESSAGES["en"].update({
    AUTH: "{name} could not be opened because campaignwatch could not sign in to Google{detail}: check that "
          "google.credentials (or GOOGLE_APPLICATION_CREDENTIALS) names the JSON key of a service account, then run again.",
    NOT_FOUND: "{name} was not found on Google Sheets{detail}: check the spreadsheet ID or link, then run again.",
    FORBIDDEN: "{name} could not be opened with the service account{detail}: share the spreadsheet with the "
               "service account's e-mail as Editor (and enable the Google Sheets API in its project), then run again.",
    QUOTA: "{name} was not processed because the Google Sheets API quota was used up even after retries{detail}: "
           "run again in a minute, or lower google.requests_per_minute.",
    UNREACHABLE: "{name} was not processed because the Google Sheets API could not be reached or did not answer "
                 "in time{detail}: check the network and google.api_url, then run again.",
    REJECTED: "{name} was not changed because the Google Sheets API refused campaignwatch's request{detail}: "
              "run again, and report it if it happens again.",
})
_MESSAGES["zh-CN"].update({
    AUTH: "无法打开 {name}，campaignwatch 未能登录 Google{detail}：请检查 google.credentials（或 "
          "GOOGLE_APPLICATION_CREDENTIALS）是否指向服务账号的 JSON 密钥文件后重试。",
    NOT_FOUND: "在 Google 表格中找不到 {name}{detail}：请检查表格 ID 或链接后重试。",
    FORBIDDEN: "服务账号无权打开 {name}{detail}：请将该表格以“编辑者”身份共享给服务账号的邮箱（并在其项目中启用 "
               "Google Sheets API）后重试。",
    QUOTA: "Google Sheets API 配额已用完，重试后仍未成功，因此未处理 {name}{detail}：请一分钟后重试，或调低 "
           "google.requests_per_minute。",
    UNREACHABLE: "无法连接 Google Sheets API 或其未及时响应，因此未处理 {name}{detail}：请检查网络和 "
                 "google.api_url 后重试。",
    REJECTED: "Google Sheets API 拒绝了 campaignwatch 的请求，{name} 未被修改{detail}：请重试，如再次出现请报告。",
})

# A fault of campaignwatch itself while processing one source: reported for that source
# (exit 3) so the other sources are still processed.
INTERNAL = "internal"
CODES += (INTERNAL,)
__all__ += ["INTERNAL"]
_MESSAGES["en"][INTERNAL] = ("{name} was not processed because campaignwatch failed unexpectedly{detail}: "
                             "the other sources were processed; please report this with the file if you can.")
_MESSAGES["zh-CN"][INTERNAL] = ("campaignwatch 处理 {name} 时意外出错{detail}：其他数据源已正常处理；"
                                "如可能，请附上该文件报告此问题。")


def internal(exc: BaseException, path=None) -> SourceError:
    """An unexpected exception as this source's one clear failure (no traceback)."""
    text = str(exc).strip().splitlines()
    return SourceError(INTERNAL, f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__, path=path)
