"""campaignwatch's exceptions and the catalogue of source errors.

`CampaignwatchError` is the base of every exception the package raises on purpose
(`ConfigError`, `HistoryError`, `Locked`, `SourceError`, …; each stays in the module that
raises it, except `SourceError`, which lives here with its codes).

`SourceError` is one clear reason a source cannot be read or written, with a stable `code`.
`CATALOGUE` declares every code once — reading (`read/`), writing (`write/`), Google Sheets
(`gsheets/`) and `internal` (a fault of campaignwatch itself on one source) — with what went
wrong and what to do, in English and Chinese. `message(err, lang)` says it in one sentence.
"""
from __future__ import annotations

import os
import re

from .catalogue import Entry, fill, index
from .i18n import text

__all__ = [
    "CampaignwatchError", "SourceError", "CATALOGUE", "CODES", "message", "internal",
    "MISSING", "NOT_A_WORKBOOK", "TRUNCATED", "ENCRYPTED", "TOO_LARGE", "ZIP_BOMB", "HOSTILE_XML",
    "UNSUPPORTED", "PERMISSION", "DAMAGED", "LOCKED", "CHANGED", "NAME_TAKEN", "WRITE_FAILED",
    "NOT_CAMPAIGN", "BAD_BACKUP", "AUTH", "NOT_FOUND", "FORBIDDEN", "QUOTA", "UNREACHABLE",
    "REJECTED", "INTERNAL",
]


class CampaignwatchError(Exception):
    """The base of campaignwatch's own exceptions."""


# --------------------------------------------------------------------------- codes

# reading (read/package.py, read/workbook.py, pipeline.check_source)
MISSING = "missing"
NOT_A_WORKBOOK = "not_a_workbook"
TRUNCATED = "truncated"
ENCRYPTED = "encrypted"
TOO_LARGE = "too_large"
ZIP_BOMB = "zip_bomb"
HOSTILE_XML = "hostile_xml"
UNSUPPORTED = "unsupported"
PERMISSION = "permission"    # reading or writing
DAMAGED = "damaged"          # the internal structure is broken, whoever made the copy
# writing (write/)
LOCKED = "locked"
CHANGED = "changed"
NAME_TAKEN = "name_taken"
WRITE_FAILED = "write_failed"
# a readable workbook without any table of the contract (pipeline.check_source): never written
NOT_CAMPAIGN = "not_campaign"
# `restore --backup FILE` where FILE is not a workbook of the same kind (write/safety.check_backup)
BAD_BACKUP = "bad_backup"
# Google Sheets (gsheets/)
AUTH = "auth"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
QUOTA = "quota"
UNREACHABLE = "unreachable"
REJECTED = "rejected"
# a fault of campaignwatch itself while processing one source: reported for that source
# (exit 3) so the other sources are still processed
INTERNAL = "internal"

# --------------------------------------------------------------------------- catalogue
# `en`/`zh` say what is wrong ({name} is the file, {detail} the bracketed detail);
# `fix_en`/`fix_zh` what to do. `message` joins them with a colon.

_E = "error"

CATALOGUE: dict[str, Entry] = index(
    Entry(MISSING, _E,
          "{name} was not found{detail}",
          "找不到 {name}{detail}",
          "check the path and the file name, then run again.",
          "请检查路径和文件名后重试。"),
    Entry(NOT_A_WORKBOOK, _E,
          "{name} is not a workbook campaignwatch can read{detail}",
          "{name} 不是 campaignwatch 能读取的工作簿{detail}",
          "open it in Excel or LibreOffice and save it as .xlsx, then run again.",
          "请用 Excel 或 LibreOffice 打开并另存为 .xlsx 后重试。"),
    Entry(TRUNCATED, _E,
          "{name} is damaged or incomplete{detail}",
          "{name} 已损坏或不完整{detail}",
          "download or copy it again (or open it in Excel and save a new copy), then run again.",
          "请重新下载或复制（或用 Excel 打开后另存一份）后重试。"),
    Entry(ENCRYPTED, _E,
          "{name} is password-protected{detail}",
          "{name} 受密码保护{detail}",
          "remove the password (File › Info › Protect Workbook) or save an unprotected copy, then run again.",
          "请取消密码（文件 › 信息 › 保护工作簿）或另存一份未加密的副本后重试。"),
    Entry(TOO_LARGE, _E,
          "{name} is too large to read safely{detail}",
          "{name} 太大，无法安全读取{detail}",
          "clear stray values far outside the tables, delete unused sheets or split it into smaller "
          "workbooks, then run again.",
          "请清除表格以外远处的零散数值、删除不用的工作表或拆分成较小的工作簿后重试。"),
    Entry(ZIP_BOMB, _E,
          "{name} was not opened because it unpacks to far more data than its size suggests, the way "
          "malicious “zip bomb” files do{detail}",
          "{name} 解压后的数据量远超其文件大小，与恶意“压缩炸弹”文件特征相同，因此未打开{detail}",
          "get a fresh copy from a trusted source.",
          "请从可信来源重新获取该文件。"),
    Entry(HOSTILE_XML, _E,
          "{name} was not opened because it contains XML declarations (DOCTYPE/ENTITY) that can be used "
          "to attack the computer reading it{detail}",
          "{name} 含有可被用来攻击本机的 XML 声明（DOCTYPE/ENTITY），因此未打开{detail}",
          "re-save it as .xlsx in Excel or LibreOffice, or get a fresh copy from a trusted source.",
          "请用 Excel 或 LibreOffice 另存为 .xlsx，或从可信来源重新获取该文件。"),
    Entry(UNSUPPORTED, _E,
          "{name} is not a file type campaignwatch reads{detail}",
          "campaignwatch 不读取 {name} 这种文件类型{detail}",
          "save it as .xlsx (or .xlsm, .xls, .xlsb, .ods), then run again.",
          "请另存为 .xlsx（或 .xlsm、.xls、.xlsb、.ods）后重试。"),
    Entry(PERMISSION, _E,
          "{name} could not be opened or saved because access was denied{detail}",
          "无法打开或保存 {name}，访问被拒绝{detail}",
          "close it in Excel if it is open and check your permissions on the file and its folder, "
          "then run again.",
          "如果它正在 Excel 中打开请先关闭，并检查文件及其所在文件夹的权限后重试。"),
    Entry(DAMAGED, _E,
          "The internal structure of {name} is damaged{detail}",
          "{name} 的内部结构已损坏{detail}",
          "if Excel or LibreOffice can open it, save it there again (as .xlsx), then run again.",
          "如果 Excel 或 LibreOffice 能打开它，请在其中重新保存（另存为 .xlsx）后重试。"),
    Entry(LOCKED, _E,
          "{name} is open in Excel or LibreOffice{detail}, so campaignwatch did not write to it",
          "{name} 正在 Excel 或 LibreOffice 中打开{detail}，campaignwatch 未写入",
          "close it there (or ask that person to), then run again.",
          "请先关闭它（或请对方关闭）后重试。"),
    Entry(CHANGED, _E,
          "{name} changed since campaignwatch read it{detail}; it was not overwritten",
          "{name} 在 campaignwatch 读取后已被修改{detail}，因此未覆盖",
          "run again to use the new version.",
          "请重新运行以使用新版本。"),
    Entry(NAME_TAKEN, _E,
          "{name} already has a tab with the name of a tab campaignwatch generates{detail}, and "
          "campaignwatch did not make it",
          "{name} 中已有一个与 campaignwatch 生成的工作表同名、但并非由 campaignwatch 创建的工作表{detail}",
          "rename that tab, then run again.",
          "请将其改名后重试。"),
    Entry(WRITE_FAILED, _E,
          "{name} could not be written safely{detail}; the previous version was kept",
          "{name} 无法安全写入{detail}，已保留原来的版本",
          "check the free disk space and your permissions on its folder, then run again.",
          "请检查磁盘剩余空间以及对其所在文件夹的权限后重试。"),
    Entry(NOT_CAMPAIGN, _E,
          "{name} has no tab campaignwatch recognises as a campaign table{detail}, so it was neither "
          "checked nor written",
          "{name} 中没有 campaignwatch 能识别的活动表格{detail}，因此既未检查也未写入",
          "check that this source is the right workbook (or name its tabs as in `campaignwatch init`), "
          "then run again.",
          "请确认该数据源是正确的工作簿（或按 `campaignwatch init` 的模板命名工作表）后重试。"),
    Entry(BAD_BACKUP, _E,
          "{name} is not a backup of this workbook{detail}, so nothing was restored and the workbook "
          "was left as it was",
          "{name} 不是该工作簿的备份{detail}，因此未做任何恢复，工作簿保持原样",
          "choose one listed by `campaignwatch restore --list`, then run again.",
          "请从 `campaignwatch restore --list` 列出的备份中选择后重试。"),
    Entry(AUTH, _E,
          "{name} could not be opened because campaignwatch could not sign in to Google{detail}",
          "无法打开 {name}，campaignwatch 未能登录 Google{detail}",
          "check that google.credentials (or GOOGLE_APPLICATION_CREDENTIALS) names the JSON key of a "
          "service account, then run again.",
          "请检查 google.credentials（或 GOOGLE_APPLICATION_CREDENTIALS）是否指向服务账号的 JSON 密钥文件后重试。"),
    Entry(NOT_FOUND, _E,
          "{name} was not found on Google Sheets{detail}",
          "在 Google 表格中找不到 {name}{detail}",
          "check the spreadsheet ID or link, then run again.",
          "请检查表格 ID 或链接后重试。"),
    Entry(FORBIDDEN, _E,
          "{name} could not be opened with the service account{detail}",
          "服务账号无权打开 {name}{detail}",
          "share the spreadsheet with the service account's e-mail as Editor (and enable the Google "
          "Sheets API in its project), then run again.",
          "请将该表格以“编辑者”身份共享给服务账号的邮箱（并在其项目中启用 Google Sheets API）后重试。"),
    Entry(QUOTA, _E,
          "{name} was not processed because the Google Sheets API quota was used up even after "
          "retries{detail}",
          "Google Sheets API 配额已用完，重试后仍未成功，因此未处理 {name}{detail}",
          "run again in a minute, or lower google.requests_per_minute.",
          "请一分钟后重试，或调低 google.requests_per_minute。"),
    Entry(UNREACHABLE, _E,
          "{name} was not processed because the Google Sheets API could not be reached or did not "
          "answer in time{detail}",
          "无法连接 Google Sheets API 或其未及时响应，因此未处理 {name}{detail}",
          "check the network and google.api_url, then run again.",
          "请检查网络和 google.api_url 后重试。"),
    Entry(REJECTED, _E,
          "{name} was not changed because the Google Sheets API refused campaignwatch's request{detail}",
          "Google Sheets API 拒绝了 campaignwatch 的请求，{name} 未被修改{detail}",
          "run again, and report it if it happens again.",
          "请重试，如再次出现请报告。"),
    Entry(INTERNAL, _E,
          "{name} was not processed because campaignwatch failed unexpectedly{detail}",
          "campaignwatch 处理 {name} 时意外出错{detail}",
          "the other sources were processed; please report this with the file if you can.",
          "其他数据源已正常处理；如可能，请附上该文件报告此问题。"),
)
CODES: tuple[str, ...] = tuple(CATALOGUE)

# a code no entry declares (a newer writer, a plugin): said generically, the code in the detail
UNKNOWN = Entry("", _E,
                "{name} could not be read{detail}",
                "无法读取 {name}{detail}",
                "open it in Excel or LibreOffice and save it as .xlsx, then run again.",
                "请用 Excel 或 LibreOffice 打开并另存为 .xlsx 后重试。")


# --------------------------------------------------------------------------- the exception

class SourceError(CampaignwatchError):
    """One clear reason a source cannot be read or written. `code` is stable (one of `CODES`);
    `detail` is a short English fragment (e.g. the path or size).

    `path` (optional, keyword-only) is the file concerned; `message()` uses its name.
    ``str(err)`` is the English `message()`.
    """

    def __init__(self, code: str, detail: str = "", *, path: str | os.PathLike | None = None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.path = path

    def __str__(self) -> str:
        return message(self, "en")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line (control characters become spaces), at most `limit` characters."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(err: SourceError, lang: str = "en") -> str:
    """One sentence (no newline) saying what is wrong with the file and what to do; `lang` is "en" or "zh-CN"."""
    code = getattr(err, "code", "")
    entry = CATALOGUE.get(code) or UNKNOWN
    path = getattr(err, "path", None)
    name = one_line(os.path.basename(os.fspath(path))) if path else ""
    detail = one_line(str(getattr(err, "detail", "") or ""))
    if code and code not in CATALOGUE:
        detail = f"{code}: {detail}" if detail else str(code)
    fields = {"name": name or text(lang, "The file", "该文件"),
              "detail": text(lang, " ({})", "（{}）").format(detail) if detail else ""}
    return fill(entry.template(lang) + text(lang, ": ", "：") + entry.fix_template(lang), fields, lang)


def internal(exc: BaseException, path=None) -> SourceError:
    """An unexpected exception as this source's one clear failure (no traceback)."""
    lines = str(exc).strip().splitlines()
    return SourceError(INTERNAL, f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__,
                       path=path)
