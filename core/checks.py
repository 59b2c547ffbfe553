"""Deterministic platform and brand checks every draft passes before a human sees it (no LLM).

`run` returns one `Check` per rule, passing or not, so a card can show what was verified.
Severity says what a failure means:

- "error" — the post would be rejected, break a rule or embarrass the brand, and the revise
  loop must fix it: length, hashtag/mention/link limits, forbidden hashtags, banned words,
  missing disclosures, leftover placeholders, malformed links, do-not-translate terms and
  glossary terms lost in localization, unsupported claims and stale "today"/"new" (core.grounding).
- "warning" — style the brand prefers but a human may knowingly accept: hashtag casing,
  required hashtags (they can collide with a network's tight cap, e.g. one tag on Threads),
  emoji policy, brand-name spelling, number formats and the locale's own hashtags.

Words and phrases match whole words, ignoring case but not accents ("marche" is not
"marché"), after Unicode NFC normalisation so composed and decomposed accents are equal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

import regex

from core import grounding, locales, platforms
from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.domain import LOCALES, Check
from core.platforms import Platform

ERROR = "error"
WARNING = "warning"

LENGTH = "length"
HASHTAG_LIMIT = "hashtag_limit"
MENTION_LIMIT = "mention_limit"
LINK_LIMIT = "link_limit"
HASHTAG_CASING = "hashtag_casing"
REQUIRED_HASHTAGS = "required_hashtags"
FORBIDDEN_HASHTAGS = "forbidden_hashtags"
BANNED_WORDS = "banned_words"
DISCLOSURES = "disclosures"
LOCALE_FORMAT = "locale_format"
LOCAL_HASHTAGS = "local_hashtags"
EMOJI = "emoji"
BRAND_SPELLING = "brand_spelling"
PLACEHOLDERS = "placeholders"
LINK_FORMAT = "link_format"
DO_NOT_TRANSLATE = "do_not_translate"
GLOSSARY = "glossary"
ALT_TEXT = "alt_text"
MEDIA_LIMITS = "media_limits"

_WORD_BEFORE = r"(?<![\p{L}\p{M}\p{N}_])"
_WORD_AFTER = r"(?![\p{L}\p{M}\p{N}_])"

# One alternation, so "{{cta}}" is reported once rather than also as "{cta}".
_PLACEHOLDERS = regex.compile(
    "|".join(
        (
            r"\{\{.*?\}\}",  # {{brand}}
            r"\{[A-Za-z_]\w*\}",  # {name}
            r"(?i:\[\s*(?:insert|add|your)\b[^\]]*\])",  # [Insert link]
            r"\[[A-Z][A-Z0-9 _/-]{2,}\]",  # [LINK], [CTA]
            r"<[A-Za-z][\w .-]{0,40}>",  # <placeholder>
            r"\b(?:TODO|TBD|FIXME)\b",  # upper case only: "todo" is a Spanish word
            r"(?i:\blorem\s+ipsum\b)",
        )
    )
)
# Anything written like a link, valid or not: a scheme, a scheme missing its colon, or "www.".
_LINKISH = regex.compile(r"(?<![\w@.])(?:[a-z][a-z0-9+.-]*:/+|https?//|www\.)\S*", regex.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"»”’"
_LABEL = regex.compile(r"\w(?:[\w-]*\w)?")
# Reserved for documentation (RFC 2606): a draft pointing there still has a placeholder link.
_RESERVED_HOSTS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")


def run(
    text: str,
    *,
    network: str | Platform,
    locale: str,
    profile: BrandProfile,
    brief_text: str = "",
    source_text: str | None = None,
    media: list[dict] | None = None,
    grounds: grounding.Grounds | None = None,
) -> list[Check]:
    """Every check for one variant; `network` is a name or a `Platform` (e.g. with a tag cap).

    `media` (Media dicts) adds the image checks: alt text on each, and the network's limits.
    `grounds` (what the draft was given: brief, cited passages, fetched sources) adds the claims and
    freshness checks (core.grounding)."""
    platform = network if isinstance(network, Platform) else platforms.get(network)
    written = _nfc(text)
    checks = [
        length(text, platform),
        hashtag_limit(written, platform, profile.hashtags),
        mention_limit(written, platform),
        link_limit(written, platform),
        hashtag_casing(written, profile.hashtags, exempt=_prescribed_tags(profile, locale)),
        required_hashtags(written, profile.hashtags),
        forbidden_hashtags(written, profile.hashtags),
        banned_words(written, profile.banned),
        disclosures(written, profile.disclosures, brief_text=_nfc(brief_text)),
        emoji_policy(written, profile.emoji),
        brand_spelling(written, profile.spellings),
        placeholders(written),
        link_format(written),
        locale_format(written, locale),
    ]
    if media:
        checks += [alt_text(media), media_limits(media, platform)]
    if grounds is not None:
        checks += [grounding.claims(written, locale=locale, grounds=grounds),
                   grounding.freshness(written, locale=locale, grounds=grounds)]
    if equivalents := profile.hashtag_equivalents(locale):
        checks.append(local_hashtags(written, equivalents, locale))
    if source_text is not None:
        source = _nfc(source_text)
        if profile.do_not_translate:
            checks.append(do_not_translate(written, source, profile.do_not_translate))
        if glossary := _glossary_for(profile, locale):
            # Words inside links (tidewren.coffee/shop) are addresses, not prose to translate.
            checks.append(glossary_terms(written, platforms.blank(source), glossary, locale))
    return checks


def failing(checks: Iterable[Check | dict], *, severity: str | None = None) -> list[Check]:
    """The checks that did not pass (only those of `severity` when given). Accepts stored dicts."""
    found = [c for c in map(_as_check, checks) if not c.ok]
    return [c for c in found if severity is None or c.severity == severity]


def summary(checks: Iterable[Check | dict]) -> str:
    """One line for a card: "✓ 13 checks passed" or "1 problem, 1 warning: …; …"."""
    checks = [_as_check(c) for c in checks]
    errors, warnings = failing(checks, severity=ERROR), failing(checks, severity=WARNING)
    if not errors and not warnings:
        return f"✓ {_count(len(checks), 'check')} passed"
    counts = [_count(len(errors), "problem")] if errors else []
    counts += [_count(len(warnings), "warning")] if warnings else []
    return f"{', '.join(counts)}: " + "; ".join(c.message for c in errors + warnings)


# ---------------------------------------------------------------------------
# Images


def alt_text(media: list[dict]) -> Check:
    """An error without alt text on every image: people who cannot see it get nothing otherwise."""
    missing = [m.get("filename") or m["sha256"][:12] for m in media if not (m.get("alt") or "").strip()]
    if missing:
        return Check(ALT_TEXT, False, f"Alt text missing for {_quote(missing)}: describe each image before approval")
    return Check(ALT_TEXT, True, f"Alt text on {_count(len(media), 'image')}")


def media_limits(media: list[dict], platform: Platform) -> Check:
    """Type, bytes, pixels and count per post, as the network documents them."""
    from core import media as store  # Pillow is only loaded where images are handled

    problems = [problem for item in media for problem in store.check(item, platform)]
    if len(media) > platform.media.max_count:
        problems.insert(0, f"{len(media)} images; {platform.label} takes up to {platform.media.max_count} per post")
    if problems:
        return Check(MEDIA_LIMITS, False, "; ".join(problems))
    return Check(MEDIA_LIMITS, True, f"{_count(len(media), 'image')} within {platform.label}'s limits")


# ---------------------------------------------------------------------------
# Platform limits


def length(text: str, platform: Platform) -> Check:
    if not text.strip():
        return Check(LENGTH, False, "The post is empty", ERROR)
    used, limit = platform.length(text), platform.max_length
    counted = f"{used}/{limit} characters as {platform.label} counts them"
    if used > limit:
        return Check(LENGTH, False, f"{counted} — {used - limit} over", ERROR)
    return Check(LENGTH, True, counted, ERROR)


def hashtag_limit(text: str, platform: Platform, policy: HashtagPolicy) -> Check:
    used = len(_unique(platforms.hashtags(text)))
    if platform.max_hashtags <= policy.max:
        limit, who = platform.max_hashtags, f"{platform.label} takes"
    else:
        limit, who = policy.max, "brand policy allows"
    if used > limit:
        most = f"at most {limit}" if limit else "none"
        return Check(HASHTAG_LIMIT, False, f"{_count(used, 'hashtag')} — {who} {most}", ERROR)
    return Check(HASHTAG_LIMIT, True, f"{_count(used, 'hashtag')} (max {limit})", ERROR)


def mention_limit(text: str, platform: Platform) -> Check:
    used, limit = len(_unique(platforms.mentions(text))), platform.max_mentions
    if used > limit:
        message = f"{_count(used, 'mention')} — {platform.label} takes at most {limit}"
        return Check(MENTION_LIMIT, False, message, ERROR)
    return Check(MENTION_LIMIT, True, f"{_count(used, 'mention')} (max {limit})", ERROR)


def link_limit(text: str, platform: Platform) -> Check:
    links = list(dict.fromkeys(platforms.urls(text)))  # the same link twice is one link
    limit = platform.max_links
    if links and limit == 0:
        message = (
            f"Links aren't clickable on {platform.label} — remove {_quote(links)} "
            "and point to the link in bio"
        )
        return Check(LINK_LIMIT, False, message, ERROR)
    if len(links) > limit:
        message = f"{_count(len(links), 'link')} — {platform.label} takes at most {limit}"
        return Check(LINK_LIMIT, False, message, ERROR)
    return Check(LINK_LIMIT, True, f"{_count(len(links), 'link')} (max {limit})", ERROR)


# ---------------------------------------------------------------------------
# Hashtag policy


def hashtag_casing(text: str, policy: HashtagPolicy, *, exempt: Iterable[str] = ()) -> Check:
    # Tags the brand prescribes (#ad, required tags) are written the way the brand wrote them.
    spared = {_tag_key(t) for t in exempt}
    tags = [t for t in platforms.hashtags(text) if _tag_key(t) not in spared]
    if policy.casing == "camel":
        # CamelCase lets screen readers say each word: #CoffeeLovers, not #coffeelovers.
        wrong = [t for t in tags if _first_cased(t[1:]).islower()]
        message = "Use CamelCase hashtags (#LikeThis) so screen readers read each word: "
        message += ", ".join(wrong)
    elif policy.casing == "lower":
        wrong = [t for t in tags if t != t.lower()]
        message = "Use lowercase hashtags: " + ", ".join(f"{t} → {t.lower()}" for t in wrong)
    else:
        return Check(HASHTAG_CASING, True, "Any hashtag casing is fine", WARNING)
    if wrong:
        return Check(HASHTAG_CASING, False, message, WARNING)
    style = "CamelCase" if policy.casing == "camel" else "lowercase"
    return Check(HASHTAG_CASING, True, f"Hashtags are {style}", WARNING)


def required_hashtags(text: str, policy: HashtagPolicy) -> Check:
    present = {_tag_key(t) for t in platforms.hashtags(text)}
    missing = [_as_tag(t) for t in policy.required if _tag_key(t) not in present]
    if missing:
        message = f"Missing required {_noun(len(missing), 'hashtag')} {', '.join(missing)}"
        return Check(REQUIRED_HASHTAGS, False, message, WARNING)
    message = "Required hashtags present" if policy.required else "No required hashtags"
    return Check(REQUIRED_HASHTAGS, True, message, WARNING)


def forbidden_hashtags(text: str, policy: HashtagPolicy) -> Check:
    forbidden = {_tag_key(t) for t in policy.forbidden}
    found = _unique(t for t in platforms.hashtags(text) if _tag_key(t) in forbidden)
    if found:
        message = f"Forbidden {_noun(len(found), 'hashtag')} {', '.join(found)} — remove"
        return Check(FORBIDDEN_HASHTAGS, False, message, ERROR)
    return Check(FORBIDDEN_HASHTAGS, True, "No forbidden hashtags", ERROR)


# ---------------------------------------------------------------------------
# Brand rules


def banned_words(text: str, banned: dict[str, str]) -> Check:
    # A word inside a link or a handle can't be rewritten, so it isn't held against the draft.
    prose = platforms.blank(text)
    problems = []
    for phrase, replacement in banned.items():
        if hits := _find(prose, phrase):
            kind = "phrase" if " " in phrase.strip() else "word"
            advice = f"try “{replacement}”" if replacement else "remove it"
            problems.append(f"Banned {kind} “{hits[0]}” — {advice}")
    if problems:
        return Check(BANNED_WORDS, False, "; ".join(problems), ERROR)
    return Check(BANNED_WORDS, True, "No banned words", ERROR)


def disclosures(text: str, required: list[Disclosure], *, brief_text: str = "") -> Check:
    problems, present = [], []
    for disclosure in required:
        reason = _disclosure_reason(disclosure, text=text, brief_text=brief_text)
        if reason is None:
            continue
        if _has_tag(text, disclosure.tag):
            present.append(disclosure.tag)
        else:
            problems.append(f"Add “{disclosure.tag}”: {reason}")
    if problems:
        return Check(DISCLOSURES, False, "; ".join(problems), ERROR)
    if present:
        return Check(DISCLOSURES, True, f"Disclosure {_quote(present)} present", ERROR)
    return Check(DISCLOSURES, True, "No disclosure needed", ERROR)


def emoji_policy(text: str, policy: EmojiPolicy) -> Check:
    found = platforms.emoji(text)
    shown = " ".join(found[:5])
    if found and not policy.allowed:
        message = f"{_count(len(found), 'emoji')} ({shown}) — brand style is no emoji"
        return Check(EMOJI, False, message, WARNING)
    if len(found) > policy.max:
        message = f"{_count(len(found), 'emoji')} ({shown}) — brand style is at most {policy.max}"
        return Check(EMOJI, False, message, WARNING)
    limit = f"max {policy.max}" if policy.allowed else "none allowed"
    return Check(EMOJI, True, f"{_count(len(found), 'emoji')} ({limit})", WARNING)


def brand_spelling(text: str, spellings: list[str]) -> Check:
    # Handles, hashtags and links have their own casing rules, so only prose is compared.
    prose = platforms.blank(text, hashtags=True)
    wrong = []
    for canonical in spellings:
        loose = r"[\s-]*".join(regex.escape(w) for w in _nfc(canonical).split())
        pattern = regex.compile(_WORD_BEFORE + loose + _WORD_AFTER, regex.IGNORECASE)
        variants = dict.fromkeys(pattern.findall(prose))  # exact duplicates only: case matters here
        wrong += [f"Write “{canonical}”, not “{v}”" for v in variants if v != canonical]
    if wrong:
        return Check(BRAND_SPELLING, False, "; ".join(wrong), WARNING)
    return Check(BRAND_SPELLING, True, "Brand names spelled right", WARNING)


# ---------------------------------------------------------------------------
# Hygiene


def placeholders(text: str) -> Check:
    found = _unique(_PLACEHOLDERS.findall(text))
    if found:
        message = f"Leftover {_noun(len(found), 'placeholder')} {_quote(found)} — fill in or remove"
        return Check(PLACEHOLDERS, False, message, ERROR)
    return Check(PLACEHOLDERS, True, "No leftover placeholders", ERROR)


def link_format(text: str) -> Check:
    written = [m[0].rstrip(_TRAILING) for m in _LINKISH.finditer(text)]
    candidates = _unique([*written, *platforms.urls(text)])
    problems = [f"Check the link “{c}”: {why}" for c in candidates if (why := _link_problem(c))]
    if problems:
        return Check(LINK_FORMAT, False, "; ".join(problems), ERROR)
    return Check(LINK_FORMAT, True, "Links look valid" if candidates else "No links", ERROR)


# ---------------------------------------------------------------------------
# Localization


def locale_format(text: str, locale: str) -> Check:
    found = locales.problems(text, locale)
    language = LOCALES.get(locale.split("-")[0].lower(), locale)
    if found:
        return Check(LOCALE_FORMAT, False, f"{language} formats: " + "; ".join(found), WARNING)
    return Check(LOCALE_FORMAT, True, f"Numbers, prices and times written the {language} way", WARNING)


def local_hashtags(text: str, equivalents: dict[str, str], locale: str) -> Check:
    """Tags the brand swaps for a local one in `locale` (#SpecialtyCoffee → #CaféDeSpécialité)."""
    language = LOCALES.get(locale.split("-")[0].lower(), locale)
    local = {_tag_key(tag): target for tag, target in equivalents.items()}
    found = _unique(t for t in platforms.hashtags(text) if _tag_key(t) in local)
    if found:
        swaps = "; ".join(f"use {local[_tag_key(t)]} instead of {t}" for t in found)
        return Check(LOCAL_HASHTAGS, False, f"In {language} posts, {swaps}", WARNING)
    return Check(LOCAL_HASHTAGS, True, f"Hashtags are the {language} ones", WARNING)


def do_not_translate(text: str, source: str, terms: list[str]) -> Check:
    lost = [t for t in terms if _find(source, t) and not _find(text, t, exact=True)]
    if lost:
        message = f"Keep {_quote(lost)} exactly as written (do-not-translate)"
        return Check(DO_NOT_TRANSLATE, False, message, ERROR)
    return Check(DO_NOT_TRANSLATE, True, "Do-not-translate terms kept as written", ERROR)


def glossary_terms(text: str, source: str, glossary: dict[str, str], locale: str) -> Check:
    language = LOCALES.get(locale.split("-")[0].lower(), locale)
    missing = [
        f"“{term}” should be “{target}” in {language}"
        for term, target in glossary.items()
        if _find(source, term) and not _find(text, target)
    ]
    if missing:
        return Check(GLOSSARY, False, "Glossary: " + "; ".join(missing), ERROR)
    return Check(GLOSSARY, True, f"{language} glossary terms used", ERROR)


# ---------------------------------------------------------------------------
# Helpers


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _as_check(check: Check | dict) -> Check:
    return check if isinstance(check, Check) else Check.from_dict(check)


def _count(n: int, noun: str) -> str:
    return f"{n} {_noun(n, noun)}"


def _noun(n: int, noun: str) -> str:
    return noun if n == 1 or noun == "emoji" else noun + "s"


def _quote(items: list[str]) -> str:
    return ", ".join(f"“{item}”" for item in items)


def _unique(items: Iterable[str]) -> list[str]:
    """Distinct items in order, ignoring case (#Coffee and #coffee are one hashtag)."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return list(seen.values())


def _tag_key(tag: str) -> str:
    return _nfc(tag.strip()).lstrip("#＃").casefold()


def _as_tag(tag: str) -> str:
    return "#" + tag.strip().lstrip("#＃")


def _first_cased(word: str) -> str:
    return next((c for c in word if c.isupper() or c.islower()), "A")


def _find(text: str, phrase: str, *, exact: bool = False, plural: bool = False) -> list[str]:
    """Whole-word occurrences of `phrase` (any spacing; any case unless `exact`), as written."""
    words = _nfc(phrase).split()
    if not words:
        return []
    body = r"\s+".join(regex.escape(w) for w in words) + ("(?:e?s)?" if plural else "")
    flags = 0 if exact else regex.IGNORECASE | regex.FULLCASE
    return regex.findall(_WORD_BEFORE + body + _WORD_AFTER, text, flags)


def _has_tag(text: str, tag: str) -> bool:
    if tag.strip().startswith(("#", "＃")):
        return _tag_key(tag) in {_tag_key(t) for t in platforms.hashtags(text)}
    return bool(_find(text, tag))


def _disclosure_reason(disclosure: Disclosure, *, text: str, brief_text: str) -> str | None:
    if not disclosure.when:
        return "brand policy requires it on every post"
    for keyword in disclosure.when:
        if hits := _find(brief_text, keyword, plural=True):
            return f"the brief mentions “{hits[0]}”"
        if hits := _find(text, keyword, plural=True):
            return f"the post mentions “{hits[0]}”"
    return None


def _prescribed_tags(profile: BrandProfile, locale: str) -> list[str]:
    disclosed = [d.tag for d in profile.disclosures if d.tag.strip().startswith(("#", "＃"))]
    local = profile.hashtag_equivalents(locale).values()
    return [*disclosed, *profile.hashtags.required, *profile.topical_hashtags(locale), *local]


def _glossary_for(profile: BrandProfile, locale: str) -> dict[str, str]:
    return profile.glossary.get(locale) or profile.glossary.get(locale.split("-")[0].lower(), {})


def _link_problem(link: str) -> str | None:
    """Why a link doesn't look publishable, or None when it does."""
    if regex.match(r"https?//", link, regex.IGNORECASE):
        return "the “:” after the scheme is missing"
    full = link if "://" in link or ":/" in link else "https://" + link
    try:
        parts = urlsplit(full)
        host = parts.hostname or ""
    except ValueError:
        return "it isn't a valid web address"
    if parts.scheme.lower() not in ("http", "https"):
        return "use an http:// or https:// address"
    if not full.lower().startswith(parts.scheme.lower() + "://"):
        return "write the scheme as http:// or https://"
    if not host:
        return "there is no address after the scheme"
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return "the address has no valid domain (like lumen.coffee)"
    if not platforms.known_tld(labels[-1]):
        return f"“.{labels[-1]}” isn't a domain ending that exists"
    reserved = any(host == h or host.endswith("." + h) for h in _RESERVED_HOSTS)
    if reserved or labels[-1] in _RESERVED_TLDS:
        return "it is a placeholder address — use the real link"
    return None
