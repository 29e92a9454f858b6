"""English or Chinese: the one place that decides which language a text is said in.

campaignwatch speaks two languages, `EN` ("en") and `ZH` ("zh-CN"). Any language code that
starts with "zh" (`zh`, `zh_CN`, `ZH-cn`) means Chinese; anything else means English.
"""
from __future__ import annotations

from typing import Mapping, TypeVar

EN = "en"
ZH = "zh-CN"
LANGUAGES = (EN, ZH)

T = TypeVar("T")


def language(lang: object) -> str:
    """`ZH` for a Chinese language code, else `EN`."""
    return ZH if str(lang).lower().replace("_", "-").startswith("zh") else EN


def text(lang: object, en: T, zh: T) -> T:
    """`zh` when `lang` is Chinese, else `en`."""
    return zh if language(lang) == ZH else en


def pick(lang: object, variants: Mapping[str, T]) -> T:
    """The variant of ``{"en": …, "zh-CN": …}`` for `lang`; English when that language is missing."""
    key = language(lang)
    return variants[key] if key in variants else variants[EN]
