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

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pytest

from conftest import ROOT

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

# Files that fail today, with the reason; the fixes are under way in other branches. Delete an
# entry when its fix lands (the strict xfail turns red as soon as the file passes).
KNOWN_FAILURES: dict[str, str] = {
}

# What each file that must be refused is refused with (exit 3, this error_code, from validate and sync).
EXPECTED_REFUSALS: dict[str, str] = {
}


# --------------------------------------------------------------------------- running the CLI
def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _run(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib"), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    env.pop("CAMPAIGNWATCH_CONFIG", None)
    try:
        p = subprocess.run([sys.executable, "-m", "campaignwatch", *args], cwd=cwd, env=env,
                           capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                           preexec_fn=_limit)
        return {"args": args, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}
    except subprocess.TimeoutExpired as exc:
        return {"args": args, "rc": "timeout", "stdout": str(exc.stdout or ""), "stderr": str(exc.stderr or "")}


def _entries(path: Path) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist()}
    except Exception:  # noqa: BLE001 - not a zip, or a damaged one: compared as bytes instead
        return None


def _editable(entries: dict[str, bytes]) -> set[str]:
    """The parts campaignwatch may edit: the workbook part (wherever _rels/.rels puts it), its
    relationships, [Content_Types].xml, the styles part and docProps/*."""
    wb = "xl/workbook.xml"
    rels = entries.get("_rels/.rels", b"").decode("utf-8", "replace")
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        if re.search(r'Type="[^"]*/officeDocument"', rel):
            t = re.search(r'Target="([^"]+)"', rel)
            if t:
                wb = t.group(1).lstrip("/")
    d = PurePosixPath(wb).parent.as_posix()
    return {wb, f"{d}/_rels/{PurePosixPath(wb).name}.rels", "[Content_Types].xml", f"{d}/styles.xml",
            "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"} | {
        n for n in entries if n.startswith("docProps/")}


def _sheets_and_names(xml: bytes) -> tuple[list, list]:
    text = xml.decode("utf-16" if xml[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)
    names = re.findall(r"<(?:\w+:)?definedName\b([^>]*)>([^<]*)<", text)
    return sheets, sorted((re.sub(r"\s+", " ", a).strip(), v) for a, v in names)


def _check_file(rel: str, work: Path) -> dict:
    src = CORPUS / rel
    folder = work / re.sub(r"[^\w.-]", "_", rel)
    folder.mkdir(parents=True)
    f = folder / src.name
    shutil.copyfile(src, f)
    original = src.read_bytes()
    res = {"file": rel, "runs": [], "problems": []}
    problems = res["problems"]

    def run(*args, json_out=True):
        r = _run(list(args), folder)
        res["runs"].append(r)
        if "Traceback" in r["stderr"]:
            problems.append(f"traceback in {args[0]}: {r['stderr'].strip().splitlines()[-1][:200]}")
        if r["rc"] not in OK_EXITS:
            how = r["rc"] if r["rc"] == "timeout" else (f"signal {-r['rc']}" if r["rc"] < 0 else f"exit {r['rc']}")
            problems.append(f"abort in {args[0]}: {how}: {(r['stderr'].strip().splitlines() or [''])[-1][:200]}")
        doc = None
        if json_out and r["rc"] in OK_EXITS:
            try:
                doc = json.loads(r["stdout"])
            except ValueError:
                problems.append(f"{args[0]} --json printed no single JSON document: {r['stdout'][:120]!r}")
        return r, doc

    _, vdoc = run("validate", f.name, "--json", "--as-of", AS_OF)
    src0 = (vdoc or {}).get("sources", [{}])[0] if vdoc else {}
    res["validate"] = {"rc": res["runs"][-1]["rc"], "status": src0.get("status"), "error_code": src0.get("error_code")}
    r, sdoc = run("sync", f.name, "--json", "--as-of", AS_OF)
    s0 = (sdoc or {}).get("sources", [{}])[0] if sdoc else {}
    res["sync"] = {"rc": r["rc"], "status": s0.get("status"), "error_code": s0.get("error_code")}
    after_sync = f.read_bytes() if f.exists() else None
    run("clean", f.name, json_out=False)
    res["clean"] = {"rc": res["runs"][-1]["rc"]}
    after_clean = f.read_bytes() if f.exists() else None

    if src.suffix.lower() not in WRITTEN_IN_PLACE or res["sync"]["rc"] not in (0, 1):
        if after_sync != original or after_clean != original:
            problems.append("the file was changed although it is not written in place"
                            if src.suffix.lower() not in WRITTEN_IN_PLACE else "a refused workbook was changed")
        return res
    before, synced, cleaned = _entries(src), _entries_bytes(after_sync), _entries_bytes(after_clean)
    if before is None or synced is None or cleaned is None:
        problems.append("the written workbook is not a readable zip")
        return res
    editable = _editable(before)
    for name, data in before.items():
        if name in editable:
            continue
        if name not in synced:
            problems.append(f"sync dropped user part {name}")
        elif synced[name] != data:
            problems.append(f"sync changed user part {name}")
        if name not in cleaned:
            problems.append(f"clean dropped user part {name}")
        elif cleaned[name] != data:
            problems.append(f"clean changed user part {name}")
    left = sorted(set(cleaned) - set(before))
    if left:
        problems.append(f"clean left behind parts sync added: {', '.join(left)}")
    gone = sorted(n for n in set(before) - set(cleaned) if n in editable)
    if gone:
        problems.append(f"clean dropped parts: {', '.join(gone)}")
    wb = next((n for n in _editable(before) if n in before and n.endswith(".xml") and n != "[Content_Types].xml"
               and "styles" not in n and "_rels" not in n and not n.startswith("docProps/")), None)
    if wb and wb in cleaned:
        if _sheets_and_names(before[wb]) != _sheets_and_names(cleaned[wb]):
            problems.append(f"clean did not restore the sheets / defined names of {wb}")
    return res


def _entries_bytes(data: bytes | None) -> dict[str, bytes] | None:
    if data is None:
        return None
    import io
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: z.read(i) for i in z.infolist()}
    except Exception:  # noqa: BLE001
        return None


# --------------------------------------------------------------------------- the cache
_RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="session")
def corpus_run(request, tmp_path_factory):
    """Runs every selected corpus file once, WORKERS at a time, on first use."""
    wanted = [item.callspec.params["rel"] for item in request.session.items
              if getattr(item, "callspec", None) and "rel" in item.callspec.params
              and item.originalname == "test_corpus_file"]
    todo = [r for r in wanted if r not in _RESULTS]
    work = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(WORKERS) as pool:
        for res in pool.map(lambda r: _check_file(r, work), todo):
            _RESULTS[res["file"]] = res
    out = os.environ.get("CW_CORPUS_SUMMARY")
    if out:
        Path(out).write_text(json.dumps({k: {x: v[x] for x in ("validate", "sync", "clean", "problems")}
                                         for k, v in sorted(_RESULTS.items())}, indent=1, ensure_ascii=False))
    return _RESULTS


def _params():
    for rel in FILES:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[rel])] if rel in KNOWN_FAILURES else []
        yield pytest.param(rel, marks=marks, id=rel)


@pytest.mark.parametrize("rel", list(_params()))
def test_corpus_file(rel, corpus_run):
    res = corpus_run[rel] if rel in corpus_run else _check_file(rel, Path(os.environ.get("TMPDIR", "/tmp")))
    problems = list(res["problems"])
    want = EXPECTED_REFUSALS.get(rel)
    if want:
        for cmd in ("validate", "sync"):
            got = (res[cmd]["rc"], res[cmd]["error_code"])
            if got != (3, want):
                problems.append(f"{cmd} should refuse with exit 3 and {want!r}, got {got}")
    assert problems == [], "\n".join(problems)


def test_known_failures_and_refusals_name_corpus_files():
    assert set(KNOWN_FAILURES) <= set(FILES), set(KNOWN_FAILURES) - set(FILES)
    assert set(EXPECTED_REFUSALS) <= set(FILES), set(EXPECTED_REFUSALS) - set(FILES)


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
