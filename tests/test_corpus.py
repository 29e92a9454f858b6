"""The corpus: every workbook under tests/corpus/ goes through `validate --json`, `sync --json`
and `clean` in a subprocess (timeout, address-space limit), on a copy.

For each file: no traceback on stderr, no abort (exit code 0, 1 or 3; no signal, no time-out),
exactly one JSON document on stdout for --json; an accepted .xlsx/.xlsm keeps every user part
byte for byte through `sync` and `clean`, and `clean` leaves the package with the parts it
had (no styles part, relationship or content type left behind) and the same sheets and
defined names; a .xls/.xlsb/.ods/.fods is never written to (its tabs go to the sidecar).
Files that must be refused are refused with the listed code.

Known failures being fixed elsewhere are listed once, in KNOWN_FAILURES; an entry that starts
passing fails the run (strict xfail) so that it gets deleted.
Set CW_CORPUS_SUMMARY=path.json to dump every file's outcome (used for the README's table).
"""
from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow          # every file of the corpus through the command line: minutes

CORPUS = Path(__file__).resolve().parent / "corpus"
EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".fods", ".csv"}
WRITTEN_IN_PLACE = {".xlsx", ".xlsm"}
FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
               if p.is_file() and p.suffix.lower() in EXTENSIONS)
AS_OF = "2026-11-26"
TIMEOUT = 60                    # seconds per command
ADDRESS_SPACE = 3 << 30         # bytes of address space per command (RLIMIT_AS)
WORKERS = 2
OK_EXITS = {0, 1, 3}

# Files that fail today, with the reason (a strict xfail: it turns red as soon as the file
# passes). Empty: every corpus file passes. A new corpus file that fails goes here with its reason
# until it is fixed.
KNOWN_FAILURES: dict[str, str] = {
}

# A workbook with no campaign table is not ours: `validate` and `sync` refuse it (exit 3) and never
# write it. For other programs' workbooks (third_party/) that is the expected answer, and the
# writer is then run on it directly (tests/corpus_write.py), so that every part of it is still
# checked byte for byte through a write and `clean`.
NOT_OURS = "not_campaign"

# Files that must be refused: (error_code from validate or None when validate reads it, error_code
# from sync), each with exit 3. Any other refusal of a corpus file is a failure.
EXPECTED_REFUSALS: dict[str, tuple[str | None, str]] = {
    "generated/refused_empty.xlsx": ("truncated", "truncated"),
    "generated/refused_truncated.xlsx": ("truncated", "truncated"),
    "generated/refused_text_as_xlsx.xlsx": ("not_a_workbook", "not_a_workbook"),
    "generated/refused_zip_not_ooxml.xlsx": ("not_a_workbook", "not_a_workbook"),
    "generated/refused_xls_named_xlsx.xlsx": ("not_a_workbook", "not_a_workbook"),
    "generated/refused_encrypted.xlsx": ("encrypted", "encrypted"),
    "generated/refused_zip_bomb.xlsx": ("zip_bomb", "zip_bomb"),
    "generated/refused_hostile_doctype.xlsx": ("hostile_xml", "hostile_xml"),
    "generated/refused_unsupported.csv": ("unsupported", "unsupported"),
    # a stray value far away (XFD10000, XFD1048576): refused in under a second, naming the cell,
    # instead of a grid of 164 million / 17 billion cells (limits.max_cells)
    "generated/far_cell_XFD10000.xlsx": ("too_large", "too_large"),
    "generated/far_cell_XFD1048576.xlsx": ("too_large", "too_large"),
    "generated/lo_demo_en.fods": ("unsupported", "unsupported"),            # flat ODS (XML, no zip)
    "generated/name_taken_cw_tab.xlsx": (None, "name_taken"),               # a person's tab named cw» Summary
    "third_party/python-calamine/empty_file.ods": ("truncated", "truncated"),
    "third_party/python-calamine/empty_file.xlsb": ("truncated", "truncated"),
    "third_party/python-calamine/empty_file.xlsx": ("truncated", "truncated"),
    "third_party/python-calamine/password.ods": ("encrypted", "encrypted"),
    "third_party/python-calamine/password.xls": ("encrypted", "encrypted"),
    "third_party/python-calamine/password.xlsb": ("encrypted", "encrypted"),
    "third_party/python-calamine/password.xlsx": ("encrypted", "encrypted"),
    # calamine reads no BIFF4 (Excel 4.0, 1992) workbook, nor KSpread's ODS with text between cells
    "third_party/xlrd/biff4_no_format_no_window2.xls": ("not_a_workbook", "not_a_workbook"),
    "third_party/odfpy/pythagoras-kspread.ods": ("not_a_workbook", "not_a_workbook"),
}

# Hand-built variants of one workbook (same cells, other packaging): validate must report the
# same findings as for BASELINE, or the variant was misread.
BASELINE = "generated/hand_inline_strings.xlsx"
SAME_CELLS = {f"generated/{n}" for n in (
    "hand_shared_strings.xlsx", "hand_t_str_cells.xlsx", "no_styles_part.xlsx", "no_styles_shared_strings.xlsx",
    "styles_self_closing.xlsx", "workbook_empty_elements.xlsx", "xml_comments_in_parts.xlsx",
    "defined_names.xlsx", "workbook_prefixed_x.xlsx", "utf16le_workbook.xlsx", "utf16be_sheet.xlsx",
    "utf16le_styles.xlsx", "utf16le_rels_and_types.xlsx", "workbook_part_elsewhere.xlsx",
    "absolute_rel_targets.xlsx", "backslash_entry_names.xlsx", "macro_sheet.xlsm")}

# Read-only formats repeat themselves: by default one file per (source folder, extension) runs, plus
# every listed one; CW_CORPUS_FULL=1 runs them all (keeps the default run under ~3 minutes on 2 cores).
FULL = os.environ.get("CW_CORPUS_FULL") == "1"


def _in_default_run(rel: str) -> bool:
    p = PurePosixPath(rel)
    if p.suffix.lower() in WRITTEN_IN_PLACE or rel in KNOWN_FAILURES or rel in EXPECTED_REFUSALS:
        return True
    if not rel.startswith("third_party/"):
        return True
    first = min(f for f in FILES if PurePosixPath(f).parent == p.parent and PurePosixPath(f).suffix == p.suffix
                and f not in EXPECTED_REFUSALS)
    return rel == first


# --------------------------------------------------------------------------- running the CLI
def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(args: list[str], cwd: Path, program: tuple[str, ...] = ("-m", "campaignwatch")) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    env.pop("CAMPAIGNWATCH_CONFIG", None)
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, *program, *args], cwd=cwd, env=env,
                           capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                           preexec_fn=_limit)
        return {"args": args, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
                "secs": round(time.monotonic() - t0, 2)}
    except subprocess.TimeoutExpired as exc:
        return {"args": args, "rc": "timeout", "stdout": str(exc.stdout or ""), "stderr": str(exc.stderr or ""),
                "secs": TIMEOUT}


def _entries(data: bytes | None) -> dict[str, bytes] | None:
    if data is None:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: z.read(i) for i in z.infolist()}
    except Exception:  # noqa: BLE001 - not a zip, or a damaged one
        return None


def _norm(name: str) -> str:
    return name.replace("\\", "/").lower()


def _editable(entries: dict[str, bytes]) -> tuple[str, set[str]]:
    """The workbook part (wherever _rels/.rels puts it) and the parts campaignwatch may edit: that
    part, its relationships, [Content_Types].xml, the styles part and docProps/* (names normalised)."""
    wb = "xl/workbook.xml"
    rels = next((v for k, v in entries.items() if _norm(k) == "_rels/.rels"), b"").decode("utf-8", "replace")
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        t = re.search(r'Target="([^"]+)"', rel)
        if re.search(r'Type="[^"]*/officeDocument"', rel) and t:
            wb = _norm(t.group(1).lstrip("/"))
    d, base = PurePosixPath(wb).parent.as_posix(), PurePosixPath(wb).name
    return wb, {wb, f"{d}/_rels/{base}.rels", "[content_types].xml", f"{d}/styles.xml"} | {
        _norm(n) for n in entries if _norm(n).startswith("docprops/")}


def _sheets_and_names(xml: bytes) -> tuple[list, list]:
    text = xml.decode("utf-16" if xml[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)
    names = re.findall(r"<(?:\w+:)?definedName\b([^>]*)>([^<]*)<", text)
    return sheets, sorted((re.sub(r"\s+", " ", a).strip(), v) for a, v in names)


def _source(doc: dict | None) -> dict:
    return ((doc or {}).get("sources") or [{}])[0]


def _check_file(rel: str, work: Path) -> dict:
    """Run validate, sync and (for a workbook written in place) clean on a copy of `rel`."""
    src = CORPUS / rel
    folder = work / re.sub(r"[^\w.-]", "_", rel)
    folder.mkdir(parents=True)
    f = folder / src.name
    shutil.copyfile(src, f)
    original = src.read_bytes()
    in_place = src.suffix.lower() in WRITTEN_IN_PLACE
    res: dict = {"file": rel, "problems": []}
    problems = res["problems"]

    def run(cmd, *args, json_out=True):
        if cmd == "write":              # the writer itself, on a workbook sync rightly leaves alone
            r = _run([str(ROOT / "tests" / "corpus_write.py"), f.name], folder, ())
        else:
            r = _run([cmd, f.name, *args], folder)
        lines = r["stderr"].strip().splitlines() or [""]
        last = next((ln for ln in lines if re.search(r"memory allocation|panicked|Error", ln)), lines[-1])[:200]
        if "Traceback" in r["stderr"]:
            problems.append(f"traceback in {cmd}: {last}")
        if r["rc"] not in OK_EXITS:
            how = "time-out" if r["rc"] == "timeout" else (f"signal {-r['rc']}" if r["rc"] < 0 else f"exit {r['rc']}")
            problems.append(f"abort in {cmd}: {how}: {last}")
        doc = None
        if json_out and r["rc"] in OK_EXITS:
            try:
                doc = json.loads(r["stdout"])
            except ValueError:
                problems.append(f"{cmd} --json printed no single JSON document: {r['stdout'][:120]!r}")
        s0 = _source(doc)
        res[cmd] = {"rc": r["rc"], "secs": r["secs"], "error_code": s0.get("error_code"), "error": s0.get("error")}
        not_ours = s0.get("error_code") == NOT_OURS and rel.startswith("third_party/")
        if r["rc"] == 3 and rel not in EXPECTED_REFUSALS and not not_ours:
            problems.append(f"{cmd} refused it: {s0.get('error_code')}: {s0.get('error') or last}")
        return doc

    vdoc = run("validate", "--json", "--as-of", AS_OF)
    res["findings"] = sorted({(x.get("code"), x.get("tab"), x.get("cell"))
                              for x in _source(vdoc).get("findings", [])}, key=str)
    run("sync", "--json", "--as-of", AS_OF)
    after_sync = f.read_bytes()
    if not in_place and res["sync"]["rc"] in (0, 1):
        sidecar = f.with_name(f.stem + ".campaignwatch.xlsx")
        if not sidecar.exists() or _entries(sidecar.read_bytes()) is None:
            problems.append(f"sync wrote no readable sidecar {sidecar.name}")
    if res["sync"]["error_code"] == NOT_OURS and after_sync != original:
        problems.append("sync changed a workbook that is not ours")
    if in_place and res["sync"]["error_code"] == NOT_OURS and rel.startswith("third_party/"):
        run("write", json_out=False)        # the writer must keep every part of other programs' workbooks
        if res["write"]["rc"] != 0:
            problems.append(f"the writer refused it: {res['write']}")
            return res
        after_sync = f.read_bytes()
    elif not in_place or res["sync"]["rc"] not in (0, 1):
        if after_sync != original:
            problems.append("sync changed a file it does not write in place" if not in_place
                            else "sync changed a workbook it refused")
        return res
    run("clean", json_out=False)
    after_clean = f.read_bytes()
    before, synced, cleaned = _entries(original), _entries(after_sync), _entries(after_clean)
    if before is None or synced is None or cleaned is None:
        problems.append("the workbook written is not a readable zip")
        return res
    wb, editable = _editable(before)
    for name, data in before.items():
        if _norm(name) in editable:
            continue
        for cmd, after in (("sync", synced), ("clean", cleaned)):
            if name not in after:
                problems.append(f"{cmd} dropped user part {name}")
            elif after[name] != data:
                problems.append(f"{cmd} changed user part {name}")
    left = sorted(set(cleaned) - set(before))
    if left:
        problems.append(f"clean left behind parts sync added: {', '.join(left)}")
    gone = sorted(set(before) - set(cleaned))
    if gone:
        problems.append(f"clean dropped parts: {', '.join(gone)}")
    wb_name = next((n for n in before if _norm(n) == wb), None)
    if wb_name and wb_name in cleaned and _sheets_and_names(before[wb_name]) != _sheets_and_names(cleaned[wb_name]):
        problems.append(f"clean did not restore the sheets and defined names of {wb_name}")
    return res


# --------------------------------------------------------------------------- the tests
_RESULTS: dict[str, dict] = {}


def _runs(rel: str) -> bool:
    return FULL or _in_default_run(rel)


@pytest.fixture(scope="session")
def corpus_run(request, tmp_path_factory):
    """Runs every selected corpus file once, WORKERS at a time, on first use."""
    wanted = [item.callspec.params["rel"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_corpus_file"]
    todo = [r for r in wanted if r not in _RESULTS and _runs(r)]
    work = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(WORKERS) as pool:
        for res in pool.map(lambda r: _check_file(r, work), todo):
            _RESULTS[res["file"]] = res
    out = os.environ.get("CW_CORPUS_SUMMARY")
    if out:
        Path(out).write_text(json.dumps({k: {x: v.get(x) for x in ("validate", "sync", "clean", "problems")}
                                         for k, v in sorted(_RESULTS.items())}, indent=1, ensure_ascii=False))
    return _RESULTS


def _params():
    for rel in FILES:
        marks = []
        if not _runs(rel):
            marks.append(pytest.mark.skip(reason="a read-only format like others from the same source; "
                                                 "CW_CORPUS_FULL=1 runs it"))
        elif rel in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[rel]))
        yield pytest.param(rel, marks=marks, id=rel)


@pytest.mark.parametrize("rel", list(_params()))
def test_corpus_file(rel, corpus_run):
    res = corpus_run[rel]
    problems = list(res["problems"])
    if rel in EXPECTED_REFUSALS:
        for cmd, code in zip(("validate", "sync"), EXPECTED_REFUSALS[rel]):
            got = (res[cmd]["rc"], res[cmd]["error_code"])
            if code and got != (3, code):
                problems.append(f"{cmd} should refuse it with exit 3 and {code!r}, got {got}")
    if rel in SAME_CELLS and BASELINE in corpus_run and res["findings"] != corpus_run[BASELINE]["findings"]:
        extra = set(map(tuple, res["findings"])) ^ set(map(tuple, corpus_run[BASELINE]["findings"]))
        problems.append(f"validate read other cells than in {BASELINE}: {sorted(extra, key=str)[:4]}")
    assert problems == [], "\n".join(problems)


def test_clean_of_a_read_only_format_removes_its_sidecar(tmp_path):
    f = tmp_path / "lo_demo_en.ods"
    shutil.copyfile(CORPUS / "generated" / f.name, f)
    assert _run(["sync", f.name, "--as-of", AS_OF], tmp_path)["rc"] == 0
    sidecar = tmp_path / "lo_demo_en.campaignwatch.xlsx"
    assert sidecar.exists()
    r = _run(["clean", f.name], tmp_path)
    assert (r["rc"], "Traceback" in r["stderr"]) == (0, False), r["stderr"]
    assert not sidecar.exists()
    assert f.read_bytes() == (CORPUS / "generated" / f.name).read_bytes()


def test_known_failures_and_refusals_name_corpus_files():
    tests = {n for n in globals() if n.startswith("test_")}
    assert set(KNOWN_FAILURES) <= set(FILES) | tests, set(KNOWN_FAILURES) - set(FILES) - tests
    assert set(EXPECTED_REFUSALS) <= set(FILES), set(EXPECTED_REFUSALS) - set(FILES)
    assert not set(KNOWN_FAILURES) & set(EXPECTED_REFUSALS)


def test_every_third_party_file_has_origin_and_licence():
    import hashlib
    manifest = tomllib.loads((CORPUS / "third_party" / "MANIFEST.toml").read_text(encoding="utf-8"))
    listed = {e["path"]: e for e in manifest["file"]}
    present = {p.relative_to(CORPUS / "third_party").as_posix() for p in (CORPUS / "third_party").rglob("*")
               if p.is_file() and p.suffix.lower() in EXTENSIONS}
    assert present == set(listed)
    for path, e in listed.items():
        assert e["licence"] and e["origin"] and e["version"], path
        assert hashlib.sha256((CORPUS / "third_party" / path).read_bytes()).hexdigest() == e["sha256"], path


def test_corpus_stays_small():
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 5 << 20, f"tests/corpus is {total} bytes; keep it under 5 MiB"
