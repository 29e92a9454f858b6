"""The workbook contract (SPEC §2): every table people fill in, declared once.

Templates (`workbook/template.py`), recognition (`read/recognise.py`), normalisation
(`stages/normalise.py`), validation and the README's column tables are all derived from
the `TABLES` below. There is no second copy of the contract anywhere.

A column has a *kind* that says how its cells are read:

    id        record identifier (text; repeats after the first are errors)
    ref       a campaign ID that must exist in the campaigns table
    line_ref  a budget line ID that must exist for the row's campaign
    text      free text
    person    a person's name (compared through the people table's aliases)
    date      a calendar date
    datetime  a date with an optional time of day
    money     an amount of money (exact, integer minor units)
    number    a plain number (a trailing % divides by 100)
    score     a whole number on a 1–5 scale
    enum      one word of an enumeration, in English or Chinese

`needed` marks the values a figure needs: when such a cell is blank or cannot be read the
row is an error and is left out of the figures. Any other cell that cannot be read is a
warning and is treated as blank.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# What each kind expects, for messages: (English, Chinese, example).
EXPECTED = {  # kind -> (English, Chinese, example), for hints and messages
    "id": ("an ID", "编号", "C-2026-01"),
    "ref": ("a campaign ID", "活动编号", "C-2026-01"),
    "line_ref": ("a budget line ID", "预算科目编号", "L01"),
    "text": ("text", "文本", "…"),
    "person": ("a name", "姓名", "王芳"),
    "date": ("a date", "日期", "2026-11-26"),
    "datetime": ("a date and time", "日期时间", "2026-11-26 14:30"),
    "money": ("an amount of money", "金额", "¥1,234.50"),
    "number": ("a number", "数字", "1200 / 12%"),
    "score": ("a whole number from 1 to 5", "1 到 5 的整数", "3"),
    "enum": ("one of the listed words", "下拉选项之一", "approved / 已批准"),
}


@dataclass(frozen=True)
class Enum:
    name: str
    # canonical code -> (English word, Chinese word, *other accepted words)
    words: dict[str, tuple[str, ...]]
    default: str | None = None     # used for blank cells
    label_en: str = ""
    guess_unknown: bool = True     # an unknown word is read as `default` (with a warning); False: as unknown

    @property
    def unknown(self) -> str | None:
        """What an unknown word is read as: the default, or None where guessing would be unsafe
        (a campaign status guessed as "draft" would raise a high SPEND_BEFORE_APPROVAL)."""
        return self.default if self.guess_unknown else None

    def english(self, code: str) -> str:
        return self.words[code][0]

    def chinese(self, code: str) -> str:
        return self.words[code][1]

    def label(self, code: str, lang: str) -> str:
        return self.chinese(code) if lang == "zh-CN" else self.english(code)

    def accepted(self) -> dict[str, str]:
        """Every accepted word (either language, both code spellings) -> canonical code."""
        out: dict[str, str] = {}
        for code, words in self.words.items():
            for w in (code, *words):
                out[w] = code
        return out


# How approvals are worded in OA systems and chat, accepted for a campaign's status and an
# overrun request's decision. Matched against the whole cell only (`values.make_enum_parser`):
# 不同意 is never read as 同意, nor 未通过 as 通过, and 同意吗 is an unknown word.
APPROVED_WORDS = ("审批通过", "已通过", "通过", "同意", "已同意")
REJECTED_WORDS = ("不同意", "未通过", "不通过", "拒绝", "已拒绝", "退回", "已退回")

ENUMS: dict[str, Enum] = {e.name: e for e in (
    Enum("campaign_status", {
        "draft": ("draft", "草稿"),
        "submitted": ("submitted", "待审批", "pending approval", "审批中"),
        "approved": ("approved", "已批准", "批准", "已审批", *APPROVED_WORDS),
        "rejected": ("rejected", "已驳回", "驳回", *REJECTED_WORDS),
        "executing": ("executing", "执行中", "running", "in progress", "进行中"),
        "completed": ("completed", "已结束", "已完成", "done", "finished", "结束"),
        "cancelled": ("cancelled", "已取消", "canceled", "取消"),
    }, default="draft", guess_unknown=False),
    Enum("expense_stage", {
        "committed": ("committed", "已签约", "已下单", "contracted", "ordered"),
        "actual": ("actual", "已发生", "已付款", "paid", "spent"),
    }, default="actual"),
    Enum("reimbursement", {
        "not_submitted": ("not submitted", "未报销", "未提交"),
        "submitted": ("submitted", "已提交", "报销中"),
        "reimbursed": ("reimbursed", "已报销"),
        "rejected": ("rejected", "已驳回", "驳回"),
    }),
    Enum("decision", {
        "pending": ("pending", "待审批", "审批中"),
        "approved": ("approved", "已批准", "批准", *APPROVED_WORDS),
        "rejected": ("rejected", "已驳回", "驳回", *REJECTED_WORDS),
    }, default="pending"),
    Enum("task_status", {
        "not_started": ("not started", "未开始"),
        "in_progress": ("in progress", "进行中"),
        "done": ("done", "已完成", "完成", "completed"),
        "blocked": ("blocked", "受阻", "阻塞"),
    }, default="not_started"),
    Enum("risk_status", {
        "open": ("open", "未关闭", "打开"),
        "closed": ("closed", "已关闭", "关闭"),
    }, default="open"),
    Enum("incident_severity", {
        "low": ("low", "低"),
        "medium": ("medium", "中"),
        "high": ("high", "高"),
        "critical": ("critical", "严重"),
    }, default="medium"),
    Enum("direction", {
        "higher": ("higher", "越高越好", "higher is better", "高"),
        "lower": ("lower", "越低越好", "lower is better", "低"),
    }),
    Enum("response", {
        "acknowledged": ("acknowledged", "已知悉", "知悉", "ack"),
        "waived": ("waived", "豁免", "waive"),
    }),
)}


@dataclass(frozen=True)
class Column:
    key: str
    en: str                        # English header
    zh: str                        # Chinese header
    kind: str
    needed: bool = False
    enum: str | None = None
    aliases: tuple[str, ...] = ()  # other accepted header spellings
    width: int = 14                # template column width (characters)
    help_en: str = ""
    help_zh: str = ""
    happened: bool = False         # a date of something that happened: later than as-of is odd

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en

    def names(self) -> tuple[str, ...]:
        return (self.key, self.en, self.zh, *self.aliases)


@dataclass(frozen=True)
class Table:
    key: str
    en: str                        # English tab name
    zh: str                        # Chinese tab name
    columns: tuple[Column, ...]
    id_columns: tuple[str, ...] = ()   # columns whose combination must be unique
    optional: bool = False         # a missing optional table is not reported
    aliases: tuple[str, ...] = ()
    help_en: str = ""
    help_zh: str = ""

    def tab(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en

    def names(self) -> tuple[str, ...]:
        return (self.key, self.en, self.zh, *self.aliases)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


def C(key, en, zh, kind, *, needed=False, enum=None, aliases=(), width=14, help_en="", help_zh="",
      happened=False):
    return Column(key, en, zh, kind, needed, enum, tuple(aliases), width, help_en, help_zh, happened)


CAMPAIGN_REF = C("campaign_id", "Campaign ID", "活动编号", "ref", needed=True,
                 aliases=("campaign", "活动ID", "活动代码"), width=13,
                 help_en="ID of a campaign on the Campaigns tab", help_zh="活动表中的活动编号")
LINE_REF = C("line_id", "Budget line", "预算科目编号", "line_ref",
             aliases=("line", "budget line id", "预算科目", "科目编号"), width=13,
             help_en="ID of a budget line of the same campaign (blank = the campaign as a whole)",
             help_zh="同一活动的预算科目编号（留空表示整个活动）")

TABLES: tuple[Table, ...] = (
    Table("campaigns", "Campaigns", "活动", (
        C("campaign_id", "Campaign ID", "活动编号", "id", needed=True,
          aliases=("campaign", "活动ID", "活动代码"), width=13,
          help_en="Unique ID, e.g. C-2026-01", help_zh="唯一编号，例如 C-2026-01"),
        C("name", "Name", "活动名称", "text", aliases=("campaign name", "名称"), width=28),
        C("team", "Team", "团队", "text", aliases=("部门",)),
        C("owner", "Owner", "负责人", "person", width=12),
        C("objective", "Objective", "活动目标", "text", aliases=("目标",), width=28),
        C("audience", "Audience", "目标群体", "text", aliases=("target audience", "目标人群", "目标客户"), width=20),
        C("channels", "Channels", "推广渠道", "text", aliases=("渠道",), width=20),
        C("start_date", "Start date", "开始日期", "date", needed=True, aliases=("start", "开始时间")),
        C("end_date", "End date", "结束日期", "date", needed=True, aliases=("end", "结束时间")),
        C("budget", "Budget", "总预算", "money", aliases=("total budget", "预算", "预算总额"),
          help_en="Used only when the campaign has no budget lines",
          help_zh="仅在活动没有预算明细时使用"),
        C("status", "Status", "状态", "enum", needed=True, enum="campaign_status", aliases=("活动状态",), width=12),
        C("approved_by", "Approved by", "审批人", "person", aliases=("approver", "批准人"), width=12),
        C("approved_on", "Approved on", "审批日期", "date", aliases=("approval date", "批准日期"), happened=True,
          help_en="Date of the first approval; keep it when the plan is changed later",
          help_zh="首次审批日期；计划变更后请保留"),
        C("change_approved_on", "Change approved on", "变更审批日期", "date",
          aliases=("re-approved on", "change approval date", "reapproved on", "变更批准日期", "重新审批日期"),
          happened=True,
          help_en="Date the latest change (dates, budget, cancellation) of the approved plan was approved",
          help_zh="已批准计划最近一次变更（日期、预算、取消）的审批日期"),
        C("summary_report", "Summary report", "总结报告", "text", aliases=("summary", "活动总结"), width=24,
          help_en="Link or file name of the summary report", help_zh="总结报告的链接或文件名"),
        C("summary_on", "Summary on", "总结日期", "date", aliases=("summary date",), happened=True),
    ), id_columns=("campaign_id",), aliases=("campaign", "活动表", "活动计划", "campaign plan")),
    Table("budget_lines", "Budget lines", "预算明细", (
        CAMPAIGN_REF,
        C("line_id", "Budget line", "预算科目编号", "id", needed=True,
          aliases=("line", "line id", "budget line id", "预算科目", "科目编号"), width=13),
        C("category", "Category", "费用类别", "text", aliases=("类别", "科目名称"), width=16),
        C("planned_amount", "Planned amount", "预算金额", "money", needed=True,
          aliases=("planned", "amount", "budget", "计划金额", "金额")),
        C("notes", "Notes", "备注", "text", width=24),
    ), id_columns=("campaign_id", "line_id"), aliases=("budget", "预算", "预算表")),
    Table("expenses", "Expenses", "费用记录", (
        C("expense_id", "Expense ID", "费用编号", "id", needed=True, aliases=("expense", "费用ID", "单号")),
        CAMPAIGN_REF,
        LINE_REF,
        C("date", "Date", "发生日期", "date", needed=True, aliases=("expense date", "日期", "费用日期"), happened=True),
        C("amount", "Amount", "金额", "money", needed=True, aliases=("费用金额", "支出金额")),
        C("stage", "Stage", "阶段", "enum", enum="expense_stage", aliases=("费用阶段",), width=11,
          help_en="committed = contracted, not yet paid; actual = paid (blank = actual)",
          help_zh="已签约/已下单 = 已签合同未付款；已发生/已付款 = 已支出（留空视为已发生）"),
        C("vendor", "Vendor", "收款方", "text", aliases=("payee", "supplier", "供应商", "收款单位"), width=18),
        C("description", "Description", "用途", "text", aliases=("purpose", "说明", "摘要"), width=24),
        C("receipt_no", "Receipt no.", "票据号", "text", aliases=("receipt", "fapiao", "invoice no", "发票号", "发票号码", "票据编号")),
        C("submitted_by", "Submitted by", "经办人", "person", aliases=("handled by", "报销人"), width=12),
        C("reimbursement", "Reimbursement", "报销状态", "enum", enum="reimbursement", width=14),
    ), id_columns=("expense_id",), aliases=("expense", "费用", "费用明细", "支出")),
    Table("overrun_requests", "Overrun requests", "超预算申请", (
        C("request_id", "Request ID", "申请编号", "id", needed=True, aliases=("request",)),
        CAMPAIGN_REF,
        LINE_REF,
        C("amount", "Amount", "追加金额", "money", needed=True, aliases=("申请金额", "金额")),
        C("reason", "Reason", "原因", "text", aliases=("申请原因",), width=24),
        C("requested_by", "Requested by", "申请人", "person", width=12),
        C("requested_on", "Requested on", "申请日期", "date", happened=True),
        C("decision", "Decision", "审批结果", "enum", enum="decision", aliases=("status", "状态"), width=12),
        C("approver", "Approver", "审批人", "person", aliases=("approved by",), width=12),
        C("decided_on", "Decided on", "审批日期", "date", aliases=("approved on", "decision date"), happened=True),
    ), id_columns=("request_id",), aliases=("overrun", "overruns", "超支申请", "追加预算")),
    Table("kpi_targets", "KPI targets", "KPI目标", (
        CAMPAIGN_REF,
        C("kpi", "KPI", "指标", "text", needed=True, aliases=("metric", "指标名称"), width=16),
        C("target", "Target", "目标值", "number", needed=True, aliases=("目标",)),
        C("unit", "Unit", "单位", "text", width=10),
        C("direction", "Direction", "方向", "enum", enum="direction", width=12,
          help_en="higher or lower is better (blank = the catalogue's default)",
          help_zh="越高越好/越低越好（留空按指标目录默认）"),
        C("weight", "Weight", "权重", "number", width=10),
    ), id_columns=("campaign_id", "kpi"), aliases=("targets", "kpi target", "指标目标")),
    Table("kpi_actuals", "KPI actuals", "KPI实际", (
        CAMPAIGN_REF,
        C("kpi", "KPI", "指标", "text", needed=True, aliases=("metric", "指标名称"), width=16),
        C("date", "Date", "日期", "date", needed=True, aliases=("统计日期",), happened=True),
        C("value", "Value", "实际值", "number", needed=True, aliases=("actual", "实际", "数值")),
        C("source", "Source", "数据来源", "text", aliases=("来源",), width=18),
    ), aliases=("actuals", "kpi actual", "指标实际", "KPI实际值")),
    Table("tasks", "Tasks", "执行计划", (
        C("task_id", "Task ID", "任务编号", "id", needed=True, aliases=("task no",)),
        CAMPAIGN_REF,
        C("task", "Task", "任务", "text", aliases=("任务名称", "执行步骤"), width=28),
        C("owner", "Owner", "责任人", "person", aliases=("负责人",), width=12),
        C("start", "Start", "开始日期", "date", aliases=("start date",)),
        C("due", "Due", "截止日期", "date", aliases=("due date", "deadline", "截止时间")),
        C("done_on", "Done on", "完成日期", "date", aliases=("completed on", "完成时间"), happened=True),
        C("status", "Status", "状态", "enum", enum="task_status", width=12),
    ), id_columns=("task_id",), aliases=("task", "execution plan", "执行任务", "任务")),
    Table("risks", "Risks", "风险登记", (
        C("risk_id", "Risk ID", "风险编号", "id", needed=True),
        CAMPAIGN_REF,
        C("description", "Description", "风险描述", "text", aliases=("risk", "风险"), width=28),
        C("probability", "Probability", "概率", "score", aliases=("likelihood", "可能性"), width=12,
          help_en="1 (rare) to 5 (almost certain)", help_zh="1（极少）到 5（几乎必然）"),
        C("impact", "Impact", "影响", "score", aliases=("影响程度",), width=10,
          help_en="1 (minor) to 5 (severe)", help_zh="1（轻微）到 5（严重）"),
        C("mitigation", "Mitigation", "应对措施", "text", aliases=("response plan", "措施"), width=28),
        C("owner", "Owner", "责任人", "person", aliases=("负责人",), width=12),
        C("status", "Status", "状态", "enum", enum="risk_status", width=10),
    ), id_columns=("risk_id",), aliases=("risk", "risk register", "风险", "风险登记表")),
    Table("incidents", "Incidents", "突发事件", (
        C("incident_id", "Incident ID", "事件编号", "id", needed=True),
        CAMPAIGN_REF,
        C("occurred_at", "Occurred at", "发生时间", "datetime", needed=True, aliases=("occurred on", "发生日期"), width=17, happened=True),
        C("description", "Description", "事件描述", "text", aliases=("事件",), width=28),
        C("severity", "Severity", "严重程度", "enum", enum="incident_severity", aliases=("级别",), width=10),
        C("reported_to", "Reported to", "上报对象", "person", aliases=("上报给",), width=12),
        C("reported_at", "Reported at", "上报时间", "datetime", aliases=("reported on", "上报日期"), width=17, happened=True),
        C("action", "Action", "处理措施", "text", aliases=("措施",), width=24),
        C("closed_on", "Closed on", "关闭日期", "date", happened=True),
    ), id_columns=("incident_id",), aliases=("incident", "突发情况", "事件")),
    Table("feedback", "Feedback", "客户反馈", (
        C("feedback_id", "Feedback ID", "反馈编号", "id", needed=True),
        CAMPAIGN_REF,
        C("received_on", "Received on", "收到日期", "date", needed=True, aliases=("date", "日期"), happened=True),
        C("channel", "Channel", "渠道", "text", width=12),
        C("rating", "Rating", "评分", "score", width=8, help_en="1 to 5", help_zh="1 到 5"),
        C("content", "Content", "内容", "text", aliases=("feedback", "反馈内容"), width=30),
        C("response", "Response", "回复", "text", aliases=("reply", "回复内容"), width=30),
        C("responded_on", "Responded on", "回复日期", "date", aliases=("replied on",), happened=True),
    ), id_columns=("feedback_id",), aliases=("customer feedback", "反馈")),
    Table("people", "People", "人员", (
        C("name", "Name", "姓名", "id", needed=True, width=12),
        C("aliases", "Aliases", "别名", "text", width=20,
          help_en="Other spellings of the name, separated by commas", help_zh="其他写法，用逗号分隔"),
        C("email", "E-mail", "邮箱", "text", aliases=("email address", "电子邮箱"), width=26),
        C("superior", "Superior", "上级", "person", aliases=("manager", "直属上级"), width=12),
        C("role", "Role", "角色", "text", aliases=("职位", "岗位"), width=14),
        C("team", "Team", "团队", "text", aliases=("部门",)),
    ), id_columns=("name",), optional=True, aliases=("staff", "人员表", "通讯录")),
    Table("responses", "Flag responses", "预警处理", (
        C("flag_id", "Flag ID", "预警编号", "text", needed=True, width=12),
        C("decision", "Decision", "处理", "enum", needed=True, enum="response", aliases=("处理结果",), width=12),
        C("reason", "Reason", "理由", "text", width=30),
        C("by", "By", "处理人", "person", width=12),
        C("on", "On", "日期", "date"),
        C("until", "Until", "有效期至", "date", aliases=("valid until", "截止日期")),
    ), optional=True, aliases=("responses", "flag response", "预警回复")),
)

TABLE_BY_KEY: dict[str, Table] = {t.key: t for t in TABLES}


@dataclass(frozen=True)
class Kpi:
    key: str
    en: str
    zh: str
    direction: str            # "higher" | "lower"
    aggregate: str            # "sum" | "latest" | "average"
    aliases: tuple[str, ...] = field(default=())

    @property
    def cumulative(self) -> bool:
        """Cumulative KPIs grow with time, so their target is prorated while a campaign runs."""
        return self.aggregate == "sum"


KPI_CATALOGUE: tuple[Kpi, ...] = (
    Kpi("sales", "Sales", "销售额", "higher", "sum", ("revenue", "营业额", "成交额", "GMV")),
    Kpi("orders", "Orders", "订单数", "higher", "sum", ("订单", "订单量")),
    Kpi("leads", "Leads", "线索数", "higher", "sum", ("线索", "销售线索")),
    Kpi("conversions", "Conversions", "转化数", "higher", "sum", ("转化", "转化量")),
    Kpi("conversion_rate", "Conversion rate", "转化率", "higher", "average", ("cvr",)),
    Kpi("impressions", "Impressions", "曝光量", "higher", "sum", ("曝光", "展示量")),
    Kpi("clicks", "Clicks", "点击量", "higher", "sum", ("点击", "点击数")),
    Kpi("ctr", "Click-through rate", "点击率", "higher", "average", ("click through rate",)),
    Kpi("participants", "Participants", "参与人数", "higher", "sum", ("参与", "参与量")),
    Kpi("new_customers", "New customers", "新客户数", "higher", "sum", ("新客", "新增客户")),
    Kpi("satisfaction", "Satisfaction", "满意度", "higher", "average", ("csat", "客户满意度")),
    Kpi("brand_awareness", "Brand awareness", "品牌知名度", "higher", "latest", ("知名度",)),
    Kpi("market_share", "Market share", "市场份额", "higher", "latest", ("份额", "市场占有率")),
    Kpi("roi", "ROI", "投资回报率", "higher", "latest", ("return on investment", "回报率")),
    Kpi("cpa", "Cost per acquisition", "获客成本", "lower", "latest", ("cost per acquisition", "获客单价")),
)

# Derived KPIs: computed from spend and actuals when no actual is entered (SPEC §2).
DERIVED_KPIS = ("roi", "cpa")
