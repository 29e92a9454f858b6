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
