"""One record type and one template engine for every catalogue of codes.

Three catalogues use them: validation findings (`findings.CATALOGUE`), rule flags
(`flagcodes.CODES`) and source errors (`errors.CATALOGUE`). An `Entry` is one code: its
severity, a sentence template in English and Chinese, and what to do about it (`fix_*`:
a finding's fix, a flag's suggested action, a source error's hint). Templates are
`str.format` templates; `fill` fills them from a record's fields.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .i18n import pick, text


@dataclass(frozen=True)
class Entry:
    code: str
    severity: str
    en: str
    zh: str
    fix_en: str
    fix_zh: str

    def template(self, lang: str) -> str:
        """The sentence template in `lang`."""
        return text(lang, self.en, self.zh)

    def fix_template(self, lang: str) -> str:
        """The fix (action, hint) template in `lang`."""
        return text(lang, self.fix_en, self.fix_zh)       # a flag's suggested action


def index(*entries: Entry) -> dict[str, Entry]:
    """Code -> entry, in declaration order; a code declared twice is a programming error."""
    out: dict[str, Entry] = {}
    for e in entries:
        if e.code in out:
            raise ValueError(f"catalogue code {e.code!r} is declared twice")
        out[e.code] = e
    return out


class _Fields(dict):
    def __init__(self, fields: Mapping, lang: str, missing: str | None):
        super().__init__((k, pick(lang, v) if isinstance(v, Mapping) else v) for k, v in fields.items())
        self._missing = missing

    def __missing__(self, key: str) -> str:
        return "{" + key + "}" if self._missing is None else self._missing


def fill(template: str, fields: Mapping, lang: str = "en", *, missing: str | None = None) -> str:
    """`template` filled from `fields`; a field given as ``{"en": …, "zh-CN": …}`` is said in `lang`.

    A placeholder with no field becomes `missing`, or stays as ``{name}`` when `missing` is None.
    """
    return template.format_map(_Fields(fields, lang, missing))
