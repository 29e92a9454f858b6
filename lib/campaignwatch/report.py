"""What the console shows: a readable report grouped by tab, or one JSON document.

The JSON shape (`schema` 1) is a contract for scripts:
`{"schema": 1, "as_of": "YYYY-MM-DD", "sources": [{"source", "status", "error",
"error_code", "language", "findings": [...], "excluded_rows": {table: n}}]}`.
"""
from __future__ import annotations

import datetime as dt
import json
from itertools import groupby

from .contract import TABLE_BY_KEY
from .findings import ERROR
from .pipeline import SourceResult

SCHEMA = 1

WORDS = {
    "en": {"errors": "errors", "warnings": "warnings", "left_out": "rows left out of the figures",
           "clean": "no problems found", "workbook": "Workbook", "failed": "could not be read",
           "fix": "fix"},
    "zh-CN": {"errors": "个错误", "warnings": "个提醒", "left_out": "行未计入统计",
              "clean": "未发现问题", "workbook": "工作簿", "failed": "无法读取", "fix": "处理"},
}


def json_document(results: list[SourceResult], as_of: dt.date, extra=None) -> str:
    sources = []
    for r in results:
        doc = {"source": r.source, "status": r.status,
               "error": r.error_message(), "error_code": r.error.code if r.error else None,
               "language": r.language,
               "findings": [f.to_dict(r.language) for f in r.findings],
               "excluded_rows": r.excluded_rows}
        if extra:
            doc.update(extra(r))
        sources.append(doc)
    return json.dumps({"schema": SCHEMA, "as_of": as_of.isoformat(), "sources": sources},
                      ensure_ascii=False, indent=2, default=str)


def text_report(result: SourceResult, verbose: bool = True) -> str:
    lang = result.language
    w = WORDS["zh-CN" if lang == "zh-CN" else "en"]
    if result.status == "failed":
        return f"✗ {result.source}: {result.error_message()}"
    errors = sum(1 for f in result.findings if f.severity == ERROR)
    warnings = len(result.findings) - errors
    left_out = sum(result.excluded_rows.values())
    if lang == "zh-CN":
        head = f"{result.source}：{errors} {w['errors']}，{warnings} {w['warnings']}，{left_out} {w['left_out']}"
    else:
        head = f"{result.source}: {errors} {w['errors']}, {warnings} {w['warnings']}, {left_out} {w['left_out']}"
    lines = [("✗ " if errors else "✓ ") + head]
    if not result.findings:
        lines.append("  " + w["clean"])
    if not verbose:
        return "\n".join(lines)
    for tab, group in groupby(result.findings, key=lambda f: (f.tab, f.table)):
        name, key = tab
        table = TABLE_BY_KEY.get(key)
        label = name or (table.tab(lang) if table else w["workbook"])
        lines.append(f"  [{label}]")
        for f in group:
            mark = "✗" if f.severity == ERROR else "!"
            lines.append(f"    {mark} {f.code}: {f.message(lang)}")
            lines.append(f"        → {f.fix(lang)}")
    return "\n".join(lines)


SYNC_WORDS = {
    "en": {"flags": "open flags", "new": "new", "resolved": "resolved", "unverifiable": "unverifiable",
           "wrote": "wrote the generated tabs to", "dry": "dry run: nothing written", "waived": "waived",
           "not_written": "not written", "findings": "findings", "high": "high", "medium": "medium", "low": "low",
           "partial": "! {n} campaigns could not be fully evaluated (a date, status or budget cell cannot be read): "
                      "{ids} — see the Summary tab"},
    "zh-CN": {"flags": "个未关闭预警", "new": "新增", "resolved": "已解决", "unverifiable": "无法核实",
              "wrote": "已写回生成的工作表：", "dry": "演练模式：未写入任何内容", "waived": "已豁免",
              "not_written": "未写回", "findings": "条校验问题", "high": "高", "medium": "中", "low": "低",
              "partial": "! {n} 个活动无法完整评估（日期、状态或预算单元格无法识别）：{ids} — 详见“活动汇总”表"},
}


def sync_report(r, dry_run: bool = False, top: int = 10) -> str:
    """A short summary of one source's sync: counts, then the most severe flags."""
    check = r.check
    if check.status == "failed":
        return text_report(check)
    lang = "zh-CN" if check.language == "zh-CN" else "en"
    w = SYNC_WORDS[lang]
    by = {s: sum(1 for f in r.flags if f.severity == s and f.counts_open) for s in ("high", "medium", "low")}
    waived = sum(1 for f in r.flags if f.waived)
    resolved = sum(1 for f in r.gone if f.status == "resolved")
    unver = sum(1 for f in r.gone if f.status == "unverifiable")
    errors = sum(1 for f in check.findings if f.severity == ERROR)
    sev = ", ".join(f"{by[s]} {w[s]}" for s in by)
    left = sum(check.excluded_rows.values())
    partial = r.not_evaluated
    mark = "✗" if r.status == "failed" else "!" if (errors or left or partial) else "✓"
    lines = [f"{mark} {check.source}: {sum(by.values())} {w['flags']} ({sev}"
             + (f", {waived} {w['waived']}" if waived else "") + "); "
             f"{r.new} {w['new']}, {resolved} {w['resolved']}, {unver} {w['unverifiable']}; "
             f"{len(check.findings)} {w['findings']} ({errors} errors), "
             f"{left} {WORDS[lang]['left_out']}"]
    for f in r.faults:
        lines.append(f"  ✗ {f.code}: {f.message(lang)}")
    if partial:
        lines.append("  " + w["partial"].format(n=len(partial), ids=", ".join(partial[:8])
                                                 + (" …" if len(partial) > 8 else "")))
    for f in r.flags[:top]:
        lines.append(f"    [{f.severity}] {f.flag_id} {f.code}: {f.message(lang)}")
    if len(r.flags) > top:
        lines.append(f"    … +{len(r.flags) - top}")
    if dry_run:
        lines.append("  " + w["dry"])
    elif r.write_error is not None:
        from .errors import message
        lines.append(f"  ✗ {w['not_written']}: {message(r.write_error, lang)}")
    elif r.written:
        lines.append(f"  {w['wrote']} {r.written}")
    return "\n".join(lines)


def timings_report(r) -> str:
    t = r.check.timings
    order = ("read", "recognise", "normalise", "validate", "compute", "rules", "lifecycle", "render", "write",
             "history")
    parts = [f"{k} {t[k]:.3f}s" for k in order if k in t]
    return "  timings: " + ", ".join(parts) + f"; total {r.seconds:.3f}s"


def sync_extra(by_check: dict):
    """Per-source additions to the JSON document for `sync`: flags and campaign figures."""
    from .sync import campaign_dicts

    def extra(check):
        r = by_check[id(check)]
        lang = check.language
        doc = {"flags": [f.to_dict(lang) for f in r.flags + r.gone],
               "campaigns": campaign_dicts(r.figures),
               "written": r.written, "timings": {k: round(v, 4) for k, v in check.timings.items()}}
        if r.write_error is not None:
            from .errors import message
            doc["status"] = "failed"
            doc["error"] = message(r.write_error, lang)
            doc["error_code"] = r.write_error.code
        return doc
    return extra
