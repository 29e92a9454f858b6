#!/usr/bin/env python3
"""Regenerate workbook_templates/ (empty workbooks in English and Chinese) from the contract."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

from campaignwatch.workbook.template import write_template  # noqa: E402

for lang in ("en", "zh-CN"):
    out = write_template(ROOT / "workbook_templates" / f"campaignwatch-{lang}.xlsx", lang=lang)
    print(f"wrote {out}")
