"""Header and tab-name matching (SPEC §2).

A header cell matches a column when, after Unicode NFKC, case folding and removing spaces,
`_`, `-` and trailing punctuation, it equals one of the column's names. A unit in brackets
is allowed after the name — `金额(元)`, `Amount (CNY)`, `概率(1-5)` — and a unit that
scales is applied: `金额(万元)` multiplies every amount by 10,000. Bilingual headers such as
`Amount 金额` or `金额/Amount` match on either half. Tab names follow the same rule.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from .contract import Column, Table

_UNIT = re.compile(r"^(.*?)\s*[(\[【〔]\s*([^()\[\]【】〔〕]*?)\s*[)\]】〕]\s*$")
_DROP = re.compile(r"[\s_\-.:*#]+")
_SPLIT = re.compile(r"[\s/|]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

# Units that scale the typed number to the base unit (yuan, or a plain count).
SCALES: dict[str, Decimal] = {
    "元": Decimal(1), "rmb": Decimal(1), "cny": Decimal(1), "¥": Decimal(1), "yuan": Decimal(1),
    "人民币": Decimal(1), "人民币元": Decimal(1), "个": Decimal(1), "次": Decimal(1), "人": Decimal(1),
    "千元": Decimal(1000), "千": Decimal(1000), "k": Decimal(1000), "krmb": Decimal(1000),
    "万元": Decimal(10000), "万": Decimal(10000), "万人": Decimal(10000), "万次": Decimal(10000),
    "百万": Decimal(1000000), "百万元": Decimal(1000000), "m": Decimal(1000000),
    "亿元": Decimal(100000000), "亿": Decimal(100000000),
    "%": Decimal("0.01"), "百分比": Decimal("0.01"),
}


def norm(text: str) -> str:
    """The comparison form of a header or tab name."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).casefold()).strip("()[]")


@dataclass(frozen=True)
class HeaderMatch:
    name: str            # the comparison form of the name part
    unit: str            # the unit in brackets, as typed ('' when none)
    scale: Decimal       # 1 unless the unit scales


@lru_cache(maxsize=4096)
def split_header(text: str) -> HeaderMatch:
    text = unicodedata.normalize("NFKC", str(text)).strip()
    m = _UNIT.match(text)
    unit = ""
    if m and m.group(1):
        text, unit = m.group(1), m.group(2)
    scale = SCALES.get(norm(unit).replace(" ", ""), Decimal(1)) if unit else Decimal(1)
    return HeaderMatch(norm(text), unit, scale)


def candidates(text: str) -> list[HeaderMatch]:
    """The whole header first, then the Chinese and the other half of a bilingual header
    (`Amount 金额`, `金额/Amount`). A header in one script is never split, so `Receipt
    date` does not match `Receipt`."""
    out = [split_header(text)]
    parts = [p for p in _SPLIT.split(unicodedata.normalize("NFKC", str(text)).strip()) if p]
    cjk = [p for p in parts if _CJK.search(p)]
    other = [p for p in parts if not _CJK.search(p)]
    if cjk and other:
        out += [split_header(" ".join(cjk)), split_header(" ".join(other))]
    return out


@lru_cache(maxsize=None)
def column_index(table: Table) -> dict[str, Column]:
    """Comparison form of every accepted header -> column of `table`."""
    index: dict[str, Column] = {}
    for col in table.columns:
        for name in col.names():
            index.setdefault(norm(name), col)
    return index


def match_column(table: Table, text: object) -> tuple[Column, HeaderMatch] | None:
    if not isinstance(text, str) or not text.strip():
        return None
    index = column_index(table)
    for cand in candidates(text):
        col = index.get(cand.name)
        if col is not None:
            return col, cand
    return None


def header_language(table: Table, text: object) -> str | None:
    """'zh-CN' or 'en' when the header is spelled in one language, else None."""
    if not isinstance(text, str):
        return None
    name = split_header(text).name
    for col in table.columns:
        if name == norm(col.zh):
            return "zh-CN"
        if name in (norm(col.en), norm(col.key)):
            return "en"
    return "zh-CN" if _CJK.search(text) else None


def match_tab(tables: tuple[Table, ...], tab_name: str) -> Table | None:
    names = {norm(n): t for t in tables for n in t.names()}
    for cand in candidates(tab_name):
        if cand.name in names:
            return names[cand.name]
    return None
