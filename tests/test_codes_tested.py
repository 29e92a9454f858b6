"""Every finding code and every flag code has a targeted test: a test file other than the golden demo
and the docs checks names it (a text scan of tests/test_*.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaignwatch.findings import CATALOGUE
from campaignwatch.flagcodes import CODES

HERE = Path(__file__).resolve().parent
NOT_TARGETED = {"test_demo_golden.py", "test_docs.py", Path(__file__).name}   # golden lists and doc checks
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(HERE.glob("test_*.py")) if p.name not in NOT_TARGETED}


@pytest.mark.parametrize("code", [*CATALOGUE, *CODES])
def test_code_has_a_targeted_test(code):
    where = [name for name, text in TEXTS.items() if re.search(rf"\b{code}\b", text)]
    assert where, f"{code} is named by no test outside the golden demo: add one that raises it"
