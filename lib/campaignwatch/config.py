"""Settings are data: `SETTINGS` lists every one with its default and help text.

`config.toml` (example at the top of the repository) overrides defaults; unknown keys and
values of the wrong type are configuration errors (exit 2), reported with the key's name.
The README's settings table and the example file are checked against `SETTINGS` by a test.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .flagcodes import CODES, SEVERITIES


@dataclass(frozen=True)
class Setting:
    key: str          # dotted: section.name
    default: Any
    help: str
    choices: tuple = ()


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
            "¥, ￥, 元, 块, RMB, CNY and 人民币 mean CNY."),
    Setting("general.timezone", "Asia/Shanghai", "Time zone that decides what \"today\" is."),
    Setting("limits.max_uncompressed_mb", 2048,
            "Refuse a workbook whose parts inflate to more than this many MiB (zip-bomb guard)."),
    Setting("limits.max_compression_ratio", 200,
            "Refuse a workbook part over 1 MiB that inflates more than this many times its packed size."),
    Setting("google.credentials", "",
            "Service-account key file (JSON) for Google Sheets sources (relative to config.toml); "
            "empty: $GOOGLE_APPLICATION_CREDENTIALS."),
    Setting("google.api_url", "https://sheets.googleapis.com",
            "Base URL of the Sheets API (point it at an emulator or proxy; $CAMPAIGNWATCH_SHEETS_API_URL wins)."),
    Setting("google.requests_per_minute", 50,
            "Sheets API requests allowed per minute across all sources of one run (Google allows 60 reads "
            "and 60 writes per minute per user)."),
    Setting("google.timeout_seconds", 30.0, "Timeout of every Sheets API call."),
    Setting("google.max_retries", 5, "Retries of a call that got 429, 5xx or a timeout, with exponential backoff and jitter."),
    Setting("google.backoff_seconds", 1.0, "First backoff delay; it doubles on each retry (capped at 64 s)."),
    Setting("dashboard.path", "",
            "The managers' consolidated dashboard, rebuilt on every sync of configured sources: an .xlsx "
            "path (relative to config.toml) or a Google Sheet (gsheet:ID or URL); empty: none."),
    Setting("schedule.time", "06:30", "When `nightly` runs the sync each day (HH:MM, in general.timezone)."),
    Setting("log.path", "campaignwatch.log", "Log file of `nightly` (rotating; relative to config.toml)."),
    Setting("log.max_kb", 1024, "Rotate the log file when it reaches this size."),
    Setting("log.backups", 5, "How many rotated log files to keep."),
    Setting("digest.enabled", True, "Send a digest of what changed after each scheduled run."),
    Setting("digest.send_unchanged", False, "Send the digest even when nothing changed."),
    Setting("digest.per_owner", False,
            "Also send each campaign owner a digest of their own campaigns (e-mail addresses from the people table)."),
    Setting("email.host", "", "SMTP server for the digest; empty: no e-mail."),
    Setting("email.port", 587, "SMTP port."),
    Setting("email.security", "starttls", "starttls, ssl or none.", ("starttls", "ssl", "none")),
    Setting("email.user", "", "SMTP login (empty: no login)."),
    Setting("email.password_env", "CAMPAIGNWATCH_SMTP_PASSWORD", "Environment variable holding the SMTP password."),
    Setting("email.sender", "", "From address of the digest."),
    Setting("email.to", [], "Addresses that receive the full digest."),
    Setting("webhooks.wecom_url", "", "WeCom (企业微信) group robot webhook URL; empty: not used."),
    Setting("webhooks.dingtalk_url", "", "DingTalk (钉钉) group robot webhook URL; empty: not used."),
    Setting("webhooks.dingtalk_secret_env", "CAMPAIGNWATCH_DINGTALK_SECRET",
            "Environment variable with the DingTalk robot's signing secret (加签); unset: unsigned."),
    Setting("webhooks.feishu_url", "", "Feishu (飞书) group robot webhook URL; empty: not used."),
    Setting("webhooks.feishu_secret_env", "CAMPAIGNWATCH_FEISHU_SECRET",
            "Environment variable with the Feishu robot's signing secret (签名校验); unset: unsigned."),
    Setting("history.path", "campaignwatch-history.sqlite",
            "SQLite file keeping runs, flags and approved-plan fingerprints (relative to config.toml)."),
    Setting("rules.overrun_tolerance_pct", 0.0,
            "An overrun flag is raised when its amount exceeds max(this % of authorized, the minimum "
            "below). 0 and 0: any excess needs approval first (the company's rule)."),
    Setting("rules.overrun_tolerance_min", 0.0, "Minimum overrun amount, in currency units, that raises a flag."),
    Setting("rules.nearly_used_at", 0.8, "BUDGET_NEARLY_USED when utilisation reaches this share (0.8 = 80 %)."),
    Setting("rules.burn_ahead_index", 1.5,
            "BURN_AHEAD when a running campaign's burn index (utilisation ÷ time elapsed) exceeds this."),
    Setting("rules.burn_ahead_min_utilisation", 0.2,
            "…and at least this share of the budget is spent (avoids noise in the first days)."),
    Setting("rules.expense_grace_days", 7,
            "EXPENSE_OUTSIDE_WINDOW: days before the start and after the end still accepted."),
    Setting("rules.kpi_stale_days", 7, "KPI_NO_RECENT_DATA when a running campaign's KPI has no actual this recent."),
    Setting("rules.exec_plan_lead_days", 14,
            "EXEC_PLAN_MISSING when an approved campaign starts within this many days and has no tasks."),
    Setting("rules.incident_escalation_hours", 24, "INCIDENT_NOT_ESCALATED when not reported within this many hours."),
    Setting("rules.feedback_response_days", 3, "FEEDBACK_UNANSWERED when feedback has no response after this many days."),
    Setting("rules.risk_high_score", 15, "A risk is high when probability × impact reaches this (1–25)."),
    Setting("rules.summary_due_days", 14, "SUMMARY_OVERDUE when no summary report this many days after the end."),
    Setting("kpi.attainment_cap", 1.5, "Attainment and pacing are clamped to [0, this]."),
    Setting("kpi.green_at", 0.95, "KPI status green at or above this attainment (or pacing while running)."),
    Setting("kpi.amber_at", 0.8, "KPI status amber at or above this, red below (KPI_OFF_TRACK while running)."),
    Setting("kpi.missed_below", 1.0, "KPI_MISSED when a campaign ended with attainment below this."),
    Setting("output.scorecard", True, "Write the Scorecard tab (people's performance); false keeps it out of team workbooks."),
    Setting("output.backups", 5, "How many backups of each workbook to keep (in .campaignwatch-backups beside it)."),
    Setting("output.stale_lock_hours", 12,
            "A lock file (~$name.xlsx, .~lock.name.xlsx#) older than this is taken as stale and ignored."),
    Setting("output.max_finding_rows", 5000,
            "The Validation tab lists at most this many findings (the console and --json list all)."),
) + tuple(
    Setting(f"severity.{c.code}", c.severity, f"Severity of {c.code}: high, medium, low or off.",
            SEVERITIES) for c in CODES.values())

SETTING_BY_KEY = {s.key: s for s in SETTINGS}


class ConfigError(Exception):
    """A configuration problem: exit code 2."""


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
    path = find_config(explicit)
    cfg = defaults()
    if path is None:
        return cfg
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    cfg.path = path.resolve()
    cfg.sources = _sources(data.pop("sources", []), path)
    for key, value in _flatten(data):
        setting = SETTING_BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"{path}: unknown setting {key}")
        cfg.values[key] = _check(setting, value, path)
    return cfg


def _sources(items, path: Path) -> list[SourceSpec]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{path}: sources must be [[sources]] tables")
    out = []
    for n, item in enumerate(items, start=1):
        unknown = set(item) - set(SOURCE_KEYS)
        if unknown:
            raise ConfigError(f"{path}: source {n} has unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(item.get("source"), str) or not item["source"].strip():
            raise ConfigError(f"{path}: source {n} needs source = \"path, glob or gsheet:ID\"")
        if not all(isinstance(v, str) for v in item.values()):
            raise ConfigError(f"{path}: source {n}: every value must be text")
        out.append(SourceSpec(**item))
    return out


def _flatten(data: dict, prefix: str = ""):
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key not in SETTING_BY_KEY:
            yield from _flatten(v, key + ".")
        else:
            yield key, v


def _check(setting: Setting, value: Any, path: Path) -> Any:
    want = type(setting.default)
    ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{path}: {setting.key} must be a {want.__name__}, not {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{path}: {setting.key} must be one of {', '.join(map(str, setting.choices))}")
    return value
