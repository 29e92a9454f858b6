"""Shared test helpers: the package on sys.path, LibreOffice re-saving, workbook factories."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None and not os.environ.get("CI"),
                                   reason="LibreOffice (soffice) is not installed")
AS_OF = dt.date(2026, 11, 26)


def soffice_convert(src: Path, fmt: str, outdir: Path, timeout: int = 180) -> Path:
    """Open `src` in LibreOffice and save it as `fmt` (xlsx, pdf, ...) in `outdir`."""
    if SOFFICE is None:
        raise RuntimeError("soffice is not installed (CI installs libreoffice-calc-nogui)")
    profile = outdir / ".lo-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", fmt, "--outdir", str(outdir), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"soffice failed ({proc.returncode}): {proc.stdout} {proc.stderr}")
    return out


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook written by openpyxl: {tab: rows}; a str starting with '=' is a formula."""
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF
