"""Flag codes (SPEC §5): default severity, message and suggested action in English and Chinese.

`CODES` is the one list. Each rule in `rules/` raises flags with one of these codes; its
severity comes from `config.toml` (`severity.CODE`, high / medium / low / off) with the
default here. Templates are `str.format` over the flag's params (`campaign`, `line`,
`amount`, `count`, `ids`, … as each rule provides them).
"""
from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("high", "medium", "low", "off")
RANK = {"high": 3, "medium": 2, "low": 1, "off": 0}


@dataclass(frozen=True)
class FlagCode:
    code: str
    severity: str
    en: str
    zh: str
    action_en: str
    action_zh: str


_CODES = (
    FlagCode("OVERRUN_UNAPPROVED", "high",
             "{where}: spend {spend} is {amount} over the approved budget {authorized}, with no approved or pending overrun request for it.",
             "{where}：支出 {spend} 超出已批准预算 {authorized} 共 {amount}，且没有已批准或待审批的超预算申请。",
             "Stop further spending and file an overrun request for {amount}, or move the cost to a line with room.",
             "暂停相关支出，并就 {amount} 提交超预算申请，或调整至有余额的科目。"),
    FlagCode("OVERRUN_PENDING", "medium",
             "{where}: {amount} of spend over budget rests on overrun requests still awaiting a decision ({ids}).",
             "{where}：超预算支出中有 {amount} 依赖尚待审批的超预算申请（{ids}）。",
             "Ask {approver} to decide the pending request(s) before more is spent.",
             "请 {approver} 尽快审批，审批前不得继续超支。"),
    FlagCode("OVERRUN_APPROVED_LATE", "medium",
             "{where}: {amount} was spent over budget before the approval that covers it (first on {date}).",
             "{where}：有 {amount} 的超预算支出发生在批准之前（最早于 {date}）。",
             "Overruns need approval before the money is committed; remind the owner of the rule.",
             "超预算支出须事先获批；请提醒负责人遵守流程。"),
    FlagCode("BUDGET_NEARLY_USED", "low",
             "{where}: {utilisation} of the approved budget is used ({spend} of {authorized}).",
             "{where}：已使用预算的 {utilisation}（{spend} / {authorized}）。",
             "Check the remaining plan fits in {available}, or request more budget in time.",
             "请确认剩余计划可在 {available} 内完成，或及时申请追加预算。"),
    FlagCode("SPEND_BEFORE_APPROVAL", "high",
             "{where}: {count} expense(s), {amount}, before the campaign was approved ({ids}).",
             "{where}：活动获批前已发生 {count} 笔费用，共 {amount}（{ids}）。",
             "Get the campaign approved, and do not spend before approval.",
             "请先完成活动审批，获批前不得支出。"),
    FlagCode("EXPENSE_NO_RECEIPT", "medium",
             "{where}: {count} paid expense(s), {amount}, have no receipt number ({ids}).",
             "{where}：{count} 笔已付款费用（共 {amount}）没有票据号（{ids}）。",
             "Collect the receipts (fapiao) and enter their numbers.",
             "请收集发票并填写票据号。"),
    FlagCode("EXPENSE_RECEIPT_REUSED", "high",
             "{where}: receipt number(s) {receipts} appear on {count} expenses ({ids}).",
             "{where}：票据号 {receipts} 被 {count} 笔费用重复使用（{ids}）。",
             "Check each expense has its own receipt; remove double claims.",
             "请核对每笔费用是否对应独立票据，删除重复报销。"),
    FlagCode("EXPENSE_OUTSIDE_WINDOW", "medium",
             "{where}: {count} expense(s), {amount}, dated outside the campaign's dates {start} – {end} ({ids}).",
             "{where}：{count} 笔费用（共 {amount}）日期不在活动期间 {start} 至 {end} 内（{ids}）。",
             "Check the dates, or book the cost to the campaign it belongs to.",
             "请核对日期，或将费用记入所属活动。"),
    FlagCode("EXPENSE_DUPLICATE_SUSPECTED", "medium",
             "{where}: {count} expenses share date, amount and payee under different IDs ({ids}).",
             "{where}：{count} 笔费用的日期、金额和收款方相同但编号不同（{ids}）。",
             "Check whether these are the same payment entered twice.",
             "请核对是否为同一笔费用重复录入。"),
    FlagCode("SELF_APPROVAL", "high",
             "{where}: {what} approved by {person}, who is also the {role}.",
             "{where}：{what}由 {person} 审批，而其本人也是{role}。",
             "Have the approval given by the owner's superior ({superior}).",
             "请由其上级（{superior}）审批。"),
    FlagCode("PLAN_CHANGED_AFTER_APPROVAL", "high",
             "{where}: the approved plan changed since {first_seen}: {changes}.",
             "{where}：已批准的计划自 {first_seen} 起被修改：{changes}。",
             "Get the change or cancellation approved and enter its date under “Change approved on” (keep “Approved on” as the first approval), or restore the approved plan.",
             "请对修改或取消进行审批，并在“变更审批日期”中填写审批日期（“审批日期”保留首次审批），或恢复原批准计划。"),
    FlagCode("BUDGET_MISMATCH", "low",
             "{where}: the budget cell says {budget} but the budget lines add up to {planned}.",
             "{where}：总预算填写为 {budget}，但预算明细合计为 {planned}。",
             "Make the campaign's budget equal the sum of its lines (the lines are used).",
             "请使总预算与预算明细合计一致（计算以明细为准）。"),
    FlagCode("BURN_AHEAD", "medium",
             "{where}: {utilisation} of the budget is spent with {elapsed} of the time gone (burn index {burn}).",
             "{where}：时间过去 {elapsed}，预算已花费 {utilisation}（消耗指数 {burn}）。",
             "Review the spending plan for the rest of the campaign.",
             "请复核剩余期间的支出计划。"),
    FlagCode("KPI_OFF_TRACK", "medium",
             "{where}: {kpi} is at {actual} against {expected} expected by now (target {target}).",
             "{where}：{kpi} 当前为 {actual}，按进度应达到 {expected}（目标 {target}）。",
             "Agree corrective actions with the owner at the next review.",
             "请在下次例会上与负责人商定改进措施。"),
    FlagCode("KPI_NO_RECENT_DATA", "low",
             "{where}: {kpi} has no actuals since {last}.",
             "{where}：{kpi} 自 {last} 起没有实际数据。",
             "Enter this KPI's latest actuals on the KPI actuals tab.",
             "请在“KPI实际”表中补录最新数据。"),
    FlagCode("KPI_MISSED", "medium",
             "{where}: {kpi} ended at {actual} against a target of {target} ({attainment}).",
             "{where}：{kpi} 最终为 {actual}，目标为 {target}（达成率 {attainment}）。",
             "Explain the gap in the summary report and the lessons for the next campaign.",
             "请在总结报告中说明差距原因及改进措施。"),
    FlagCode("TASK_OVERDUE", "medium",
             "{where}: {count} task(s) past their due date and not done ({ids}).",
             "{where}：{count} 项任务已过截止日期仍未完成（{ids}）。",
             "Finish the tasks or agree new dates with their owners.",
             "请完成任务，或与责任人确定新的完成日期。"),
    FlagCode("TASK_NO_OWNER", "low",
             "{where}: {count} task(s) have no owner ({ids}).",
             "{where}：{count} 项任务没有责任人（{ids}）。",
             "Name an owner for every task.",
             "请为每项任务指定责任人。"),
    FlagCode("EXEC_PLAN_MISSING", "medium",
             "{where}: approved, starting {start}, and has no tasks in the execution plan.",
             "{where}：已获批，将于 {start} 开始，但执行计划中没有任何任务。",
             "Enter the execution plan (tasks, owners, dates) before the start.",
             "请在开始前录入执行计划（任务、责任人、日期）。"),
    FlagCode("INCIDENT_NOT_ESCALATED", "high",
             "{where}: {count} incident(s) not reported to a superior within {hours} hours ({ids}).",
             "{where}：{count} 起突发事件未在 {hours} 小时内上报（{ids}）。",
             "Report incidents to a superior at once and record when.",
             "突发事件须立即上报上级并记录上报时间。"),
    FlagCode("FEEDBACK_UNANSWERED", "medium",
             "{where}: {count} customer feedback item(s) unanswered after {days} days ({ids}).",
             "{where}：{count} 条客户反馈超过 {days} 天未回复（{ids}）。",
             "Respond to the customers and record the response and its date.",
             "请回复客户并记录回复内容和日期。"),
    FlagCode("RISK_HIGH_UNMITIGATED", "high",
             "{where}: {count} high risk(s) (probability × impact ≥ {score}) without mitigation or owner ({ids}).",
             "{where}：{count} 项高风险（概率×影响 ≥ {score}）没有应对措施或责任人（{ids}）。",
             "Give each high risk a mitigation and an owner.",
             "请为每项高风险制定应对措施并指定责任人。"),
    FlagCode("SUMMARY_OVERDUE", "low",
             "{where}: ended on {end} and has no summary report after {days} days.",
             "{where}：已于 {end} 结束，{days} 天后仍无总结报告。",
             "Write the summary report and enter its link and date.",
             "请撰写活动总结报告并填写链接和日期。"),
)

CODES: dict[str, FlagCode] = {c.code: c for c in _CODES}
