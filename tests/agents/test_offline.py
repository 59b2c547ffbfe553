"""Offline mode: briefs read by rules and template drafts that respect the network and the brand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import app
from agents.offline import compose, for_network, local_hashtags, parse_brief
from core import checks, platforms
from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.domain import (
    MAX_BRIEF_CHARS,
    NEEDS_MODEL_WARNING,
    NETWORKS,
    OFFLINE_LABEL,
    Brief,
    Passage,
)
from core.errors import ValidationFailed

PARIS = "Europe/Paris"
NOW = datetime(2026, 11, 26, 15, 30, tzinfo=ZoneInfo(PARIS))  # a Thursday afternoon
DEFAULT_NETWORKS, DEFAULT_LOCALES = ["linkedin", "x"], ["en"]
ALL = list(NETWORKS)

PROFILE = BrandProfile(
    name="Lumen",
    banned={"cheap": "affordable", "synergy": "teamwork", "very": ""},
    disclosures=[Disclosure(tag="#ad", when=["partnership", "sponsored"])],
    emoji=EmojiPolicy(allowed=True, max=2),
    hashtags=HashtagPolicy(max=3, casing="camel", required=["LumenCoffee"], forbidden=["#CoffeeGram"]),
    call_to_action={"en": "Find your roast at lumen.coffee/shop.", "fr": "Trouvez votre café en boutique."},
    default_hashtags=["specialty coffee", "coffeegram", "slow mornings"],
)
PASSAGES = [
    Passage(id="faq-1", source="faq.md", heading="Shipping", text="We ship in 48h.", score=0.9),
    Passage(id="voice-1", source="voice.md", heading="Voice and tone", text="Warm, plain.", score=0.7),
    Passage(id="net-li", source="networks.md", heading="LinkedIn", text="Three tags.", score=0.6),
    Passage(id="hist-1", source="about.md", heading="Our history", text="Since 2015.", score=0.5),
]
LONG_MESSAGE = " ".join(
    f"Sentence {i} tells the whole story of our winter blend, its cherry and cocoa notes, and the farm."
    for i in range(60))


def parse(text: str, **overrides) -> Brief:
    options = {"now": NOW, "timezone": PARIS, "default_networks": DEFAULT_NETWORKS,
               "default_locales": DEFAULT_LOCALES, **overrides}
    return parse_brief(text, **options)


def brief(**fields) -> Brief:
    values = {"text": "Our winter blend is back", "goal": "launch", "key_message": "Our winter blend is back.",
              "networks": ["linkedin"], "locales": ["en"], "timezone": PARIS, **fields}
    return Brief(**values)


# ---------------------------------------------------------------------------------------------
# parse_brief: networks, locales and dates


@pytest.mark.parametrize(("text", "networks", "locales", "not_before"), [
    ("Post on LinkedIn tomorrow at 9am about our winter blend",
     ["linkedin"], ["en"], "2026-11-27T09:00:00+01:00"),
    ("Tweet about Ember next Tuesday", ["x"], ["en"], "2026-12-01T00:00:00+01:00"),
    ("Share on Insta and FB on Friday morning: Ember is back",
     ["instagram", "facebook"], ["en"], "2026-11-27T09:00:00+01:00"),
    ("Post on Bluesky and Mastodon on December 3: our roastery tour",
     ["bluesky", "mastodon"], ["en"], "2026-12-03T00:00:00+01:00"),
    ("Schedule it on Twitter for Dec 3rd at 5pm: the roastery tour is back",
     ["x"], ["en"], "2026-12-03T17:00:00+01:00"),
    ("Rédige un post LinkedIn sur notre nouveau mélange, à publier le 3 décembre",
     ["linkedin"], ["fr", "en"], "2026-12-03T00:00:00+01:00"),
    ("Publie le lundi 7 décembre à 8h30 : notre calendrier de l'Avent arrive",
     DEFAULT_NETWORKS, ["fr", "en"], "2026-12-07T08:30:00+01:00"),
    ("Post on Thursday, December 10 at noon: the holiday menu", DEFAULT_NETWORKS, ["en"],
     "2026-12-10T12:00:00+01:00"),
    ("Publie demain à 10h sur Threads : notre mélange Ember est de retour",
     ["threads"], ["fr", "en"], "2026-11-27T10:00:00+01:00"),
    ("Post in 2 hours on X: the café stays open late", ["x"], ["en"], "2026-11-26T17:30:00+01:00"),
    ("Post next week on all networks: our new subscription", ALL, ["en"], "2026-11-30T00:00:00+01:00"),
    ("Post 2026-12-03 14:00 on Mastodon: roastery open day", ["mastodon"], ["en"], "2026-12-03T14:00:00+01:00"),
    ("Post this afternoon: we are open until 8", DEFAULT_NETWORKS, ["en"], "2026-11-26T15:30:00+01:00"),
    ("Post tonight: we are open until 8", DEFAULT_NETWORKS, ["en"], "2026-11-26T18:00:00+01:00"),
    ("Post at 9am: Ember is back", DEFAULT_NETWORKS, ["en"], "2026-11-27T09:00:00+01:00"),
    ("Post on LinkedIn this weekend: Ember is back", ["linkedin"], ["en"], "2026-11-28T00:00:00+01:00"),
    ("Post in December about our winter menu", DEFAULT_NETWORKS, ["en"], "2026-12-01T00:00:00+01:00"),
    ("Write a LinkedIn post in French about our new blend", ["linkedin"], ["en", "fr"], None),
    ("Bilingual EN/FR post about our new blend", DEFAULT_NETWORKS, ["en", "fr"], None),
    ("Write it in French and English: our new blend is here", DEFAULT_NETWORKS, ["en", "fr"], None),
    ("Un post en français et en anglais pour notre nouveau mélange", DEFAULT_NETWORKS, ["fr", "en"], None),
    ("Write a post in German about our Berlin shop", DEFAULT_NETWORKS, ["en", "de"], None),
    ("fr-FR version of our holiday opening hours post", DEFAULT_NETWORKS, ["en", "fr"], None),
    ("Our new blend is here", DEFAULT_NETWORKS, ["en"], None),
    ("Post everywhere except Facebook and Instagram: our new blend",
     ["x", "bluesky", "mastodon", "linkedin", "threads"], ["en"], None),
    ("All networks but not on Facebook: our new blend",
     ["x", "bluesky", "mastodon", "linkedin", "threads", "instagram"], ["en"], None),
    ("Our new blend is here. Not on X please.", ["linkedin"], ["en"], None),
])
def test_reads_networks_locales_and_time(text, networks, locales, not_before):
    parsed = parse(text)
    assert (parsed.networks, parsed.locales, parsed.not_before) == (networks, locales, not_before)
    assert parsed.timezone == PARIS


def test_times_are_read_in_the_audience_time_zone():
    # 15:30 in Paris is 09:30 in New York: "tomorrow" is New York's tomorrow.
    parsed = parse("Post tomorrow at 9am on X: Ember is back", now=NOW.astimezone(UTC),
                   timezone="America/New_York")
    assert parsed.not_before == "2026-11-27T09:00:00-05:00"


def test_relative_hours_count_real_hours_across_a_clock_change():
    before_dst = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo(PARIS))  # clocks jump 02:00 → 03:00
    assert parse("Post in 2 hours: Ember is back", now=before_dst).not_before == "2026-03-29T04:30:00+02:00"


def test_a_naive_now_is_wall_clock_time_in_the_time_zone():
    parsed = parse("Post tomorrow at 9am: Ember is back", now=NOW.replace(tzinfo=None))
    assert parsed.not_before == "2026-11-27T09:00:00+01:00"


def test_a_date_tied_to_posting_wins_over_the_news_date():
    parsed = parse("Promote our webinar on December 3, post it on Monday")
    assert parsed.not_before == "2026-11-30T00:00:00+01:00"
    assert "December 3" in parsed.key_message


def test_an_events_own_date_is_not_the_posting_time():
    parsed = parse("Draft an Instagram caption for our pop-up at Station F on Friday evening")
    assert parsed.not_before is None
    assert parsed.key_message == "Our pop-up at Station F on Friday evening"


def test_a_past_date_is_reported_not_used():
    parsed = parse("Post on 2025-01-15 about our new blend")
    assert parsed.not_before is None
    assert any("in the past" in w for w in parsed.warnings)


@pytest.mark.parametrize("text", [
    "Our 3 new blends are here",
    "10% off all beans for members",
    "May we suggest the Ember blend?",
    "Black Friday sale on all beans",
    "Open 9am-5pm at our new Lyon shop",
    "Our 24h flash sale on cold brew",
    "Our morning blend is back",
    "Since 2015 we roast in Lyon",
    "Every Monday we host a cupping",
    "2 for 1 on cold brew, rated 4.5 stars",
    "Meet us at booth 12 in hall 3",
    "Our 1/2 price bags go fast",
])
def test_numbers_and_words_are_not_read_as_dates(text):
    assert parse(text).not_before is None


@pytest.mark.parametrize("text", [
    "Lumen x Nike: the collab cup is here",
    "Saffron threads in our new winter latte",
    "Write a thread about why we roast light",
])
def test_ordinary_words_are_not_networks(text):
    assert parse(text).networks == DEFAULT_NETWORKS


@pytest.mark.parametrize("text", [
    "Brewed in a French press, our new blend shines",
    "Try our Turkish coffee this winter",
    "Italian roast and Spanish pastries at the bar",
])
def test_food_adjectives_are_not_languages(text):
    parsed = parse(text)
    assert parsed.locales == ["en"]
    assert parsed.warnings == []


def test_unsupported_network_is_left_out_with_a_warning():
    parsed = parse("Post on TikTok and LinkedIn: our new blend")
    assert parsed.networks == ["linkedin"]
    assert parsed.warnings == ["TikTok isn't supported yet — Plume drafts for X, Bluesky, Mastodon, LinkedIn, "
                               "Threads, Instagram and Facebook; I left it out."]


def test_only_unsupported_networks_fall_back_to_the_defaults():
    parsed = parse("Put our new blend on YouTube and Pinterest")
    assert parsed.networks == DEFAULT_NETWORKS
    assert "YouTube and Pinterest aren't supported yet" in parsed.warnings[0]
    assert "default networks (LinkedIn and X)" in parsed.warnings[0]


def test_an_excluded_unsupported_network_needs_no_warning():
    assert parse("Our new blend is here, not on TikTok").warnings == []


@pytest.mark.parametrize(("text", "language"), [
    ("Write our new blend post in Klingon", "Klingon"),
    ("Post in Japanese: our new blend is here", "Japanese"),
])
def test_unsupported_language_is_left_out_with_a_warning(text, language):
    parsed = parse(text)
    assert parsed.locales == ["en"]
    assert parsed.warnings == [f"{language} isn't supported yet — Plume writes in English, French, German, "
                               "Spanish, Italian, Portuguese and Dutch; I left it out."]


def test_the_brief_language_leads_even_when_defaults_differ():
    parsed = parse("Notre nouveau mélange arrive demain dans nos boutiques", default_locales=["en"])
    assert parsed.locales == ["fr", "en"]


# ---------------------------------------------------------------------------------------------
# parse_brief: validation, links, goal, message, constraints


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_brief_says_what_to_write(text):
    with pytest.raises(ValidationFailed, match="Tell me what to post about — e.g."):
        parse(text)


def test_a_huge_brief_says_what_is_accepted():
    with pytest.raises(ValidationFailed) as caught:
        parse("Our winter blend is back. " * 800)  # 20,800 characters
    message = str(caught.value)
    assert "is 20,799 characters; briefs are limited to 4,000" in message
    assert "paste the key points, or put long material in the brand kit" in message


def test_a_brief_at_the_limit_is_accepted():
    parse(("Ember is back. " * 300)[:MAX_BRIEF_CHARS])


def test_a_brief_with_no_message_asks_for_one():
    with pytest.raises(ValidationFailed, match="not what to post about"):
        parse("Post on X tomorrow at 9am")


def test_links_with_and_without_scheme():
    parsed = parse("New blend! Details at https://lumen.coffee/ember?ref=slack. Shop: lumen.coffee/shop — "
                   "questions to hello@lumen.coffee")
    assert parsed.links == ["https://lumen.coffee/ember?ref=slack", "lumen.coffee/shop"]


def test_slack_formatting_is_unwrapped():
    parsed = parse("<@U123> post about Ember &amp; friends: <https://lumen.coffee/ember|lumen.coffee/ember>")
    assert parsed.links == ["https://lumen.coffee/ember"]
    assert parsed.key_message == "Ember & friends"


@pytest.mark.parametrize(("text", "goal"), [
    ("We're hiring baristas in Lyon", "hiring"),
    ("Our partnership with Oatly starts today", "partnership"),
    ("Join our launch party at the roastery", "event"),
    ("20% off all beans this week", "promotion"),
    ("Introducing Ember, our winter blend", "launch"),
    ("Lumen turns 10 years old", "milestone"),
    ("Big announcement from the roastery", "announcement"),
    ("Thank you to our baristas", "awareness"),
])
def test_goal_is_guessed_from_keywords(text, goal):
    assert parse(text).goal == goal


@pytest.mark.parametrize(("text", "message"), [
    ("Write a LinkedIn post in French about our new winter blend, Ember. Post it tomorrow at 9am. "
     "Link: lumen.coffee/ember. No emoji.", "Our new winter blend, Ember."),
    ("Rédige un post LinkedIn sur notre nouveau mélange Ember, à publier demain à 9h.",
     "Notre nouveau mélange Ember."),
    ("Ember is back — post it on LinkedIn tomorrow!", "Ember is back"),
    ("LinkedIn + X, tomorrow 9am.\nAnnounce Ember, our winter blend: cherry, cocoa and a long finish.\n"
     "Link: lumen.coffee/ember", "Ember, our winter blend: cherry, cocoa and a long finish."),
    ("Post on X: join us on December 3 at our Paris shop", "Join us on December 3 at our Paris shop"),
    ("Write a thread on X about why we roast light. Read our latest blog post.",
     "Why we roast light. Read our latest blog post."),
    ("Publie sur Instagram vendredi matin : notre atelier est complet ! Merci à tous.",
     "Notre atelier est complet ! Merci à tous."),
])
def test_key_message_drops_the_request(text, message):
    assert parse(text).key_message == message


@pytest.mark.parametrize(("text", "message"), [
    ("Our new roast on LinkedIn and X in English and French, tomorrow morning.", "Our new roast."),
    ("Notre nouvelle torréfaction sur LinkedIn et X en anglais et en français, demain matin.",
     "Notre nouvelle torréfaction."),
    ("Our new roast, tomorrow morning, on LinkedIn and X.", "Our new roast."),
    ("Notre nouvelle torréfaction, demain matin sur LinkedIn et X.", "Notre nouvelle torréfaction."),
    ("Our new roast on LinkedIn tomorrow 9am New York time", "Our new roast"),
])
def test_networks_languages_and_times_listed_together_are_the_request(text, message):
    parsed = parse(text)
    assert parsed.key_message == message
    assert parsed.networks == (["x", "linkedin"] if " X" in text else ["linkedin"])
    assert parsed.not_before is not None


def test_a_time_with_a_city_is_read_in_that_city():
    assert parse("Our new roast on LinkedIn tomorrow 9am New York time").not_before == "2026-11-27T09:00:00-05:00"


def test_an_events_date_listed_with_the_networks_stays_in_the_message():
    assert parse("Our pop-up at Station F on Friday evening on Instagram").key_message == \
        "Our pop-up at Station F on Friday evening"


def test_constraints():
    parsed = parse("We're hiring baristas! No emoji, no hashtags, keep it short and sweet, mention @lumenjobs "
                   "and @lyon_cafe.")
    assert parsed.constraints == ["no emoji", "no hashtags", "keep it short", "mention @lumenjobs @lyon_cafe"]
    assert parsed.key_message == "We're hiring baristas!"


# ---------------------------------------------------------------------------------------------
# compose


@pytest.mark.parametrize("network", NETWORKS)
def test_every_network_fits_its_limit_without_cutting_a_link(network):
    long_brief = brief(key_message=LONG_MESSAGE, links=["https://lumen.coffee/winter-blend-2026"],
                       constraints=["mention @roastery"])
    variant = compose(long_brief, network=network, locale="en", profile=PROFILE, passages=PASSAGES)
    platform = platforms.get(network)
    assert platform.length(variant.text) <= platform.max_length
    links = platforms.urls(variant.text)
    if platform.max_links:
        assert "https://lumen.coffee/winter-blend-2026" in links
    assert all(link in ("https://lumen.coffee/winter-blend-2026", "lumen.coffee/shop") for link in links)
    assert "#LumenCoffee" in variant.text


@pytest.mark.parametrize("network", NETWORKS)
def test_drafts_pass_every_blocking_check(network):
    parsed = parse("Write a post about our new winter blend, Ember: very cheap synergy of cherry and cocoa, in "
                   "partnership with Oatly. Link lumen.coffee/ember. Mention @oatly. All networks.")
    variant = compose(parsed, network=network, locale="en", profile=PROFILE, passages=PASSAGES)
    found = checks.run(variant.text, network=network, locale="en", profile=PROFILE, brief_text=parsed.text)
    assert checks.failing(found, severity="error") == []
    assert "affordable teamwork" in variant.text and "very" not in variant.text.lower()
    assert "#Ad" in variant.text


@pytest.mark.parametrize("network", NETWORKS)
def test_hashtags_follow_the_policy(network):
    variant = compose(brief(), network=network, locale="en", profile=PROFILE, passages=[])
    tags = platforms.hashtags(variant.text)
    assert tags[0] == "#LumenCoffee"  # required first
    assert len(tags) <= min(platforms.get(network).max_hashtags, PROFILE.hashtags.max)
    assert "#CoffeeGram" not in tags and "#Coffeegram" not in tags
    assert all(tag[1].isupper() for tag in tags)


def test_lowercase_policy_and_brand_defaults_in_order():
    profile = BrandProfile(hashtags=HashtagPolicy(max=5, casing="lower", required=["Lumen"]),
                           default_hashtags=["Specialty Coffee"])
    variant = compose(brief(), network="mastodon", locale="en", profile=profile, passages=[])
    assert platforms.hashtags(variant.text) == ["#lumen", "#specialtycoffee", "#newrelease"]


def test_mastodon_uses_camel_case_tags_when_the_brand_allows_any():
    profile = BrandProfile(hashtags=HashtagPolicy(casing="any"), default_hashtags=["slow coffee"])
    variant = compose(brief(), network="mastodon", locale="en", profile=profile, passages=[])
    assert "#SlowCoffee" in variant.text


def test_no_hashtags_keeps_only_required_ones():
    variant = compose(brief(constraints=["no hashtags"]), network="linkedin", locale="en", profile=PROFILE,
                      passages=[])
    assert platforms.hashtags(variant.text) == ["#LumenCoffee"]


def test_banned_words_are_replaced_keeping_capitals_but_not_inside_links():
    message = "Cheap beans, very good synergy. See lumen.coffee/cheap-beans"
    variant = compose(brief(key_message=message), network="linkedin", locale="en", profile=PROFILE, passages=[])
    assert "Affordable beans, good teamwork." in variant.text
    assert "lumen.coffee/cheap-beans" in variant.text
    assert checks.banned_words(variant.text, PROFILE.banned).ok


@pytest.mark.parametrize(("policy", "constraints", "most"), [
    (EmojiPolicy(allowed=False, max=3), [], 0),
    (EmojiPolicy(allowed=True, max=1), [], 1),
    (EmojiPolicy(allowed=True, max=3), ["no emoji"], 0),
])
@pytest.mark.parametrize("network", NETWORKS)
def test_emoji_policy(network, policy, constraints, most):
    profile = BrandProfile(name="Lumen", emoji=policy, call_to_action={"en": "Come by."})
    message = "Ember is back ☕🔥🎉 and better than ever 🙌"
    variant = compose(brief(key_message=message, constraints=constraints), network=network, locale="en",
                      profile=profile, passages=[])
    assert len(platforms.emoji(variant.text)) <= most
    assert "Ember is back" in variant.text


def test_templates_add_emoji_when_the_brand_likes_them():
    variant = compose(brief(), network="instagram", locale="en", profile=PROFILE, passages=[])
    assert platforms.emoji(variant.text) == ["✨", "👉"]


def test_an_extra_locale_keeps_the_source_text_and_says_so():
    parsed = parse("Write a LinkedIn post in French about our new winter blend, Ember")
    source = compose(parsed, network="linkedin", locale="en", profile=PROFILE, passages=PASSAGES)
    extra = compose(parsed, network="linkedin", locale="fr", profile=PROFILE, passages=PASSAGES)
    assert extra.text == source.text
    assert extra.locale == "fr"
    assert NEEDS_MODEL_WARNING in extra.warnings and NEEDS_MODEL_WARNING not in source.warnings
    assert "Find your roast" in extra.text  # the source language's call to action, not a fake French one


LOCAL_TAGS = BrandProfile(
    name="Lumen",
    hashtags=HashtagPolicy(required=["#LumenCoffee"], topical={"fr": ["#CaféDeSpécialité"]},
                           equivalents={"fr": {"#SpecialtyCoffee": "#CaféDeSpécialité",
                                               "#SlowMornings": "#MatinsTranquilles"}}),
    call_to_action=PROFILE.call_to_action,
    default_hashtags=["#SpecialtyCoffee", "#SlowMornings"],
)


def test_an_extra_locale_gets_the_brands_local_hashtags_but_no_fake_translation():
    parsed = parse("Write a LinkedIn post in French about our new winter blend, Ember")
    source = compose(parsed, network="linkedin", locale="en", profile=LOCAL_TAGS, passages=[])
    extra = compose(parsed, network="linkedin", locale="fr", profile=LOCAL_TAGS, passages=[])
    assert platforms.hashtags(source.text) == ["#LumenCoffee", "#SpecialtyCoffee", "#SlowMornings"]
    assert platforms.hashtags(extra.text) == ["#LumenCoffee", "#CaféDeSpécialité", "#MatinsTranquilles"]
    assert extra.text.split("#")[0] == source.text.split("#")[0]  # the prose stays the source's
    assert NEEDS_MODEL_WARNING in extra.warnings
    assert all(c.ok for c in checks.run(extra.text, network="linkedin", locale="fr", profile=LOCAL_TAGS)
               if c.name in (checks.LOCAL_HASHTAGS, checks.HASHTAG_CASING))


def test_a_french_brief_uses_the_french_topical_tags():
    parsed = parse("Rédige un post LinkedIn sur notre nouveau mélange Ember")
    variant = compose(parsed, network="linkedin", locale="fr", profile=LOCAL_TAGS, passages=[])
    assert platforms.hashtags(variant.text) == ["#LumenCoffee", "#CaféDeSpécialité", "#Nouveauté"]


def test_a_local_tag_already_there_is_not_repeated():
    text = "Ember is back.\n\n#SpecialtyCoffee #CaféDeSpécialité #LumenCoffee #slowmornings"
    assert local_hashtags(text, "fr", LOCAL_TAGS) == (
        "Ember is back.\n\n#CaféDeSpécialité #LumenCoffee #MatinsTranquilles")
    assert local_hashtags(text, "en", LOCAL_TAGS) == text


def test_a_french_brief_gets_a_french_template():
    parsed = parse("Rédige un post LinkedIn sur notre nouveau mélange Ember")
    profile = BrandProfile(name="Lumen", call_to_action=PROFILE.call_to_action)
    variant = compose(parsed, network="linkedin", locale="fr", profile=profile, passages=[])
    assert variant.text.startswith("✨ Du nouveau chez Lumen.\n\nNotre nouveau mélange Ember.")
    assert "Trouvez votre café en boutique." in variant.text
    assert "#Nouveauté" in variant.text
    assert NEEDS_MODEL_WARNING not in variant.warnings


@pytest.mark.parametrize("network", NETWORKS)
def test_every_draft_is_labelled_offline(network):
    variant = compose(brief(), network=network, locale="en", profile=PROFILE, passages=PASSAGES)
    assert variant.offline is True
    assert variant.warnings[0] == OFFLINE_LABEL
    assert variant.network == network and variant.locale == "en"
    assert variant.rationale.startswith(f"Template: {platforms.get(network).label} ")
    assert "\n" not in variant.rationale


def test_linkedin_layout():
    variant = compose(brief(links=["lumen.coffee/ember"]), network="linkedin", locale="en", profile=PROFILE,
                      passages=[])
    assert variant.text == ("✨ Something new from Lumen.\n\nOur winter blend is back.\n\n"
                            "Find your roast at lumen.coffee/shop. lumen.coffee/ember\n\n"
                            "#LumenCoffee #SpecialtyCoffee #SlowMornings")


def test_a_cta_link_the_network_has_no_room_for_is_left_out():
    # X takes two links: the brief's two links win over the link inside the brand's CTA.
    variant = compose(brief(links=["lumen.coffee/a", "lumen.coffee/b"]), network="x", locale="en",
                      profile=PROFILE, passages=[])
    assert platforms.urls(variant.text) == ["lumen.coffee/a", "lumen.coffee/b"]
    assert "Find your roast" not in variant.text


def test_a_disclosure_takes_a_tag_slot_before_the_messages_own_tags():
    parsed = parse("Post on Threads: our #WinterBlend partnership with Oatly")
    variant = compose(parsed, network="threads", locale="en", profile=PROFILE, passages=[])
    assert platforms.hashtags(variant.text) == ["#Ad"]
    assert "Our WinterBlend partnership" in variant.text
    assert checks.failing(checks.run(variant.text, network="threads", locale="en", profile=PROFILE,
                                     brief_text=parsed.text), severity="error") == []


def test_instagram_points_to_the_link_in_bio():
    variant = compose(brief(links=["lumen.coffee/ember"], key_message="Ember is back, see lumen.coffee/ember"),
                      network="instagram", locale="en", profile=BrandProfile(name="Lumen"), passages=[])
    assert platforms.urls(variant.text) == []
    assert "see the link in bio" in variant.text
    with_cta = compose(brief(links=["lumen.coffee/ember"]), network="instagram", locale="en", profile=PROFILE,
                       passages=[])
    assert platforms.urls(with_cta.text) == []
    assert "👉 Find your roast at the link in bio. Link in bio." not in with_cta.text
    assert "👉 Find your roast at the link in bio." in with_cta.text


def test_keep_it_short_uses_the_first_sentence_and_no_hook():
    variant = compose(brief(key_message="Ember is back. It tastes of cherry.", constraints=["keep it short"]),
                      network="x", locale="en", profile=BrandProfile(), passages=[])
    assert variant.text.startswith("Ember is back.")
    assert "cherry" not in variant.text


def test_mentions_are_added_once():
    variant = compose(brief(key_message="Thanks @oatly for the milk.", constraints=["mention @oatly @lyon"]),
                      network="x", locale="en", profile=BrandProfile(), passages=[])
    assert platforms.mentions(variant.text) == ["@oatly", "@lyon"]


def test_citations_name_the_guidelines_applied():
    variant = compose(brief(), network="linkedin", locale="en", profile=PROFILE, passages=PASSAGES)
    assert variant.citations == ["faq-1", "voice-1", "net-li"]
    assert "voice.md" not in variant.rationale or "faq.md › Shipping" in variant.rationale
    x_variant = compose(brief(), network="x", locale="en", profile=PROFILE, passages=PASSAGES)
    assert x_variant.citations == ["faq-1", "voice-1"]
    assert compose(brief(), network="x", locale="en", profile=PROFILE, passages=[]).citations == []


SECTIONS = [  # one passage per smallest section, as the knowledge store cites them
    Passage(id="li", source="platforms.md", heading="Per-network notes › LinkedIn", text="Three tags.", score=0.95),
    Passage(id="x", source="platforms.md", heading="Per-network notes › X", text="One idea per post.", score=0.7),
    Passage(id="ig-ex", source="examples.md", heading="Example posts › Launch (Instagram)", text="…", score=0.9),
    Passage(id="emoji", source="voice.md", heading="Voice and tone › Emoji", text="Two at most.", score=0.6),
    Passage(id="hist", source="about.md", heading="Our history", text="Since 2015.", score=0.5),
]


def test_a_draft_cites_no_notes_about_other_networks():
    x_draft = compose(brief(), network="x", locale="en", profile=PROFILE, passages=SECTIONS)
    assert x_draft.citations == ["x", "emoji"]  # the LinkedIn notes scored best, yet are not X's
    assert "LinkedIn" not in x_draft.rationale
    linkedin = compose(brief(), network="linkedin", locale="en", profile=PROFILE, passages=SECTIONS)
    assert linkedin.citations == ["li", "emoji"]
    instagram = compose(brief(), network="instagram", locale="en", profile=PROFILE, passages=SECTIONS)
    assert instagram.citations == ["ig-ex", "emoji"]


def test_notes_naming_several_networks_guide_each_of_them():
    shared = Passage(id="x-threads", source="platforms.md", heading="Platform notes › X · Threads", text="Short.")
    assert for_network([shared], "threads") == [shared] == for_network([shared], "x")
    assert for_network([shared], "linkedin") == []


def test_an_offline_brief_cites_only_guidelines_for_each_network(make_settings):
    from agents.runner import thread_id_for

    with app.assemble(make_settings(), quiet=True) as plume:
        outcome = plume.runner.start(thread_id=thread_id_for("test", "citations"), actor="mia",
                                     text="Our new roast on LinkedIn and X in English and French, tomorrow morning.")
    drafts = {(p.network, p.locale): p for p in outcome.posts}
    assert set(drafts) == {("x", "en"), ("linkedin", "en"), ("x", "fr"), ("linkedin", "fr")}
    assert "Our new roast." in drafts["x", "en"].text
    assert "LinkedIn and X" not in drafts["x", "en"].text and "tomorrow" not in drafts["x", "en"].text
    for (network, _), post in drafts.items():
        assert post.citations, f"{network} cites nothing"
        for cited in post.citations:
            named = platforms.named_in(f"{cited['source']} {cited['heading']}")
            assert not named or network in named, f"{network} draft cites {cited['heading']}"


def test_compose_is_deterministic():
    parsed = parse("Write a post about our new winter blend, Ember, on all networks in French too. "
                   "Link lumen.coffee/ember.")
    first = [compose(parsed, network=n, locale=loc, profile=PROFILE, passages=PASSAGES)
             for n in parsed.networks for loc in parsed.locales]
    second = [compose(parsed, network=n, locale=loc, profile=PROFILE, passages=PASSAGES)
              for n in parsed.networks for loc in parsed.locales]
    assert [v.to_dict() for v in first] == [v.to_dict() for v in second]


def test_an_unknown_network_is_refused():
    with pytest.raises(ValidationFailed):
        compose(brief(), network="tiktok", locale="en", profile=PROFILE, passages=[])
