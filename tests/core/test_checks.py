"""Deterministic checks: each rule fires on a bad draft and passes a clean one, with a clear message."""

from __future__ import annotations

import dataclasses

import pytest

from core import checks, platforms
from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.domain import Check
from core.errors import ValidationFailed

PROFILE = BrandProfile(
    name="Lumen Roasters",
    spellings=["Lumen Roasters"],
    banned={"cheap": "affordable", "world-class": "", "bon marché": "abordable"},
    disclosures=[Disclosure(tag="#ad", when=["partnership", "sponsored"])],
    emoji=EmojiPolicy(allowed=True, max=2),
    hashtags=HashtagPolicy(
        max=3, casing="camel", required=["LumenRoasters"], forbidden=["#CoffeeAddict"]
    ),
    glossary={"fr": {"cold brew": "café infusé à froid"}},
    do_not_translate=["Lumen Roasters", "Night Shift"],
)
CLEAN = (
    "Our Night Shift blend is back at Lumen Roasters ☕ Slow-roasted, bright and smooth. "
    "https://lumenroasters.com/night-shift #LumenRoasters #CoffeeLovers"
)
CLEAN_CAPTION = (
    "Our Night Shift blend is back at Lumen Roasters ☕ Link in bio. #LumenRoasters #CoffeeLovers"
)
SOURCE = "Night Shift is back: our smoothest cold brew yet, only at Lumen Roasters."
CLEAN_FR = (
    "Night Shift est de retour chez Lumen Roasters : notre café infusé à froid le plus doux. "
    "#LumenRoasters"
)


def run(text: str, network="linkedin", **kwargs) -> dict[str, Check]:
    kwargs.setdefault("locale", "en")
    kwargs.setdefault("profile", PROFILE)
    return {c.name: c for c in checks.run(text, network=network, **kwargs)}


def failed(text: str, network="linkedin", **kwargs) -> dict[str, Check]:
    return {name: c for name, c in run(text, network, **kwargs).items() if not c.ok}


# --- the whole run -----------------------------------------------------------


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon", "linkedin", "threads", "facebook"])
def test_a_clean_post_passes_everything(network):
    text = CLEAN.replace(" #CoffeeLovers", "") if network == "threads" else CLEAN
    results = checks.run(
        text, network=network, locale="en", profile=PROFILE, brief_text="Launch Night Shift"
    )
    assert [c for c in results if not c.ok] == []
    assert checks.summary(results) == f"✓ {len(results)} checks passed"


def test_a_clean_caption_passes_on_instagram():
    assert failed(CLEAN_CAPTION, "instagram") == {}


def test_a_clean_translation_passes_the_localization_checks():
    results = run(CLEAN_FR, "linkedin", locale="fr", source_text=SOURCE)
    assert results[checks.DO_NOT_TRANSLATE].ok and results[checks.GLOSSARY].ok
    assert [c for c in results.values() if not c.ok] == []


def test_one_check_per_rule_with_a_fixed_severity():
    results = run(CLEAN_FR, locale="fr", source_text=SOURCE)
    assert list(results) == [
        "length",
        "hashtag_limit",
        "mention_limit",
        "link_limit",
        "hashtag_casing",
        "required_hashtags",
        "forbidden_hashtags",
        "banned_words",
        "disclosures",
        "emoji",
        "brand_spelling",
        "placeholders",
        "link_format",
        "locale_format",
        "do_not_translate",
        "glossary",
    ]
    warnings = {name for name, c in results.items() if c.severity == checks.WARNING}
    assert warnings == {"hashtag_casing", "required_hashtags", "emoji", "brand_spelling", "locale_format"}
    assert {c.severity for c in results.values()} == {checks.ERROR, checks.WARNING}


def test_numbers_prices_and_times_follow_the_locale():
    found = run("Profitez de 10% sur le Guji à €12.50, dès 5pm #LumenRoasters", locale="fr")
    check = found[checks.LOCALE_FORMAT]
    assert not check.ok and check.severity == checks.WARNING
    assert "€12.50 as 12,50 €" in check.message and "10 %" in check.message and "5pm as 17:00" in check.message
    assert run("Profitez de 10 % sur le Guji à 12,50 € dès 17:00 #LumenRoasters", locale="fr")[
        checks.LOCALE_FORMAT].ok
    assert run("Get 10% off the Guji at $12.50 from 5pm #LumenRoasters", locale="en")[checks.LOCALE_FORMAT].ok


def test_localization_checks_only_run_with_a_source_text():
    assert checks.DO_NOT_TRANSLATE not in run(CLEAN) and checks.GLOSSARY not in run(CLEAN)
    assert checks.GLOSSARY not in run(CLEAN, locale="de", source_text=SOURCE)  # no German glossary


def test_network_may_be_an_alias_or_a_platform_with_a_hashtag_cap():
    tags = " #LumenRoasters #CoffeeLovers #NightShift"
    assert run("Hello" + tags, "ig")[checks.HASHTAG_LIMIT].ok
    capped = platforms.get("instagram", hashtag_cap=2)
    assert not run("Hello" + tags, capped)[checks.HASHTAG_LIMIT].ok
    with pytest.raises(ValidationFailed):
        checks.run("Hello", network="myspace", locale="en", profile=PROFILE)


# --- platform limits -----------------------------------------------------------


def test_length_over_the_limit_says_by_how_much_as_the_network_counts():
    check = failed("a" * 300 + " #LumenRoasters", "x")[checks.LENGTH]
    assert check.message == "315/280 characters as X counts them — 35 over"
    assert check.severity == checks.ERROR
    assert run("の" * 140, "x")[checks.LENGTH].message == "280/280 characters as X counts them"


def test_an_empty_post_fails_the_length_check():
    assert failed("  \n", "x")[checks.LENGTH].message == "The post is empty"


def test_hashtag_limit_is_the_stricter_of_network_and_brand():
    four = "Hello #LumenRoasters #CoffeeLovers #NightShift #Espresso"
    assert (
        failed(four, "linkedin")[checks.HASHTAG_LIMIT].message
        == "4 hashtags — brand policy allows at most 3"
    )
    two = "Hello #LumenRoasters #CoffeeLovers"
    assert (
        failed(two, "threads")[checks.HASHTAG_LIMIT].message
        == "2 hashtags — Threads takes at most 1"
    )
    assert run("Hello #LumenRoasters #lumenroasters", "threads")[checks.HASHTAG_LIMIT].ok  # one tag


def test_mention_limit():
    text = "Thanks " + " ".join(f"@friend{i}" for i in range(11)) + " #LumenRoasters"
    assert failed(text, "x")[checks.MENTION_LIMIT].message == "11 mentions — X takes at most 10"
    assert (
        run("Thanks @ana #LumenRoasters", "x")[checks.MENTION_LIMIT].message == "1 mention (max 10)"
    )


def test_link_limit_counts_distinct_links():
    three = "a.coffee/1 b.coffee/2 https://c.coffee/3 #LumenRoasters"
    assert failed(three, "x")[checks.LINK_LIMIT].message == "3 links — X takes at most 2"
    assert run("lumen.coffee/x and again lumen.coffee/x #LumenRoasters", "x")[checks.LINK_LIMIT].ok


def test_instagram_links_point_to_the_bio():
    check = failed("New blend! lumenroasters.com/night #LumenRoasters", "instagram")[
        checks.LINK_LIMIT
    ]
    assert "aren't clickable on Instagram" in check.message and "link in bio" in check.message


# --- hashtag policy -------------------------------------------------------------


def test_camel_case_hashtags():
    check = failed("Hello #LumenRoasters #coffeelovers #nightShift #2025Goals", "linkedin")
    assert set(check) == {checks.HASHTAG_CASING, checks.HASHTAG_LIMIT}
    assert check[checks.HASHTAG_CASING].message.endswith(": #coffeelovers, #nightShift")
    assert check[checks.HASHTAG_CASING].severity == checks.WARNING
    assert run("Bonjour #LumenRoasters #Été #東京", "linkedin")[checks.HASHTAG_CASING].ok


def test_tags_the_brand_prescribes_keep_their_own_casing():
    assert run("Our partnership #ad #LumenRoasters")[checks.HASHTAG_CASING].ok


def test_lowercase_hashtags():
    profile = BrandProfile(hashtags=HashtagPolicy(casing="lower"))
    check = failed("Hello #CoffeeLovers #espresso", profile=profile)[checks.HASHTAG_CASING]
    assert check.message == "Use lowercase hashtags: #CoffeeLovers → #coffeelovers"
    assert run("Hello #coffeelovers", profile=profile)[checks.HASHTAG_CASING].ok


def test_any_hashtag_casing():
    profile = BrandProfile(hashtags=HashtagPolicy(casing="any"))
    assert run("Hello #coffeelovers #CoffeeLovers", profile=profile)[checks.HASHTAG_CASING].ok


def test_required_hashtags_are_a_warning():
    check = failed("Hello #CoffeeLovers")[checks.REQUIRED_HASHTAGS]
    assert check.message == "Missing required hashtag #LumenRoasters"
    assert check.severity == checks.WARNING
    assert run("Hello #lumenroasters")[checks.REQUIRED_HASHTAGS].ok  # matching ignores case


def test_forbidden_hashtags_are_an_error():
    check = failed("Hello #LumenRoasters #coffeeaddict")[checks.FORBIDDEN_HASHTAGS]
    assert check.message == "Forbidden hashtag #coffeeaddict — remove"
    assert check.severity == checks.ERROR


# --- brand rules --------------------------------------------------------------------


def test_banned_word_suggests_its_replacement():
    check = failed("Great coffee, cheap prices #LumenRoasters")[checks.BANNED_WORDS]
    assert check.message == "Banned word “cheap” — try “affordable”"
    assert check.severity == checks.ERROR


def test_banned_words_are_whole_word_and_case_insensitive():
    assert not run("CHEAP thrills #LumenRoasters")[checks.BANNED_WORDS].ok
    assert not run("Try #cheap #LumenRoasters")[checks.BANNED_WORDS].ok
    assert run("Cheapside market, cheapest ever #LumenRoasters")[checks.BANNED_WORDS].ok


def test_banned_phrase_without_replacement_says_remove():
    check = failed("A World-Class roast #LumenRoasters")[checks.BANNED_WORDS]
    assert check.message == "Banned word “World-Class” — remove it"


def test_banned_words_are_accent_aware():
    decomposed = "Un café bon marche\u0301 #LumenRoasters"  # é written as e + combining accent
    check = failed(decomposed)[checks.BANNED_WORDS]
    assert check.message == "Banned phrase “bon marché” — try “abordable”"
    assert run("On marche bon train #LumenRoasters")[checks.BANNED_WORDS].ok  # marche ≠ marché


def test_banned_words_inside_links_and_handles_are_not_held_against_the_draft():
    assert run("Thanks @cheap_eats! lumen.coffee/cheap-deals #LumenRoasters")[
        checks.BANNED_WORDS
    ].ok


def test_disclosure_required_by_the_brief():
    check = failed("Our new blend #LumenRoasters", brief_text="Paid partnership with Oatly")[
        checks.DISCLOSURES
    ]
    assert check.message == "Add “#ad”: the brief mentions “partnership”"
    assert check.severity == checks.ERROR
    present = run("Our new blend #ad #LumenRoasters", brief_text="Paid partnership with Oatly")
    assert present[checks.DISCLOSURES].message == "Disclosure “#ad” present"


def test_disclosure_required_by_the_draft_itself():
    check = failed("A sponsored tasting night #LumenRoasters")[checks.DISCLOSURES]
    assert check.message == "Add “#ad”: the post mentions “sponsored”"
    assert run("Our partnerships page #ad #LumenRoasters")[checks.DISCLOSURES].ok


def test_disclosure_without_triggers_is_always_required():
    profile = BrandProfile(disclosures=[Disclosure(tag="#affiliate")])
    check = failed("Our favourite grinder", profile=profile)[checks.DISCLOSURES]
    assert check.message == "Add “#affiliate”: brand policy requires it on every post"


def test_no_disclosure_needed():
    assert run("Plain news #LumenRoasters")[checks.DISCLOSURES].message == "No disclosure needed"


def test_disclosure_tag_may_be_a_phrase():
    profile = BrandProfile(disclosures=[Disclosure(tag="Paid partnership", when=["sponsored"])])
    assert not run("Sponsored by Oatly", profile=profile)[checks.DISCLOSURES].ok
    assert run("Sponsored by Oatly. Paid partnership.", profile=profile)[checks.DISCLOSURES].ok


def test_emoji_over_the_brand_maximum():
    check = failed("Fresh ☕☕ roast 👨‍👩‍👧‍👦 #LumenRoasters")[checks.EMOJI]
    assert check.message == "3 emoji (☕ ☕ 👨‍👩‍👧‍👦) — brand style is at most 2"
    assert check.severity == checks.WARNING


def test_emoji_not_allowed():
    profile = BrandProfile(emoji=EmojiPolicy(allowed=False))
    assert failed("Fresh 🇫🇷 roast", profile=profile)[checks.EMOJI].message.endswith(
        "brand style is no emoji"
    )
    assert run("Fresh roast ©", profile=profile)[checks.EMOJI].message == "0 emoji (none allowed)"


def test_brand_name_spelling():
    check = failed("Visit lumen roasters today! #LumenRoasters")[checks.BRAND_SPELLING]
    assert check.message == "Write “Lumen Roasters”, not “lumen roasters”"
    assert check.severity == checks.WARNING
    assert not run("Visit LumenRoasters today #LumenRoasters")[checks.BRAND_SPELLING].ok
    both = failed("Lumen Roasters and LUMEN ROASTERS #LumenRoasters")[checks.BRAND_SPELLING]
    assert both.message == "Write “Lumen Roasters”, not “LUMEN ROASTERS”"


def test_brand_spelling_ignores_links_handles_and_hashtags():
    text = "Lumen Roasters: lumenroasters.com/lumen-roasters @lumen_roasters #LumenRoasters"
    assert run(text)[checks.BRAND_SPELLING].ok


# --- hygiene ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "placeholder",
    [
        "{{cta}}",
        "{brand_name}",
        "[INSERT LINK]",
        "[Insert date]",
        "[your name]",
        "[CTA]",
        "<placeholder>",
        "TODO",
        "TBD",
        "Lorem ipsum",
    ],
)
def test_leftover_placeholders(placeholder):
    check = failed(f"Our new blend {placeholder} is here #LumenRoasters")[checks.PLACEHOLDERS]
    assert check.message == f"Leftover placeholder “{placeholder}” — fill in or remove"
    assert check.severity == checks.ERROR


def test_placeholder_lookalikes_pass():
    text = "Todo el mundo ama el café [1/3] <3 #LumenRoasters"
    assert run(text)[checks.PLACEHOLDERS].ok


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("htp://lumen.coffee", "use an http:// or https:// address"),
        ("ftp://files.lumen.coffee", "use an http:// or https:// address"),
        ("https//lumen.coffee", "the “:” after the scheme is missing"),
        ("http:/lumen.coffee", "write the scheme as http:// or https://"),
        ("https://", "there is no address after the scheme"),
        ("http://localhost:3000/menu", "the address has no valid domain (like lumen.coffee)"),
        ("https://lumen.cmo/menu", "“.cmo” isn't a domain ending that exists"),
        ("https://www.example.com/menu", "it is a placeholder address — use the real link"),
    ],
)
def test_malformed_links(link, why):
    check = failed(f"Our menu: {link} #LumenRoasters")[checks.LINK_FORMAT]
    assert check.message == f"Check the link “{link}”: {why}"
    assert check.severity == checks.ERROR


def test_valid_links_pass():
    text = "Menu: https://lumenroasters.com/menu?size=l, www.lumen.coffee, lumen.coffee/x #LumenRoasters"
    assert run(text)[checks.LINK_FORMAT].message == "Links look valid"
    assert run("No link here #LumenRoasters")[checks.LINK_FORMAT].message == "No links"


# --- localization ------------------------------------------------------------------------------


def test_do_not_translate_terms_must_survive_unchanged():
    text = (
        "L'Équipe de nuit est de retour chez Lumen Roasters : café infusé à froid. #LumenRoasters"
    )
    check = failed(text, locale="fr", source_text=SOURCE)[checks.DO_NOT_TRANSLATE]
    assert check.message == "Keep “Night Shift” exactly as written (do-not-translate)"
    assert check.severity == checks.ERROR
    lowered = CLEAN_FR.replace("Night Shift", "night shift")
    assert not run(lowered, locale="fr", source_text=SOURCE)[checks.DO_NOT_TRANSLATE].ok


def test_do_not_translate_only_asks_for_terms_the_source_has():
    assert run("Bonjour #LumenRoasters", locale="fr", source_text="Hello")[
        checks.DO_NOT_TRANSLATE
    ].ok


def test_glossary_term_must_be_used():
    text = "Night Shift est de retour chez Lumen Roasters : notre cold brew. #LumenRoasters"
    check = failed(text, locale="fr", source_text=SOURCE)[checks.GLOSSARY]
    assert check.message == "Glossary: “cold brew” should be “café infusé à froid” in French"
    assert run(CLEAN_FR, locale="fr-CA", source_text=SOURCE)[checks.GLOSSARY].ok  # regional locale


def test_glossary_ignores_words_that_are_only_inside_links():
    profile = dataclasses.replace(PROFILE, glossary={"fr": {"shop": "boutique"}})
    source = "Night Shift is back: see lumen.coffee/shop #LumenRoasters"
    text = "Night Shift est de retour : lumen.coffee/shop #LumenRoasters"
    found = checks.run(text, network="x", locale="fr", profile=profile, source_text=source)
    assert next(c for c in found if c.name == checks.GLOSSARY).ok
    prose = checks.run(text, network="x", locale="fr", profile=profile, source_text=source + " Visit our shop.")
    assert not next(c for c in prose if c.name == checks.GLOSSARY).ok


LOCAL_TAGS = dataclasses.replace(
    PROFILE,
    hashtags=dataclasses.replace(
        PROFILE.hashtags,
        topical={"fr": ["#caféDeSpécialité"]},
        equivalents={"fr": {"#SpecialtyCoffee": "#caféDeSpécialité", "#Montreal": "#Montréal"}},
    ),
)


def test_a_tag_with_a_local_equivalent_says_which_tag_to_use_instead():
    text = CLEAN_FR + " #specialtycoffee #Montreal"
    check = failed(text, locale="fr", profile=LOCAL_TAGS)[checks.LOCAL_HASHTAGS]
    assert check.severity == checks.WARNING  # a human may knowingly keep the English tag
    assert check.message == (
        "In French posts, use #caféDeSpécialité instead of #specialtycoffee; "
        "use #Montréal instead of #Montreal"
    )
    assert not run(text, locale="fr-CA", profile=LOCAL_TAGS)[checks.LOCAL_HASHTAGS].ok


def test_local_hashtags_raise_no_false_alarm():
    english = CLEAN.replace("#CoffeeLovers", "#SpecialtyCoffee")
    assert checks.LOCAL_HASHTAGS not in run(english, locale="en", profile=LOCAL_TAGS)  # none for en
    assert checks.LOCAL_HASHTAGS not in run(CLEAN_FR + " #SpecialtyCoffee", locale="fr")  # none set
    local = run(CLEAN_FR + " #caféDeSpécialité", locale="fr", profile=LOCAL_TAGS)
    assert local[checks.LOCAL_HASHTAGS].ok
    assert local[checks.HASHTAG_CASING].ok  # the brand's own French tag keeps the brand's casing


# --- summary and failing ---------------------------------------------------------------------


def test_summary_lists_problems_then_warnings():
    results = checks.run(
        "cheap coffee #coffeelovers #LumenRoasters", network="x", locale="en", profile=PROFILE
    )
    assert checks.summary(results) == (
        "1 problem, 1 warning: Banned word “cheap” — try “affordable”; "
        "Use CamelCase hashtags (#LikeThis) so screen readers read each word: #coffeelovers"
    )


def test_summary_and_failing_accept_stored_dicts():
    stored = [
        c.to_dict() for c in checks.run("cheap coffee", network="x", locale="en", profile=PROFILE)
    ]
    assert [c.name for c in checks.failing(stored)] == [
        checks.REQUIRED_HASHTAGS,
        checks.BANNED_WORDS,
    ]
    assert [c.name for c in checks.failing(stored, severity=checks.ERROR)] == [checks.BANNED_WORDS]
    assert checks.summary(stored).startswith("1 problem, 1 warning: ")
    assert checks.summary([]) == "✓ 0 checks passed"
