"""The weekly supervision report, from a history made by the real sync (the demo workbook
synced in one week, edited, and synced again in the next), checked for content and opened
in headless Chromium (screenshot and PDF)."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import zlib
from contextlib import redirect_stdout
from io import StringIO

import pytest
from campaignwatch.cli import main
from campaignwatch.history import HistoryError
from campaignwatch.weekly import build_weekly, write_weekly
from campaignwatch.workbook.template import write_template
from openpyxl import load_workbook

FIRST, SECOND = dt.date(2026, 11, 20), dt.date(2026, 11, 25)      # Friday of W47, Wednesday of W48
AS_OF = SECOND
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                                            "chrome", "headless_shell") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="headless Chromium is not installed (CI installs the Debian package "
                                           "chromium)")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("weekly")
    book = write_template(tmp / "demo.xlsx", demo=True, as_of=FIRST)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[history]\npath = "{tmp / "history.sqlite"}"\n', encoding="utf-8")
    with redirect_stdout(StringIO()):
        assert main(["--config", str(cfg), "sync", str(book), "--as-of", FIRST.isoformat()]) == 0
        wb = load_workbook(book)
        wb["Expenses"]["I10"] = "FP-3002"      # E-0203 gets its own receipt: EXPENSE_RECEIPT_REUSED resolves
        wb["Expenses"]["E9"] = 80000           # E-0202 grows: C-02 goes over budget without a request
        wb.save(book)
        assert main(["--config", str(cfg), "sync", str(book), "--as-of", SECOND.isoformat()]) == 0
    return tmp / "history.sqlite"


def rows(history, sql, *args):
    db = sqlite3.connect(history)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql, args)]
    finally:
        db.close()


def part(doc: str, section_id: str) -> str:
    m = re.search(rf'<section[^>]*id="{section_id}".*?</section>', doc, re.S)
    assert m, section_id
    return m.group(0)


FLAG_ID = re.compile(r"F[A-Z2-7]{6}")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_weekly_content(history, lang):
    doc = build_weekly(history, AS_OF, lang)
    assert doc.startswith("<!DOCTYPE html>") and doc.rstrip().endswith("</html>")
    assert ("2026-W48" if lang == "en" else "2026 年第 48 周") in doc and "2026-11-23" in doc
    # open high flags, with owners and ages
    high = rows(history, "SELECT * FROM flags WHERE severity='high' AND status='open'")
    assert len(high) >= 5
    sec = part(doc, "high")
    assert {f["flag_id"] for f in high} == set(FLAG_ID.findall(sec))
    for f in high:
        assert f["owner"] in sec
    assert ">5<" in sec and ">0<" in sec                         # days open: 5 (since W47) and 0 (new)
    # what changed: opened and resolved this week
    opened = rows(history, "SELECT flag_id FROM flags WHERE first_seen >= '2026-11-23'")
    resolved = rows(history, "SELECT flag_id, code FROM flags WHERE status='resolved'")
    assert opened and any(r["code"] == "EXPENSE_RECEIPT_REUSED" for r in resolved)
    changed = part(doc, "changed")
    assert {r["flag_id"] for r in opened} | {r["flag_id"] for r in resolved} == set(FLAG_ID.findall(changed))
    assert not {r["flag_id"] for r in resolved} & set(FLAG_ID.findall(sec))      # resolved: not open any more
    # charts: every campaign in both, over-budget bars red
    campaigns = {r["campaign_id"] for r in rows(history, "SELECT DISTINCT campaign_id FROM metrics")}
    assert campaigns == {f"C-0{i}" for i in range(1, 7)}
    for section_id in ("budget", "kpi"):
        svg = "".join(re.findall(r"<svg.*?</svg>", part(doc, section_id), re.S))
        assert campaigns <= set(re.findall(r">(C-\d\d)<", svg)), section_id
    budget = part(doc, "budget")
    assert budget.count('fill="#d32f2f"') == 2                   # C-01 and C-02 spend more than authorized
    assert "¥195,000 / ¥180,000" in budget
    # week over week: this week's run against last week's
    wow = part(doc, "wow")
    assert "2026-11-25" in wow and "2026-11-20" in wow and "¥20,000" in wow
    # self-contained: nothing fetched from anywhere
    for bad in ("<script", "<link", "src=", "url(", "@import", "<iframe", "<object"):
        assert bad not in doc.lower(), bad
    assert not re.search(r"https?://", doc)


def test_weekly_escapes_what_the_history_holds(history, tmp_path):
    copy = tmp_path / "h.sqlite"
    src = sqlite3.connect(history)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    fid = rows(history, "SELECT flag_id FROM flags WHERE severity='high' AND status='open'")[0]["flag_id"]
    dst.execute("UPDATE flags SET message=?, owner=? WHERE flag_id=?",
                ('<script>alert(1)</script> & "x"', "<b>boss</b>", fid))
    dst.execute("UPDATE metrics SET campaign_id='C-<i>9</i>' WHERE campaign_id='C-06'")
    dst.commit()
    dst.close()
    doc = build_weekly(copy, AS_OF, "en")
    assert "<script>" not in doc and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in doc
    assert "<b>boss</b>" not in doc and "&lt;b&gt;boss&lt;/b&gt;" in doc
    assert "<i>9</i>" not in doc and "C-&lt;i&gt;9&lt;/i&gt;" in doc


def test_weekly_sources_filter_and_missing_history(history, tmp_path):
    assert FLAG_ID.search(part(build_weekly(history, AS_OF, "en", sources=["demo.xlsx"]), "high"))
    other = build_weekly(history, AS_OF, "en", sources=["other.xlsx"])
    assert not FLAG_ID.search(other)
    with pytest.raises(HistoryError, match="does not exist"):
        build_weekly(tmp_path / "nope.sqlite", AS_OF, "en")


def test_weekly_before_any_run_says_so(history):
    doc = build_weekly(history, dt.date(2026, 11, 1), "en")
    assert "run sync first" in doc and not FLAG_ID.search(doc)


def test_write_weekly_is_atomic(history, tmp_path):
    out = tmp_path / "reports" / "week.html"
    assert write_weekly(history, out, AS_OF, "zh-CN") == out
    first = out.read_text(encoding="utf-8")
    assert "周例会监控周报" in first
    write_weekly(history, out, AS_OF, "en")
    assert "Weekly supervision report" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["week.html"]           # no temporary file left


# -- in a real browser ----------------------------------------------------------------------

def chromium(tmp_path, *args):
    if CHROMIUM is None:
        pytest.fail("CI is set but no chromium binary was found (install the Debian package chromium)")
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def png_scanlines(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the (filtered) scanlines of an 8-bit PNG, with zlib and struct only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = depth = ctype = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    stride = 1 + width * channels * depth // 8
    assert len(raw) == stride * height
    return width, height, [raw[i:i + stride] for i in range(0, len(raw), stride)]


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_weekly_renders_in_headless_chromium(history, tmp_path, lang):
    page = write_weekly(history, tmp_path / f"weekly-{lang}.html", AS_OF, lang)
    png = tmp_path / "shot.png"
    proc = chromium(tmp_path, f"--screenshot={png}", "--window-size=1200,1600", page.as_uri())
    assert png.is_file() and png.stat().st_size > 20_000, proc.stderr[-2000:]
    width, height, lines = png_scanlines(png.read_bytes())
    assert (width, height) == (1200, 1600)
    distinct = len(set(lines))
    assert distinct > 200, f"the screenshot looks flat ({distinct} distinct rows)"
    assert len(set(b"".join(lines[::50]))) > 40                 # many different byte values: text, colours

    pdf = tmp_path / "weekly.pdf"
    proc = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert pdf.is_file(), proc.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 5, pages                                      # one section per printed page at least


def test_weekly_language_auto_follows_the_flag_messages(history):
    assert "Weekly supervision report" in build_weekly(history, AS_OF, "auto")      # the demo's messages are English
    assert '<html lang="zh-CN">' in build_weekly(history, AS_OF, "zh-CN")
