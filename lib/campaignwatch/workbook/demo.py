"""A realistic demo: six campaigns whose records break every rule of SPEC §5 at least once.

Every date is relative to `as_of`, so the demo never goes stale. Some cells are typed the
way people type them (`¥35,000.00`, `3.5万`, `2026年9月1日`) to show normalisation at work.
What each campaign is for:

- C-01 online promo, running: a budget line spent over budget before its overrun was
  approved (OVERRUN_APPROVED_LATE), another over budget with no request
  (OVERRUN_UNAPPROVED), a paid expense with no receipt, an overdue task with no owner, a
  KPI behind pace, an incident reported three days late.
- C-02 product launch, just started: an overrun awaiting approval (OVERRUN_PENDING), budget
  nearly used and burning far ahead of time, a receipt number used twice, a budget cell that
  disagrees with its lines, a KPI with no recent data, unanswered feedback, a high risk
  with no mitigation.
- C-03 community event, not yet approved but already paying a deposit.
- C-04 brand survey, ended a month ago: no summary report, an expense after the end date,
  a suspected duplicate expense, a KPI missed.
- C-05 year-end gala, approved by its own owner, starting in five days with no tasks.
- C-06 a draft: nothing to flag.
"""
from __future__ import annotations

import datetime as dt


def rows(as_of: dt.date, lang: str = "en") -> dict[str, list[dict]]:
    zh = lang == "zh-CN"

    def d(days: int) -> dt.date:
        return as_of + dt.timedelta(days=days)

    def t(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(d(days), dt.time(hour))

    def w(en: str, cn: str) -> str:
        return cn if zh else en

    def zh_date(days: int) -> str:
        x = d(days)
        return f"{x.year}年{x.month}月{x.day}日"

    S = {k: w(*v) for k, v in {
        "executing": ("executing", "执行中"), "approved": ("approved", "已批准"),
        "submitted": ("submitted", "待审批"), "completed": ("completed", "已结束"),
        "draft": ("draft", "草稿"), "actual": ("actual", "已发生"), "committed": ("committed", "已签约"),
        "reimbursed": ("reimbursed", "已报销"), "submitted_r": ("submitted", "已提交"),
        "pending": ("pending", "待审批"), "done": ("done", "已完成"), "in_progress": ("in progress", "进行中"),
        "not_started": ("not started", "未开始"), "open": ("open", "未关闭"), "higher": ("higher", "越高越好"),
        "high": ("high", "高"), "medium": ("medium", "中"),
    }.items()}

    campaigns = [
        dict(campaign_id="C-01", name=w("Double 11 online promotion", "双十一线上促销"), team=w("Online", "线上组"),
             owner="王芳", objective=w("Grow online sales 30% in November", "11月线上销售额增长30%"),
             audience=w("Existing customers aged 25-40", "25-40岁老客户"), channels=w("Douyin, WeChat", "抖音、微信"),
             start_date=d(-45), end_date=d(15), budget=150000, status=S["executing"],
             approved_by="李强", approved_on=d(-50)),
        dict(campaign_id="C-02", name=w("Spring product launch", "春季新品发布会"), team=w("Brand", "品牌组"),
             owner="陈晨", objective=w("Launch the new product line", "发布新品系列"),
             audience=w("Media and distributors", "媒体与经销商"), channels=w("Offline event, Weibo", "线下发布会、微博"),
             start_date=d(-10), end_date=d(40), budget="¥200,000.00", status=S["executing"],
             approved_by="李强", approved_on=d(-20)),
        dict(campaign_id="C-03", name=w("Community pop-up", "社区快闪活动"), team=w("Offline", "线下组"),
             owner="刘洋", objective=w("Recruit 500 members", "招募500名会员"), audience=w("Local residents", "周边居民"),
             channels=w("Community", "社区"), start_date=d(10), end_date=d(12), budget=30000,
             status=S["submitted"]),
        dict(campaign_id="C-04", name=w("Summer brand survey", "夏季品牌调研"), team=w("Brand", "品牌组"),
             owner="周婷", objective=w("Measure brand awareness", "评估品牌知名度"), audience=w("Target market", "目标市场"),
             channels=w("Online survey", "线上问卷"), start_date=d(-90), end_date=d(-30), budget=80000,
             status=S["completed"], approved_by="李强", approved_on=zh_date(-95)),
        dict(campaign_id="C-05", name=w("Year-end customer gala", "年终客户答谢会"), team=w("Sales", "销售组"),
             owner="李强", objective=w("Thank key accounts", "答谢重点客户"), audience=w("Key accounts", "重点客户"),
             channels=w("Hotel banquet", "酒店宴会"), start_date=d(5), end_date=d(6), budget="8万",
             status=S["approved"], approved_by="Li Qiang", approved_on=d(-3)),
        dict(campaign_id="C-06", name=w("Spring festival plan (draft)", "春节营销方案（草稿）"), team=w("Online", "线上组"),
             owner="王芳", start_date=d(60), end_date=d(90), budget=120000, status=S["draft"]),
    ]
    budget_lines = [
        dict(campaign_id="C-01", line_id="L01", category=w("Paid media", "媒体投放"), planned_amount=100000),
        dict(campaign_id="C-01", line_id="L02", category=w("Influencers", "达人合作"), planned_amount=50000),
        dict(campaign_id="C-02", line_id="L01", category=w("Venue", "场地"), planned_amount=100000),
        dict(campaign_id="C-02", line_id="L02", category=w("Advertising", "广告"), planned_amount="8万元"),
        dict(campaign_id="C-03", line_id="L01", category=w("Materials", "物料"), planned_amount=30000),
        dict(campaign_id="C-04", line_id="L01", category=w("Research agency", "调研服务"), planned_amount=80000),
        dict(campaign_id="C-05", line_id="L01", category=w("Banquet", "宴会"), planned_amount=80000),
        dict(campaign_id="C-06", line_id="L01", category=w("Paid media", "媒体投放"), planned_amount=120000),
    ]

    def e(eid, cid, line, days, amount, stage, vendor, what, receipt, by, reimb=None):
        return dict(expense_id=eid, campaign_id=cid, line_id=line, date=d(days) if isinstance(days, int) else days,
                    amount=amount, stage=S[stage], vendor=vendor, description=what, receipt_no=receipt,
                    submitted_by=by, reimbursement=reimb)

    media, kol = w("ByteDance Ads", "巨量引擎"), w("Starlight KOL Studio", "星光达人工作室")
    expenses = [
        e("E-0101", "C-01", "L01", -40, 40000, "actual", media, w("Search ads, week 1", "信息流投放第1周"), "FP-1001", "王芳", S["reimbursed"]),
        e("E-0102", "C-01", "L01", -30, "¥35,000.00", "actual", media, w("Search ads, week 2", "信息流投放第2周"), "FP-1002", "王芳", S["reimbursed"]),
        e("E-0103", "C-01", "L01", -20, "3.5万", "actual", media, w("Search ads, week 3", "信息流投放第3周"), "FP-1003", "王芳", S["submitted_r"]),
        e("E-0104", "C-01", "L02", -25, 30000, "actual", kol, w("Live stream, part 1", "直播合作（一）"), "FP-2001", "赵敏", S["reimbursed"]),
        e("E-0105", "C-01", "L02", -10, 28000, "committed", kol, w("Live stream, part 2 (contract)", "直播合作（二）合同"), None, "赵敏"),
        e("E-0106", "C-01", "L02", -8, 1500, "actual", w("Courier", "顺丰快递"), w("Samples to influencers", "寄样品给达人"), None, "赵敏",
          w("half done", "报了一半")),
        e("E-0201", "C-02", "L01", -8, 90000, "actual", w("Expo Centre", "国际会展中心"), w("Venue deposit and rent", "场地租金"), "FP-3001", "陈晨", S["submitted_r"]),
        e("E-0202", "C-02", "L02", -5, 60000, "committed", w("Metro Media", "地铁传媒"), w("Subway posters (contract)", "地铁广告合同"), None, "陈晨"),
        e("E-0203", "C-02", "L02", -4, 25000, "actual", w("Weibo", "微博"), w("Trending topic placement", "热搜推广"), "FP-3001", "陈晨"),
        e("E-0301", "C-03", "L01", -3, 8000, "actual", w("Print shop", "印刷厂"), w("Deposit for banners", "横幅定金"), "FP-4001", "刘洋"),
        e("E-0401", "C-04", "L01", -80, 20000, "actual", w("Insight Research", "洞察调研公司"), w("Survey design", "问卷设计"), "FP-5001", "周婷", S["reimbursed"]),
        e("E-0402", "C-04", "L01", -60, 20000, "actual", w("Insight Research", "洞察调研公司"), w("Fieldwork", "实地执行"), "FP-5002", "周婷", S["reimbursed"]),
        e("E-0403", "C-04", "L01", -60, 20000, "actual", w("Insight Research", "洞察调研公司"), w("Fieldwork", "实地执行"), "FP-5003", "周婷", S["reimbursed"]),
        e("E-0404", "C-04", "L01", -10, 3000, "actual", w("Print shop", "印刷厂"), w("Report printing", "报告印刷"), "FP-5004", "周婷"),
    ]
    overrun_requests = [
        dict(request_id="R-01", campaign_id="C-01", line_id="L01", amount=10000,
             reason=w("Extra ad budget for the peak week", "高峰周追加投放"), requested_by="王芳",
             requested_on=d(-21), decision=S["approved"], approver="李强", decided_on=d(-15)),
        dict(request_id="R-02", campaign_id="C-02", line_id="L02", amount=5000,
             reason=w("Trending topic placement", "热搜推广费用"), requested_by="陈晨",
             requested_on=d(-4), decision=S["pending"], approver="李强"),
        dict(request_id="R-03", campaign_id="C-05", line_id=None, amount=5000,
             reason=w("More guests confirmed", "确认来宾增加"), requested_by="李强",
             requested_on=d(-2), decision=S["approved"], approver="李强", decided_on=d(-2)),
    ]
    kpi_targets = [
        dict(campaign_id="C-01", kpi=w("leads", "线索数"), target=5000, unit=w("leads", "条"), direction=S["higher"], weight=1),
        dict(campaign_id="C-01", kpi=w("sales", "销售额"), target=800000, unit=w("CNY", "元"), direction=S["higher"], weight=2),
        dict(campaign_id="C-01", kpi=w("roi", "投资回报率"), target=2, weight=1),
        dict(campaign_id="C-02", kpi=w("impressions", "曝光量"), target=2000000, unit=w("views", "次"), weight=1),
        dict(campaign_id="C-02", kpi=w("satisfaction", "满意度"), target="90%", weight=1),
        dict(campaign_id="C-04", kpi=w("brand_awareness", "品牌知名度"), target="30%", weight=2),
        dict(campaign_id="C-04", kpi=w("participants", "参与人数"), target=2000, unit=w("people", "人"), weight=1),
        dict(campaign_id="C-04", kpi=w("cpa", "获客成本"), target=40, unit=w("CNY", "元"), direction=w("lower", "越低越好"), weight=1),
    ]
    kpi_actuals = [
        dict(campaign_id="C-01", kpi=w("leads", "线索数"), date=d(-30), value=800, source="CRM"),
        dict(campaign_id="C-01", kpi=w("leads", "线索数"), date=d(-15), value=700, source="CRM"),
        dict(campaign_id="C-01", kpi=w("leads", "线索数"), date=d(-2), value=650, source="CRM"),
        dict(campaign_id="C-01", kpi=w("sales", "销售额"), date=d(-2), value="52万", source=w("Store backend", "店铺后台")),
        dict(campaign_id="C-01", kpi=w("conversions", "转化数"), date=d(-2), value=3100, source="CRM"),
        dict(campaign_id="C-02", kpi=w("impressions", "曝光量"), date=d(-9), value=150000, source=w("Weibo stats", "微博数据")),
        dict(campaign_id="C-04", kpi=w("brand_awareness", "品牌知名度"), date=d(-45), value="15%", source=w("Survey", "问卷")),
        dict(campaign_id="C-04", kpi=w("brand_awareness", "品牌知名度"), date=d(-31), value="18%", source=w("Survey", "问卷")),
        dict(campaign_id="C-04", kpi=w("participants", "参与人数"), date=d(-31), value=2100, source=w("Survey", "问卷")),
        dict(campaign_id="C-04", kpi=w("conversions", "转化数"), date=d(-31), value=1500, source=w("Survey", "问卷")),
    ]
    tasks = [
        dict(task_id="T-0101", campaign_id="C-01", task=w("Creative design", "创意设计"), owner="赵敏",
             start=d(-45), due=d(-30), done_on=d(-31), status=S["done"]),
        dict(task_id="T-0102", campaign_id="C-01", task=w("Landing page", "活动落地页"), owner=None,
             start=d(-20), due=d(-5), status=S["in_progress"]),
        dict(task_id="T-0103", campaign_id="C-01", task=w("Live stream schedule", "直播排期"), owner="赵敏",
             start=d(-10), due=d(10), status=S["in_progress"]),
        dict(task_id="T-0201", campaign_id="C-02", task=w("Launch event run-through", "发布会彩排"), owner="陈晨",
             start=d(-10), due=d(5), status=S["in_progress"]),
        dict(task_id="T-0301", campaign_id="C-03", task=w("Book the square", "预订广场"), owner="刘洋",
             start=d(-5), due=d(5), status=S["not_started"]),
        dict(task_id="T-0401", campaign_id="C-04", task=w("Survey fieldwork", "问卷执行"), owner="周婷",
             start=d(-80), due=d(-40), done_on=d(-35), status=S["done"]),
    ]
    risks = [
        dict(risk_id="K-01", campaign_id="C-02", description=w("Venue may cancel for a government event", "场地可能因政府活动被取消"),
             probability=4, impact=5, mitigation=None, owner=None, status=S["open"]),
        dict(risk_id="K-02", campaign_id="C-01", description=w("Ad account suspended", "广告账户被封"),
             probability=2, impact=4, mitigation=w("Keep a backup account", "准备备用账户"), owner="王芳", status=S["open"]),
    ]
    incidents = [
        dict(incident_id="I-01", campaign_id="C-01", occurred_at=t(-12, 10),
             description=w("Live stream host quoted a wrong price", "主播口播价格错误"), severity=S["high"],
             reported_to="李强", reported_at=t(-9, 9), action=w("Honoured the price, corrected", "按错价履约并更正"),
             closed_on=d(-8)),
        dict(incident_id="I-02", campaign_id="C-02", occurred_at=t(-6, 14),
             description=w("Stage power failure during rehearsal", "彩排时舞台断电"), severity=S["medium"],
             reported_to="李强", reported_at=t(-6, 15), action=w("Backup generator", "启用备用发电机")),
    ]
    feedback = [
        dict(feedback_id="F-01", campaign_id="C-02", received_on=d(-6), channel=w("Weibo", "微博"), rating=2,
             content=w("Registration page keeps failing", "报名页面一直打不开")),
        dict(feedback_id="F-02", campaign_id="C-01", received_on=d(-5), channel=w("WeChat", "微信"), rating=5,
             content=w("Great discounts", "优惠力度很大"), response=w("Thank you!", "感谢支持！"), responded_on=d(-4)),
    ]
    people = [
        dict(name="王芳", aliases="Wang Fang, Fang Wang", email="wang.fang@example.com", superior="李强",
             role=w("Campaign manager", "活动经理"), team=w("Online", "线上组")),
        dict(name="李强", aliases="Li Qiang, Qiang Li", email="li.qiang@example.com", superior="张伟",
             role=w("Marketing director", "市场总监"), team=w("Marketing", "市场部")),
        dict(name="陈晨", aliases="Chen Chen", email="chen.chen@example.com", superior="李强",
             role=w("Brand manager", "品牌经理"), team=w("Brand", "品牌组")),
        dict(name="刘洋", aliases="Liu Yang", email="liu.yang@example.com", superior="李强",
             role=w("Event lead", "活动主管"), team=w("Offline", "线下组")),
        dict(name="周婷", aliases="Zhou Ting", email="zhou.ting@example.com", superior="李强",
             role=w("Research lead", "调研主管"), team=w("Brand", "品牌组")),
        dict(name="赵敏", aliases="Zhao Min", email="zhao.min@example.com", superior="王芳",
             role=w("Content specialist", "内容专员"), team=w("Online", "线上组")),
        dict(name="张伟", aliases="Zhang Wei", email="zhang.wei@example.com", role=w("VP Marketing", "市场副总裁")),
    ]
    return dict(campaigns=campaigns, budget_lines=budget_lines, expenses=expenses,
                overrun_requests=overrun_requests, kpi_targets=kpi_targets, kpi_actuals=kpi_actuals,
                tasks=tasks, risks=risks, incidents=incidents, feedback=feedback, people=people,
                responses=[])
