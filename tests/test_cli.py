"""The command line: exit codes, one JSON document, validate writes nothing."""
from __future__ import annotations

import json

from conftest import AS_OF, cli_process as run, messy_sheets, write_xlsx
from campaignwatch.cli import main


def test_validate_json_is_exactly_one_document(tmp_path):
    messy = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    missing = tmp_path / "nope.xlsx"
    proc = run("validate", str(messy), str(missing), "--json", "--as-of", AS_OF.isoformat())
    doc = json.loads(proc.stdout)               # nothing but the document on stdout
    assert proc.returncode == 3                 # a source could not be read
    assert doc["schema"] == 1 and doc["as_of"] == "2026-11-26"
    ok, failed = doc["sources"]
    assert (ok["status"], failed["status"], failed["error_code"]) == ("ok", "failed", "missing")
    assert failed["error"] and "\n" not in failed["error"]
    keys = {"code", "severity", "table", "tab", "row", "column", "cell", "value", "message"}
    assert all(keys <= set(f) for f in ok["findings"])
    errors = sorted((f["code"], f["row"]) for f in ok["findings"] if f["severity"] == "error")
    assert errors == [("DUPLICATE_ID", 10), ("FORMULA_NOT_CALCULATED", 8), ("UNKNOWN_CAMPAIGN", 9),
                      ("VALUE_UNREADABLE", 7)]
    assert ok["excluded_rows"]["expenses"] == 4


def test_exit_codes(tmp_path):
    clean = tmp_path / "clean.xlsx"
    assert main(["init", str(clean)]) == 0
    assert main(["validate", str(clean)]) == 0
    messy = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    assert main(["validate", str(messy)]) == 1
    assert main(["validate", str(tmp_path / "missing.xlsx")]) == 3
    assert main(["validate"]) == 2
    assert main(["validate", str(clean), "--as-of", "yesterday"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[general]\nlanguage = 'fr'\n")
    assert main(["--config", str(bad), "validate", str(clean)]) == 2
    bad.write_text("[general]\nno_such_setting = 1\n")
    assert main(["--config", str(bad), "validate", str(clean)]) == 2
    bad.write_text("not toml [")
    assert main(["--config", str(bad), "validate", str(clean)]) == 2


def test_validate_writes_nothing(tmp_path):
    messy = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    proc = run("validate", str(messy), cwd=tmp_path)
    assert proc.returncode == 1
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before


def test_report_language_follows_the_workbook_unless_asked(tmp_path):
    messy = write_xlsx(tmp_path / "messy.xlsx", messy_sheets())
    zh = json.loads(run("validate", str(messy), "--json").stdout)["sources"][0]
    en = json.loads(run("validate", str(messy), "--json", "--lang", "en").stdout)["sources"][0]
    assert (zh["language"], en["language"]) == ("zh-CN", "en")
    assert [f["code"] for f in zh["findings"]] == [f["code"] for f in en["findings"]]
    assert zh["findings"][0]["message"] != en["findings"][0]["message"]


def test_broken_file_gets_one_sentence_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    proc = run("validate", str(bad))
    assert proc.returncode == 3
    assert "Traceback" not in proc.stdout + proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1
