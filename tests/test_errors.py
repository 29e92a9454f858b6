"""errors.py, catalogue.py, i18n.py, a1.py: one exception base, one catalogue record and template
engine for findings, flags and source errors, one language choice, one A1 module."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import campaignwatch
from conftest import ROOT
from campaignwatch import a1, errors
from campaignwatch.catalogue import Entry, fill, index
from campaignwatch.errors import CATALOGUE, CODES, CampaignwatchError, SourceError, internal, message
from campaignwatch.findings import CATALOGUE as FINDINGS, Finding
from campaignwatch.flagcodes import CODES as FLAGS, MISSING
from campaignwatch.i18n import EN, ZH, language, pick, text

README = (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- errors.message

@pytest.mark.parametrize("code", CODES)
def test_every_source_error_code_has_both_languages_and_a_hint(code):
    entry = CATALOGUE[code]
    assert entry.code == code and entry.severity == "error"
    for sentence in (entry.en, entry.zh):
        assert "{name}" in sentence and "{detail}" in sentence
    assert entry.fix_en.endswith(".") and entry.fix_zh.endswith("。")


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("lang", [EN, ZH])
def test_message_fills_name_and_detail(code, lang):
    said = message(SourceError(code, "sheet 3", path="/data/budget.xlsx"), lang)
    assert "{" not in said and "budget.xlsx" in said and "sheet 3" in said
    assert said.endswith(CATALOGUE[code].fix_template(lang))
    bare = message(SourceError(code), lang)
    assert "{" not in bare and text(lang, "The file", "该文件") in bare


def test_message_joins_sentence_and_hint_with_the_language_colon():
    err = SourceError(errors.LOCKED, "by Wang", path="b.xlsx")
    assert message(err) == ("b.xlsx is open in Excel or LibreOffice (by Wang), so campaignwatch did not "
                            "write to it: close it there (or ask that person to), then run again.")
    assert message(err, "zh-CN") == "b.xlsx 正在 Excel 或 LibreOffice 中打开（by Wang），campaignwatch 未写入：请先关闭它（或请对方关闭）后重试。"
    assert message(err, "zh_CN") == message(err, "zh-CN")


def test_an_unknown_code_is_said_generically_with_the_code_in_the_detail():
    assert message(SourceError("brand_new", "x", path="b.xlsx")) == (
        "b.xlsx could not be read (brand_new: x): open it in Excel or LibreOffice and save it as .xlsx, "
        "then run again.")


def test_internal_names_the_exception_on_one_line():
    err = internal(RuntimeError("boom\nmore"), path="b.xlsx")
    assert (err.code, err.detail) == (errors.INTERNAL, "RuntimeError: boom")


def test_every_source_error_code_is_in_the_readme():
    for code in CODES:
        assert f"`{code}`" in README, code


def test_every_exception_of_the_package_derives_from_one_base():
    seen = []
    for mod in pkgutil.walk_packages(campaignwatch.__path__, "campaignwatch."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == mod.name
                    and not name.startswith("_")):
                seen.append(cls)
                assert issubclass(cls, CampaignwatchError), f"{mod.name}.{name}"
    assert {c.__name__ for c in seen} >= {"SourceError", "ConfigError", "HistoryError", "Locked", "Usage",
                                          "NotifyError", "PartError", "TabTooLarge", "OnlyGenerated"}


# --------------------------------------------------------------------------- one catalogue

def test_findings_flags_and_source_errors_share_one_record_type():
    for cat in (FINDINGS, FLAGS, CATALOGUE):
        assert all(type(e) is Entry and e.en and e.zh and e.fix_en and e.fix_zh for e in cat.values())


def test_a_code_declared_twice_is_refused():
    e = Entry("X", "error", "a", "甲", "b", "乙")
    with pytest.raises(ValueError, match="'X'"):
        index(e, e)


def test_fill_keeps_or_replaces_a_missing_placeholder():
    assert fill("{a} and {b}", {"a": 1}) == "1 and {b}"                    # findings
    assert fill("{a} and {b}", {"a": 1}, missing=MISSING) == "1 and —"      # flags


def test_fill_says_a_two_language_field_in_the_language_asked():
    fields = {"t": {"en": "Expenses", "zh-CN": "费用记录"}, "n": 3}
    assert fill("{t} ({n})", fields, "en") == "Expenses (3)"
    assert fill("{t} ({n})", fields, "zh-CN") == "费用记录 (3)"
    assert fill("{t}", {"t": {"en": "Expenses"}}, "zh-CN") == "Expenses"


def test_finding_message_and_fix_come_from_the_catalogue_template():
    f = Finding("COLUMN_ABSENT", "expenses", "Expenses", column="Receipt no.",
                params={"table_name": {"en": "Expenses", "zh-CN": "费用记录"}})
    assert f.message() == "Tab Expenses has no Receipt no. column; checks that use it are skipped."
    assert f.fix("zh-CN") == "如需检查，请添加标题为“Receipt no.”的列。"
    assert Finding("TAB_MISSING", "kpis", "").message() == "There is no {table_name} tab; figures that need it are skipped."


# --------------------------------------------------------------------------- i18n

@pytest.mark.parametrize("lang, expected", [("en", EN), ("zh-CN", ZH), ("zh", ZH), ("zh_CN", ZH),
                                            ("ZH-cn", ZH), ("fr", EN), ("", EN), (None, EN)])
def test_language_codes(lang, expected):
    assert language(lang) == expected
    assert text(lang, "a", "甲") == ("甲" if expected == ZH else "a")
    assert pick(lang, {"en": "a", "zh-CN": "甲"}) == text(lang, "a", "甲")


# --------------------------------------------------------------------------- a1

@pytest.mark.parametrize("col0, letters", [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"),
                                           (702, "AAA"), (16383, "XFD")])
def test_column_letters_both_ways(col0, letters):
    assert a1.column_letter(col0) == letters
    assert a1.column_index(letters) == a1.column_index(letters.encode()) == col0


@pytest.mark.parametrize("ref, rc", [("A1", (0, 0)), ("B4", (3, 1)), ("ab12", (11, 27)), (b"XFD1048576", (1048575, 16383)),
                                     (" C3 ", (2, 2)), ("XFE1", None), ("A1048577", None), ("A0", None),
                                     ("1A", None), ("A", None), ("AAAA1", None), ("$A$1", None), ("", None),
                                     (None, None), ("é1", None)])
def test_parse(ref, rc):
    assert a1.parse(ref) == rc
    if rc:
        assert a1.parse(a1.ref(*rc)) == rc


@pytest.mark.parametrize("tab, expected", [("费用记录", "费用记录!E7"), ("Expenses", "Expenses!E7"),
                                           ("Budget lines", "'Budget lines'!E7"), ("2026", "'2026'!E7"),
                                           ("Bob's", "'Bob''s'!E7"), ("a.b", "a.b!E7")])
def test_cell_ref_quotes_where_excel_needs_it(tab, expected):
    assert a1.cell_ref(tab, 7, 4) == expected
