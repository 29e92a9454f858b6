"""Send the digest by e-mail (smtplib): multipart/alternative (plain text + HTML), UTF-8,
subject encoded for Chinese. Settings `email.*`; the password comes from the environment
variable named by `email.password_env` and never appears in a message or a log."""
from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

from . import NotifyError
from .digest import Message

TIMEOUT = 30.0       # seconds, for connecting and for every SMTP command


def build_email(sender: str, to: list[str], message: Message) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["Subject"] = message.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(message.text, charset="utf-8")
    msg.add_alternative(message.html, subtype="html", charset="utf-8")
    return msg


def send_email(cfg, message: Message, to: list[str], timeout: float = TIMEOUT) -> None:
    """Send `message` to the addresses `to`. Raises NotifyError (one sentence) on failure."""
    host, port, security = cfg["email.host"], int(cfg["email.port"]), cfg["email.security"]
    user = cfg["email.user"]
    sender = cfg["email.sender"] or user
    to = [a.strip() for a in to if a and a.strip()]
    if not host:
        raise NotifyError("e-mail is not configured (email.host is empty).")
    if not to:
        raise NotifyError("no recipient to send the e-mail to.")
    if not sender or "@" not in sender:
        raise NotifyError("email.sender is not an e-mail address; set it in config.toml.")
    password = None
    if user:
        env = cfg["email.password_env"]
        password = os.environ.get(env) if env else None
        if not password:
            raise NotifyError(f"email.user is set but the environment variable {env or '(email.password_env)'} "
                              f"holding the SMTP password is not set.")
    where = f"{host}:{port}"
    msg = build_email(sender, to, message)
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                smtp.login(user, password)
            refused = smtp.send_message(msg, from_addr=sender, to_addrs=to)
        if refused:
            raise NotifyError(f"the SMTP server {where} refused {', '.join(sorted(refused))}.")
    except NotifyError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(f"the SMTP server {where} refused the login of {user} ({_reply(exc)}).") from None
    except smtplib.SMTPNotSupportedError:
        raise NotifyError(f"the SMTP server {where} does not support "
                          f"{'STARTTLS' if security == 'starttls' else 'login'}; check email.security.") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise NotifyError(f"the SMTP server {where} refused every recipient "
                          f"({', '.join(sorted(exc.recipients))}).") from None
    except smtplib.SMTPSenderRefused as exc:
        raise NotifyError(f"the SMTP server {where} refused the sender {sender} ({_reply(exc)}).") from None
    except smtplib.SMTPResponseException as exc:
        raise NotifyError(f"the SMTP server {where} answered {_reply(exc)}.") from None
    except ssl.SSLError as exc:
        raise NotifyError(f"TLS with the SMTP server {where} failed ({exc.reason or exc}); "
                          f"check email.security and email.port.") from None
    except TimeoutError:
        raise NotifyError(f"the SMTP server {where} did not answer within {timeout:g} seconds.") from None
    except smtplib.SMTPServerDisconnected:
        raise NotifyError(f"the SMTP server {where} closed the connection; check email.port and "
                          f"email.security.") from None
    except smtplib.SMTPException as exc:
        raise NotifyError(f"sending through the SMTP server {where} failed ({type(exc).__name__}).") from None
    except OSError as exc:
        raise NotifyError(f"cannot connect to the SMTP server {where} ({exc.strerror or exc}).") from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())}"
