"""Settings are data: `SETTINGS` lists every one with its default, help text and what is allowed.

`config.toml` (example at the top of the repository) overrides defaults. Loading checks every
value against its setting's declaration — its type (taken from the default), its `choices`,
and its `allowed` constraint (a range, a pattern, a time zone, a path, …) — plus the few
relations between settings in `RELATIONS`, and collects every problem: a `ConfigError`
(exit 2) lists them, one sentence each, naming the key, the value and what is allowed.
Unknown sections and keys get a "did you mean …?".
The README's settings table and the example file are checked against `SETTINGS` by a test.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import CampaignwatchError
from .flagcodes import CODES, SEVERITIES
from .backends import parse_source


# =========================================================================== constraints
# Each constraint is a small value: `problem(value, folder)` is true when the value (already of
# the setting's type) is not allowed — `folder` is config.toml's, for relative paths — and
# `describe()` says what is allowed (in the error message and the README's settings table).

def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


@dataclass(frozen=True)
class Between:
    """A number from `lo` to `hi` (either may be None: unbounded); `above`: `lo` itself excluded."""
    lo: float | None = None
    hi: float | None = None
    above: bool = False

    def problem(self, value, folder: Path) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return True
        too_low = self.lo is not None and (value <= self.lo if self.above else value < self.lo)
        return too_low or (self.hi is not None and value > self.hi)

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None and not self.above:
            return f"from {_num(self.lo)} to {_num(self.hi)}"
        parts = []
        if self.lo is not None:
            parts.append(f"{'above' if self.above else 'of at least'} {_num(self.lo)}")
        if self.hi is not None:
            parts.append(f"at most {_num(self.hi)}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Matches:
    """Text matching `regex` in full; `what` describes it for people."""
    regex: str
    what: str

    def problem(self, value, folder: Path) -> bool:
        return re.fullmatch(self.regex, value) is None

    def describe(self) -> str:
        return self.what


@dataclass(frozen=True)
class TimeZone:
    """An IANA time zone name known to zoneinfo."""

    def problem(self, value, folder: Path) -> bool:
        from zoneinfo import ZoneInfo
        try:
            ZoneInfo(value)
        except Exception:          # noqa: BLE001 - ZoneInfoNotFoundError, ValueError, IsADirectoryError, …
            return True
        return False

    def describe(self) -> str:
        return "an IANA time zone such as Asia/Shanghai or Europe/Paris"


@dataclass(frozen=True)
class Url:
    """An http(s) URL with a host; `empty`: "" is allowed too (not used)."""
    empty: bool = True

    def problem(self, value, folder: Path) -> bool:
        if value == "":
            return not self.empty
        parts = urlsplit(value)
        return parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value)

    def describe(self) -> str:
        return "an http:// or https:// URL" + (", or empty" if self.empty else "")


_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")


def _is_address(text: str) -> bool:
    name, addr = parseaddr(text)
    return bool(addr) and _ADDRESS.fullmatch(addr) is not None and "@" in text


@dataclass(frozen=True)
class Email:
    """An e-mail address (`Name <a@b>` is fine), or "" when `empty`; a list of them when `many`."""
    empty: bool = True
    many: bool = False

    def problem(self, value, folder: Path) -> bool:
        if self.many:
            return not all(isinstance(v, str) and _is_address(v) for v in value)
        return not (value == "" and self.empty) and not _is_address(value)

    def describe(self) -> str:
        if self.many:
            return "a list of e-mail addresses, such as [\"a@example.com\"]"
        return "an e-mail address" + (", or empty" if self.empty else "")


@dataclass(frozen=True)
class FilePath:
    """A file path (relative to config.toml) whose folder exists or can be created; `suffixes`:
    the extensions allowed; `empty`: "" allowed (not used); `google`: a Google Sheet allowed too."""
    suffixes: tuple[str, ...] = ()
    empty: bool = False
    google: bool = False
    folder_needed: bool = True

    def problem(self, value, folder: Path) -> bool:
        if value == "":
            return not self.empty
        if self.google and parse_source(value).kind == "gsheet":
            return False
        if "\0" in value or not value.strip():
            return True
        p = Path(value).expanduser()
        p = p if p.is_absolute() else folder / p
        if self.suffixes and p.suffix.lower() not in self.suffixes:
            return True
        return self.folder_needed and not creatable(p)

    def describe(self) -> str:
        what = "a file path" + (f" ending in {' or '.join(self.suffixes)}" if self.suffixes else "")
        if self.folder_needed:
            what += " whose folder exists or can be created"
        if self.google:
            what += ", or a Google Sheet (gsheet:ID or URL)"
        return what + (", or empty" if self.empty else "")


def creatable(p: Path) -> bool:
    """`p` is a file or can become one: it is not a folder, and its nearest existing ancestor
    is a folder (writability is `campaignwatch check`'s business, not loading's)."""
    if p.is_dir():
        return False
    for parent in p.parents:
        if parent.exists():
            return parent.is_dir()
    return False


Constraint = Between | Matches | TimeZone | Url | Email | FilePath

FRACTION = Between(0, 1)
PERCENT = Between(0, 100)
DAYS = Between(0, 366)
ENV_NAME = Matches(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name (letters, digits, _)")
ONE_LINE = Matches(r"[^\r\n]*", "text on one line")


@dataclass(frozen=True)
class Setting:
    key: str          # dotted: section.name
    default: Any
    help: str
    choices: tuple = ()
    allowed: Constraint | None = None     # besides the type (that of the default) and the choices

    @property
    def type_word(self) -> str:
        t = type(self.default)
        return {bool: "true or false", int: "a whole number", float: "a number", str: "text",
                list: "a list"}[t]

    def describe(self) -> str:
        """What is allowed, in words: "a whole number from 0 to 366", "one of high, medium, low, off"."""
        if isinstance(self.default, bool):
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if isinstance(self.allowed, Between):
            return f"{self.type_word} {self.allowed.describe()}"
        if self.allowed is not None:
            return self.allowed.describe()
        return self.type_word


SETTINGS: tuple[Setting, ...] = (
    Setting("general.language", "auto",
            "Language of reports and generated tabs: auto (from the workbook's headers), en or zh-CN.",
            ("auto", "en", "zh-CN")),
    Setting("general.day_first", False,
            "How to read a date such as 03/04/2026 where day and month could swap: "
            "false = month first (03/04/2026 is 4 March 2026), true = day first (3 April 2026)."),
    Setting("general.currency", "CNY",
            "ISO code of the currency every amount is kept in (exact to the cent). An amount marked with "
            "another currency (USD 500, $500, 500美元, HK$300, €20) is a CURRENCY_UNSUPPORTED error; "
            "¥, ￥, 元, 块, RMB, CNY and 人民币 mean CNY.",
            allowed=Matches(r"[A-Z]{3}", "a 3-letter ISO 4217 code such as CNY, USD or EUR")),
    Setting("general.timezone", "Asia/Shanghai", "Time zone that decides what \"today\" is.", allowed=TimeZone()),
    Setting("limits.max_uncompressed_mb", 2048,
            "Refuse a workbook whose parts inflate to more than this many MiB (zip-bomb guard).",
            allowed=Between(1, 1_048_576)),
    Setting("limits.max_compression_ratio", 200,
            "Refuse a workbook part over 1 MiB that inflates more than this many times its packed size.",
            allowed=Between(1, 100_000)),
    Setting("limits.max_cells", 20_000_000,
            "Refuse a tab whose grid, from A1 to its farthest value, has more cells than this (about 45 bytes "
            "of memory each while it is read): a stray value in XFD1048576 would need 17 billion.",
            allowed=Between(1000, 17_179_869_184)),
    Setting("google.credentials", "",
            "Service-account key file (JSON) for Google Sheets sources (relative to config.toml); "
            "empty: $GOOGLE_APPLICATION_CREDENTIALS.",
            allowed=FilePath(empty=True, folder_needed=False)),
    Setting("google.api_url", "https://sheets.googleapis.com",
            "Base URL of the Sheets API (point it at an emulator or proxy; $CAMPAIGNWATCH_SHEETS_API_URL wins).",
            allowed=Url(empty=False)),
    Setting("google.requests_per_minute", 50,
            "Sheets API requests allowed per minute across all sources of one run (Google allows 60 reads "
            "and 60 writes per minute per user).", allowed=Between(1, 100_000)),
    Setting("google.timeout_seconds", 30.0, "Timeout of every Sheets API call.", allowed=Between(0, 3600, above=True)),
    Setting("google.max_retries", 5, "Retries of a call that got 429, 5xx or a timeout, with exponential backoff and jitter.",
            allowed=Between(0, 20)),
    Setting("google.backoff_seconds", 1.0, "First backoff delay; it doubles on each retry (capped at 64 s).",
            allowed=Between(0, 64)),
    Setting("dashboard.path", "",
            "The managers' consolidated dashboard, rebuilt on every sync of configured sources: an .xlsx "
            "path (relative to config.toml) or a Google Sheet (gsheet:ID or URL); empty: none.",
            allowed=FilePath((".xlsx", ".xlsm"), empty=True, google=True)),
    Setting("schedule.time", "06:30", "When `nightly` runs the sync each day (HH:MM, in general.timezone).",
            allowed=Matches(r"([01][0-9]|2[0-3]):[0-5][0-9]", "a time HH:MM from 00:00 to 23:59")),
    Setting("log.path", "campaignwatch.log", "Log file of `nightly` (rotating; relative to config.toml).",
            allowed=FilePath()),
    Setting("log.max_kb", 1024, "Rotate the log file when it reaches this size.", allowed=Between(1, 1_048_576)),
    Setting("log.backups", 5, "How many rotated log files to keep.", allowed=Between(0, 1000)),
    Setting("digest.enabled", True, "Send a digest of what changed after each scheduled run."),
    Setting("digest.send_unchanged", False, "Send the digest even when nothing changed."),
    Setting("digest.per_owner", False,
            "Also send each campaign owner a digest of their own campaigns (e-mail addresses from the people table)."),
    Setting("email.host", "", "SMTP server for the digest; empty: no e-mail.",
            allowed=Matches(r"|[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]",
                            "a host name or IP address without scheme or port, or empty")),
    Setting("email.port", 587, "SMTP port.", allowed=Between(1, 65535)),
    Setting("email.security", "starttls", "starttls, ssl or none.", ("starttls", "ssl", "none")),
    Setting("email.user", "", "SMTP login (empty: no login).", allowed=ONE_LINE),
    Setting("email.password_env", "CAMPAIGNWATCH_SMTP_PASSWORD", "Environment variable holding the SMTP password.",
            allowed=ENV_NAME),
    Setting("email.sender", "", "From address of the digest.", allowed=Email()),
    Setting("email.to", [], "Addresses that receive the full digest.", allowed=Email(many=True)),
    Setting("webhooks.wecom_url", "", "WeCom (企业微信) group robot webhook URL; empty: not used.", allowed=Url()),
    Setting("webhooks.dingtalk_url", "", "DingTalk (钉钉) group robot webhook URL; empty: not used.", allowed=Url()),
    Setting("webhooks.dingtalk_secret_env", "CAMPAIGNWATCH_DINGTALK_SECRET",
            "Environment variable with the DingTalk robot's signing secret (加签); unset: unsigned.", allowed=ENV_NAME),
    Setting("webhooks.feishu_url", "", "Feishu (飞书) group robot webhook URL; empty: not used.", allowed=Url()),
    Setting("webhooks.feishu_secret_env", "CAMPAIGNWATCH_FEISHU_SECRET",
            "Environment variable with the Feishu robot's signing secret (签名校验); unset: unsigned.", allowed=ENV_NAME),
    Setting("history.path", "campaignwatch-history.sqlite",
            "SQLite file keeping runs, flags and approved-plan fingerprints (relative to config.toml).",
            allowed=FilePath()),
    Setting("rules.overrun_tolerance_pct", 0.0,
            "An overrun flag is raised when its amount exceeds max(this % of authorized, the minimum "
            "below). 0 and 0: any excess needs approval first (the company's rule).", allowed=PERCENT),
    Setting("rules.overrun_tolerance_min", 0.0, "Minimum overrun amount, in currency units, that raises a flag.",
            allowed=Between(0)),
    Setting("rules.nearly_used_at", 0.8, "BUDGET_NEARLY_USED when utilisation reaches this share (0.8 = 80 %).",
            allowed=FRACTION),
    Setting("rules.burn_ahead_index", 1.5,
            "BURN_AHEAD when a running campaign's burn index (utilisation ÷ time elapsed) exceeds this.",
            allowed=Between(1, 100)),
    Setting("rules.burn_ahead_min_utilisation", 0.2,
            "…and at least this share of the budget is spent (avoids noise in the first days).", allowed=FRACTION),
    Setting("rules.expense_grace_days", 7,
            "EXPENSE_OUTSIDE_WINDOW: days before the start and after the end still accepted.", allowed=DAYS),
    Setting("rules.kpi_stale_days", 7, "KPI_NO_RECENT_DATA when a running campaign's KPI has no actual this recent.",
            allowed=Between(1, 366)),
    Setting("rules.exec_plan_lead_days", 14,
            "EXEC_PLAN_MISSING when an approved campaign starts within this many days and has no tasks.",
            allowed=DAYS),
    Setting("rules.incident_escalation_hours", 24, "INCIDENT_NOT_ESCALATED when not reported within this many hours.",
            allowed=Between(0, 8784)),
    Setting("rules.feedback_response_days", 3, "FEEDBACK_UNANSWERED when feedback has no response after this many days.",
            allowed=DAYS),
    Setting("rules.risk_high_score", 15, "A risk is high when probability × impact reaches this (1–25).",
            allowed=Between(1, 25)),
    Setting("rules.summary_due_days", 14, "SUMMARY_OVERDUE when no summary report this many days after the end.",
            allowed=DAYS),
    Setting("kpi.attainment_cap", 1.5, "Attainment and pacing are clamped to [0, this].", allowed=Between(1, 10)),
    Setting("kpi.green_at", 0.95, "KPI status green at or above this attainment (or pacing while running).",
            allowed=FRACTION),
    Setting("kpi.amber_at", 0.8, "KPI status amber at or above this, red below (KPI_OFF_TRACK while running).",
            allowed=FRACTION),
    Setting("kpi.missed_below", 1.0, "KPI_MISSED when a campaign ended with attainment below this.",
            allowed=FRACTION),
    Setting("output.scorecard", True, "Write the Scorecard tab (people's performance); false keeps it out of team workbooks."),
    Setting("output.backups", 5, "How many backups of each workbook to keep (in .campaignwatch-backups beside it).",
            allowed=Between(0, 1000)),
    Setting("output.stale_lock_hours", 72,
            "A lock file (~$name.xlsx, .~lock.name.xlsx#) older than this is taken as left over from a crash "
            "and ignored; younger, the workbook is not written (a workbook left open overnight or over a "
            "weekend is still open).",
            allowed=Between(1, 8784)),
    Setting("output.max_finding_rows", 5000,
            "The Validation tab lists at most this many findings (the console and --json list all).",
            allowed=Between(0, 1_000_000)),
) + tuple(
    Setting(f"severity.{c.code}", c.severity, f"Severity of {c.code}: high, medium, low or off.",
            SEVERITIES) for c in CODES.values())


@dataclass(frozen=True)
class AtMost:
    """A relation between two settings: `low` must not exceed `high`."""
    low: str
    high: str

    def holds(self, values: dict[str, Any]) -> bool:
        return values[self.low] <= values[self.high]


RELATIONS: tuple[AtMost, ...] = (
    AtMost("kpi.amber_at", "kpi.green_at"),          # amber is the band below green
)

SETTING_BY_KEY = {s.key: s for s in SETTINGS}
SECTIONS = tuple(dict.fromkeys(s.key.partition(".")[0] for s in SETTINGS)) + ("sources",)


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One configuration problem: `key` is the setting (`kpi.green_at`), the section
    (`[genral]`) or the source (`sources[2].sorce`) concerned; `message` is one sentence."""
    key: str
    message: str


class ConfigError(CampaignwatchError):
    """A configuration problem: exit code 2. `problems` lists every one found (one sentence
    each); `str()` is one line per problem."""

    def __init__(self, message: str = "", problems: tuple[Problem, ...] | list[Problem] = ()):
        self.problems = tuple(problems) or (Problem(key="", message=message),)
        super().__init__(message or "\n".join(p.message for p in self.problems))


@dataclass
class SourceSpec:
    """One configured source: `source` is a path, a glob (`teams/*.xlsx`) or a Google Sheet."""
    source: str
    name: str = ""
    owner: str = ""
    team: str = ""


SOURCE_KEYS = ("source", "name", "owner", "team")


@dataclass
class Config:
    values: dict[str, Any]
    path: Path | None = None
    sources: list[SourceSpec] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.folder / p


def defaults() -> Config:
    return Config({s.key: s.default for s in SETTINGS})


def find_config(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CAMPAIGNWATCH_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "config.toml"
    return here if here.is_file() else None


def load(explicit: str | None = None) -> Config:
    """Defaults overridden by the config file, every value checked; `ConfigError` lists every problem."""
    path = find_config(explicit)
    cfg = defaults()
    if path is None:
        return cfg
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"the configuration file {path} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"the configuration file {path} is a folder, not a file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(path, exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}.") from None
    cfg.path = path.resolve()
    problems: list[Problem] = []
    cfg.sources = _sources(data.pop("sources", []), problems)
    for key, value in _flatten(data):
        setting = SETTING_BY_KEY.get(key)
        if setting is None:
            problems.append(_unknown(key, isinstance(value, dict)))
            continue
        problem = check_value(setting, value, cfg.folder)
        if problem:
            problems.append(problem)
        else:
            cfg.values[key] = _coerce(setting, value)
    bad = {p.key for p in problems}
    for rel in RELATIONS:
        if not bad & {rel.low, rel.high} and not rel.holds(cfg.values):
            problems.append(Problem(key=rel.low, message=(
                f"{rel.low} = {show(cfg[rel.low])} is not allowed: it must be at most "
                f"{rel.high} ({show(cfg[rel.high])}).")))
    if problems:
        problems = [Problem(key=p.key, message=f"{path}: {p.message}") for p in problems]
        raise ConfigError(problems=problems)
    return cfg


def show(value: Any) -> str:
    """A value as it is written in config.toml."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def check_value(setting: Setting, value: Any, folder: Path) -> Problem | None:
    """None when `value` is allowed for `setting`, else the problem in one sentence."""
    want = type(setting.default)
    if want is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if ok and setting.choices:
        ok = value in setting.choices
    if ok and setting.allowed is not None:
        ok = not setting.allowed.problem(value, folder)
    if ok:
        return None
    return Problem(key=setting.key,
                   message=f"{setting.key} = {show(value)} is not allowed: it must be {setting.describe()}.")


def _coerce(setting: Setting, value: Any) -> Any:
    return float(value) if isinstance(setting.default, float) else value


def _suggest(word: str, candidates) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]}?" if close else ""


def _unknown(key: str, table: bool) -> Problem:
    section, _, name = key.partition(".")
    if section not in SECTIONS:
        close = difflib.get_close_matches(section, SECTIONS, n=1, cutoff=0.6)
        hint = f" Did you mean [{close[0]}]?" if close else f" The sections are {', '.join(SECTIONS)}."
        if not name and not table:
            return Problem(key=section, message=f"{section} is not a setting of campaignwatch: settings belong "
                                                f"in a [section].{hint}")
        return Problem(key=f"[{section}]", message=f"[{section}] is not a section of campaignwatch.{hint}")
    keys = [s.key for s in SETTINGS]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if not close:        # the right name in the wrong section: rules.green_at -> kpi.green_at
        close = [k for k in keys if k.partition(".")[2] == name][:1]
    hint = f" Did you mean {close[0]}?" if close else f" See README.md › Settings for the [{section}] settings."
    return Problem(key=key, message=f"{key} is not a setting of campaignwatch.{hint}")


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """One sentence with the line (and column) of a TOML syntax error."""
    text = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    where = f"line {m.group(1)}, column {m.group(2)}" if m else "the end of the file"
    what = text[:m.start()] if m else re.sub(r"\s*\(at end of document\)$", "", text)
    return f"{path} is not valid TOML at {where}: {what[:1].lower() + what[1:]}."


def _sources(items, problems: list[Problem]) -> list[SourceSpec]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(Problem(key="sources", message="sources must be [[sources]] tables, each with "
                                                       "source = \"path, glob or gsheet:ID\"."))
        return []
    out = []
    for n, item in enumerate(items, start=1):
        bad = False
        for k in sorted(set(item) - set(SOURCE_KEYS)):
            problems.append(Problem(key=f"sources[{n}].{k}", message=(
                f"sources[{n}].{k} is not a key of a source; the keys are {', '.join(SOURCE_KEYS)}."
                + _suggest(k, SOURCE_KEYS))))
            bad = True
        if not bad and (not isinstance(item.get("source"), str) or not item["source"].strip()):
            problems.append(Problem(key=f"sources[{n}].source", message=(
                f"sources[{n}].source is missing: every [[sources]] needs source = \"path, glob or gsheet:ID\".")))
            bad = True
        for k, v in item.items():
            if k in SOURCE_KEYS and k != "source" and not isinstance(v, str):
                problems.append(Problem(key=f"sources[{n}].{k}", message=(
                    f"sources[{n}].{k} = {show(v)} is not allowed: it must be text.")))
                bad = True
        if not bad:
            out.append(SourceSpec(**item))
    return out


def _flatten(data: dict, prefix: str = ""):
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key not in SETTING_BY_KEY and (prefix or key in SECTIONS):
            yield from _flatten(v, key + ".")
        else:
            yield key, v
