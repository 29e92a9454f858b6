"""SIGKILL `write_tabs` at random moments: the workbook is always the old or the new version, never broken."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from conftest import ROOT, make_tab, tiny_png
from campaignwatch.names import tab_name

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")]

KILLS = 60
SEED = 20261126

CHILD = r"""
import pickle, sys, time
from pathlib import Path
from campaignwatch.write.xlsx import write_tabs
tabs = pickle.loads(Path(sys.argv[2]).read_bytes())
sys.stdout.write("ready\n"); sys.stdout.flush()
t = time.perf_counter()
write_tabs(Path(sys.argv[1]), tabs)
sys.stdout.write(f"done {time.perf_counter() - t:.6f}\n"); sys.stdout.flush()
"""


def build_workbook(path: Path) -> None:
    """~2-3 MB: a big sheet of poorly compressible text, a second sheet, an image and a comment."""
    rnd = random.Random(SEED)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Expenses")
    ws.write_comment("A1", "people's note")
    ws.insert_image("M2", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    for r in range(27_000):
        ws.write_row(r, 0, [f"EX{r:06d}", rnd.getrandbits(64).to_bytes(8, "big").hex(), rnd.random() * 1e4,
                            r % 13, "note", "张伟", rnd.getrandbits(40), "paid",
                            rnd.getrandbits(48).to_bytes(6, "big").hex(), 1.5, "x"])
    wb.add_worksheet("Lists").write_column(0, 0, ["a", "b", "c"])
    wb.close()


def user_members(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: i.CRC for i in zf.infolist()
                if not i.filename.startswith("xl/worksheets/cw_sheet")
                and i.filename not in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                                       "xl/styles.xml")}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def spawn(path: Path, tabs_file: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(tabs_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)


def put_back(original: Path, path: Path) -> None:
    tmp = path.with_name(path.name + ".reset")
    shutil.copyfile(original, tmp)
    os.replace(tmp, path)


def test_sigkill_leaves_old_or_new_version(tmp_path):
    t_start = time.perf_counter()
    original = tmp_path / "original.xlsx"
    build_workbook(original)
    size = original.stat().st_size
    assert 2_000_000 <= size <= 5_000_000, size
    tabs = [make_tab(k, "en", rows=200) for k in ("summary", "flags", "budget", "kpi", "validation",
                                                    "scorecard", "runlog")]
    tabs_file = tmp_path / "tabs.pickle"
    tabs_file.write_bytes(pickle.dumps(tabs))

    work = tmp_path / "book"
    work.mkdir()
    path = work / "budget.xlsx"

    # the new version, written once without interruption (the output is deterministic)
    put_back(original, path)
    child = spawn(path, tabs_file)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    duration = float(out.split("done ")[1])
    new_hash, old_hash = sha(path), sha(original)
    assert new_hash != old_hash
    put_back(original, path)
    child = spawn(path, tabs_file)
    child.communicate(timeout=60)
    assert sha(path) == new_hash, "write_tabs output is not deterministic"

    users = user_members(original)
    ours = {t.name for t in tabs}
    rnd = random.Random(SEED)
    outcomes = {"old": 0, "new": 0}
    window = max(duration * 1.4, 0.02)
    for _ in range(KILLS):
        put_back(original, path)
        child = spawn(path, tabs_file)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0, window))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)

        got = sha(path)
        assert got in (old_hash, new_hash), "the workbook is neither the old nor the new version"
        outcomes["old" if got == old_hash else "new"] += 1
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
        assert user_members(path) == users
        names = CalamineWorkbook.from_path(str(path)).sheet_names
        assert names[:2] == ["Expenses", "Lists"]
        assert set(names[2:]) == (ours if got == new_hash else set())
        leftovers = [p for p in work.iterdir() if ".cw-tmp-" in p.name]
        assert len(leftovers) <= 1                   # only the one just killed; older ones were cleaned

    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
    # after all that, a normal run cleans up and still produces the same new version
    put_back(original, path)
    child = spawn(path, tabs_file)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert sha(path) == new_hash
    assert not [p for p in work.iterdir() if ".cw-tmp-" in p.name]
    elapsed = time.perf_counter() - t_start
    print(f"\n{KILLS} kills, outcomes {outcomes}, write {duration * 1000:.0f} ms, workbook "
          f"{size / 1e6:.1f} MB, test {elapsed:.1f} s")
    assert tab_name("summary", "en") in CalamineWorkbook.from_path(str(path)).sheet_names
