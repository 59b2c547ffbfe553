"""Brand profile: the sample brand.yaml, defaults, and errors that name the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.errors import ValidationFailed
from core.settings import SAMPLE_KIT
from knowledge.profile import load_profile, parse_profile, with_rules


def test_sample_kit_fills_every_field():
    raw = yaml.safe_load((SAMPLE_KIT / "brand.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {field.name for field in dataclasses.fields(BrandProfile)}
    profile = load_profile(SAMPLE_KIT)
    assert profile.name == "Tidewren Roasters"
    assert profile.banned["cheap"] == "affordable"
    assert profile.banned["exotic"] == ""
    ad = next(d for d in profile.disclosures if d.tag == "#ad")
    assert {"partnership", "sponsored", "in collaboration with"} <= set(ad.when)
    assert profile.emoji == EmojiPolicy(allowed=True, max=2)
    assert profile.hashtags.required == ["#Tidewren"] and profile.hashtags.casing == "camel"
    assert set(profile.call_to_action) == {"en", "fr"}
    assert profile.glossary["fr"]["tasting notes"] == "notes de dégustation"
    assert "Tidewren Club" in profile.do_not_translate
    assert all(tag.startswith("#") for tag in profile.default_hashtags)


def test_missing_or_empty_file_means_defaults(tmp_path):
    assert load_profile(tmp_path) == BrandProfile()
    (tmp_path / "brand.yaml").write_text("# nothing yet\n")
    assert load_profile(tmp_path) == BrandProfile()


def test_a_yaml_file_can_be_given_directly_and_shorthands_are_accepted(tmp_path):
    path = tmp_path / "acme.yml"
    path.write_text(
        "name: Acme\nbanned: [cheap, synergy]\nemoji: false\n"
        "hashtags: {required: [Acme], max: 2}\ndisclosures: [{tag: ad, when: sponsored}]\n"
    )
    profile = load_profile(path)
    assert profile.banned == {"cheap": "", "synergy": ""}
    assert profile.emoji == EmojiPolicy(allowed=False, max=0)
    assert profile.hashtags.required == ["#Acme"]
    assert profile.disclosures == [Disclosure(tag="#ad", when=["sponsored"])]


def test_malformed_yaml_says_where(tmp_path):
    (tmp_path / "brand.yaml").write_text("name: Acme\nbanned:\n  cheap: [affordable\n")
    with pytest.raises(
        ValidationFailed, match=r"brand\.yaml: malformed YAML at line \d+, column \d+"
    ):
        load_profile(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("hashtags:\n  max: three\n", "hashtags.max must be a whole number"),
        ("hashtags:\n  casing: shouting\n", "hashtags.casing must be one of camel, lower, any"),
        ("hashtags:\n  max: 1\n  required: ['#A', '#B']\n", "hashtags.required lists 2 tags"),
        ("emoji:\n  allowed: maybe\n", "emoji.allowed must be true or false"),
        ("emoji:\n  max: -1\n", "emoji.max must be a whole number"),
        ("hashtag:\n  max: 2\n", "unknown key 'hashtag' (did you mean 'hashtags'?)"),
        ("emoji:\n  maximum: 2\n", "unknown key 'emoji.maximum'"),
        ("call_to_action:\n  ja: Buy now\n", "call_to_action has the locale 'ja'"),
        ("glossary:\n  fr: [roast, torréfaction]\n", "glossary.fr must be a mapping"),
        ("disclosures:\n  - when: [sponsored]\n", "disclosures[0].tag is missing"),
        ("disclosures:\n  tag: '#ad'\n", "disclosures must be a list"),
        ("spellings: [Acme, {x: 1}]\n", "spellings[1] must be text"),
        ("banned:\n  yes: no\n", "banned has the key True, which is not text; put it in quotes"),
        ("default_hashtags: ['#two words']\n", "default_hashtags: a hashtag cannot contain spaces"),
        ("voice: ''\n", "voice must not be empty"),
    ],
)
def test_wrong_types_name_the_key(text, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_profile(text, source="kit/brand.yaml")
    assert str(caught.value).startswith("kit/brand.yaml: ")
    assert message in str(caught.value)


def test_accepted_rules_are_merged_over_the_profile(tmp_path):
    (tmp_path / "brand.yaml").write_text(
        "# hand-written\nbanned: [cheap]\nemoji: false\n"
        "hashtags: {required: ['#Acme'], forbidden: ['#Spam']}\n"
        "disclosures: [{tag: '#ad', when: sponsored}]\nspellings: [Acme]\n"
        "glossary: {fr: {roast: torréfaction}}\n"
    )
    accepted = [
        {"banned": {"cheap": "affordable", "synergy": ""}},
        {"emoji": {"max": 1}},
        {"hashtags": {"forbidden": ["#spam", "#Bots"], "max": 2}},
        {"disclosures": [{"tag": "ad", "when": ["partnership"]}, {"tag": "#gifted", "when": ["free sample"]}]},
        {"spellings": ["ACME Labs", "acme"]},
        {"glossary": {"fr": {"shop": "boutique"}}},
    ]
    profile = with_rules(load_profile(tmp_path), accepted)
    assert profile.banned == {"cheap": "affordable", "synergy": ""}
    assert profile.emoji == EmojiPolicy(allowed=False, max=1)
    assert profile.hashtags.required == ["#Acme"] and profile.hashtags.max == 2
    assert profile.hashtags.forbidden == ["#Spam", "#Bots"]  # "#spam" is already there
    assert profile.disclosures == [
        Disclosure(tag="#ad", when=["sponsored", "partnership"]),
        Disclosure(tag="#gifted", when=["free sample"]),
    ]
    assert profile.spellings == ["Acme", "ACME Labs"]
    assert profile.glossary == {"fr": {"roast": "torréfaction", "shop": "boutique"}}


def test_merging_a_rule_keeps_everything_else_of_the_sample_profile():
    profile = load_profile(SAMPLE_KIT)
    merged = with_rules(profile, [{"reviewer_notes": ["Name the farm."]}])
    assert merged == dataclasses.replace(
        profile, reviewer_notes=[*profile.reviewer_notes, "Name the farm."]
    )
    assert with_rules(profile, []) is profile


def test_a_rule_the_profile_cannot_take_is_left_out_or_refused():
    profile = BrandProfile(hashtags=HashtagPolicy(max=1, required=["#Acme"]))
    rule = {"hashtags": {"required": ["#Beans"]}}
    assert with_rules(profile, [rule, {"emoji": False}]).hashtags.required == ["#Acme"]
    assert with_rules(profile, [rule, {"emoji": False}]).emoji.allowed is False
    with pytest.raises(ValidationFailed, match="cannot apply to the brand profile: hashtags.required"):
        with_rules(profile, [rule], strict=True)


# --- per-locale hashtags ------------------------------------------------------------------------

LOCALE_TAGS = (
    "default_hashtags: [SpecialtyCoffee, '#DirectTrade']\n"
    "hashtags:\n  required: ['#Acme']\n  topical:\n    fr: [CaféDeSpécialité]\n"
    "  equivalents:\n    fr: {SpecialtyCoffee: CaféDeSpécialité, '#DirectTrade': '#CommerceDirect'}\n"
)


def test_a_locale_can_have_its_own_topical_tags_and_equivalents():
    profile = parse_profile(LOCALE_TAGS)
    assert profile.topical_hashtags("fr") == ["#CaféDeSpécialité"]
    assert profile.topical_hashtags("fr-CA") == ["#CaféDeSpécialité"]  # a region uses its language's
    assert profile.topical_hashtags("en") == ["#SpecialtyCoffee", "#DirectTrade"]
    assert profile.hashtag_equivalents("fr") == {
        "#SpecialtyCoffee": "#CaféDeSpécialité",
        "#DirectTrade": "#CommerceDirect",
    }
    assert profile.hashtag_equivalents("en") == {}
    # The plain list still means "every locale" when no locale has its own, written its way.
    plain = parse_profile("default_hashtags: [SpecialtyCoffee, DirectTrade]\n")
    assert plain.topical_hashtags("fr") == plain.topical_hashtags("en") == ["#SpecialtyCoffee", "#DirectTrade"]
    swapped = parse_profile("default_hashtags: [SpecialtyCoffee, DirectTrade]\n"
                            "hashtags: {equivalents: {fr: {specialtycoffee: CaféDeSpécialité}}}\n")
    assert swapped.topical_hashtags("fr") == ["#CaféDeSpécialité", "#DirectTrade"]
    assert swapped.topical_hashtags("en") == ["#SpecialtyCoffee", "#DirectTrade"]


def test_sample_kit_gives_french_posts_french_hashtags_but_never_renames_the_brand():
    profile = load_profile(SAMPLE_KIT)
    assert profile.topical_hashtags("fr") == ["#CaféDeSpécialité"]  # fr/voix.md › Mots-dièse
    assert profile.hashtag_equivalents("fr")["#SpecialtyCoffee"] == "#CaféDeSpécialité"
    assert "#Tidewren" not in profile.hashtag_equivalents("fr")
    assert profile.topical_hashtags("en") == profile.default_hashtags


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("default_hashtags:\n  fr: ['#Café']\n", "give a locale its own under hashtags.topical"),
        ("hashtags:\n  topical:\n    ja: ['#Coffee']\n", "hashtags.topical has the locale 'ja'"),
        ("hashtags:\n  topical:\n    fr: ['#deux mots']\n",
         "hashtags.topical.fr: a hashtag cannot contain spaces"),
        ("hashtags:\n  equivalents:\n    fr: ['#A', '#B']\n", "hashtags.equivalents.fr must be a mapping"),
        ("hashtags:\n  equivalent: {fr: {A: B}}\n",
         "unknown key 'hashtags.equivalent' (did you mean 'equivalents'?)"),
        ("hashtags:\n  required: ['#Acme']\n  equivalents:\n    fr: {Acme: AcmeFrance}\n",
         "hashtags.equivalents.fr: #Acme is a required tag, the same in every locale"),
        ("hashtags:\n  forbidden: ['#Promo']\n  equivalents:\n    fr: {Deal: Promo}\n",
         "hashtags.equivalents.fr: #Deal maps to #Promo, which hashtags.forbidden lists"),
        ("hashtags:\n  equivalents:\n    fr: {Coffee: '#coffee'}\n", "#Coffee maps to itself"),
    ],
)
def test_wrong_locale_hashtags_name_the_key(text, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_profile(text, source="kit/brand.yaml")
    assert message in str(caught.value)


def test_accepted_rules_extend_each_locales_hashtags():
    profile = parse_profile(LOCALE_TAGS)
    merged = with_rules(profile, [
        {"hashtags": {"topical": {"fr": ["#Torréfaction"], "de": ["#Kaffee"]}}},
        {"hashtags": {"equivalents": {"fr": {"#Coffee": "#Café"}}}},
        {"default_hashtags": ["#Roastery"]},
        {"hashtags": {"equivalents": {"fr": {"#Acme": "#AcmeFrance"}}}},  # the brand's tag: left out
    ])
    assert merged.topical_hashtags("fr") == ["#CaféDeSpécialité", "#Torréfaction"]
    assert merged.topical_hashtags("de") == ["#Kaffee"]
    assert merged.topical_hashtags("en") == ["#SpecialtyCoffee", "#DirectTrade", "#Roastery"]
    assert merged.hashtag_equivalents("fr") == {
        "#SpecialtyCoffee": "#CaféDeSpécialité",
        "#DirectTrade": "#CommerceDirect",
        "#Coffee": "#Café",
    }
