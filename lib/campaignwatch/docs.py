"""The README's reference sections, generated from the code that defines them.

`scripts/make_docs.py` rewrites the blocks between `<!-- BEGIN name -->` and
`<!-- END name -->` in README.md; a test fails when a block is stale, so the contract,
the finding codes and the settings have no second, hand-kept copy.
"""
from __future__ import annotations

import re

from .config import RELATIONS, SETTINGS
from .contract import ENUMS, KPI_CATALOGUE, TABLES
from .findings import CATALOGUE
from .flagcodes import CODES as FLAG_CODES

KIND_WORDS = {
    "id": "ID", "ref": "campaign ID", "line_ref": "budget line ID", "text": "text", "person": "name",
    "date": "date", "datetime": "date & time", "money": "money", "number": "number",
    "score": "1–5", "enum": "word",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tables_section() -> str:
    out = []
    for t in TABLES:
        opt = " (optional)" if t.optional else ""
        ids = ", ".join(t.id_columns) or "—"
        out.append(f"#### {t.en} · {t.zh}{opt}\n")
        out.append(f"Table `{t.key}`; unique key: {ids}. Also recognised as: "
                   + ", ".join(f"`{a}`" for a in t.aliases) + ".\n")
        out.append("| column | English header | 中文表头 | kind | needed | also accepted |")
        out.append("|---|---|---|---|---|---|")
        for c in t.columns:
            kind = KIND_WORDS[c.kind] + (f" ({c.enum})" if c.enum else "")
            aliases = ", ".join(f"`{a}`" for a in c.aliases) or ""
            out.append(f"| `{c.key}` | {_cell(c.en)} | {_cell(c.zh)} | {kind} | {'yes' if c.needed else ''} | {aliases} |")
        out.append("")
    out.append("#### Enumerations\n")
    out.append("| enumeration | code: English / 中文 (other accepted words) | blank means |")
    out.append("|---|---|---|")
    for e in ENUMS.values():
        words = "; ".join(f"`{code}`: {w[0]} / {w[1]}" + (f" ({', '.join(w[2:])})" if len(w) > 2 else "")
                          for code, w in e.words.items())
        out.append(f"| {e.name} | {_cell(words)} | {e.default or '—'} |")
    out.append("")
    out.append("#### KPI catalogue\n")
    out.append("| KPI | English | 中文 | direction | actuals aggregate by | also accepted |")
    out.append("|---|---|---|---|---|---|")
    for k in KPI_CATALOGUE:
        out.append(f"| `{k.key}` | {k.en} | {k.zh} | {k.direction} | {k.aggregate} | {', '.join(k.aliases)} |")
    return "\n".join(out)


def findings_section() -> str:
    out = ["| code | severity | meaning | what to do |", "|---|---|---|---|"]
    for c in CATALOGUE.values():
        out.append(f"| `{c.code}` | {c.severity} | {_cell(_plain(c.en))} | {_cell(_plain(c.fix_en))} |")
    return "\n".join(out)


def flags_section() -> str:
    out = ["| code | default severity | raised when (message) | suggested action |", "|---|---|---|---|"]
    for c in FLAG_CODES.values():
        out.append(f"| `{c.code}` | {c.severity} | {_cell(_plain(c.en))} | {_cell(_plain(c.fix_en))} |")
    return "\n".join(out)


def settings_section() -> str:
    out = ["| setting | default | allowed | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = repr(s.default).replace("'", '"') if not isinstance(s.default, bool) else str(s.default).lower()
        out.append(f"| `{s.key}` | `{default}` | {_cell(allowed(s))} | {_cell(s.help)} |")
    return "\n".join(out)


def allowed(setting) -> str:
    """What a setting allows, in words, with its relations to other settings."""
    text = setting.describe()
    for rel in RELATIONS:
        if rel.low == setting.key:
            text += f", at most `{rel.high}`"
        elif rel.high == setting.key:
            text += f", at least `{rel.low}`"
    return text


def _plain(template: str) -> str:
    """A message template with its placeholders shown as <placeholder>."""
    return re.sub(r"\{(\w+)\}", r"<\1>", template)


SECTIONS = {"tables": tables_section, "findings": findings_section, "flags": flags_section,
            "settings": settings_section}


def render(readme: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(readme):
            raise ValueError(f"README has no <!-- BEGIN {name} --> block")
        readme = pattern.sub(lambda m: m.group(1) + fn() + "\n" + m.group(2), readme)
    return readme
