#!/usr/bin/env python3
"""Regenerate README.md's reference blocks (tables, finding codes, settings) from the code."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

from campaignwatch.docs import render  # noqa: E402

readme = ROOT / "README.md"
readme.write_text(render(readme.read_text(encoding="utf-8")), encoding="utf-8")
print(f"updated {readme}")
