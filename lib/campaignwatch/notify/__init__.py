"""Tell people what changed: the digest by e-mail and to group-chat robots.

`deliver(cfg, changes)` is what a scheduled run calls after the sync: it composes the
digest (`digest.compose`) in the configured language and sends it to every configured
channel — e-mail to `email.to`, the WeCom, DingTalk and Feishu robots — and, with
`digest.per_owner`, each campaign owner their own digest by e-mail. One channel failing
does not stop the others; the returned lines say what was sent and what failed.
"""
from __future__ import annotations

import os

from ..errors import CampaignwatchError


class NotifyError(CampaignwatchError):
    """A channel could not deliver the digest; the text is one sentence for the log."""


from .digest import Message, OwnerDigests, compose, per_owner, should_send  # noqa: E402

__all__ = ["NotifyError", "Message", "OwnerDigests", "compose", "per_owner", "should_send", "deliver",
           "digest_language"]


def digest_language(cfg, changes) -> str:
    lang = cfg["general.language"]
    return lang if lang in ("en", "zh-CN") else (changes.lang if changes.lang in ("en", "zh-CN") else "en")


def deliver(cfg, changes) -> list[str]:
    """Send the digest of `changes` (a `changes.RunChanges`) everywhere configured; return
    one human-readable line per channel and owner: sent, skipped or failed (never raises
    NotifyError)."""
    from .. import clock
    from .email import send_email
    from .webhooks import send_dingtalk, send_feishu, send_wecom

    if not cfg["digest.enabled"]:
        return []
    lines: list[str] = []
    lang = digest_language(cfg, changes)
    now = clock.stamp(clock.now(cfg["general.timezone"]), cfg["general.timezone"])
    if should_send(changes, cfg["digest.send_unchanged"]):
        message = compose(changes, lang, now)
        to = [a for a in cfg["email.to"] if isinstance(a, str) and a.strip()]
        if to and not cfg["email.host"]:
            lines.append("e-mail digest not sent: email.to is set but email.host is empty")
        elif to:
            lines.append(_attempt(f"e-mail digest to {', '.join(to)}", lambda: send_email(cfg, message, to)))
        robots = (
            ("WeCom", cfg["webhooks.wecom_url"], lambda url: send_wecom(url, message)),
            ("DingTalk", cfg["webhooks.dingtalk_url"],
             lambda url: send_dingtalk(url, message, _secret(cfg["webhooks.dingtalk_secret_env"]))),
            ("Feishu", cfg["webhooks.feishu_url"],
             lambda url: send_feishu(url, message, _secret(cfg["webhooks.feishu_secret_env"]))),
        )
        for name, url, send in robots:
            if url:
                lines.append(_attempt(f"{name} digest", lambda send=send, url=url: send(url)))
        if not lines:
            lines.append("digest not sent: no channel configured (email.host and email.to, or webhooks.*)")
    if cfg["digest.per_owner"]:
        owners = per_owner(changes)
        if owners and not cfg["email.host"]:
            lines.append(f"owner digests not sent to {len(owners)} owner(s): email.host is empty")
        else:
            for address, mine in owners.items():
                if should_send(mine, False):
                    message = compose(mine, lang, now)
                    lines.append(_attempt(f"owner digest to {address}",
                                          lambda m=message, a=address: send_email(cfg, m, [a])))
        for name in owners.without_address:
            lines.append(f"owner digest not sent to {name}: no e-mail address in the people table")
    return lines


def _secret(env: str) -> str | None:
    return (os.environ.get(env) or None) if env else None


def _attempt(what: str, send) -> str:
    try:
        send()
    except NotifyError as exc:
        return f"{what} failed: {exc}"
    except Exception as exc:       # an unexpected bug in one channel must not stop the others
        return f"{what} failed: unexpected {type(exc).__name__}"
    return f"{what} sent"
