"""The digest: composition in both languages, e-mail through a real local SMTP server
(aiosmtpd), and the WeCom / DingTalk / Feishu robots through a loopback HTTP server that
records what they were sent; signatures are recomputed here, independently."""
from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import urllib.parse
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from campaignwatch.changes import Change, RunChanges, SourceOutcome
from campaignwatch.config import defaults
from campaignwatch.notify import NotifyError, compose, deliver, per_owner, should_send
from campaignwatch.notify.email import send_email
from campaignwatch.notify.webhooks import WECOM_LIMIT, send_dingtalk, send_feishu, send_wecom
from campaignwatch.flags import Flag, FlagState, Found

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
AS_OF = dt.date(2026, 11, 26)
KIND_WORDS = {"en": {"new": "New flags", "escalated": "Escalated flags", "resolved": "Resolved flags",
                     "unverifiable": "no longer be verified", "waived": "Waived flags",
                     "failed": "could not be checked"},
              "zh-CN": {"new": "新增预警", "escalated": "升级的预警", "resolved": "已解决的预警",
                        "unverifiable": "无法再核实", "waived": "已豁免的预警", "failed": "未能检查"}}


# -- factories --------------------------------------------------------------------------

def flag(code, cid, severity="medium", owner=None, amount=None, key="", first_seen=AS_OF, status="open",
         previous_severity=None, previous_status=None, response=None) -> Flag:
    found = Found(code=code, campaign_id=cid, key=key, owner=owner, amount=amount, ids=("E-0001",),
                  evidence=(("Expenses", 2, "Expenses!E2"),), params={"where": f"{cid} Campaign {cid}"},
                  severity=severity)
    return Flag(found=found, state=FlagState(status=status, first_seen=first_seen, response=response,
                                             previous_status=previous_status, previous_severity=previous_severity))


def run_changes(changes=(), outcomes=None, emails=None) -> RunChanges:
    outcomes = outcomes if outcomes is not None else [SourceOutcome("team-a.xlsx", "ok", open_flags=4)]
    return RunChanges(AS_OF, list(outcomes), list(changes), dict(emails or {}))


@pytest.fixture
def rich() -> RunChanges:
    """One change of every kind, two owners with addresses (one via an alias), one without."""
    waiver = {"decision": "waived", "by": "张伟", "on": "2026-11-25", "until": "2026-12-31",
              "reason": "Approved by the CEO", "row": 2}
    changes = [
        Change("new", "team-a.xlsx", flag("OVERRUN_UNAPPROVED", "C-01", "high", "王芳", 950000)),
        Change("new", "team-a.xlsx", flag("TASK_NO_OWNER", "C-02", "low", "Chen Chen")),
        Change("new", "team-a.xlsx", flag("EXPENSE_NO_RECEIPT", "C-03", "medium", "刘洋", 150000)),
        Change("escalated", "team-a.xlsx", flag("BURN_AHEAD", "C-01", "high", "王芳",
                                                first_seen=AS_OF - dt.timedelta(6),
                                                previous_severity="medium", previous_status="open")),
        Change("resolved", "team-a.xlsx", flag("EXPENSE_RECEIPT_REUSED", "C-02", "high", "陈晨", 11500000,
                                               first_seen=dt.date(2026, 11, 1), status="resolved",
                                               previous_status="open", previous_severity="high")),
        Change("unverifiable", "team-a.xlsx", flag("TASK_OVERDUE", "C-03", "medium", "刘洋", status="unverifiable",
                                                   previous_status="open", previous_severity="medium")),
        Change("waived", "team-a.xlsx", flag("SELF_APPROVAL", "C-05", "high", "李强", 8000000, key="C-05",
                                             response=waiver, previous_status="open", previous_severity="high")),
    ]
    outcomes = [SourceOutcome("team-a.xlsx", "ok", open_flags=5),
                SourceOutcome("team-b.xlsx", "failed", "team-b.xlsx is protected with a password.")]
    emails = {"王芳": "wang.fang@example.com", "Wang Fang": "wang.fang@example.com",
              "陈晨": "chen.chen@example.com", "Chen Chen": "chen.chen@example.com",
              "李强": "li.qiang@example.com"}
    return run_changes(changes, outcomes, emails)


def ids_of(changes: RunChanges, kind: str) -> set[str]:
    return {c.flag.flag_id for c in changes.of(kind)}


def section(text: str, start: str, others: list[str]) -> str:
    """The part of `text` from the heading containing `start` to the next heading."""
    i = text.index(start)
    ends = [text.index(o, i + 1) for o in others if o != start and text.find(o, i + 1) > 0]
    return text[i:min(ends) if ends else len(text)]


def cfg_with(**values):
    cfg = defaults()
    for k, v in values.items():
        cfg.values[k.replace("__", ".")] = v
    return cfg


# -- composition ------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_compose_lists_each_flag_under_its_kind(rich, lang):
    m = compose(rich, lang)
    words = KIND_WORDS[lang]
    for body in (m.text, m.markdown, m.html):
        for kind in ("new", "escalated", "resolved", "unverifiable", "waived"):
            part = section(body, words[kind], list(words.values()))
            assert ids_of(rich, kind) <= set(re.findall(r"F[A-Z2-7]{6}", part)), (kind, lang)
            others = {c.flag.flag_id for c in rich.changes} - ids_of(rich, kind)
            assert not others & set(re.findall(r"F[A-Z2-7]{6}", part)), (kind, lang)
        assert "team-b.xlsx is protected with a password." in section(body, words["failed"], list(words.values()))
    # most severe first within a kind: the high OVERRUN before the medium, before the low
    new = section(m.text, words["new"], list(words.values()))
    pos = [new.index(rich.of("new")[i].flag.flag_id) for i in (0, 2, 1)]
    assert pos == sorted(pos)
    # escalation shows before → now; the waiver shows reason, by and until; amounts and ages
    high, medium = ("high", "medium") if lang == "en" else ("高", "中")
    assert f"{medium} → {high}" in m.text
    assert "张伟" in m.text and "2026-12-31" in m.text and "Approved by the CEO" in m.text
    assert "¥9,500.00" in m.text and "2026-11-20" in m.text
    assert ("6 d" if lang == "en" else "6 天") in m.text
    assert "2026-11-26" in m.subject and "<script" not in m.html


def test_subject_is_in_the_language_and_counts_kinds(rich):
    assert re.search(r"2 new|3 new", compose(rich, "en").subject)
    zh = compose(rich, "zh-CN").subject
    assert "新增 3" in zh and "升级 1" in zh and "已解决 1" in zh and "读取失败" in zh


def test_html_escapes_what_people_typed():
    f = flag("TASK_NO_OWNER", "C-<b>", "low", "x")
    m = compose(run_changes([Change("new", "<img src=x>.xlsx", f)]), "en")
    assert "<img src=x>" not in m.html and "&lt;img src=x&gt;" in m.html and "C-&lt;b&gt;" in m.html


def test_should_send_only_when_something_changed():
    assert not should_send(run_changes(), False)
    assert should_send(run_changes(), True)
    assert should_send(run_changes(outcomes=[SourceOutcome("x.xlsx", "failed", "broken.")]), False)
    assert should_send(run_changes([Change("resolved", "a", flag("TASK_NO_OWNER", "C-1", status="resolved"))]))


def test_per_owner_merges_aliases_and_reports_owners_without_address(rich):
    out = per_owner(rich)
    assert set(out) == {"wang.fang@example.com", "chen.chen@example.com", "li.qiang@example.com"}
    assert {c.flag.campaign_id for c in out["wang.fang@example.com"].changes} == {"C-01"}
    # 陈晨 (resolved flag) and the alias Chen Chen (new flag) are one person: one digest with both
    assert {c.kind for c in out["chen.chen@example.com"].changes} == {"new", "resolved"}
    assert out.without_address == ["刘洋"]
    assert all(not o.failed for o in out.values())          # failures go to the coordinator only


def test_markdown_within_a_limit_keeps_every_heading_and_says_how_many_more():
    many = [Change("new", "team-a.xlsx", flag("TASK_OVERDUE", f"C-{i:03d}", "medium", "王芳")) for i in range(200)]
    many.append(Change("resolved", "team-a.xlsx", flag("TASK_NO_OWNER", "C-999", "low", status="resolved")))
    for lang in ("en", "zh-CN"):
        m = compose(run_changes(many), lang)
        short = m.markdown_within(WECOM_LIMIT)
        assert len(short.encode("utf-8")) <= WECOM_LIMIT < len(m.markdown.encode("utf-8"))
        assert KIND_WORDS[lang]["new"] in short and KIND_WORDS[lang]["resolved"] in short
        assert re.search(r"(and|另有) \d+", short)
        kept = len(re.findall(r"F[A-Z2-7]{6}", short))
        hidden = sum(int(n) for n in re.findall(r"(?:and|另有) (\d+)", short))
        assert kept + hidden == 201


# -- e-mail -----------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                               getattr(session, "login_data", None) or getattr(session, "auth_data", None)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"robot" and auth_data.password == b"s3cret-pw"
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 that requires AUTH (LOGIN/PLAIN), without TLS."""
    handler = Recorder()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                         auth_require_tls=False, auth_required=True)
        ctl.start()
    try:
        yield ctl, handler
    finally:
        ctl.stop()


def mail_cfg(ctl, **more):
    values = dict(email__host="127.0.0.1", email__port=ctl.port, email__security="none", email__user="robot",
                  email__password_env="CW_TEST_SMTP_PW", email__sender="campaignwatch@example.com")
    return cfg_with(**{**values, **more})


def parsed(content: bytes):
    return email.message_from_bytes(content, policy=email.policy.default)


def bodies(msg) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_email_through_a_real_smtp_server_with_login(smtp, rich, lang, monkeypatch):
    ctl, handler = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PW", "s3cret-pw")
    send_email(mail_cfg(ctl), compose(rich, lang), ["boss@example.com", "audit@example.com"])
    (mail_from, rcpt, content, _), = handler.envelopes
    assert mail_from == "campaignwatch@example.com"
    assert rcpt == ["boss@example.com", "audit@example.com"]
    msg = parsed(content)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == compose(rich, lang).subject            # decoded: Chinese survives
    assert b"s3cret-pw" not in content
    text, html = bodies(msg)
    words = KIND_WORDS[lang]
    for kind in ("new", "escalated", "resolved", "unverifiable", "waived"):
        for body in (text, html):
            part = section(body, words[kind], list(words.values()))
            assert ids_of(rich, kind) <= set(re.findall(r"F[A-Z2-7]{6}", part))


def test_email_wrong_password_is_one_sentence_without_the_password(smtp, rich, monkeypatch):
    ctl, handler = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PW", "wrong-password")
    with pytest.raises(NotifyError) as err:
        send_email(mail_cfg(ctl), compose(rich, "en"), ["boss@example.com"])
    assert "refused the login of robot" in str(err.value) and "wrong-password" not in str(err.value)
    assert handler.envelopes == []


def test_email_missing_password_variable_and_unreachable_server(rich, monkeypatch):
    monkeypatch.delenv("CW_TEST_SMTP_PW", raising=False)
    cfg = cfg_with(email__host="127.0.0.1", email__port=free_port(), email__security="none", email__user="robot",
                   email__password_env="CW_TEST_SMTP_PW", email__sender="cw@example.com")
    with pytest.raises(NotifyError, match="CW_TEST_SMTP_PW"):
        send_email(cfg, compose(rich, "en"), ["a@example.com"])
    cfg.values["email.user"] = ""
    with pytest.raises(NotifyError, match="cannot connect to the SMTP server 127.0.0.1"):
        send_email(cfg, compose(rich, "en"), ["a@example.com"])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_email_starttls_verifies_the_server_certificate(rich, tmp_path, monkeypatch):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    handler = Recorder()
    ctl = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx, require_starttls=True,
                     authenticator=authenticator, auth_required=True)
    ctl.start()
    try:
        monkeypatch.setenv("CW_TEST_SMTP_PW", "s3cret-pw")
        cfg = mail_cfg(ctl, email__security="starttls")
        with pytest.raises(NotifyError, match="TLS"):          # our CA is not trusted yet
            send_email(cfg, compose(rich, "en"), ["boss@example.com"])
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        send_email(cfg, compose(rich, "en"), ["boss@example.com"])
        assert [e[1] for e in handler.envelopes] == [["boss@example.com"]]
    finally:
        ctl.stop()


def test_deliver_sends_full_and_per_owner_digests(smtp, rich, monkeypatch):
    ctl, handler = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PW", "s3cret-pw")
    cfg = mail_cfg(ctl, email__to=["boss@example.com"], digest__per_owner=True, general__language="zh-CN")
    lines = deliver(cfg, rich)
    assert any(line.startswith("e-mail digest to boss@example.com sent") for line in lines)
    assert any("刘洋" in line and "no e-mail address" in line for line in lines)
    by_rcpt = {tuple(rcpt): parsed(content) for _, rcpt, content, _ in handler.envelopes}
    assert set(by_rcpt) == {("boss@example.com",), ("wang.fang@example.com",), ("chen.chen@example.com",),
                            ("li.qiang@example.com",)}
    all_ids = {c.flag.flag_id for c in rich.changes}
    boss_text, _ = bodies(by_rcpt[("boss@example.com",)])
    assert all_ids <= set(re.findall(r"F[A-Z2-7]{6}", boss_text))
    for address, campaigns in (("wang.fang@example.com", {"C-01"}), ("chen.chen@example.com", {"C-02"}),
                               ("li.qiang@example.com", {"C-05"})):
        text, _ = bodies(by_rcpt[(address,)])
        mine = {c.flag.flag_id for c in rich.changes if c.flag.campaign_id in campaigns}
        assert set(re.findall(r"F[A-Z2-7]{6}", text)) == mine
        assert "team-b.xlsx is protected" not in text          # failures are not the owner's
        assert "新增" in by_rcpt[(address,)]["Subject"] or "升级" in by_rcpt[(address,)]["Subject"] \
            or "豁免" in by_rcpt[(address,)]["Subject"]


def test_deliver_sends_nothing_when_nothing_changed_unless_configured(smtp, monkeypatch):
    ctl, handler = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PW", "s3cret-pw")
    quiet = run_changes()
    assert deliver(mail_cfg(ctl, email__to=["boss@example.com"]), quiet) == []
    assert deliver(mail_cfg(ctl, email__to=["boss@example.com"], digest__enabled=False,
                            digest__send_unchanged=True), quiet) == []
    assert handler.envelopes == []
    lines = deliver(mail_cfg(ctl, email__to=["boss@example.com"], digest__send_unchanged=True), quiet)
    assert lines == ["e-mail digest to boss@example.com sent"]
    assert ("no changes" in parsed(handler.envelopes[0][2])["Subject"])


# -- robots -----------------------------------------------------------------------------

ANSWERS = {
    "/wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "/wecom-bad": (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
    "/dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "/dingtalk-bad": (200, {"errcode": 310000, "errmsg": "sign not match"}),
    "/feishu": (200, {"code": 0, "msg": "success", "data": {}}),
    "/feishu-old": (200, {"Extra": None, "StatusCode": 0, "StatusMessage": "success"}),
    "/feishu-bad": (200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}),
    "/down": (502, {"error": "bad gateway"}),
    "/html": (200, None),
}


@pytest.fixture
def robots(monkeypatch):
    """A loopback HTTP server standing in for the three robots; records every request."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            url = urllib.parse.urlsplit(self.path)
            seen.append({"path": url.path, "query": urllib.parse.parse_qs(url.query), "raw_query": url.query,
                         "content_type": self.headers["Content-Type"], "body": json.loads(body.decode("utf-8")),
                         "bytes": body})
            status, answer = ANSWERS[url.path]
            out = b"<html>oops</html>" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_wecom_markdown_payload(robots, rich):
    base, seen = robots
    send_wecom(f"{base}/wecom?key=abc", compose(rich, "zh-CN"))
    (req,) = seen
    assert req["query"] == {"key": ["abc"]} and req["content_type"].startswith("application/json")
    assert set(req["body"]) == {"msgtype", "markdown"} and req["body"]["msgtype"] == "markdown"
    content = req["body"]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert {c.flag.flag_id for c in rich.changes} <= set(re.findall(r"F[A-Z2-7]{6}", content))
    assert "新增预警" in content and "\\u" not in req["bytes"].decode("utf-8")     # UTF-8, not escapes


def test_wecom_long_digest_is_shortened_politely(robots):
    base, seen = robots
    many = [Change("new", "team-a.xlsx", flag("TASK_OVERDUE", f"C-{i:03d}", "medium", "王芳")) for i in range(150)]
    send_wecom(f"{base}/wecom?key=abc", compose(run_changes(many), "zh-CN"))
    content = seen[0]["body"]["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and "另有" in content


def test_dingtalk_signed_payload(robots, rich):
    base, seen = robots
    secret = "SEC0123456789abcdef"
    send_dingtalk(f"{base}/dingtalk?access_token=tok", compose(rich, "en"), secret)
    (req,) = seen
    assert req["query"]["access_token"] == ["tok"]
    ts = req["query"]["timestamp"][0]
    assert abs(int(ts) - int(dt.datetime.now().timestamp() * 1000)) < 60_000            # milliseconds
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
    assert req["query"]["sign"] == [expected.decode()]                                    # parse_qs decodes once
    assert re.search(r"sign=[^&]*%", req["raw_query"]) or "+" not in expected.decode()    # URL-encoded on the wire
    body = req["body"]
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert "campaignwatch" in body["markdown"]["title"]
    assert {c.flag.flag_id for c in rich.changes} <= set(re.findall(r"F[A-Z2-7]{6}", body["markdown"]["text"]))


def test_dingtalk_unsigned_and_error_answer(robots, rich):
    base, seen = robots
    send_dingtalk(f"{base}/dingtalk?access_token=tok", compose(rich, "en"), None)
    assert "sign" not in seen[0]["query"] and "timestamp" not in seen[0]["query"]
    with pytest.raises(NotifyError, match=r"errcode 310000.*sign not match") as err:
        send_dingtalk(f"{base}/dingtalk-bad?access_token=tok", compose(rich, "en"), "SECx")
    assert "tok" not in str(err.value)                         # the URL's token is never shown


@pytest.mark.parametrize("path", ["/feishu", "/feishu-old"])
def test_feishu_signed_card(robots, rich, path):
    base, seen = robots
    secret = "feishu-secret-令牌"
    send_feishu(f"{base}{path}", compose(rich, "zh-CN"), secret)
    body = seen[0]["body"]
    ts = body["timestamp"]
    assert isinstance(ts, str) and abs(int(ts) - int(dt.datetime.now().timestamp())) < 60      # seconds
    key = f"{ts}\n{secret}".encode("utf-8")
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["title"]["content"] == compose(rich, "zh-CN").subject
    text = card["elements"][0]["content"]
    assert {c.flag.flag_id for c in rich.changes} <= set(re.findall(r"F[A-Z2-7]{6}", text))


def test_feishu_unsigned_and_errors(robots, rich, monkeypatch):
    base, seen = robots
    monkeypatch.setattr("campaignwatch.notify.webhooks.RETRY_DELAY", 0.0)
    send_feishu(f"{base}/feishu", compose(rich, "en"))
    assert "sign" not in seen[0]["body"] and "timestamp" not in seen[0]["body"]
    with pytest.raises(NotifyError, match="code 19021"):
        send_feishu(f"{base}/feishu-bad", compose(rich, "en"), "s")
    with pytest.raises(NotifyError, match="HTTP 502"):
        send_feishu(f"{base}/down", compose(rich, "en"))
    with pytest.raises(NotifyError, match="not JSON"):
        send_wecom(f"{base}/html", compose(rich, "en"))
    with pytest.raises(NotifyError, match="cannot connect"):
        send_wecom(f"http://127.0.0.1:{free_port()}/wecom?key=k", compose(rich, "en"))


def test_deliver_one_failing_robot_does_not_stop_the_others(robots, rich, monkeypatch):
    base, seen = robots
    monkeypatch.setenv("CW_TEST_DT_SECRET", "SECabc")
    monkeypatch.delenv("CAMPAIGNWATCH_FEISHU_SECRET", raising=False)
    cfg = cfg_with(webhooks__wecom_url=f"{base}/wecom-bad?key=secret-key",
                   webhooks__dingtalk_url=f"{base}/dingtalk?access_token=t",
                   webhooks__dingtalk_secret_env="CW_TEST_DT_SECRET", webhooks__feishu_url=f"{base}/feishu")
    lines = deliver(cfg, rich)
    assert [p["path"] for p in seen] == ["/wecom-bad", "/dingtalk", "/feishu"]
    assert lines[0].startswith("WeCom digest failed:") and "errcode 93000" in lines[0] and "secret-key" not in lines[0]
    assert lines[1:] == ["DingTalk digest sent", "Feishu digest sent"]
    assert "sign" in seen[1]["query"] and "sign" not in seen[2]["body"]
    seen.clear()
    assert deliver(cfg, run_changes()) == [] and seen == []        # nothing changed: nothing sent
    cfg.values["digest.send_unchanged"] = True
    deliver(cfg, run_changes())
    assert len(seen) == 3


def test_deliver_says_what_is_missing_in_the_configuration(rich):
    assert deliver(cfg_with(email__to=["boss@example.com"]), rich)[0] == \
        "e-mail digest not sent: email.to is set but email.host is empty"
    assert deliver(cfg_with(), rich)[0].startswith("digest not sent: no channel configured")
    lines = deliver(cfg_with(digest__per_owner=True), rich)
    assert "owner digests not sent to 3 owner(s): email.host is empty" in lines
