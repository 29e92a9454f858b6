#!/usr/bin/env python3
"""Write a contract workbook of any size, typed the way people type, for the benchmarks.

    python benchmarks/generate.py OUT.xlsx --expenses N [--campaigns 200] [--lines 2000]
        [--kpi-actuals N/5] [--tasks 2000] [--seed 1] [--as-of 2026-11-26]

Tabs and headers are the English ones of the contract (`campaignwatch.contract.TABLES`),
so the file is what `campaignwatch init` would give a team after months of use. The
workbook is written with xlsxwriter in `constant_memory` mode: rows are streamed in order
and strings are written inline, so a million expenses fit in little memory.

What is in it (deterministic for a given seed):

- Campaigns: some ended (completed, a few still marked executing), most running
  (executing, a few only approved), a few not started (approved or draft); owners from
  30 people, approvers from 4 directors (a few campaigns approved by their own owner);
  most ended campaigns have a summary report; a few budget cells disagree with the lines.
- Budget lines: `--lines` ÷ `--campaigns` per campaign (L01, L02, …), planned amounts
  sized so that some lines end up over budget.
- Expenses: each references an existing campaign and one of its lines. About 2 % are dated
  outside their campaign's window (beyond the 7-day grace), 3 % have no receipt number,
  5 % have the amount typed as text (`¥1,234.00`, `1,234.50元`, `1.2万`, `￥…`), 0.2 % are
  unreadable (`TBD`, `待定`, `#N/A` as an error formula, an unreadable date), ~1 % have
  the date typed as text (`2026年9月1日`); dates are otherwise real Excel dates and
  amounts numbers with 2 decimals. A few receipt numbers are reused and a few expenses
  are entered twice (same campaign, date, amount and vendor, new ID).
- Overrun requests (a few hundred, mostly on lines that are over budget; approved,
  pending, rejected; decided before or after the spend), KPI targets (2–3 per campaign),
  KPI actuals, tasks, and small Risks, Incidents, Feedback and People tabs.

Nothing is dated after the as-of date, so the only findings `validate` reports are the
unreadable expenses (≈ 0.2 % of `--expenses`).
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIB = HERE.parent / "lib"
if str(LIB) not in sys.path:
    sys.path.insert(0, str(LIB))

import xlsxwriter  # noqa: E402

from campaignwatch.contract import KPI_CATALOGUE, TABLE_BY_KEY  # noqa: E402

AS_OF = dt.date(2026, 11, 26)
EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
MAX_ROWS = 1_048_575          # Excel's row limit, header excluded

# Shares of the expense mix (the "realistic" workbook).
P_OUTSIDE = 0.02
P_NO_RECEIPT = 0.03
P_TEXT_AMOUNT = 0.05
P_UNREADABLE = 0.002
P_TEXT_DATE = 0.01
P_DUPLICATE = 0.0005           # also the share of reused receipt numbers

OWNERS = [  # (name, aliases)
    ("王芳", "Wang Fang"), ("陈晨", "Chen Chen"), ("刘洋", "Liu Yang"), ("周婷", "Zhou Ting"),
    ("赵敏", "Zhao Min"), ("孙丽", "Sun Li"), ("吴静", "Wu Jing"), ("郑浩", "Zheng Hao"),
    ("冯雪", "Feng Xue"), ("何俊", "He Jun"), ("高峰", "Gao Feng"), ("林琳", "Lin Lin"),
    ("罗佳", "Luo Jia"), ("梁宇", "Liang Yu"), ("宋洁", "Song Jie"), ("唐磊", "Tang Lei"),
    ("许可", "Xu Ke"), ("韩梅", "Han Mei"), ("曹阳", "Cao Yang"), ("邓超", "Deng Chao"),
    ("彭飞", "Peng Fei"), ("曾敏", "Zeng Min"), ("萧然", "Xiao Ran"), ("田甜", "Tian Tian"),
    ("董杰", "Dong Jie"), ("潘婷", "Pan Ting"), ("袁野", "Yuan Ye"), ("蒋勇", "Jiang Yong"),
    ("蔡琴", "Cai Qin"), ("余晖", "Yu Hui"),
]
DIRECTORS = [("李强", "Li Qiang"), ("张伟", "Zhang Wei"), ("王磊", "Wang Lei"), ("刘敏", "Liu Min")]
STAFF = [("马丽", "Ma Li"), ("胡斌", "Hu Bin"), ("朱琳", "Zhu Lin"), ("郭涛", "Guo Tao"),
         ("何丹", "He Dan"), ("沈言", "Shen Yan"), ("钱程", "Qian Cheng"), ("秦岚", "Qin Lan")]
TEAMS = ["Online", "Brand", "Offline", "Sales", "E-commerce", "Retail"]
THEMES = ["Double 11 online promotion", "618 mid-year sale", "Spring product launch", "Community pop-up",
          "Member day", "Store opening", "KOL seeding", "Brand awareness survey", "Year-end customer gala",
          "Back-to-school offer", "Mid-autumn gift box", "Spring festival campaign", "Live-stream week",
          "Loyalty programme relaunch", "Trade show", "Roadshow", "Valentine's day offer", "Summer sale"]
CITIES = ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Nanjing",
          "Xi'an", "Suzhou", "national", "online"]
CHANNELS = ["Douyin, WeChat", "Weibo", "Xiaohongshu, Douyin", "Offline event", "Tmall, JD", "WeChat mini program",
            "Outdoor, subway", "Bilibili", "Email, SMS", "Stores"]
AUDIENCES = ["Existing customers aged 25-40", "Students", "Young families", "Key accounts", "Media and distributors",
             "New customers in tier-2 cities", "Members", "Local residents"]
CATEGORIES = ["Paid media", "Influencers", "Venue", "Printing", "Production", "Gifts & samples", "Logistics",
              "Agency fees", "Travel", "Research", "Staffing", "Contingency"]
VENDORS = ["ByteDance Ads", "Tencent Ads", "Weibo", "Starlight KOL Studio", "Metro Media", "Expo Centre",
           "Print shop", "SF Express", "Insight Research", "Bright Events", "Sunrise Hotel", "Red Leaf Agency",
           "Alibaba Mama", "JD Ads", "Blue Sky Travel", "Pixel Production", "Golden Gifts", "City Outdoor",
           "Kuaishou Ads", "Xiaohongshu"]
DESCRIPTIONS = {
    "Paid media": ["Feed ads", "Search ads", "Splash screen ads", "Retargeting"],
    "Influencers": ["Live stream", "Seeding posts", "KOL video", "Samples to influencers"],
    "Venue": ["Venue rent", "Venue deposit", "Stage and lighting"],
    "Printing": ["Posters", "Banners", "Brochures", "Leaflets"],
    "Production": ["Video shoot", "Photo shoot", "Editing", "Design"],
    "Gifts & samples": ["Gift boxes", "Samples", "Lucky draw prizes"],
    "Logistics": ["Courier", "Transport", "Storage"],
    "Agency fees": ["Agency retainer", "Creative agency", "PR agency"],
    "Travel": ["Train tickets", "Hotel", "Flights", "Taxi"],
    "Research": ["Survey design", "Fieldwork", "Report"],
    "Staffing": ["Temporary staff", "Hosts", "Security"],
    "Contingency": ["Unplanned costs", "Misc."],
}
TASKS = ["Creative brief", "Creative design", "Landing page", "Media plan", "Book the venue", "Print materials",
         "Influencer contracts", "Live stream schedule", "Rehearsal", "Logistics plan", "Press release",
         "Staff briefing", "Post-event survey", "Summary report", "Budget review", "Legal review"]
RISKS = ["Venue may cancel", "Ad account suspended", "Supplier delay", "Bad weather", "Influencer no-show",
         "Price error in live stream", "Low turnout", "Stock shortage"]
INCIDENTS = ["Live stream host quoted a wrong price", "Power failure during rehearsal", "Courier lost samples",
             "Negative post went viral", "Landing page down", "Wrong poster printed"]
FEEDBACK = ["Great discounts", "Registration page keeps failing", "Long queue at the venue", "Gift arrived broken",
            "Loved the live stream", "Coupon did not work", "Nice event, well organised"]
UNREADABLE_AMOUNTS = ["TBD", "待定", "#N/A", "see invoice", "?"]
UNREADABLE_DATES = ["待定", "TBD", "last week"]

# KPI: (catalogue key, low, high, unit, integer?, percent?)
KPI_TARGETS = {
    "sales": (200_000, 5_000_000, "CNY", False, False),
    "orders": (500, 20_000, "orders", True, False),
    "leads": (1_000, 20_000, "leads", True, False),
    "conversions": (200, 5_000, "", True, False),
    "impressions": (500_000, 20_000_000, "views", True, False),
    "clicks": (10_000, 500_000, "clicks", True, False),
    "participants": (200, 5_000, "people", True, False),
    "new_customers": (100, 3_000, "people", True, False),
    "conversion_rate": (0.02, 0.08, "", False, True),
    "ctr": (0.01, 0.05, "", False, True),
    "satisfaction": (0.85, 0.95, "", False, True),
    "brand_awareness": (0.2, 0.4, "", False, True),
    "market_share": (0.05, 0.2, "", False, True),
    "roi": (1.5, 3.0, "", False, False),
    "cpa": (30, 80, "CNY", False, False),
}
KPI = {k.key: k for k in KPI_CATALOGUE}


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _zh_date(ordinal: int) -> str:
    d = dt.date.fromordinal(ordinal)
    return f"{d.year}年{d.month}月{d.day}日"


class _Campaign:
    __slots__ = ("i", "cid", "owner", "start", "end", "status", "frac", "size", "lines", "approved_on",
                 "approver", "kpis", "last")


def generate(path, expenses: int, campaigns: int = 200, lines: int = 2000, kpi_actuals: int | None = None,
             tasks: int = 2000, seed: int = 1, as_of=AS_OF, shared_strings: bool = False) -> dict:
    """Write the workbook to `path`; return what was written (counts, seconds, bytes).

    `shared_strings=True` writes a shared string table, as Excel does, instead of inline
    strings; xlsxwriter then keeps every cell in memory (fine for 100,000 rows, gigabytes
    for 1,000,000). The cells are the same.
    """
    t0 = time.perf_counter()
    as_of = _as_date(as_of)
    if expenses < 0 or expenses > MAX_ROWS:
        raise ValueError(f"--expenses must be between 0 and {MAX_ROWS}")
    if campaigns < 1:
        raise ValueError("--campaigns must be at least 1")
    kpi_actuals = expenses // 5 if kpi_actuals is None else kpi_actuals
    if kpi_actuals > MAX_ROWS or tasks > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per tab")
    rng = random.Random(seed)
    rnd = rng.random
    A = as_of.toordinal()
    stats: dict = {"path": str(path), "seed": seed, "as_of": as_of.isoformat()}

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": not shared_strings})
    wb.set_properties({"title": "campaignwatch benchmark workbook", "author": "benchmarks/generate.py",
                       "created": dt.datetime.combine(as_of, dt.time(9))})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    f_dtime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    f_money = wb.add_format({"num_format": "#,##0.00"})
    f_pct = wb.add_format({"num_format": "0.0%"})
    f_head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})

    def sheet(key):
        table = TABLE_BY_KEY[key]
        ws = wb.add_worksheet(table.en)
        for c, col in enumerate(table.columns):
            ws.set_column(c, c, col.width)
            ws.write_string(0, c, col.en, f_head)
        ws.freeze_panes(1, 0)
        return ws, {col.key: c for c, col in enumerate(table.columns)}, table

    def write_rows(key, rows):
        """Small tabs: rows are dicts by column key; None is left blank."""
        ws, cols, table = sheet(key)
        kinds = {col.key: col.kind for col in table.columns}
        for r, row in enumerate(rows, start=1):
            for k, v in row.items():
                if v is None:
                    continue
                c = cols[k]
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif isinstance(v, dt.datetime):
                    ws.write_number(r, c, v.toordinal() - EXCEL_EPOCH + (v.hour * 60 + v.minute) / 1440, f_dtime)
                elif isinstance(v, dt.date):
                    ws.write_number(r, c, v.toordinal() - EXCEL_EPOCH, f_date)
                elif isinstance(v, _Pct):
                    ws.write_number(r, c, float(v), f_pct)
                else:
                    ws.write_number(r, c, v, f_money if kinds[k] == "money" else None)
        stats[key] = len(rows)

    # ---- campaigns -------------------------------------------------------------------
    width = max(3, len(str(campaigns)))
    camps: list[_Campaign] = []
    for i in range(campaigns):
        c = _Campaign()
        c.i = i
        u = rnd()
        if u < 0.25:                                   # ended
            end = A - rng.randint(1, 240)
            start = end - rng.randint(14, 120)
            status = "completed" if rnd() < 0.85 else "executing"
        elif u < 0.90:                                 # running
            length = rng.randint(30, 180)
            start = A - rng.randint(0, length - 1)
            end = start + length
            status = "executing" if rnd() < 0.85 else "approved"
        else:                                          # not started
            start = A + rng.randint(1, 60)
            end = start + rng.randint(7, 90)
            status = "approved" if rnd() < 0.65 else "draft"
        c.cid = f"C-{dt.date.fromordinal(start).year}-{i + 1:0{width}d}"
        c.owner = OWNERS[rng.randrange(len(OWNERS))][0]
        c.start, c.end, c.status = start, end, status
        c.frac = min(1.0, max(0.0, (A - start + 1) / (end - start + 1)))
        c.size = rng.lognormvariate(0, 0.6)
        c.approver = c.approved_on = None
        if status != "draft":
            c.approver = c.owner if rnd() < 0.03 else DIRECTORS[rng.randrange(len(DIRECTORS))][0]
            c.approved_on = min(start - rng.randint(3, 30), A - rng.randint(0, 3))
        camps.append(c)

    # Budget lines, with the spend model: each line gets a share of the expenses in
    # proportion to campaign size × time elapsed × line weight; its planned amount is its
    # projected spend at completion × r, r in [0.8, 1.4] (r < time elapsed: over budget now).
    per = max(1, lines // campaigns)
    mean_amount = 4900.0                               # mean of lognormvariate(8, 1), in yuan
    line_rows, weights = [], []
    for c in camps:
        cats = rng.sample(CATEGORIES, per) if per <= len(CATEGORIES) else \
            [CATEGORIES[j % len(CATEGORIES)] for j in range(per)]
        c.lines = []
        for j in range(per):
            q = rng.uniform(0.3, 1.7)
            c.lines.append((f"L{j + 1:02d}", cats[j], q))
            weights.append((c, j, c.size * c.frac * q))
    total_w = sum(w for _, _, w in weights) or 1.0
    full_scale = expenses * mean_amount / total_w      # expected yuan per unit of (size × q)
    planned_by_line = {}
    for c in camps:
        for j, (lid, cat, q) in enumerate(c.lines):
            r = rng.uniform(0.8, 1.4)
            planned = max(1000, round(full_scale * c.size * q * r, -2))
            planned_by_line[(c.i, j)] = (planned, full_scale * c.size * q * c.frac)
            line_rows.append(dict(campaign_id=c.cid, line_id=lid, category=cat, planned_amount=planned,
                                  notes="carried over from last year" if rnd() < 0.02 else None))

    camp_rows = []
    budget_mismatch = 0
    for c in camps:
        total = sum(planned_by_line[(c.i, j)][0] for j in range(len(c.lines)))
        u = rnd()
        if u < 0.05:
            budget = None
        elif u < 0.10:
            budget = round(total * rng.uniform(0.8, 1.2), -3)
            budget_mismatch += 1
        else:
            budget = total
        theme = THEMES[rng.randrange(len(THEMES))]
        has_summary = c.end < A and rnd() < 0.75
        summary_on = c.end + rng.randint(3, 20) if has_summary else None
        if summary_on is not None and summary_on > A:
            summary_on = A
        camp_rows.append(dict(
            campaign_id=c.cid, name=f"{theme} — {CITIES[rng.randrange(len(CITIES))]}",
            team=TEAMS[rng.randrange(len(TEAMS))], owner=c.owner,
            objective=f"{theme}: grow sales and members", audience=AUDIENCES[rng.randrange(len(AUDIENCES))],
            channels=CHANNELS[rng.randrange(len(CHANNELS))],
            start_date=dt.date.fromordinal(c.start), end_date=dt.date.fromordinal(c.end), budget=budget,
            status=c.status, approved_by=c.approver,
            approved_on=dt.date.fromordinal(c.approved_on) if c.approved_on else None,
            summary_report=f"reports/{c.cid}-summary.pdf" if has_summary else None,
            summary_on=dt.date.fromordinal(summary_on) if summary_on else None))
    write_rows("campaigns", camp_rows)
    stats["campaigns_by_status"] = {s: sum(1 for c in camps if c.status == s)
                                    for s in ("completed", "executing", "approved", "draft")}
    stats["budget_mismatch"] = budget_mismatch
    write_rows("budget_lines", line_rows)

    # ---- expenses (the big one: hand-written loop) -----------------------------------
    ws, col, _ = sheet("expenses")
    c_id, c_camp, c_line, c_date, c_amt = col["expense_id"], col["campaign_id"], col["line_id"], col["date"], col["amount"]
    c_stage, c_vendor, c_desc, c_rec = col["stage"], col["vendor"], col["description"], col["receipt_no"]
    c_by, c_reimb = col["submitted_by"], col["reimbursement"]
    ws_str, ws_num, ws_formula = ws.write_string, ws.write_number, ws.write_formula
    spend_lines = [(c, j) for c, j, w in weights if w > 0]
    cum, acc = [], 0.0
    for c, j, w in weights:
        if w > 0:
            acc += w
            cum.append(acc)
    staff = [s for s, _ in STAFF]
    n_vendors, n_staff = len(VENDORS), len(staff)
    desc_lists = {cat: DESCRIPTIONS.get(cat, ["Misc."]) for cat in CATEGORIES}
    eid_width = max(7, len(str(expenses)))
    counts = dict.fromkeys(("outside_window", "no_receipt", "text_amount", "unreadable", "text_date",
                            "receipt_reused", "duplicate", "committed"), 0)
    lognorm = rng.lognormvariate
    randint = rng.randint
    recent_receipts: list[str] = []
    prev = None
    # "A few" even in a small workbook: one expense in `every` is entered twice, another
    # reuses a recent receipt number (at least 5 of each in 1,000 rows).
    every = min(round(1 / P_DUPLICATE), max(2, expenses // 5))
    if expenses and not cum:
        raise ValueError("no campaign has started by the as-of date: nothing to spend on")
    for i in range(expenses):
        r = i + 1
        ws_str(r, c_id, f"E-{i + 1:0{eid_width}d}")
        if prev is not None and i % every == every - 1:
            # The same expense entered twice: same campaign, line, date, amount, vendor.
            c, lid, date_o, amount_cell, vendor, desc, receipt, by = prev
            if rnd() < 0.5:
                receipt = f"FP{20_000_000 + i:08d}"
            counts["duplicate"] += 1
            stage = "actual"
        else:
            c, j = spend_lines[bisect.bisect_left(cum, rnd() * acc)]
            lid, cat, _ = c.lines[j]
            last = min(c.end, A)
            if rnd() < P_OUTSIDE:
                counts["outside_window"] += 1
                if c.end + 8 <= A and rnd() < 0.5:
                    date_o = c.end + randint(8, min(40, A - c.end))
                else:
                    date_o = c.start - randint(8, 45)
            else:
                date_o = c.start + int(rnd() * (last - c.start + 1))
            cents = max(100, min(50_000_000, int(lognorm(8.0, 1.0) * 100)))
            u2 = rnd()
            if u2 < P_TEXT_AMOUNT:
                counts["text_amount"] += 1
                k = int(rnd() * (4 if cents >= 1_000_000 else 3))
                if k == 0:
                    amount_cell = f"¥{cents / 100:,.2f}"
                elif k == 1:
                    amount_cell = f"{cents / 100:,.2f}元"
                elif k == 2:
                    amount_cell = f"￥{cents / 100:,.2f}"
                else:
                    amount_cell = f"{round(cents / 1_000_000, 1):g}万"
            else:
                amount_cell = cents / 100
            vendor = VENDORS[int(rnd() * n_vendors)]
            dl = desc_lists[cat]
            desc = dl[int(rnd() * len(dl))]
            by = c.owner if rnd() < 0.6 else staff[int(rnd() * n_staff)]
            u3 = rnd()
            if u3 < P_NO_RECEIPT:
                receipt = None
                counts["no_receipt"] += 1
            elif i % every == every // 2 and recent_receipts:
                receipt = recent_receipts[int(rnd() * len(recent_receipts))]
                counts["receipt_reused"] += 1
            else:
                receipt = f"FP{10_000_000 + i:08d}"
                if len(recent_receipts) < 200:
                    recent_receipts.append(receipt)
                elif rnd() < 0.01:
                    recent_receipts[int(rnd() * 200)] = receipt
            u4 = rnd()
            stage = "committed" if u4 < 0.10 else ("actual" if u4 < 0.95 else None)
            prev = (c, lid, date_o, amount_cell, vendor, desc, receipt, by)
        ws_str(r, c_camp, c.cid)
        ws_str(r, c_line, lid)
        # Unreadable: mostly the amount, sometimes the date; one bad cell per row.
        bad = rnd() < P_UNREADABLE
        bad_date = bad and rnd() < 0.25
        if bad:
            counts["unreadable"] += 1
        if bad_date:
            ws_str(r, c_date, UNREADABLE_DATES[int(rnd() * len(UNREADABLE_DATES))])
        elif rnd() < P_TEXT_DATE:
            counts["text_date"] += 1
            ws_str(r, c_date, _zh_date(date_o))
        else:
            ws_num(r, c_date, date_o - EXCEL_EPOCH, f_date)
        if bad and not bad_date:
            word = UNREADABLE_AMOUNTS[int(rnd() * len(UNREADABLE_AMOUNTS))]
            if word == "#N/A":
                ws_formula(r, c_amt, "=NA()", None, "#N/A")
            else:
                ws_str(r, c_amt, word)
        elif type(amount_cell) is str:
            ws_str(r, c_amt, amount_cell)
        else:
            ws_num(r, c_amt, amount_cell, f_money)
        if stage is not None:
            ws_str(r, c_stage, stage)
            if stage == "committed":
                counts["committed"] += 1
        ws_str(r, c_vendor, vendor)
        ws_str(r, c_desc, desc)
        if receipt is not None:
            ws_str(r, c_rec, receipt)
        ws_str(r, c_by, by)
        if stage == "committed":
            pass
        else:
            u5 = rnd()
            if u5 < 0.55:
                ws_str(r, c_reimb, "reimbursed")
            elif u5 < 0.80:
                ws_str(r, c_reimb, "submitted")
            elif u5 < 0.95:
                ws_str(r, c_reimb, "not submitted")
    stats["expenses"] = expenses
    stats["expense_mix"] = counts

    # ---- overrun requests --------------------------------------------------------------
    n_requests = max(3, round(campaigns * 1.5))
    started = [c for c in camps if c.start <= A]
    over = [(c, j) for c in started for j in range(len(c.lines))
            if planned_by_line[(c.i, j)][1] > planned_by_line[(c.i, j)][0]]
    rng.shuffle(over)
    targets = [(c, j) for c, j in over if rnd() < 0.7]
    targets += [(c, None) for c in started if rnd() < 0.15]
    while len(targets) < n_requests and started:
        c = started[rng.randrange(len(started))]
        targets.append((c, rng.randrange(len(c.lines))))
    targets = targets[:n_requests]
    targets.sort(key=lambda t: (t[0].start, t[0].i))
    req_rows = []
    for k, (c, j) in enumerate(targets):
        if j is None:
            excess = sum(max(0.0, planned_by_line[(c.i, x)][1] - planned_by_line[(c.i, x)][0])
                         for x in range(len(c.lines)))
        else:
            planned, spent = planned_by_line[(c.i, j)]
            excess = max(0.0, spent - planned)
        amount = round(excess * rng.uniform(0.5, 1.3), -3) if excess > 1000 else rng.randint(5, 50) * 1000
        last = min(c.end, A)
        requested = c.start + int(rnd() * (last - c.start + 1))
        u = rnd()
        decision = "approved" if u < 0.55 else ("pending" if u < 0.80 else "rejected")
        approver = c.owner if rnd() < 0.03 else DIRECTORS[rng.randrange(len(DIRECTORS))][0]
        decided = min(A, requested + rng.randint(0, 10)) if decision != "pending" else None
        req_rows.append(dict(
            request_id=f"R-{k + 1:04d}", campaign_id=c.cid, line_id=c.lines[j][0] if j is not None else None,
            amount=amount, reason=rng.choice(["More reach needed", "Supplier price increase", "Extra event day",
                                              "Peak-week ad budget", "More guests confirmed"]),
            requested_by=c.owner, requested_on=dt.date.fromordinal(requested), decision=decision,
            approver=approver, decided_on=dt.date.fromordinal(decided) if decided else None))
    write_rows("overrun_requests", req_rows)

    # ---- KPI targets -------------------------------------------------------------------
    kpi_keys = list(KPI_TARGETS)
    target_rows, kpi_pairs = [], []
    for c in camps:
        chosen = rng.sample(kpi_keys, rng.randint(2, 3))
        for key in chosen:
            low, high, unit, integer, pct = KPI_TARGETS[key]
            t = rng.uniform(low, high)
            t = round(t, -2 if t > 10_000 else 0) if integer else round(t, 3 if pct else 2)
            target_rows.append(dict(
                campaign_id=c.cid, kpi=KPI[key].en, target=_Pct(t) if pct else t, unit=unit or None,
                direction=KPI[key].direction if rnd() < 0.3 else None,
                weight=None if rnd() < 0.2 else rng.choice([1, 1, 2, 3])))
            if c.start <= A:
                kpi_pairs.append((c, key, t))
    write_rows("kpi_targets", target_rows)

    # ---- KPI actuals (streamed) ----------------------------------------------------------
    ws, col, _ = sheet("kpi_actuals")
    per_pair = kpi_actuals / max(1, len(kpi_pairs))
    sources = ["CRM", "Store backend", "Weibo stats", "Survey", "GA", "Douyin console"]
    for r in range(1, kpi_actuals + 1 if kpi_pairs else 1):
        c, key, t = kpi_pairs[int(rnd() * len(kpi_pairs))]
        low, high, unit, integer, pct = KPI_TARGETS[key]
        last = min(c.end, A)
        date_o = c.start + int(rnd() * (last - c.start + 1))
        agg = KPI[key].aggregate
        if agg == "sum":
            v = t * c.frac / per_pair * rng.uniform(0.5, 1.4)
            v = max(0, round(v)) if integer else round(v, 2)
        else:
            v = round(t * rng.uniform(0.6, 1.25), 4 if pct else 2)
        ws.write_string(r, col["campaign_id"], c.cid)
        ws.write_string(r, col["kpi"], KPI[key].en)
        ws.write_number(r, col["date"], date_o - EXCEL_EPOCH, f_date)
        ws.write_number(r, col["value"], v, f_pct if pct else None)
        ws.write_string(r, col["source"], sources[int(rnd() * len(sources))])
    stats["kpi_actuals"] = kpi_actuals if kpi_pairs else 0

    # ---- tasks ---------------------------------------------------------------------------
    task_rows = []
    for k in range(tasks):
        c = camps[k % campaigns]
        start = c.start - 20 + int(rnd() * (c.end - c.start + 21))
        due = start + rng.randint(2, 20)
        done_on = None
        if due < A:
            u = rnd()
            status = "done" if u < 0.8 else ("in progress" if u < 0.95 else "blocked")
        elif start <= A:
            u = rnd()
            status = "in progress" if u < 0.6 else ("done" if u < 0.75 else "not started")
        else:
            status = "not started"
        if status == "done":
            done_on = max(min(start, A), min(A, due + rng.randint(-5, 4)))
        task_rows.append(dict(
            task_id=f"T-{k + 1:05d}", campaign_id=c.cid, task=TASKS[rng.randrange(len(TASKS))],
            owner=None if rnd() < 0.04 else (c.owner if rnd() < 0.5 else staff[rng.randrange(n_staff)]),
            start=dt.date.fromordinal(start), due=dt.date.fromordinal(due),
            done_on=dt.date.fromordinal(done_on) if done_on else None, status=status))
    task_rows.sort(key=lambda t: (t["campaign_id"], t["task_id"]))
    write_rows("tasks", task_rows)

    # ---- risks, incidents, feedback, people ----------------------------------------------
    risk_rows = []
    for c in camps:
        if rnd() < 0.4:
            risk_rows.append(dict(
                risk_id=f"K-{len(risk_rows) + 1:04d}", campaign_id=c.cid, description=rng.choice(RISKS),
                probability=rng.randint(1, 5), impact=rng.randint(1, 5),
                mitigation=None if rnd() < 0.2 else "Backup plan agreed",
                owner=None if rnd() < 0.1 else c.owner, status="open" if rnd() < 0.7 else "closed"))
    write_rows("risks", risk_rows)

    inc_rows = []
    for c in started:
        if rnd() < 0.2:
            last = min(c.end, A)
            day = c.start + int(rnd() * (last - c.start + 1))
            occurred = dt.datetime.combine(dt.date.fromordinal(day), dt.time(rng.randint(8, 20)))
            reported = occurred + dt.timedelta(hours=rng.choice([1, 2, 4, 8, 20, 30, 72]))
            if reported.date().toordinal() > A:
                reported = None
            closed = None
            if reported is not None and rnd() < 0.6:
                closed = min(A, reported.date().toordinal() + rng.randint(0, 5))
            inc_rows.append(dict(
                incident_id=f"I-{len(inc_rows) + 1:04d}", campaign_id=c.cid, occurred_at=occurred,
                description=rng.choice(INCIDENTS), severity=rng.choice(["low", "medium", "high", "critical"]),
                reported_to=DIRECTORS[rng.randrange(len(DIRECTORS))][0] if reported else None,
                reported_at=reported, action="Handled" if closed else None,
                closed_on=dt.date.fromordinal(closed) if closed else None))
    write_rows("incidents", inc_rows)

    fb_rows = []
    for c in started:
        for _ in range(rng.randint(0, 3)):
            last = min(c.end, A)
            received = c.start + int(rnd() * (last - c.start + 1))
            responded = received + rng.randint(0, 6) if rnd() < 0.7 else None
            if responded is not None and responded > A:
                responded = None
            fb_rows.append(dict(
                feedback_id=f"F-{len(fb_rows) + 1:05d}", campaign_id=c.cid,
                received_on=dt.date.fromordinal(received), channel=rng.choice(["Weibo", "WeChat", "Phone", "Store"]),
                rating=rng.randint(1, 5), content=rng.choice(FEEDBACK),
                response="Thank you, we are on it." if responded else None,
                responded_on=dt.date.fromordinal(responded) if responded else None))
    write_rows("feedback", fb_rows)

    people = []
    for name, alias in DIRECTORS:
        people.append(dict(name=name, aliases=alias, email=f"{alias.lower().replace(' ', '.')}@example.com",
                           superior="张伟" if name != "张伟" else None, role="Marketing director", team="Marketing"))
    for k, (name, alias) in enumerate(OWNERS + STAFF):
        people.append(dict(name=name, aliases=alias, email=f"{alias.lower().replace(' ', '.')}@example.com",
                           superior=DIRECTORS[k % len(DIRECTORS)][0],
                           role="Campaign manager" if k < len(OWNERS) else "Specialist", team=TEAMS[k % len(TEAMS)]))
    write_rows("people", people)

    wb.close()
    stats["seconds"] = time.perf_counter() - t0
    stats["bytes"] = os.path.getsize(path)
    return stats


class _Pct(float):
    """A number written with a percent format (KPI targets such as 30 %)."""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", metavar="OUT.xlsx")
    p.add_argument("--expenses", type=int, required=True, metavar="N")
    p.add_argument("--campaigns", type=int, default=200)
    p.add_argument("--lines", type=int, default=2000)
    p.add_argument("--kpi-actuals", type=int, default=None, metavar="N", help="default: expenses / 5")
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF, metavar="YYYY-MM-DD")
    p.add_argument("--shared-strings", action="store_true",
                   help="a shared string table as Excel writes (not constant_memory: every cell in memory)")
    a = p.parse_args(argv)
    try:
        s = generate(a.out, a.expenses, campaigns=a.campaigns, lines=a.lines, kpi_actuals=a.kpi_actuals,
                     tasks=a.tasks, seed=a.seed, as_of=a.as_of, shared_strings=a.shared_strings)
    except ValueError as exc:
        p.error(str(exc))
    mix = s["expense_mix"]
    n = max(1, s["expenses"])
    print(f"wrote {a.out}: {s['campaigns']} campaigns, {s['budget_lines']} budget lines, {s['expenses']} expenses, "
          f"{s['overrun_requests']} overrun requests, {s['kpi_targets']} KPI targets, {s['kpi_actuals']} KPI actuals, "
          f"{s['tasks']} tasks, {s['risks']} risks, {s['incidents']} incidents, {s['feedback']} feedback, "
          f"{s['people']} people")
    print("expense mix: " + ", ".join(f"{k} {v} ({v / n:.2%})" for k, v in mix.items()))
    print(f"time {s['seconds']:.1f}s, size {s['bytes'] / 1e6:.1f} MB ({s['bytes']} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
