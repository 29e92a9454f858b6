"""`campaignwatch check`: is everything configured ready to run? It changes nothing.

The configuration is loaded (every problem is one failed check, exit 2); then each check of
`CHECKS`, a plain function `(cfg, env) -> list[Check]`, looks at one thing the runs need:
the configured sources (files exist, globs match, each workbook opens and has campaignwatch
tables), the Google key (present and a service-account key; the network is never used),
the history file, the dashboard, the log and the digest's channels. Nothing is written: no
workbook, no history file, no lock, no log.

Exit codes follow the command line's: 0 all is well (warnings allowed), 2 a configuration
problem, 3 a source cannot be reached or read (when there is no configuration problem).
"""
from __future__ import annotations

import glob
import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

from .config import Config, ConfigError, SourceSpec, load
from .backends import parse_source
from .sources import display_name, google_id

OK, WARN, FAIL = "ok", "warning", "failed"
MARKS = {OK: "✓", WARN: "!", FAIL: "✗"}
EXIT_CONFIG, EXIT_SOURCE = 2, 3


@dataclass(frozen=True, kw_only=True)
class Check:
    status: str                 # ok | warning | failed
    subject: str                # the setting, source or channel concerned
    message: str                # what was found, one sentence
    fix: str = ""               # how to put it right
    exit_code: int = 0          # when failed: 2 (configuration) or 3 (a source)

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.subject}: {self.message}" + (f" Fix: {self.fix}" if self.fix else "")

    def to_dict(self) -> dict:
        return {"status": self.status, "subject": self.subject, "message": self.message, "fix": self.fix or None}


@dataclass
class Report:
    config: str | None
    checks: list[Check] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        codes = {c.exit_code for c in self.checks if c.status == FAIL}
        return EXIT_CONFIG if EXIT_CONFIG in codes else EXIT_SOURCE if codes else 0

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def to_dict(self) -> dict:
        return {"schema": 1, "config": self.config, "exit_code": self.exit_code,
                "checks": [c.to_dict() for c in self.checks]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def ok(subject: str, message: str) -> Check:
    return Check(status=OK, subject=subject, message=message)


def warn(subject: str, message: str, fix: str = "") -> Check:
    return Check(status=WARN, subject=subject, message=message, fix=fix)


def fail(subject: str, message: str, fix: str = "", code: int = EXIT_CONFIG) -> Check:
    return Check(status=FAIL, subject=subject, message=message, fix=fix, exit_code=code)


# =========================================================================== the checks

def check_config(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    if cfg.path is None:
        return [warn("config", "no configuration file found, so every setting has its default.",
                     "pass --config PATH, set $CAMPAIGNWATCH_CONFIG, or put config.toml in this folder.")]
    return [ok("config", f"{cfg.path}: every setting is allowed.")]


def check_sources(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    if not cfg.sources:
        return [warn("sources", "config.toml has no [[sources]], so `sync` without SOURCE and `nightly` "
                                "have nothing to do.", "add [[sources]] tables with source = \"path, glob or gsheet:ID\".")]
    from .coordinator import expand
    out: list[Check] = []
    for spec in cfg.sources:
        if parse_source(spec.source).kind == "gsheet":
            out.append(_google_source(spec))
            continue
        paths = [p for p, _ in expand(replace(cfg, sources=[spec]))]
        pattern = str(cfg.resolve(spec.source))
        if paths == [pattern] and glob.has_magic(pattern) and not os.path.exists(pattern):
            paths = []                  # expand keeps a glob matching nothing, so that sync fails `missing`
        if not paths:
            out.append(fail(spec.source, f"no workbook matches {cfg.resolve(spec.source)}.",
                            "check the pattern and the folder, relative to config.toml.", EXIT_SOURCE))
        for p in paths:
            out += _workbook(p, cfg)
    return out


def _google_source(spec: SourceSpec) -> Check:
    from .gsheets.client import source_name
    from .errors import SourceError, message
    try:
        source_name(spec.source)
    except SourceError as err:
        return fail(spec.source, message(err), "use gsheet:ID or the sheet's https://docs.google.com/… link.",
                    EXIT_SOURCE)
    return ok(display_name(spec.source), "a Google Sheet; not contacted (check stays off the network), "
                                         "its key is checked under google.credentials.")


def _workbook(path: str, cfg: Config) -> list[Check]:
    """Open the workbook the way `sync` reads it and find its tables; write nothing."""
    from .pipeline import limits
    from .errors import SourceError, internal, message
    from .read.recognise import recognise
    from .read.workbook import read_workbook
    name = display_name(path)
    try:
        found = recognise(read_workbook(path, limits(cfg)))
    except SourceError as err:
        return [fail(name, message(err), code=EXIT_SOURCE)]
    except Exception as exc:        # noqa: BLE001 - one source's fault is that source's failure
        return [fail(name, message(internal(exc, path)), code=EXIT_SOURCE)]
    if not found.tables:
        return [fail(name, "no tab looks like a campaignwatch table.",
                     "name the tabs as in the template (e.g. Campaigns, Expenses) or start from "
                     "`campaignwatch init`.", EXIT_SOURCE)]
    out = [ok(name, f"readable; {len(found.tables)} table(s): {', '.join(found.tables)}.")]
    if not os.access(path, os.W_OK):
        out.append(warn(name, "readable, but campaignwatch may not write its tabs back into it.",
                        "give the account that runs campaignwatch write permission on the file."))
    return out


def check_google(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    kinds = {parse_source(s.source).kind for s in cfg.sources} | {parse_source(cfg["dashboard.path"]).kind}
    if "gsheet" not in kinds:
        return []
    key = cfg["google.credentials"].strip()
    if key:
        subject, path = "google.credentials", cfg.resolve(key)
    elif env.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip():
        subject, path = "GOOGLE_APPLICATION_CREDENTIALS", Path(env["GOOGLE_APPLICATION_CREDENTIALS"].strip()).expanduser()
    else:
        return [fail("google.credentials", "Google Sheets are configured but no service-account key is.",
                     "set google.credentials = \"key.json\" (README › Google Sheets) or "
                     "$GOOGLE_APPLICATION_CREDENTIALS.", EXIT_SOURCE)]
    if not path.is_file():
        return [fail(subject, f"the key file {path} does not exist.",
                     "check the path (relative to config.toml), or make a new key for the service account.",
                     EXIT_SOURCE)]
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise ValueError("not a service-account key")
        from google.oauth2 import service_account
        creds = service_account.Credentials.from_service_account_info(info)     # parses the key; no network
    except PermissionError:
        return [fail(subject, f"the key file {path.name} cannot be read (permission denied).",
                     "let the account that runs campaignwatch read it.", EXIT_SOURCE)]
    except Exception:               # noqa: BLE001 - never quote the key's content
        return [fail(subject, f"{path.name} is not a service-account JSON key.",
                     "download a JSON key of the service account (Keys › Add key › JSON).", EXIT_SOURCE)]
    out = [ok(subject, f"{path.name} is the service-account key of {creds.service_account_email}; "
                       f"share every sheet with it as Editor.")]
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        out.append(warn(subject, f"{path.name} can be read by other accounts; it is a password.",
                        f"chmod 600 {path}"))
    return out


def _writable_file(subject: str, path: Path, what: str) -> Check | None:
    """None when `path` can be written (it exists and may be written, or its folder exists or
    can be created and may be written), else the failure."""
    if path.exists():
        if not path.is_file():
            return fail(subject, f"{path} is not a file.", f"point {subject} at a file.")
        if not os.access(path, os.R_OK | os.W_OK):
            return fail(subject, f"{path} may not be read and written by this account.",
                        f"give it read and write permission, or point {subject} elsewhere.")
        return None
    ancestor = next(p for p in path.parents if p.exists())
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        return fail(subject, f"{what} {path} cannot be created: {ancestor} may not be written.",
                    f"point {subject} at a folder this account may write to.")
    return None


def _readable_history(path: Path) -> Check | None:
    """None when `path` does not exist yet or is an SQLite database (opened read-only, nothing written)."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    import sqlite3
    try:
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise sqlite3.DatabaseError("file is not a database")
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except (sqlite3.Error, OSError) as exc:
        return fail("history.path", f"{path} is not a history file campaignwatch can use ({exc}).",
                    "move it away (a new one is made by the next sync) or point history.path at the right file.")
    return None


def check_history(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    path = cfg.resolve(cfg["history.path"])
    problem = _writable_file("history.path", path, "the history file") or _readable_history(path)
    if problem:
        return [problem]
    return [ok("history.path", f"{path} is writable." if path.exists()
               else f"{path} will be created by the first sync (its folder is writable).")]


def check_dashboard(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    target = cfg["dashboard.path"]
    if not target:
        return [ok("dashboard.path", "not set: no dashboard is built.")]
    if parse_source(target).kind == "gsheet":
        return [ok("dashboard.path", f"the Google Sheet gsheet:{google_id(target)} (not contacted).")]
    path = cfg.resolve(target)
    problem = _writable_file("dashboard.path", path, "the dashboard")
    if problem:
        return [problem]
    return [ok("dashboard.path", f"{path} is writable." if path.exists()
               else f"{path} will be created by the first sync of the configured sources.")]


def check_log(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    path = cfg.resolve(cfg["log.path"])
    problem = _writable_file("log.path", path, "the log file")
    if problem:          # only `nightly` writes the log: a warning
        return [warn(problem.subject, problem.message, problem.fix)]
    return [ok("log.path", f"`nightly` logs to {path}.")]


def check_digest(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    robots = [name for name in ("wecom", "dingtalk", "feishu") if cfg[f"webhooks.{name}_url"]]
    mail = bool(cfg["email.to"]) or bool(cfg["email.host"]) or cfg["digest.per_owner"]
    if not cfg["digest.enabled"]:
        if robots or mail:
            return [warn("digest.enabled", "the digest is off, so the e-mail and webhook settings are not used.",
                         "set digest.enabled = true to send it.")]
        return [ok("digest.enabled", "the digest is off.")]
    if not robots and not mail:
        return [warn("digest", "the digest is on but no channel is configured, so nothing is sent.",
                     "set email.host and email.to, or a webhooks.*_url, or digest.enabled = false.")]
    out: list[Check] = []
    if mail:
        out += _email(cfg, env)
    for name in robots:
        out += _robot(cfg, env, name)
    return out


def _email(cfg: Config, env: Mapping[str, str]) -> list[Check]:
    host, to, user = cfg["email.host"], cfg["email.to"], cfg["email.user"]
    sender = cfg["email.sender"] or user
    wanted = "email.to" if to else "digest.per_owner"
    if not host:
        if not to and not cfg["digest.per_owner"]:
            return []
        return [fail("email.host", f"{wanted} asks for e-mail but email.host is empty.",
                     "set email.host (and email.port, email.security) to your SMTP server.")]
    out: list[Check] = []
    if not to and not cfg["digest.per_owner"]:
        out.append(warn("email.to", "email.host is set but nobody receives the e-mail digest.",
                        "list the recipients in email.to."))
    if "@" not in sender:
        out.append(fail("email.sender", "the digest has no From address (email.sender is empty and email.user "
                                        "is not an address).", "set email.sender = \"campaignwatch@example.com\"."))
    if user:
        var = cfg["email.password_env"]
        if not env.get(var):
            out.append(fail("email.password_env", f"email.user is set but the environment variable {var} "
                                                  f"(the SMTP password) is not.",
                            f"export {var}=… where campaignwatch runs (e.g. Environment= in the systemd unit)."))
    if not any(c.status == FAIL for c in out):
        whom = f"{len(to)} address(es)" if to else "campaign owners"
        out.append(ok("email", f"the digest goes to {whom} via {host}:{cfg['email.port']} "
                               f"({cfg['email.security']}), from {sender}."))
    return out


_ROBOTS = {"wecom": ("WeCom", "key=", None, ""),
           "dingtalk": ("DingTalk", "access_token=", "webhooks.dingtalk_secret_env", "加签"),
           "feishu": ("Feishu", "/hook/", "webhooks.feishu_secret_env", "签名校验")}


def _robot(cfg: Config, env: Mapping[str, str], name: str) -> list[Check]:
    label, marker, secret_key, mode = _ROBOTS[name]
    key = f"webhooks.{name}_url"
    url = cfg[key]
    if marker not in url:
        return [warn(key, f"the {label} webhook URL has no {marker.strip('=/')} in it, so the robot will "
                          f"probably refuse the digest.", f"copy the robot's whole webhook URL into {key}.")]
    if secret_key and not env.get(cfg[secret_key]):
        return [warn(key, f"{label} messages go unsigned: the environment variable {cfg[secret_key]} is not set.",
                     f"set it to the robot's secret if the robot uses {mode}; otherwise ignore this.")]
    return [ok(key, f"the digest goes to the {label} robot" + (" (signed)." if secret_key else "."))]


CHECKS: tuple[Callable[[Config, Mapping[str, str]], list[Check]], ...] = (
    check_config, check_sources, check_google, check_history, check_dashboard, check_log, check_digest,
)


def check(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Report:
    """Load the configuration and run every check of `CHECKS`; nothing is written."""
    env = os.environ if env is None else env
    try:
        cfg = load(explicit)
    except ConfigError as exc:
        return Report(explicit, [fail(p.key or "config", p.message) for p in exc.problems])
    report = Report(str(cfg.path) if cfg.path else None)
    for fn in CHECKS:
        report.checks += fn(cfg, env)
    return report
