"""Validation findings (SPEC §3): values with stable codes, collected, never raised.

`CATALOGUE` is the one list of finding codes (`catalogue.Entry`): severity, message and fix
hint in English and Chinese. The README's table of codes is checked against it by a test.
Messages are templates (`catalogue.fill`) over the finding's fields (`tab`, `row`, `column`,
`cell`, `value`) and its `params`; a placeholder with no field stays as ``{name}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .catalogue import Entry, fill, index

ERROR = "error"
WARNING = "warning"

CATALOGUE: dict[str, Entry] = index(
    # -- the workbook as a whole -------------------------------------------------------------
    Entry("NO_TABLES", ERROR,
          "No tab of this workbook looks like a campaignwatch table.",
          "此工作簿中没有可识别的 campaignwatch 表格。",
          "Name the tabs as in the template (e.g. Campaigns, Expenses) or start from `campaignwatch init`.",
          "请按模板命名工作表（如“活动”“费用记录”），或用 `campaignwatch init` 生成模板。"),
    Entry("TAB_MISSING", WARNING,
          "There is no {table_name} tab; figures that need it are skipped.",
          "没有“{table_name}”工作表，依赖它的指标将跳过。",
          "Add the tab (copy it from the template) if this workbook should track {table_name}.",
          "如需跟踪此内容，请从模板复制该工作表。"),
    Entry("TAB_DUPLICATE", WARNING,
          "Tab {tab} also looks like the {table_name} table; only {first_tab} is read.",
          "工作表“{tab}”也像是“{table_name}”表，只读取“{first_tab}”。",
          "Rename or merge one of the two tabs.",
          "请重命名或合并其中一个工作表。"),
    Entry("HEADER_NOT_FOUND", ERROR,
          "Tab {tab} has no header row with the expected column names.",
          "工作表“{tab}”中找不到包含预期列名的表头行。",
          "Put the column names ({expected}) in one row above the records.",
          "请在记录上方的一行中填写列名（{expected}）。"),
    Entry("COLUMN_MISSING", ERROR,
          "Tab {tab} has no {column} column, which the figures need; its {count} rows are left out.",
          "工作表“{tab}”缺少计算所需的“{column}”列，其 {count} 行未计入。",
          "Add a column headed {column}.",
          "请添加标题为“{column}”的列。"),
    Entry("COLUMN_ABSENT", WARNING,
          "Tab {tab} has no {column} column; checks that use it are skipped.",
          "工作表“{tab}”没有“{column}”列，相关检查将跳过。",
          "Add a column headed {column} to have it checked.",
          "如需检查，请添加标题为“{column}”的列。"),
    Entry("COLUMN_REPEATED", WARNING,
          "Tab {tab} has two {column} columns; only the first ({first_cell}) is read.",
          "工作表“{tab}”有两个“{column}”列，只读取第一个（{first_cell}）。",
          "Delete or rename the second column.",
          "请删除或重命名第二列。"),
    # -- one cell ---------------------------------------------------------------------------
    Entry("VALUE_MISSING", ERROR,
          "{cell}: {column} is empty, but the figures need it; the row is left out.",
          "{cell}：“{column}”为空，但计算需要此值；该行未计入。",
          "Enter {expected}.",
          "请填写{expected}。"),
    Entry("VALUE_UNREADABLE", ERROR,
          "{cell}: {column} “{value}” cannot be read as {expected}; the row is left out.",
          "{cell}：“{column}”的值“{value}”无法识别为{expected}；该行未计入。",
          "Type {expected}, e.g. {example}.",
          "请填写{expected}，例如 {example}。"),
    Entry("CURRENCY_UNSUPPORTED", ERROR,
          "{cell}: {column} “{value}” is an amount in {currency}, but amounts are kept in {configured}; the row is left out.",
          "{cell}：“{column}”的值“{value}”是 {currency} 金额，而金额按 {configured} 记录；该行未计入。",
          "Convert the amount to {configured} and type it without the {currency} sign, e.g. 1,234.50 "
          "(if every amount is in {currency}, set general.currency instead).",
          "请将金额换算为 {configured} 后填写，不带 {currency} 标记，例如 1,234.50"
          "（如所有金额都是 {currency}，请改设置 general.currency）。"),
    Entry("FORMULA_ERROR", ERROR,
          "{cell}: {column} holds the formula error {value}; the row is left out.",
          "{cell}：“{column}”的公式出错（{value}）；该行未计入。",
          "Fix the formula in {cell} or type the value.",
          "请修正 {cell} 的公式或直接填写数值。"),
    Entry("FORMULA_NOT_CALCULATED", ERROR,
          "{cell}: {column} holds a formula that was never calculated; the row is left out.",
          "{cell}：“{column}”中的公式没有计算结果；该行未计入。",
          "Open the workbook in Excel or LibreOffice and save it, so the formula gets a value.",
          "请用 Excel 或 LibreOffice 打开并保存工作簿，使公式得到计算结果。"),
    Entry("OPTIONAL_VALUE_UNREADABLE", WARNING,
          "{cell}: {column} “{value}” cannot be read as {expected}; it is treated as empty.",
          "{cell}：“{column}”的值“{value}”无法识别为{expected}，按空值处理。",
          "Type {expected}, e.g. {example}, or leave it empty.",
          "请填写{expected}（例如 {example}），或留空。"),
    Entry("UNKNOWN_WORD", WARNING,
          "{cell}: {column} “{value}” is not one of the known words; read as “{default}”.",
          "{cell}：“{column}”的值“{value}”不在可选范围内，按“{default}”处理。",
          "Pick one of: {choices}.",
          "请从以下选项中选择：{choices}。"),
    Entry("UNKNOWN_STATUS", WARNING,
          "{cell}: {column} “{value}” is not a known status; the checks that depend on the approval "
          "(spend before approval, self-approval, plan changes, execution plan) are not evaluated for "
          "this campaign.",
          "{cell}：“{column}”的值“{value}”不是可识别的状态；依赖审批状态的检查（审批前支出、自我审批、"
          "方案变更、执行计划）对此活动暂不评估。",
          "Pick one of: {choices}.",
          "请从以下选项中选择：{choices}。"),
    Entry("AMBIGUOUS_DATE", WARNING,
          "{cell}: {column} “{value}” could be day/month or month/day; read as {read_as}.",
          "{cell}：“{column}”的值“{value}”日月顺序不明确，按 {read_as} 处理。",
          "Type dates as 2026-11-26 to avoid doubt (setting: general.day_first).",
          "请按 2026-11-26 的格式填写日期（相关设置：general.day_first）。"),
    Entry("MONEY_ROUNDED", WARNING,
          "{cell}: {column} “{value}” has more than two decimals; rounded to {read_as}.",
          "{cell}：“{column}”的值“{value}”超过两位小数，已四舍五入为 {read_as}。",
          "Type amounts to the cent (fen).",
          "金额请精确到分。"),
    Entry("FUTURE_DATE", WARNING,
          "{cell}: {column} {value} is after the as-of date {as_of}.",
          "{cell}：“{column}”的日期 {value} 晚于统计日期 {as_of}。",
          "Check the date; records should not be dated in the future.",
          "请核对日期，已发生的记录不应晚于统计日期。"),
    Entry("NEGATIVE_AMOUNT", WARNING,
          "{cell}: {column} is negative ({value}).",
          "{cell}：“{column}”为负数（{value}）。",
          "Check the sign; record refunds as their own negative expense with a note.",
          "请核对正负号；退款请单独记录并备注。"),
    # -- across rows and tables -------------------------------------------------------------
    Entry("DUPLICATE_ID", ERROR,
          "{cell}: {column} “{value}” was already used in row {first_row}; this row is left out.",
          "{cell}：“{column}”的值“{value}”已在第 {first_row} 行使用；该行未计入。",
          "Give this record its own ID, or delete the copy.",
          "请为该记录使用新的编号，或删除重复行。"),
    Entry("UNKNOWN_CAMPAIGN", ERROR,
          "{cell}: campaign “{value}” is not on the {campaigns_tab} tab; the row is left out.",
          "{cell}：活动编号“{value}”不在“{campaigns_tab}”表中；该行未计入。",
          "Correct the campaign ID or add the campaign to {campaigns_tab}.",
          "请更正活动编号，或在“{campaigns_tab}”表中添加该活动。"),
    Entry("UNKNOWN_BUDGET_LINE", ERROR,
          "{cell}: budget line “{value}” is not a line of campaign {campaign_id}; the row is left out.",
          "{cell}：预算科目“{value}”不属于活动 {campaign_id}；该行未计入。",
          "Correct the line ID or add the line to the {lines_tab} tab.",
          "请更正科目编号，或在“{lines_tab}”表中添加该科目。"),
    Entry("END_BEFORE_START", ERROR,
          "{cell}: {column} {value} is before the start {start}; the row is left out.",
          "{cell}：“{column}”{value} 早于开始日期 {start}；该行未计入。",
          "Correct the start or end date.",
          "请更正开始或结束日期。"),
    Entry("RESPONSE_UNKNOWN_FLAG", WARNING,
          "{cell}: flag ID “{value}” is not a flag of this workbook; the response is ignored.",
          "{cell}：预警编号“{value}”不是本工作簿的预警，该处理记录无效。",
          "Copy the flag ID from the Flags tab (it may already be resolved).",
          "请从“预警”表复制预警编号（该预警可能已解决）。"),
    Entry("RESPONSE_NO_REASON", WARNING,
          "{cell}: a waiver needs a reason; the flag stays open.",
          "{cell}：豁免必须填写理由；该预警仍为未关闭。",
          "Write why the flag is waived.",
          "请填写豁免理由。"),
    Entry("RESPONSE_NO_UNTIL", WARNING,
          "{cell}: a waiver needs an end date; the flag stays open.",
          "{cell}：豁免必须填写有效期；该预警仍为未关闭。",
          "Enter the date until which the waiver holds.",
          "请填写豁免有效期。"),
    Entry("INTERNAL", ERROR,
          "The {part} step failed unexpectedly ({error}); {codes_en}everything else was checked and written.",
          "“{part}”步骤意外出错（{error}）；{codes_zh}其余检查均已完成并写回。",
          "Please report this to whoever runs campaignwatch, with the workbook if you can.",
          "请将此问题连同工作簿一起报告给 campaignwatch 的维护人员。"),
    Entry("DUE_BEFORE_START", WARNING,
          "{cell}: {column} {value} is before the start {start}.",
          "{cell}：“{column}”{value} 早于开始日期 {start}。",
          "Correct the start or due date.",
          "请更正开始或截止日期。"),
)


@dataclass(frozen=True)
class Finding:
    code: str
    table: str
    tab: str
    row: int | None = None          # row number as the user sees it
    column: str = ""                # header as typed
    cell: str = ""                  # e.g. 费用记录!E7
    value: str = ""                 # the value as typed
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def severity(self) -> str:
        return CATALOGUE[self.code].severity

    def message(self, lang: str = "en") -> str:
        return fill(CATALOGUE[self.code].template(lang), self._fields(), lang)

    def fix(self, lang: str = "en") -> str:
        return fill(CATALOGUE[self.code].fix_template(lang), self._fields(), lang)

    def _fields(self) -> dict:
        return {"tab": self.tab, "row": self.row, "column": self.column, "cell": self.cell or self.tab,
                "value": _short(self.value), **self.params}

    def to_dict(self, lang: str = "en") -> dict:
        return {"code": self.code, "severity": self.severity, "table": self.table, "tab": self.tab,
                "row": self.row, "column": self.column, "cell": self.cell, "value": self.value,
                "message": self.message(lang), "fix": self.fix(lang)}


def _short(value: str, limit: int = 60) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def count_errors(findings) -> int:
    return sum(1 for f in findings if f.severity == ERROR)
