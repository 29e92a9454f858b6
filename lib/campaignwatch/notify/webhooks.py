"""Group-chat robots: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) custom robots.

Each gets the digest's Markdown, shortened to what the robot accepts, is checked against
its documented success answer (WeCom and DingTalk: `errcode == 0`; Feishu: `code == 0`, or
`StatusCode == 0` from older endpoints) and raises NotifyError otherwise. A webhook URL
carries the robot's key, so messages name only its host. One retry on a connection error,
none on anything else (a robot that answered has decided).

Signing, as the robots document it:
- DingTalk 加签: string_to_sign = f"{timestamp_ms}\\n{secret}"; sign = urlencode(base64(
  HMAC-SHA256(key=secret, msg=string_to_sign))); appended as `&timestamp=…&sign=…`.
- Feishu 签名校验: string_to_sign = f"{timestamp_s}\\n{secret}"; sign = base64(HMAC-SHA256(
  key=string_to_sign, msg=b"")); `timestamp` (text) and `sign` go into the JSON body.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import requests

from . import NotifyError
from .digest import Message

TIMEOUT = (5.0, 20.0)          # connect, read (seconds)
WECOM_LIMIT = 4096             # bytes of markdown.content (WeCom documents 4096)
DINGTALK_LIMIT = 18000         # DingTalk rejects messages around 20,000 bytes; keep a margin
FEISHU_LIMIT = 18000           # Feishu: request body at most 20 KB; room for the card around it
RETRY_DELAY = 1.0              # seconds before the one retry after a connection error


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The DingTalk `sign` parameter, already URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    string_to_sign = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(string_to_sign, b"", hashlib.sha256).digest()).decode("ascii")


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or "?"


def _post(name: str, url: str, payload: dict, timeout=TIMEOUT) -> dict:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    where = f"the {name} robot ({_host(url)})"
    for attempt in (1, 2):
        try:
            resp = requests.post(url, data=body, headers=headers, timeout=timeout)
            break
        except requests.ConnectionError:
            if attempt == 2:
                raise NotifyError(f"cannot connect to {where}.") from None
            time.sleep(RETRY_DELAY)
        except requests.Timeout:
            raise NotifyError(f"{where} did not answer within {timeout[1]:g} seconds.") from None
        except requests.RequestException as exc:
            raise NotifyError(f"sending to {where} failed ({type(exc).__name__}).") from None
    if resp.status_code >= 400:
        raise NotifyError(f"{where} answered HTTP {resp.status_code}.")
    try:
        answer = resp.json()
    except ValueError:
        raise NotifyError(f"{where} answered with something that is not JSON (HTTP {resp.status_code}).") from None
    if not isinstance(answer, dict):
        raise NotifyError(f"{where} answered with unexpected JSON.")
    return answer


def _check_errcode(name: str, url: str, answer: dict) -> None:
    code = answer.get("errcode")
    if code != 0:
        msg = " ".join(str(answer.get("errmsg", "")).split())[:200]
        raise NotifyError(f"the {name} robot ({_host(url)}) refused the message: errcode {code}"
                          + (f", {msg}" if msg else "") + ".")


def send_wecom(url: str, message: Message, timeout=TIMEOUT) -> None:
    payload = {"msgtype": "markdown", "markdown": {"content": message.markdown_within(WECOM_LIMIT)}}
    _check_errcode("WeCom", url, _post("WeCom", url, payload, timeout))


def send_dingtalk(url: str, message: Message, secret: str | None = None, timeout=TIMEOUT,
                  now_ms: int | None = None) -> None:
    if secret:
        ts = now_ms if now_ms is not None else int(round(time.time() * 1000))
        url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
    # DingTalk shows `title` in the notification; its Markdown breaks lines only on blank lines
    text = message.markdown_within(DINGTALK_LIMIT).replace("\n", "\n\n")
    payload = {"msgtype": "markdown", "markdown": {"title": message.subject[:60], "text": text}}
    _check_errcode("DingTalk", url, _post("DingTalk", url, payload, timeout))


def send_feishu(url: str, message: Message, secret: str | None = None, timeout=TIMEOUT,
                now_s: int | None = None) -> None:
    payload: dict = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": message.subject},
                       "template": "red" if message.urgent else "green"},
            "elements": [{"tag": "markdown", "content": message.markdown_within(FEISHU_LIMIT)}],
        },
    }
    if secret:
        ts = now_s if now_s is not None else int(time.time())
        payload = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}
    answer = _post("Feishu", url, payload, timeout)
    code = answer.get("code", answer.get("StatusCode"))
    if code != 0:
        msg = " ".join(str(answer.get("msg", answer.get("StatusMessage", ""))).split())[:200]
        raise NotifyError(f"the Feishu robot ({_host(url)}) refused the message: code {code}"
                          + (f", {msg}" if msg else "") + ".")
