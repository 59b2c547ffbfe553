"""The brand profile: deterministic rules kept beside the guidelines (loaded by knowledge.profile)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Disclosure:
    """A tag that must appear when the brief or text mentions one of `when` (e.g. #ad for partnerships)."""

    tag: str
    when: list[str] = field(default_factory=list)


@dataclass
class HashtagPolicy:
    max: int = 3
    casing: str = "camel"  # camel | lower | any
    required: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    topical: dict[str, list[str]] = field(default_factory=dict)  # locale -> its own topical tags
    # locale -> {tag used elsewhere: the tag posts in that locale use instead}
    equivalents: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class EmojiPolicy:
    allowed: bool = True
    max: int = 2


@dataclass
class BrandProfile:
    name: str = "Your brand"
    voice: str = ""
    spellings: list[str] = field(default_factory=list)  # canonical brand-name spellings
    banned: dict[str, str] = field(default_factory=dict)  # word or phrase -> suggested replacement ("" = just drop)
    disclosures: list[Disclosure] = field(default_factory=list)
    emoji: EmojiPolicy = field(default_factory=EmojiPolicy)
    hashtags: HashtagPolicy = field(default_factory=HashtagPolicy)
    call_to_action: dict[str, str] = field(default_factory=dict)  # locale -> CTA sentence
    glossary: dict[str, dict[str, str]] = field(default_factory=dict)  # locale -> {source term: target term}
    do_not_translate: list[str] = field(default_factory=list)
    default_hashtags: list[str] = field(default_factory=list)  # topical tags of locales without their own
    reviewer_notes: list[str] = field(default_factory=list)  # accepted standing requests from reviewers

    def topical_hashtags(self, locale: str) -> list[str]:
        """The topical tags for a post in `locale`: its own list if the kit gives one, else the
        defaults, each swapped for its equivalent in `locale` (never one tag asked for and flagged)."""
        own = _for_locale(self.hashtags.topical, locale)
        if own is not None:
            return own
        local = {tag.casefold(): target for tag, target in self.hashtag_equivalents(locale).items()}
        return [local.get(tag.casefold(), tag) for tag in self.default_hashtags]

    def hashtag_equivalents(self, locale: str) -> dict[str, str]:
        """{tag: the tag `locale` uses instead}, e.g. {"#SpecialtyCoffee": "#CaféDeSpécialité"} in French."""
        return _for_locale(self.hashtags.equivalents, locale) or {}


def _for_locale(table: dict[str, Any], locale: str) -> Any:
    """A per-locale entry, a regional locale ("fr-CA") falling back to its language."""
    for code in (locale, locale.split("-")[0].lower()):
        if code in table:
            return table[code]
    return None
