"""The only module that talks to the network: the Sheets API through real, unmodified gspread.

* **Auth**: a service account key (JSON) from `google.credentials` (relative to config.toml)
  or `$GOOGLE_APPLICATION_CREDENTIALS`, loaded by google-auth with the spreadsheets scope
  only (no Drive). The token endpoint is the key's `token_uri` (google-auth does that). The
  key is never printed or logged: errors name the key *file* only.
* **Where**: gspread builds `https://sheets.googleapis.com/v4/...` endpoints; our
  `HTTPClient` subclass rewrites that prefix to `$CAMPAIGNWATCH_SHEETS_API_URL`, else
  `google.api_url` (an emulator, a proxy, or the loopback fake of the tests).
* **Faults**: every call has a timeout (`google.timeout_seconds`); 429, 408, 5xx, timeouts and
  connection errors are retried at most `google.max_retries` times with exponential backoff
  (`google.backoff_seconds`, doubling, capped at 64 s) and jitter, honouring `Retry-After`.
  The HTTP status decides, not gspread's code parsed from the JSON body: a 502/503 whose
  body is Google's HTML error page is retried like any 5xx.
  gspread's own `BackOffHTTPClient` retries without bound and is not used.
* **Quota**: `BUDGET`, one per process, lets at most `google.requests_per_minute` Sheets
  requests start in any 60 seconds, across every source of the run; a request that would
  exceed it sleeps first. The clock and sleep are injectable (`use_clock`) so tests do not
  wait. The token request is not a Sheets request and is not counted.
* A source that still fails raises `SourceError` (AUTH, NOT_FOUND, FORBIDDEN, QUOTA,
  UNREACHABLE, REJECTED) with `path="gsheet:ID"`, so sync reports it and goes on.
"""
from __future__ import annotations

import os
import random
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Config
from ..errors import (
    AUTH,
    FORBIDDEN,
    NOT_FOUND,
    QUOTA,
    REJECTED,
    UNREACHABLE,
    SourceError,
)
from ..sources import google_id

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_API = "https://sheets.googleapis.com"
ENV_API_URL = "CAMPAIGNWATCH_SHEETS_API_URL"
ENV_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"
MAX_BACKOFF = 64.0
WINDOW = 60.0


# =========================================================================== clock and request budget

class Clock:
    """Real time. Tests put a fake one in place with `use_clock`."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class RequestBudget:
    """A sliding window shared by every source of the process: at most `per_minute` requests
    start in any `WINDOW` seconds. `waits` records every sleep it imposed (seconds)."""

    def __init__(self) -> None:
        self.started: deque[float] = deque()
        self.waits: list[float] = []

    def acquire(self, per_minute: int) -> None:
        if per_minute <= 0:
            return
        while True:
            now = _clock.now()
            while self.started and now - self.started[0] >= WINDOW:
                self.started.popleft()
            if len(self.started) < per_minute:
                self.started.append(now)
                return
            wait = WINDOW - (now - self.started[0])
            self.waits.append(wait)
            _clock.sleep(wait)

    def reset(self) -> None:
        self.started.clear()
        self.waits.clear()


_clock: Clock = Clock()
BUDGET = RequestBudget()


def use_clock(clock: Clock | None) -> None:
    """Put `clock` (anything with now() and sleep(seconds)) in place of real time; None restores it.
    Budget waits and retry backoffs both go through it."""
    global _clock
    _clock = clock if clock is not None else Clock()
    BUDGET.reset()


# =========================================================================== settings

@dataclass(frozen=True)
class Settings:
    credentials: Path | None
    api_url: str
    per_minute: int
    timeout: float
    max_retries: int
    backoff: float

    @classmethod
    def from_config(cls, cfg: Config) -> Settings:
        key = cfg["google.credentials"].strip()
        if key:
            cred: Path | None = cfg.resolve(key)
        elif os.environ.get(ENV_CREDENTIALS, "").strip():
            cred = Path(os.environ[ENV_CREDENTIALS].strip()).expanduser()
        else:
            cred = None
        url = os.environ.get(ENV_API_URL, "").strip() or cfg["google.api_url"].strip() or GOOGLE_API
        return cls(cred, url.rstrip("/"), int(cfg["google.requests_per_minute"]),
                   float(cfg["google.timeout_seconds"]), max(0, int(cfg["google.max_retries"])),
                   max(0.0, float(cfg["google.backoff_seconds"])))


def source_name(source: str) -> tuple[str, str]:
    """(spreadsheet ID, "gsheet:ID") of a Google source."""
    sid = google_id(source)
    if not sid or not _ID.fullmatch(sid):
        shown = "gsheet:" + re.sub(r"[^A-Za-z0-9_-]", "_", sid or "")
        raise SourceError(NOT_FOUND, "not a Google Sheets link or gsheet:ID", path=shown)
    return sid, f"gsheet:{sid}"


_ID = re.compile(r"[A-Za-z0-9_-]+")


# =========================================================================== credentials

_CREDENTIALS: dict[tuple, tuple[object, str]] = {}    # key file identity -> (credentials, client e-mail)


def _key_identity(path: Path | None) -> tuple:
    """The key file and its size and mtime: a key replaced on disk is loaded again."""
    if path is None:
        return ()
    try:
        st = path.stat()
        return str(path.resolve()), st.st_size, st.st_mtime_ns
    except OSError:
        return (str(path),)


def _credentials(path: Path | None, name: str):
    if path is None:
        raise SourceError(AUTH, "no service-account key: set google.credentials in config.toml or "
                                "GOOGLE_APPLICATION_CREDENTIALS", path=name)
    cache_key = _key_identity(path)
    if cache_key in _CREDENTIALS:
        return _CREDENTIALS[cache_key]
    fname = path.name
    if not path.is_file():
        raise SourceError(AUTH, f"the key file {fname} does not exist", path=name)
    from google.oauth2 import service_account
    try:
        creds = service_account.Credentials.from_service_account_file(str(path), scopes=list(SCOPES))
    except PermissionError:
        raise SourceError(AUTH, f"the key file {fname} cannot be read (permission denied)", path=name) from None
    except OSError:
        raise SourceError(AUTH, f"the key file {fname} cannot be read", path=name) from None
    except Exception:  # noqa: BLE001 - the exception may quote the file; say only what it is not
        raise SourceError(AUTH, f"{fname} is not a service-account JSON key", path=name) from None
    email = getattr(creds, "service_account_email", "") or ""
    _CREDENTIALS[cache_key] = (creds, email)
    return creds, email


# =========================================================================== the HTTP client

def _http_client_class(settings: Settings):
    """A subclass of gspread's HTTPClient bound to `settings`: prefix rewrite, timeout, retries, budget."""
    import requests
    from google.auth import exceptions as gexc
    from gspread.exceptions import APIError
    from gspread.http_client import HTTPClient

    network_errors = (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                      requests.exceptions.ChunkedEncodingError, gexc.TransportError)

    class SheetsHTTPClient(HTTPClient):
        bound = settings

        def __init__(self, auth, session=None):
            super().__init__(auth, session)
            self.set_timeout(self.bound.timeout)
            self.attempts = 0                 # attempts of the last call
            self.retried_after_timeout = False

        def rewrite(self, endpoint: str) -> str:
            if endpoint.startswith(GOOGLE_API + "/"):
                return self.bound.api_url + endpoint[len(GOOGLE_API):]
            raise ValueError(f"campaignwatch only calls the Sheets API, not {urlsplit(endpoint).netloc}")

        def request(self, method, endpoint, *args, **kwargs):
            url = self.rewrite(endpoint)
            self.attempts = 0
            self.retried_after_timeout = False
            while True:
                BUDGET.acquire(self.bound.per_minute)
                self.attempts += 1
                retry_after = None
                try:
                    return super().request(method, url, *args, **kwargs)
                except APIError as err:
                    status = http_status(err)
                    if not (status == 429 or status == 408 or status >= 500):
                        raise
                    if self.attempts > self.bound.max_retries:
                        raise
                    retry_after = _retry_after(err)
                except gexc.RefreshError as err:
                    if not err.retryable or self.attempts > self.bound.max_retries:
                        raise
                except network_errors:
                    if self.attempts > self.bound.max_retries:
                        raise
                    self.retried_after_timeout = True
                delay = min(MAX_BACKOFF, self.bound.backoff * 2 ** (self.attempts - 1))
                delay = delay / 2 + random.uniform(0, delay / 2)          # jitter
                if retry_after is not None:
                    delay = max(delay, min(retry_after, MAX_BACKOFF))
                _clock.sleep(delay)

    return SheetsHTTPClient


def http_status(err) -> int:
    """The HTTP status of a gspread APIError. gspread's `code` is the one in the JSON error body,
    and -1 when the body is not JSON (Google's front end answers some 502/503s with an HTML
    page): the status line decides, the body's code only when there is no response."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(status, int) and status > 0:
        return status
    try:
        return int(getattr(err, "code", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _retry_after(err) -> float | None:
    try:
        value = err.response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except (AttributeError, ValueError, TypeError):
        return None


# =========================================================================== the API

@dataclass
class SheetsAPI:
    """The three calls campaignwatch makes, with errors turned into SourceError."""
    http: object                 # the SheetsHTTPClient gspread made
    settings: Settings
    email: str
    name: str = ""
    key_file: str = ""
    calls: list[str] = field(default_factory=list)

    def for_source(self, name: str) -> SheetsAPI:
        return SheetsAPI(self.http, self.settings, self.email, name, self.key_file, self.calls)

    def metadata(self, sid: str, fields: str) -> dict:
        return self._call("metadata", self.http.fetch_sheet_metadata, sid,
                          {"includeGridData": "false", "fields": fields})

    def values(self, sid: str, ranges: list[str]) -> list[dict]:
        doc = self._call("values", self.http.values_batch_get, sid, list(ranges),
                         {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
                          "majorDimension": "ROWS"})
        out = doc.get("valueRanges", []) if isinstance(doc, dict) else None
        if not isinstance(out, list) or len(out) != len(ranges):
            raise SourceError(UNREACHABLE, "the API's answer to values:batchGet has the wrong shape", path=self.name)
        return out

    def batch_update(self, sid: str, requests: list[dict]) -> dict:
        return self._call("batchUpdate", self.http.batch_update, sid, {"requests": requests,
                                                                       "includeSpreadsheetInResponse": False})

    @property
    def retried_after_timeout(self) -> bool:
        return bool(getattr(self.http, "retried_after_timeout", False))

    def _call(self, what: str, fn, *args):
        import requests
        from google.auth import exceptions as gexc
        from gspread.exceptions import APIError
        self.calls.append(what)
        try:
            return fn(*args)
        except APIError as err:
            raise self._api_error(err) from None
        except gexc.RefreshError as err:
            if err.retryable:
                raise SourceError(UNREACHABLE, "the token endpoint kept failing", path=self.name) from None
            raise SourceError(AUTH, f"the key in {self.key_file} was refused: {_short(err)}", path=self.name) from None
        except requests.exceptions.Timeout:
            raise SourceError(UNREACHABLE, f"no answer within {self.settings.timeout:g} s, "
                                           f"{self._attempts()} attempts", path=self.name) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError, gexc.TransportError):
            host = urlsplit(self.settings.api_url).netloc or self.settings.api_url
            raise SourceError(UNREACHABLE, f"cannot connect to {host}, {self._attempts()} attempts",
                              path=self.name) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise SourceError(UNREACHABLE, f"google.api_url {self.settings.api_url!r} is not an http(s) URL",
                              path=self.name) from None
        except requests.exceptions.RequestException as err:
            raise SourceError(UNREACHABLE, f"{type(err).__name__} calling {what}", path=self.name) from None
        except ValueError as err:          # a body that is not JSON, or a URL we refuse to call
            raise SourceError(UNREACHABLE, f"unexpected answer to {what}: {_short(err)}", path=self.name) from None

    def _attempts(self) -> int:
        return int(getattr(self.http, "attempts", 1) or 1)

    def _api_error(self, err) -> SourceError:
        code = http_status(err)
        info = getattr(err, "error", None) or {}
        text = _short(info.get("message", "")) if isinstance(info, dict) else ""
        if isinstance(info, dict) and str(info.get("status", "")).startswith("invalid JSON"):
            text = ""                      # gspread put a whole HTML error page there: not a message
        n = self._attempts()
        if code == 429:
            return SourceError(QUOTA, f"HTTP 429 on {n} attempts", path=self.name)
        if code >= 500 or code == 408:
            return SourceError(UNREACHABLE, f"HTTP {code} on {n} attempts", path=self.name)
        if code == 401:
            return SourceError(AUTH, f"the API did not accept the token of the key in {self.key_file}", path=self.name)
        if code == 403:
            low = text.lower()
            if "has not been used" in low or "is disabled" in low or "not been enabled" in low:
                return SourceError(FORBIDDEN, "the Google Sheets API is not enabled in the service account's "
                                              "project", path=self.name)
            who = f" with {self.email}" if self.email else ""
            return SourceError(FORBIDDEN, f"it is not shared{who} as Editor", path=self.name)
        if code == 404:
            return SourceError(NOT_FOUND, "", path=self.name)
        return SourceError(REJECTED, f"HTTP {code}: {text}" if text else f"HTTP {code}", path=self.name)


def _short(err) -> str:
    if isinstance(err, BaseException):
        arg = err.args[0] if err.args else ""
        text = arg if isinstance(arg, str) else type(err).__name__
    else:
        text = str(err)
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:159] + "…"


_CLIENTS: dict[tuple, SheetsAPI] = {}


def connect(cfg: Config, name: str) -> SheetsAPI:
    """The API for source `name` ("gsheet:ID"); the session and token are shared by every source of the run."""
    settings = Settings.from_config(cfg)
    key = (settings, _key_identity(settings.credentials))
    api = _CLIENTS.get(key)
    if api is None:
        creds, email = _credentials(settings.credentials, name)
        import gspread
        gc = gspread.Client(auth=creds, http_client=_http_client_class(settings))
        api = SheetsAPI(gc.http_client, settings, email, name, settings.credentials.name)
        _CLIENTS[key] = api
    return api.for_source(name)


# =========================================================================== read → write hand-over

_METADATA: dict[str, tuple[float, dict]] = {}
METADATA_MAX_AGE = 600.0          # seconds; a write later than that fetches the metadata again


def remember(sid: str, meta: dict) -> None:
    """The metadata a read fetched, for the write of the same sync (saves a request)."""
    _METADATA[sid] = (time.monotonic(), meta)


def recall(sid: str) -> dict | None:
    """The metadata `remember`ed for `sid`, once, if recent enough."""
    stamp, meta = _METADATA.pop(sid, (0.0, None))
    return meta if meta is not None and time.monotonic() - stamp <= METADATA_MAX_AGE else None


def reset() -> None:
    """Forget sessions, tokens, cached metadata and the request window (tests)."""
    _CLIENTS.clear()
    _CREDENTIALS.clear()
    _METADATA.clear()
    BUDGET.reset()
