"""Network rules: names and aliases, limits, and length counted exactly as each network counts."""

from __future__ import annotations

import dataclasses
import time
import unicodedata

import pytest

from core import platforms
from core.domain import NETWORKS
from core.errors import ValidationFailed

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 7 code points
SINGER = "\U0001f468\u200d\U0001f3a4"  # 👨‍🎤
WAVE_MEDIUM = "\U0001f64b\U0001f3fd"  # 🙋🏽
FLAG_FR = "\U0001f1eb\U0001f1f7"  # 🇫🇷
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # 🏴󠁧󠁢󠁥󠁮󠁧󠁿
KEYCAP_ONE = "1\ufe0f\u20e3"  # 1️⃣
GRIN = "\U0001f600"  # 😀, 4 UTF-8 bytes
CAFE_NFD = "cafe\u0301"


# --- names, aliases, errors -------------------------------------------------


def test_every_network_has_rules_in_the_domain_order():
    assert platforms.names() == NETWORKS
    assert [p.name for p in platforms.ALL] == list(NETWORKS)
    assert [p.label for p in platforms.ALL] == [
        "X",
        "Bluesky",
        "Mastodon",
        "LinkedIn",
        "Threads",
        "Instagram",
        "Facebook",
    ]


@pytest.mark.parametrize("platform", platforms.ALL, ids=lambda p: p.name)
def test_every_platform_has_limits_and_tone(platform):
    assert platform.max_length > 0
    assert min(platform.max_hashtags, platform.max_mentions, platform.max_links) >= 0
    assert len(platform.tone) > 40 and platform.tone.endswith(".")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Twitter", "x"),
        ("FB", "facebook"),
        ("ig", "instagram"),
        ("BSKY", "bluesky"),
        (" X ", "x"),
        ("LinkedIn", "linkedin"),
        ("threads", "threads"),
    ],
)
def test_aliases_resolve_case_insensitively(alias, name):
    assert platforms.resolve(alias) == name
    assert platforms.get(alias).name == name


def test_unknown_network_is_a_friendly_validation_error():
    assert platforms.resolve("myspace") is None
    with pytest.raises(ValidationFailed) as raised:
        platforms.get("myspace")
    message = str(raised.value)
    assert "“myspace”" in message
    assert "X, Bluesky, Mastodon, LinkedIn, Threads, Instagram and Facebook" in message


def test_platform_rules_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        platforms.get("x").max_length = 1000  # type: ignore[misc]


def test_instagram_hashtag_cap_defaults_to_five_and_can_be_overridden():
    assert platforms.get("instagram").max_hashtags == 5
    assert platforms.get("ig", hashtag_cap=10).max_hashtags == 10
    assert platforms.get("instagram").max_hashtags == 5  # the shared rules are untouched
    with pytest.raises(ValidationFailed):
        platforms.get("instagram", hashtag_cap=-1)


def test_network_specific_limits():
    assert platforms.get("threads").max_hashtags == 1  # one topic tag per post
    assert platforms.get("threads").max_links == 5  # Meta rejects more since Dec 2025
    assert platforms.get("instagram").max_links == 0  # caption links are not clickable
    assert [platforms.get(n).max_length for n in NETWORKS] == [
        280,
        300,
        500,
        3000,
        500,
        2200,
        63206,
    ]


# --- X: twitter-text v3 ---------------------------------------------------


def x(text: str) -> int:
    return platforms.get("x").length(text)


def test_x_280_latin_characters_fit_and_281_do_not():
    assert x("a" * 280) == 280 == platforms.get("x").max_length
    assert x("a" * 281) == 281


def test_x_counts_cjk_double_so_140_fit():
    assert x("の" * 140) == 280
    assert x("の" * 141) == 282
    assert x("the" + "故" * 160) == 323  # conformance: 3 Latin + 160 CJK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://test.co", 23),
        ("Hi http://test.co", 26),
        ("https://lumenroasters.com/" + "night-shift/" * 20, 23),
        ("lumenroasters.com", 23),  # no scheme needed
        ("www.lumenroasters.com/menu?size=large", 23),
        ("Test https://test.com test https://test.com test.com test", 86),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("See lumen.coffee/menu.", 4 + 23 + 1),  # the final period is not part of the link
        ("https://t.co/abc123", 23),
        (
            "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
            68,
        ),  # 64-char label
        ("lumen.notatld", 13),  # an unknown ending is not a link
        ("mail me at ana@lumen.coffee", 27),  # an e-mail address is not a link
    ],
    ids=lambda v: v if isinstance(v, int) else v[:30],
)
def test_x_counts_every_link_as_23(text, expected):
    assert x(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GRIN, 2),
        (FAMILY, 2),
        (FAMILY * 140, 280),
        ("H\U0001f431\u263a" + FAMILY, 7),  # conformance: H🐱☺👨‍👩‍👧‍👦
        ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
        (WAVE_MEDIUM + SINGER, 4),  # skin tone and ZWJ sequences count once
        (FLAG_FR, 2),
        (ENGLAND, 2),
        (KEYCAP_ONE, 2),
        ("\u00a9", 1),  # a bare © is text...
        ("\u00a9\ufe0f", 2),  # ...and an emoji with the emoji variation selector
        ("\u2764\ufe0f", 2),
    ],
    ids=[
        "grin",
        "family",
        "140 families",
        "mix",
        "bmp emoji",
        "tone+zwj",
        "flag",
        "subdivision flag",
        "keycap",
        "copyright",
        "copyright emoji",
        "heart",
    ],
)
def test_x_counts_each_emoji_sequence_as_2(text, expected):
    assert x(text) == expected


def test_x_normalises_to_nfc_first():
    assert x("café") == x(CAFE_NFD) == 4
    assert x("A\ufb2c") == 4  # conformance: שּׁ decomposes to three Hebrew code points


def test_x_light_ranges_count_one():
    spaces = "".join(chr(c) for c in range(0x2000, 0x200C))
    dashes_and_quotes = " ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷"
    text = f"This is a tweet with general punctuation characters: {spaces}{dashes_and_quotes}"
    assert x(text) == 110  # conformance case
    assert x("\u2030") == 2  # ‰ sits between the light ranges


def test_x_directional_marks_and_internationalised_domains():
    assert x("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069") == 31
    assert x("ABC\u202a\uffffABC\ufffe") == 12


def test_x_links_only_http_and_https():
    assert x("gemini://lumen.coffee/xyz") == 25


@pytest.mark.parametrize("unit", ["a.", "a-", "a_", "é.", "日本.", "xn--", "@a."])
def test_dotted_runs_take_linear_time(unit):
    text = unit * 2000  # a backtracking regex over the TLD list takes minutes on these
    started = time.perf_counter()
    for platform in platforms.ALL:
        platform.length(text)
    platforms.hashtags(text), platforms.mentions(text), platforms.urls(text)
    assert time.perf_counter() - started < 1.5


def test_x_punycode_label_length_decides_whether_a_link_counts():
    prefix = "あいうえおかきくけこ" * 12 + " http://"
    assert x(prefix + "あいうえおかきくけこ" * 5 + "あい.com") == 264
    assert x(prefix + "あいうえおかきくけこ" * 5 + "あいう.com") == 358


# --- Bluesky, Mastodon, Threads, UTF-16 networks ---------------------------


def test_bluesky_counts_graphemes():
    bluesky = platforms.get("bluesky")
    assert bluesky.length("a" * 300) == 300 == bluesky.max_length
    assert bluesky.length(FAMILY) == 1
    assert bluesky.length(FLAG_FR + KEYCAP_ONE) == 2
    assert bluesky.length(CAFE_NFD) == 4
    assert bluesky.length("https://lumenroasters.com/night-shift") == 37  # links count in full


def test_mastodon_counts_graphemes_links_23_and_local_part_of_mentions():
    mastodon = platforms.get("mastodon")
    assert mastodon.length("a" * 500) == 500 == mastodon.max_length
    assert mastodon.length("https://lumenroasters.com/" + "x" * 80) == 23
    assert mastodon.length("gemini://lumen.coffee/menu") == 23
    assert mastodon.length("lumenroasters.com") == 17  # without a scheme it is plain text
    assert mastodon.length("@ana@mastodon.social") == 4
    assert mastodon.length("hi @ana") == 7
    assert mastodon.length("ana@example.com") == 15  # an e-mail is not a mention
    assert mastodon.length(FAMILY + CAFE_NFD) == 5


@pytest.mark.parametrize(("domain_length", "counted"), [
    (20, 4),  # "@ana"
    (253, 4),  # the longest domain DNS allows is still a mention
    (254, 5 + 254),  # longer: Mastodon's extractor drops the mention, every character counts
    (400, 5 + 400),
])
def test_mastodon_counts_a_remote_mention_as_the_user_only_while_its_domain_is_valid(domain_length, counted):
    domain = (("a" * 49 + ".") * 10)[: domain_length - 8] + "b.social"  # labels of 49 letters
    assert len(domain) == domain_length
    mastodon = platforms.get("mastodon")
    assert mastodon.length(f"@ana@{domain}") == counted
    assert mastodon.length(f"hi @ana@{domain} and @bo@m.social") == counted + len("hi  and @bo")


def test_networks_named_in_a_heading():
    assert platforms.named_in("Per-network notes › LinkedIn") == {"linkedin"}
    assert platforms.named_in("Platform notes › X · Threads") == {"x", "threads"}
    assert platforms.named_in("examples.md › Launch (Twitter/FB)") == {"x", "facebook"}
    assert platforms.named_in("Voice and tone › Emoji") == set()
    assert platforms.named_in("Mugs › 2 x 3 packs") == set()  # a lowercase x is no network


def test_threads_counts_emoji_by_utf8_bytes():
    threads = platforms.get("threads")
    assert threads.length("a" * 500) == 500 == threads.max_length
    assert threads.length("hi " + GRIN) == 3 + 4
    assert threads.length(FAMILY) == len(FAMILY.encode()) == 25
    assert threads.length("\u2764\ufe0f") == 6
    assert threads.length("café ☕") == 5 + 3


@pytest.mark.parametrize(
    ("name", "limit"), [("linkedin", 3000), ("instagram", 2200), ("facebook", 63206)]
)
def test_utf16_networks(name, limit):
    platform = platforms.get(name)
    assert platform.max_length == limit
    assert platform.length("a" * limit) == limit
    assert platform.length(GRIN) == 2
    assert platform.length("café") == 4
    assert platform.length(unicodedata.normalize("NFD", "café")) == 5  # counted as sent


# --- entity helpers ---------------------------------------------------------


def test_hashtags_are_extracted_like_the_networks_do():
    text = "#CoffeeLovers #1st #2025 #café a#b #️⃣ https://lumen.coffee/#menu (#NightShift)"
    assert platforms.hashtags(text) == ["#CoffeeLovers", "#1st", "#café", "#NightShift"]


def test_mentions_cover_handles_domains_and_fediverse_addresses_but_not_emails():
    text = "@lumen hi ana@example.com @alice.bsky.social @ana@mastodon.social. https://m.social/@x"
    assert platforms.mentions(text) == ["@lumen", "@alice.bsky.social", "@ana@mastodon.social"]


def test_urls_with_and_without_scheme():
    text = (
        "Menu: https://lumenroasters.com/menu, lumen.coffee/x and www.lumen.coffee. Not lumen.nope"
    )
    assert platforms.urls(text) == [
        "https://lumenroasters.com/menu",
        "lumen.coffee/x",
        "www.lumen.coffee",
    ]


def test_emoji_sequences_are_single_items():
    text = f"hi {WAVE_MEDIUM} {FLAG_FR} {KEYCAP_ONE} © \u00a9\ufe0f ❤ ☺\ufe0e {FAMILY}"
    assert platforms.emoji(text) == [WAVE_MEDIUM, FLAG_FR, KEYCAP_ONE, "\u00a9\ufe0f", "❤", FAMILY]


def test_blank_keeps_offsets_and_hides_links_and_handles():
    text = "cheap @cheapcoffee lumen.coffee/cheap #cheap"
    assert platforms.blank(text) == "cheap " + " " * 12 + " " + " " * 18 + " #cheap"
    assert platforms.blank(text, hashtags=True).strip() == "cheap"


def test_known_tld():
    assert (
        platforms.known_tld("coffee")
        and platforms.known_tld("FR")
        and platforms.known_tld("xn--p1ai")
    )
    assert not platforms.known_tld("cmo")
