"""Brand profile: the sample brand.yaml, defaults, and errors that name the key."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from core.brand import BrandProfile, Disclosure, EmojiPolicy
from core.errors import ValidationFailed
from core.settings import SAMPLE_KIT
from knowledge.profile import load_profile, parse_profile


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


def test_accepted_rules_are_merged_over_brand_yaml(tmp_path):
    (tmp_path / "brand.yaml").write_text(
        "# hand-written\nbanned: [cheap]\nemoji: false\n"
        "hashtags: {required: ['#Acme'], forbidden: ['#Spam']}\n"
        "disclosures: [{tag: '#ad', when: sponsored}]\nspellings: [Acme]\n"
        "glossary: {fr: {roast: torréfaction}}\n"
    )
    (tmp_path / "brand.accepted.yaml").write_text(
        "# accepted\n---\nbanned: {cheap: affordable, synergy: ''}\n"
        "---\nemoji: {max: 1}\n---\nhashtags: {forbidden: ['#spam', '#Bots'], max: 2}\n"
        "---\ndisclosures: [{tag: ad, when: [partnership]}, {tag: '#gifted', when: [free sample]}]\n"
        "---\nspellings: [ACME Labs, acme]\n---\nglossary: {fr: {shop: boutique}}\n---\n"
    )
    profile = load_profile(tmp_path)
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


def test_accepted_rules_apply_without_a_brand_yaml_and_beside_a_named_file(tmp_path):
    (tmp_path / "brand.accepted.yaml").write_text("---\nbanned: {cheap: affordable}\n")
    assert load_profile(tmp_path).banned == {"cheap": "affordable"}
    named = tmp_path / "acme.yml"
    named.write_text("name: Acme\n")
    (tmp_path / "acme.accepted.yml").write_text("---\nemoji: false\n")
    profile = load_profile(named)
    assert profile.name == "Acme" and profile.emoji == EmojiPolicy(allowed=False, max=0)


def test_a_broken_accepted_snippet_names_its_document(tmp_path):
    (tmp_path / "brand.yaml").write_text("name: Acme\n")
    (tmp_path / "brand.accepted.yaml").write_text("---\nbanned: {a: b}\n---\nemoji: {max: lots}\n")
    with pytest.raises(ValidationFailed, match=r"brand\.accepted\.yaml \(document 2\): emoji\.max"):
        load_profile(tmp_path)
    (tmp_path / "brand.accepted.yaml").write_text("---\nbanned: [a\n")
    with pytest.raises(ValidationFailed, match=r"brand\.accepted\.yaml: malformed YAML at line"):
        load_profile(tmp_path)
