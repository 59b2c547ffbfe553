"""Network rules: how each network counts length, its limits and the tone its drafts should take."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import regex

from core.domain import LOCALES, NETWORKS
from core.errors import ValidationFailed

# ---------------------------------------------------------------------------
# Character classes of the twitter-text rules (X's published counting library).
# Mastodon reuses the same URL grammar, so both counters share them.

_PUNCT = r"!'#%&()*+,\-./:;<=>?@\[\]^_{|}~$\\"
_SPACES = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVALID = r"\ufffe\ufeff\uffff"
_DIRECTIONAL = r"\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_LATIN_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    r"\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"

_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
_SUBDOMAIN = f"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_DOMAIN_NAME = f"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~@|&{_LATIN_ACCENTS}]"
_PARENS = f"\\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*)\\)"
_PATH_END = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|{_PARENS})"
# A path may not end on punctuation, so "see example.com/menu." leaves the period out.
_PATH = f"/(?:(?:{_PATH_CHAR}|{_PARENS})*{_PATH_END})?"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
_TLD_END = "(?=[^0-9a-z@+-]|$)"
_X_SCHEMES = frozenset({"http", "https"})
# Mastodon's server also links these schemes (its own extension of twitter-text).
_MASTODON_SCHEMES = _X_SCHEMES | {"dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini"}
_SCHEME = "(?:" + "|".join(sorted(_MASTODON_SCHEMES, key=len, reverse=True)) + ")://"

_URL_LENGTH = 23  # every link is shortened (X's t.co) or counted (Mastodon) as 23 characters
_MAX_URL = 4096
_MAX_LABEL = 63
_MAX_TCO_SLUG = 40

# Emoji as twemoji (which X uses) sees them: text-default symbols need U+FE0F to be emoji.
_TEXT_DEFAULT = "\u00a9\u00ae\u2122\u265f"
_EMOJI_UNIT = (
    f"(?:[{_TEXT_DEFAULT}]\\ufe0f"
    f"|(?![{_TEXT_DEFAULT}])\\p{{Extended_Pictographic}}(?:\\ufe0f|(?!\\ufe0e))"
    "\\p{Emoji_Modifier}?"
    "|\\p{Emoji_Modifier})"
)
_EMOJI = regex.compile(
    "[#*0-9]\\ufe0f?\\u20e3"  # keycaps
    "|\\U0001f3f4[\\U000e0020-\\U000e007e]+\\U000e007f"  # subdivision flags
    "|\\p{Regional_Indicator}{2}"  # country flags
    f"|{_EMOJI_UNIT}(?:\\u200d{_EMOJI_UNIT})*"  # ZWJ sequences, skin tones
)
_GRAPHEME = regex.compile(r"\X")
_HASHTAG = regex.compile(r"(?<![\w&/#＃])[#＃](?![\ufe0f\u20e3])(?=\w*[\p{L}\p{M}])\w+")
_MENTION = regex.compile(r"(?<![\w@＠./])[@＠]\w(?:[\w.-]*\w)?(?:[@＠]\w[\w-]*(?:\.\w[\w-]*)+)?")
# Mastodon shortens a remote mention "@user@domain" to "@user" when counting, but its extractor
# (app/lib/extractor.rb) drops a mention whose domain is longer than DNS allows (253): that text is
# no mention and counts in full.
_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@(?P<domain>[\w.-]+\w+))?(?![@＠]|://)",
    regex.IGNORECASE,
)
_MASTODON_MAX_DOMAIN = 253


# ---------------------------------------------------------------------------
# Entity extraction
#
# twitter-text writes a link as one regular expression over ~1,500 TLDs. Backtracking through
# it is quadratic on dotted runs ("a.b.c.d…"), so the same grammar is walked here by hand, with
# memoised label chains: linear whatever the text.

_LABEL = regex.compile(f"{_DOMAIN_CHAR}(?:[_-]*{_DOMAIN_CHAR})*")  # never starts or ends in - or _
_LATIN_LABEL = regex.compile(f"[-a-z0-9{_LATIN_ACCENTS}]+", regex.IGNORECASE)
_PUNYCODE_TLD = regex.compile("xn--[0-9a-z-]+", regex.IGNORECASE)
_SCHEME_AT = regex.compile(_SCHEME, regex.IGNORECASE)
_AFTER_DOMAIN = regex.compile(f"(?::[0-9]+)?(?P<path>{_PATH})?(?:{_QUERY})?", regex.IGNORECASE)
_TCO = regex.compile(f"https?://t\\.co/(?P<slug>[a-z0-9]+)(?:{_QUERY})?", regex.IGNORECASE)
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NOT_BEFORE_LINK = _ASCII_ALNUM | set("@＠$#＃\ufffe\ufeff\uffff")
_NOT_BEFORE_BARE_LINK = frozenset("-_./")
_NOT_AFTER_TLD = _ASCII_ALNUM | set("@+-")


def _tld_end(text: str, pos: int) -> int | None:
    """End of the top-level domain starting at `pos` (the longest that fits), or None."""
    dot = text.find(".", pos, pos + _LONGEST_TLD)  # a TLD is one label: it holds no dot
    longest = (dot if dot >= 0 else min(len(text), pos + _LONGEST_TLD)) - pos
    for size in range(longest, 0, -1):
        end = pos + size
        if _closes_domain(text, end) and text[pos:end].lower() in _TLDS:
            return end
    punycode = _PUNYCODE_TLD.match(text, pos)
    return punycode.end() if punycode and _closes_domain(text, punycode.end()) else None


def _closes_domain(text: str, end: int) -> bool:
    return end == len(text) or text[end] not in _NOT_AFTER_TLD


def _domain_finder(text: str, label: regex.Pattern, *, underscore_name: bool):
    """A function from a position to the end of the domain starting there, or None.

    A domain is labels each followed by a dot, then a TLD; the longest chain wins. The label
    just before the TLD may hold "_" only when `underscore_name`.
    """
    best: dict[int, int | None] = {}
    run = [0, 0]  # the last label matched: a label starting inside it ends where it ends

    def label_end(pos: int) -> int | None:
        if run[0] < pos < run[1]:
            end = run[1] if label.match(text, pos, pos + 1) else None
        elif match := label.match(text, pos):
            end = run[1] = match.end()
            run[0] = pos
        else:
            end = None
        return end if end is not None and text[end : end + 1] == "." else None

    def domain_end(start: int) -> int | None:
        chain, pos = [], start
        while pos not in best and (end := label_end(pos)) is not None:
            chain.append((pos, end))
            pos = end + 1
        found = best.get(pos)
        for first, last in reversed(chain):
            if found is None and (underscore_name or "_" not in text[first:last]):
                found = _tld_end(text, last + 1)
            best[first] = found
        return best.get(start)

    return domain_end


def _latin_domains(domain: str) -> list[tuple[int, int]]:
    """Spans of the Latin-script domains inside `domain`, left to right, as a regex finds them."""
    domain_end = _domain_finder(domain, _LATIN_LABEL, underscore_name=True)
    spans, pos = [], 0
    while pos < len(domain):
        end = domain_end(pos)
        spans += [(pos, end)] if end else []
        pos = end or pos + 1
    return spans


def _punycode_length(domain: str) -> int | None:
    """Length of the domain in punycode, or None when a label is empty or too long for DNS."""
    if domain[:4].lower() == "xn--" and not _latin_domains(domain):
        return None
    # Labels are published as "xn--…", and the DNS limit of 63 applies to that form.
    lengths = [len(x) if x.isascii() else 4 + len(x.encode("punycode")) for x in domain.split(".")]
    if any(n < 1 or n > _MAX_LABEL for n in lengths):
        return None
    return sum(lengths) + len(lengths) - 1


def _may_start_link(text: str, start: int, free_from: int) -> bool:
    # The character before a link must be unused by the previous candidate and not a word's.
    return start == 0 or (start > free_from and text[start - 1] not in _NOT_BEFORE_LINK)


def _url_spans(
    text: str, *, schemes: frozenset[str] = _X_SCHEMES, bare: bool = True
) -> list[tuple[int, int]]:
    """(start, end) of every link as twitter-text extracts it; `bare` also finds example.com/x."""
    if "." not in text or (not bare and ":" not in text):
        return []
    domain_end = _domain_finder(text, _LABEL, underscore_name=False)
    spans: list[tuple[int, int]] = []
    start = free_from = 0
    while start < len(text):
        scheme = end = None
        if _may_start_link(text, start, free_from):
            scheme = _SCHEME_AT.match(text, start)
            domain_start = scheme.end() if scheme else start
            end = domain_end(domain_start)
        if end is None:
            start += 1
            continue
        after = _AFTER_DOMAIN.match(text, end)  # port, path, query
        # Like a regex scan, a candidate consumes its text even when it is then rejected.
        free_from = after.end()
        link = _checked_link(text, start, domain_start, end, after.end())
        if link and scheme and scheme[0][:-3].lower() in schemes:
            spans.append(link)
        elif link and not scheme and bare and text[start - 1 : start] not in _NOT_BEFORE_BARE_LINK:
            found = _latin_domains(text[domain_start:end])
            latin = [(domain_start + s, domain_start + e) for s, e in found]
            if latin and after["path"]:
                latin[-1] = (latin[-1][0], link[1])  # the path belongs to the last domain
            spans += latin
        start = free_from + 1
    return spans


def _checked_link(text: str, start: int, domain_start: int, domain_end: int, end: int):
    """(start, end) of a candidate link, or None when twitter-text would reject it."""
    ascii_length = _punycode_length(text[domain_start:domain_end])
    if ascii_length is None:
        return None
    scheme_length = domain_start - start or len("https://")
    if scheme_length + end - domain_end + ascii_length > _MAX_URL:
        return None
    if tco := _TCO.match(text, start, end):
        if len(tco["slug"]) > _MAX_TCO_SLUG:
            return None
        end = tco.end()  # a t.co link takes no path beyond its slug
    return start, end


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out spans (keeping offsets) so what is inside a link is not read as a tag or word."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def link_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every link, as `urls` finds them."""
    return _url_spans(text)


def urls(text: str) -> list[str]:
    """Links in the text, with or without a scheme (https://lumen.coffee/x, lumen.coffee/x)."""
    return [text[start:end] for start, end in _url_spans(text)]


def hashtags(text: str) -> list[str]:
    """Hashtags with their "#", in order (#CoffeeLovers); all-digit "#2025" is not a hashtag."""
    return [m[0] for m in _HASHTAG.finditer(_mask(text, _url_spans(text)))]


def mentions(text: str) -> list[str]:
    """Mentions with their "@": @lumen, @alice.bsky.social, @ana@mastodon.social (not e-mails)."""
    return [m[0] for m in _MENTION.finditer(_mask(text, _url_spans(text)))]


def blank(text: str, *, hashtags: bool = False) -> str:
    """The text with links and mentions (and hashtags if asked) turned to spaces, offsets kept."""
    spans = _url_spans(text)
    masked = _mask(text, spans)
    spans += [m.span() for m in _MENTION.finditer(masked)]
    if hashtags:
        spans += [m.span() for m in _HASHTAG.finditer(masked)]
    return _mask(text, spans)


def known_tld(label: str) -> bool:
    """Whether a domain ending ("coffee", "fr", "xn--p1ai") is one twitter-text links."""
    label = label.lower()
    return label in _TLDS or label.startswith("xn--")


def emoji(text: str) -> list[str]:
    """Each emoji as one item, whole sequences included (👨‍👩‍👧‍👦, 🇫🇷, 👍🏽, 1️⃣)."""
    return [m[0] for m in _EMOJI.finditer(text)]


# ---------------------------------------------------------------------------
# Counters: one per way of counting


def _x_weight(char: str) -> int:
    code = ord(char)
    light = (
        code <= 0x10FF
        or 0x2000 <= code <= 0x200D
        or 0x2010 <= code <= 0x201F
        or 0x2032 <= code <= 0x2037
    )
    return 1 if light else 2


def x_length(text: str) -> int:
    """twitter-text v3 weighted length: links 23, emoji 2, CJK and most non-Latin 2, Latin 1."""
    text = unicodedata.normalize("NFC", text)
    links = dict(_url_spans(text))
    emojis = {m.start(): m.end() for m in _EMOJI.finditer(text)}
    total = i = 0
    while i < len(text):
        if i in links:
            total, i = total + _URL_LENGTH, links[i]
        elif i in emojis:
            total, i = total + 2, emojis[i]
        else:
            total, i = total + _x_weight(text[i]), i + 1
    return total


def grapheme_length(text: str) -> int:
    """User-perceived characters (Unicode extended grapheme clusters): how Bluesky counts."""
    return len(_GRAPHEME.findall(text))


def mastodon_length(text: str) -> int:
    """Mastodon: graphemes, every link with a scheme counts 23, "@user@domain" counts as "@user"."""
    spans = _url_spans(text, schemes=_MASTODON_SCHEMES, bare=False)
    links = [(start, end, "x" * _URL_LENGTH) for start, end in spans]
    people = [
        (m.start(), m.end(), "@" + m["user"])
        for m in _MASTODON_MENTION.finditer(text)
        if len(m["domain"] or "") <= _MASTODON_MAX_DOMAIN
    ]
    countable, last = [], 0
    for start, end, stand_in in sorted(links + people):
        if start < last:  # overlapping entities: the first one wins, as in Mastodon
            continue
        countable += [text[last:start], stand_in]
        last = end
    countable.append(text[last:])
    return grapheme_length("".join(countable))


def threads_length(text: str) -> int:
    """Threads: characters, but each emoji counts its UTF-8 bytes (as Meta documents it)."""
    total = last = 0
    for match in _EMOJI.finditer(text):
        total += match.start() - last + len(match[0].encode("utf-8"))
        last = match.end()
    return total + len(text) - last


def utf16_length(text: str) -> int:
    """UTF-16 code units, how Java/JavaScript back ends measure strings: an emoji counts 2."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------
# Platforms


@dataclass(frozen=True)
class MediaLimits:
    """What images one post may carry on a network, from that network's own documentation."""

    max_count: int
    types: frozenset[str]  # MIME types the network takes for images
    max_bytes: int
    max_pixels: int | None = None  # width × height
    max_side: int | None = None  # pixels on the longer side
    max_alt: int | None = None  # characters of alt text


_JPEG_PNG = frozenset({"image/jpeg", "image/png"})
_COMMON = _JPEG_PNG | {"image/gif", "image/webp"}
MEDIA_LIMITS = {
    # POST /2/media/upload: images up to 5 MB, JPEG/PNG/GIF/WEBP, 4 per post, alt text ≤ 1000 characters
    # (docs.x.com/x-api/media/quickstart/media-upload-chunked, …/media/metadata-create).
    "x": MediaLimits(4, _COMMON, 5 * 1024 * 1024, max_side=8192, max_alt=1000),
    # app.bsky.embed.images: at most 4 images, each blob ≤ 1,000,000 bytes, accept image/*
    # (lexicons/app/bsky/embed/images.json); the app takes JPEG, PNG, GIF (first frame) and WEBP.
    "bluesky": MediaLimits(4, _COMMON, 1_000_000, max_alt=2000),
    # Mastodon 4.x (app/models/media_attachment.rb): IMAGE_LIMIT 16 MB, MAX_MATRIX_LIMIT 33,177,600
    # pixels (7680×4320), 4 attachments per status, MAX_DESCRIPTION_LENGTH 1500.
    "mastodon": MediaLimits(4, _COMMON | {"image/heic", "image/heif", "image/avif"}, 16 * 1024 * 1024,
                            max_pixels=33_177_600, max_alt=1500),
    # Images API (learn.microsoft.com/linkedin/marketing/community-management/shares/images-api):
    # JPG, GIF, PNG; fewer than 36,152,320 pixels; a multi-image post has 2 to 20 images.
    "linkedin": MediaLimits(20, frozenset({"image/jpeg", "image/png", "image/gif"}), 8 * 1024 * 1024,
                            max_pixels=36_152_319, max_alt=4086),
    # Threads API media (developers.facebook.com/docs/threads/overview): JPEG/PNG, 8 MB, side ≤ 1440
    # is resized, carousels of up to 20 items.
    "threads": MediaLimits(20, _JPEG_PNG, 8 * 1024 * 1024, max_side=1440),
    # Instagram Graph API content publishing: JPEG only, 8 MB, carousels of up to 10.
    "instagram": MediaLimits(10, frozenset({"image/jpeg"}), 8 * 1024 * 1024, max_side=1440),
    # Facebook Pages photos: JPEG, PNG, GIF, BMP, TIFF…; under 4 MB is the documented recommendation.
    "facebook": MediaLimits(10, _COMMON | {"image/bmp", "image/tiff"}, 4 * 1024 * 1024),
}


@dataclass(frozen=True)
class Platform:
    """One network's rules. Limits are hard limits where the network has one, else house limits."""

    name: str
    label: str
    max_length: int
    max_hashtags: int
    max_mentions: int
    max_links: int
    tone: str
    counter: Callable[[str], int] = field(repr=False, compare=False)
    media: MediaLimits = field(default=MediaLimits(4, frozenset({"image/jpeg", "image/png"}), 5 * 1024 * 1024),
                               repr=False, compare=False)

    def length(self, text: str) -> int:
        """Length exactly as this network counts it (compare with `max_length`)."""
        return self.counter(text)


# Instagram's cap since December 2025 (it was 30); settings can override it with get(hashtag_cap=).
_INSTAGRAM_HASHTAGS = 5

_PLATFORMS = {
    p.name: p
    for p in (
        Platform(
            "x", "X", 280, max_hashtags=2, max_mentions=10, max_links=2,
            tone="Punchy and conversational: one idea, the hook first, plain words. "
            "1–2 hashtags at most, woven in or at the end; a link always counts 23 characters.",
            counter=x_length,
        ),
        Platform(
            "bluesky", "Bluesky", 300, max_hashtags=3, max_mentions=10, max_links=2,
            tone="Friendly, human and a little informal, never salesy: talk with the community. "
            "Hashtags are optional (0–2); a link counts in full toward the 300 characters.",
            counter=grapheme_length,
        ),
        Platform(
            "mastodon", "Mastodon", 500, max_hashtags=5, max_mentions=10, max_links=3,
            tone="Plain, sincere and non-promotional; the fediverse dislikes marketing speak and "
            "engagement bait. Hashtags drive discovery: 2–4 in CamelCase at the end.",
            counter=mastodon_length,
        ),
        Platform(
            "linkedin", "LinkedIn", 3000, max_hashtags=5, max_mentions=10, max_links=3,
            tone="Professional but personal: the first line is the hook (it shows before “…see "
            "more”), short paragraphs with line breaks, one clear takeaway, 3 hashtags at the end.",
            counter=utf16_length,
        ),
        Platform(
            # Threads turns only one hashtag into a topic and rejects posts with more than 5 links.
            "threads", "Threads", 500, max_hashtags=1, max_mentions=10, max_links=5,
            tone="Casual and conversational, like talking to followers: start a conversation "
            "and end with a question. One topic tag at most.",
            counter=threads_length,
        ),
        Platform(
            # Instagram allows 20 mentions; caption links are not clickable, so none are allowed.
            "instagram", "Instagram", 2200, max_hashtags=_INSTAGRAM_HASHTAGS, max_mentions=20,
            max_links=0,
            tone="Visual-first caption: the hook in the first line (captions fold after ~125 "
            "characters), warm voice, a call to action pointing to the link in bio, "
            "hashtags grouped at the end.",
            counter=utf16_length,
        ),
        Platform(
            "facebook", "Facebook", 63206, max_hashtags=3, max_mentions=10, max_links=3,
            tone="Warm, community-focused and clear: short posts (1–3 sentences) do best, "
            "with one link and a clear call to action; hashtags sparingly (0–2).",
            counter=utf16_length,
        ),
    )
}

_PLATFORMS = {name: dataclasses.replace(p, media=MEDIA_LIMITS[name]) for name, p in _PLATFORMS.items()}
ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "bsky": "bluesky"}
ALL: tuple[Platform, ...] = tuple(_PLATFORMS[name] for name in NETWORKS)


def names() -> tuple[str, ...]:
    """Canonical network names, in the order Plume lists them."""
    return NETWORKS


def resolve(name: str) -> str | None:
    """The canonical name for a network name or alias ("Twitter" → "x"), or None if unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in _PLATFORMS else None


def named_in(text: str) -> set[str]:
    """The networks a heading or label names: "Per-network notes › LinkedIn" → {"linkedin"}.

    A lowercase "x" is a letter or a times sign ("2 x 3"); the network is written "X"."""
    return {name for word in regex.findall(r"[\w-]+", text) if word != "x" and (name := resolve(word))}


# Where each network's own permalinks live (a Mastodon post lives on its server, named by its host).
_HOSTS = {"x": ("x.com", "twitter.com"), "linkedin": ("linkedin.com",), "bluesky": ("bsky.app",),
          "threads": ("threads.net", "threads.com"), "instagram": ("instagram.com",), "facebook": ("facebook.com",)}


def site(network: str, url: str) -> str:
    """Where a permalink opens, as a reader would say it: "LinkedIn" for linkedin.com, else the link's host
    (a webhook receiver, a Mastodon server), so a link is never labelled as a network it is not on."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if any(host == h or host.endswith("." + h) for h in _HOSTS.get(resolve(network) or "", ())):
        return label(network)
    return host or label(network)


def label(name: str) -> str:
    """How people write a network's name ("LinkedIn"); an unknown name as it was given."""
    canonical = resolve(name)
    return _PLATFORMS[canonical].label if canonical else name


def post_label(post) -> str:
    """ "LinkedIn · French": a post's network and language, as every front end names a post."""
    return f"{label(post.network)} · {LOCALES.get(post.locale, post.locale)}"


def get(name: str, *, hashtag_cap: int | None = None) -> Platform:
    """The rules of a network; `hashtag_cap` overrides its hashtag limit (e.g. from settings)."""
    canonical = resolve(name)
    if canonical is None:
        supported = ", ".join(p.label for p in ALL[:-1]) + f" and {ALL[-1].label}"
        raise ValidationFailed(f"Plume doesn't know the network “{name}”. It supports {supported}.")
    platform = _PLATFORMS[canonical]
    if hashtag_cap is None:
        return platform
    if hashtag_cap < 0:
        raise ValidationFailed(f"A hashtag cap can't be negative (got {hashtag_cap}).")
    return dataclasses.replace(platform, max_hashtags=hashtag_cap)


# ---------------------------------------------------------------------------
# Top-level domains twitter-text recognises in links (its published list: IANA generic and
# country codes, including internationalised ones).

_TLD_TABLE = """
    aaa aarp abarth abb abbott abbvie abc able abogado abudhabi ac academy accenture accountant
    accountants aco active actor ad adac ads adult ae aeg aero aetna af afamilycompany afl
    africa ag agakhan agency ai aig aigo airbus airforce airtel akdn al alfaromeo alibaba alipay
    allfinanz allstate ally alsace alstom am americanexpress americanfamily amex amfam amica
    amsterdam an analytics android anquan anz ao aol apartments app apple aq aquarelle ar arab
    aramco archi army arpa art arte as asda asia associates at athleta attorney au auction audi
    audible audio auspost author auto autos avianca aw aws ax axa az azure ba baby baidu banamex
    bananarepublic band bank bar barcelona barclaycard barclays barefoot bargains baseball
    basketball bauhaus bayern bb bbc bbt bbva bcg bcn bd be beats beauty beer bentley berlin
    best bestbuy bet bf bg bh bharti bi bible bid bike bing bingo bio biz bj bl black
    blackfriday blanco blockbuster blog bloomberg blue bm bms bmw bn bnl bnpparibas bo boats
    boehringer bofa bom bond boo book booking boots bosch bostik boston bot boutique box bq br
    bradesco bridgestone broadway broker brother brussels bs bt budapest bugatti build builders
    business buy buzz bv bw by bz bzh ca cab cafe cal call calvinklein cam camera camp
    cancerresearch canon capetown capital capitalone car caravan cards care career careers cars
    cartier casa case caseih cash casino cat catering catholic cba cbn cbre cbs cc cd ceb center
    ceo cern cf cfa cfd cg ch chanel channel charity chase chat cheap chintai chloe christmas
    chrome chrysler church ci cipriani circle cisco citadel citi citic city cityeats ck cl
    claims cleaning click clinic clinique clothing cloud club clubmed cm cn co coach codes
    coffee college cologne com comcast commbank community company compare computer comsec condos
    construction consulting contact contractors cooking cookingchannel cool coop corsica country
    coupon coupons courses cpa cr credit creditcard creditunion cricket crown crs cruise cruises
    csc cu cuisinella cv cw cx cy cymru cyou cz dabur dad dance data date dating datsun day dclk
    dds de deal dealer deals degree delivery dell deloitte delta democrat dental dentist desi
    design dev dhl diamonds diet digital direct directory discount discover dish diy dj dk dm
    dnp do docs doctor dodge dog doha domains doosan dot download drive dtv dubai duck dunlop
    duns dupont durban dvag dvr dz earth eat ec eco edeka edu education ee eg eh email emerck
    energy engineer engineering enterprises epost epson equipment er ericsson erni es esq estate
    esurance et etisalat eu eurovision eus events everbank exchange expert exposed express
    extraspace fage fail fairwinds faith family fan fans farm farmers fashion fast fedex
    feedback ferrari ferrero fi fiat fidelity fido film final finance financial fire firestone
    firmdale fish fishing fit fitness fj fk flickr flights flir florist flowers flsmidth fly fm
    fo foo food foodnetwork football ford forex forsale forum foundation fox fr free fresenius
    frl frogans frontdoor frontier ftr fujitsu fujixerox fun fund furniture futbol fyi ga gal
    gallery gallo gallup game games gap garden gay gb gbiz gd gdn ge gea gent genting george gf
    gg ggee gh gi gift gifts gives giving gl glade glass gle global globo gm gmail gmbh gmo gmx
    gn godaddy gold goldpoint golf goo goodhands goodyear goog google gop got gov gp gq gr
    grainger graphics gratis green gripe grocery group gs gt gu guardian gucci guge guide
    guitars guru gw gy hair hamburg hangout haus hbo hdfc hdfcbank health healthcare help
    helsinki here hermes hgtv hiphop hisamitsu hitachi hiv hk hkt hm hn hockey holdings holiday
    homedepot homegoods homes homesense honda honeywell horse hospital host hosting hot hoteles
    hotels hotmail house how hr hsbc ht htc hu hughes hyatt hyundai ibm icbc ice icu id ie ieee
    ifm iinet ikano il im imamat imdb immo immobilien in inc industries infiniti info ing ink
    institute insurance insure int intel international intuit investments io ipiranga iq ir
    irish is iselect ismaili ist istanbul it itau itv iveco iwc jaguar java jcb jcp je jeep
    jetzt jewelry jio jlc jll jm jmp jnj jo jobs joburg jot joy jp jpmorgan jprs juegos juniper
    kaufen kddi ke kerryhotels kerrylogistics kerryproperties kfh kg kh ki kia kim kinder kindle
    kitchen kiwi km kn koeln komatsu kosher kp kpmg kpn kr krd kred kuokgroup kw ky kyoto kz la
    lacaixa ladbrokes lamborghini lamer lancaster lancia lancome land landrover lanxess lasalle
    lat latino latrobe law lawyer lb lc lds lease leclerc lefrak legal lego lexus lgbt li
    liaison lidl life lifeinsurance lifestyle lighting like lilly limited limo lincoln linde
    link lipsy live living lixil lk llc llp loan loans locker locus loft lol london lotte lotto
    love lpl lplfinancial lr ls lt ltd ltda lu lundbeck lupin luxe luxury lv ly ma macys madrid
    maif maison makeup man management mango map market marketing markets marriott marshalls
    maserati mattel mba mc mcd mcdonalds mckinsey md me med media meet melbourne meme memorial
    men menu meo merckmsd metlife mf mg mh miami microsoft mil mini mint mit mitsubishi mk ml
    mlb mls mm mma mn mo mobi mobile mobily moda moe moi mom monash money monster montblanc
    mopar mormon mortgage moscow moto motorcycles mov movie movistar mp mq mr ms msd mt mtn mtpc
    mtr mu museum mutual mutuelle mv mw mx my mz na nab nadex nagoya name nationwide natura navy
    nba nc ne nec net netbank netflix network neustar new newholland news next nextdirect nexus
    nf nfl ng ngo nhk ni nico nike nikon ninja nissan nissay nl no nokia northwesternmutual
    norton now nowruz nowtv np nr nra nrw ntt nu nyc nz obi observer off office okinawa olayan
    olayangroup oldnavy ollo om omega one ong onion onl online onyourside ooo open oracle orange
    org organic orientexpress origins osaka otsuka ott ovh pa page pamperedchef panasonic
    panerai paris pars partners parts party passagens pay pccw pe pet pf pfizer pg ph pharmacy
    phd philips phone photo photography photos physio piaget pics pictet pictures pid pin ping
    pink pioneer pizza pk pl place play playstation plumbing plus pm pn pnc pohl poker politie
    porn post pr pramerica praxi press prime pro prod productions prof progressive promo
    properties property protection pru prudential ps pt pub pw pwc py qa qpon quebec quest qvc
    racing radio raid re read realestate realtor realty recipes red redstone redumbrella rehab
    reise reisen reit reliance ren rent rentals repair report republican rest restaurant review
    reviews rexroth rich richardli ricoh rightathome ril rio rip rmit ro rocher rocks rodeo
    rogers room rs rsvp ru rugby ruhr run rw rwe ryukyu sa saarland safe safety sakura sale
    salon samsclub samsung sandvik sandvikcoromant sanofi sap sapo sarl sas save saxo sb sbi sbs
    sc sca scb schaeffler schmidt scholarships school schule schwarz science scjohnson scor scot
    sd se search seat secure security seek select sener services ses seven sew sex sexy sfr sg
    sh shangrila sharp shaw shell shia shiksha shoes shop shopping shouji show showtime shriram
    si silk sina singles site sj sk ski skin sky skype sl sling sm smart smile sn sncf so soccer
    social softbank software sohu solar solutions song sony soy space spiegel sport spot
    spreadbetting sr srl srt ss st stada staples star starhub statebank statefarm statoil stc
    stcgroup stockholm storage store stream studio study style su sucks supplies supply support
    surf surgery suzuki sv swatch swiftcover swiss sx sy sydney symantec systems sz tab taipei
    talk taobao target tatamotors tatar tattoo tax taxi tc tci td tdk team tech technology tel
    telecity telefonica temasek tennis teva tf tg th thd theater theatre tiaa tickets tienda
    tiffany tips tires tirol tj tjmaxx tjx tk tkmaxx tl tm tmall tn to today tokyo tools top
    toray toshiba total tours town toyota toys tp tr trade trading training travel travelchannel
    travelers travelersinsurance trust trv tt tube tui tunes tushu tv tvs tw tz ua ubank ubs
    uconnect ug uk um unicom university uno uol ups us uy uz va vacations vana vanguard vc ve
    vegas ventures verisign versicherung vet vg vi viajes video vig viking villas vin vip virgin
    visa vision vista vistaprint viva vivo vlaanderen vn vodka volkswagen volvo vote voting voto
    voyage vu vuelos wales walmart walter wang wanggou warman watch watches weather
    weatherchannel webcam weber website wed wedding weibo weir wf whoswho wien wiki williamhill
    win windows wine winners wme wolterskluwer woodside work works world wow ws wtc wtf xbox
    xerox xfinity xihuan xin xperia xxx xyz yachts yahoo yamaxun yandex ye yodobashi yoga
    yokohama you youtube yt yun za zappos zara zero zip zippo zm zone zuerich zw
    vermögensberater vermögensberatung ελ ευ бг бел дети ею католик ком мкд мон москва онлайн
    орг рус рф сайт срб укр қаз հայ קום ابوظبي اتصالات ارامكو الاردن البحرين الجزائر السعودية
    العليان المغرب امارات ایران بارت بازار بيتك بھارت تونس سودان سورية شبكة عراق عرب عمان فلسطين
    قطر كاثوليك كوم مصر مليسيا موبايلي موريتانيا موقع همراه پاکستان ڀارت कॉम नेट भारत भारतम्
    भारोत संगठन বাংলা ভারত ভাৰত ਭਾਰਤ ભારત ଭାରତ இந்தியா இலங்கை சிங்கப்பூர் భారత్ ಭಾರತ ഭാരതം ලංකා
    คอม ไทย ລາວ გე みんな クラウド グーグル コム ストア セール ファッション ポイント 世界 中信 中国 中國 中文网 企业 佛山 信息 健康 八卦 公司 公益 台湾
    台灣 商城 商店 商标 嘉里 嘉里大酒店 在线 大众汽车 大拿 天主教 娱乐 家電 工行 广东 微博 慈善 我爱你 手机 手表 招聘 政务 政府 新加坡 新闻 时尚 書籍 机构 淡马锡
    游戏 澳門 点看 珠宝 移动 组织机构 网址 网店 网站 网络 联通 诺基亚 谷歌 购物 通販 集团 電訊盈科 飞利浦 食品 餐厅 香格里拉 香港 닷넷 닷컴 삼성 한국
"""
_TLDS = frozenset(_TLD_TABLE.split())
_LONGEST_TLD = max(map(len, _TLDS))
