"""The brand profile: deterministic rules kept beside the guidelines (loaded by knowledge.profile)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    default_hashtags: list[str] = field(default_factory=list)
    reviewer_notes: list[str] = field(default_factory=list)  # accepted standing requests from reviewers
