"""Parsers of controlled words (statuses, decisions …) from a table of accepted words
(`make_enum_parser`).
"""
from __future__ import annotations

from typing import Any, Callable

from .limits import UNKNOWN_WORD
from .text import norm_word, parse_text


# --------------------------------------------------------------------------
# Words, text and identifiers
# --------------------------------------------------------------------------


def make_enum_parser(words: dict[str, str],
                     default: str | None = None) -> Callable[[Any], tuple[str | None, str | None]]:
    """Build ``parse(raw) -> (canonical | None, issue)`` for a fixed vocabulary.

    ``words`` maps accepted words (any language) to canonical codes; matching
    uses :func:`norm_word`, so ``Not Started``, ``not_started``,
    ``NOT-STARTED`` are the same word.  Unknown words give
    ``(default, UNKNOWN_WORD)``.  Non-text cells are matched by their
    :func:`parse_text` form (``1.0`` -> ``"1"``, ``True`` -> ``"TRUE"``).
    Raises ValueError if two words normalise alike but map to different codes.
    """
    table: dict[str, str] = {}
    for word, code in words.items():
        key = norm_word(word)
        if table.get(key, code) != code:
            raise ValueError(f"words {word!r} collides with another word mapped to "
                             f"{table[key]!r} (both normalise to {key!r})")
        table[key] = code

    def parse(raw: Any) -> tuple[str | None, str | None]:
        text, _ = parse_text(raw)
        if text is None:
            return None, None
        try:
            code = table.get(norm_word(text))
        except Exception:  # pragma: no cover - defensive
            code = None
        if code is None:
            return default, UNKNOWN_WORD
        return code, None

    parse.words = dict(table)  # type: ignore[attr-defined]  # for introspection
    return parse
