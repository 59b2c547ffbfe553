"""Rule proposals: found in English and French prose, kept aside, applied only once accepted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.errors import NotFound, ValidationFailed
from core.settings import SAMPLE_KIT, Settings
from knowledge import proposals
from knowledge.chunking import split_sections
from knowledge.ingest import ingest
from knowledge.profile import load_profile
from knowledge.proposals import Book, accept, dismiss, find_rules
from knowledge.store import KnowledgeStore

GUIDE = """\
# Voice

## Words

We never say "world-class" or "cheapest". Write "affordable", not "cheap".
Don't use "foodie", say "coffee lover". Replace "guys" with "everyone".
Say "team" instead of "staff". Avoid "just" in brew guides.
Never replace words with emoji ("we ❤️ our ☕ so much" is not our voice).

| Avoid | Write instead | Why |
|---|---|---|
| exotic, "addictive" | (drop it) | othering |
| world's best, best ever | our favourite, one we love | unprovable |

## Hashtags and emoji

- Always include #Acme, exactly once.
- Never use #CoffeeAddict, #FoodPorn or trending tags.
- No more than three hashtags per post.
- At most two emoji per post; on LinkedIn use at most one.
- Use #ad for partnerships and sponsored posts.
- The #ad does not count towards the limit. No disclosure, no post: drafts without #ad are never approved.
"""

GUIDE_FR = """\
# Voix

N'écrivez jamais « top » ni « génial ». Évitez « incroyable ».
Préférez « abordable » à « pas cher ». « Infolettre » plutôt que « newsletter ».
Santé : jamais d'allégation (« bon pour la santé », « brûle les graisses »).
Guillemets « comme ceci », jamais "comme cela".

- #Acme dans chaque publication.
- Trois mots-dièse au maximum.
- Deux émojis au maximum par publication.
- Ajoutez #ad aux publications liées à un partenariat.
"""


def rules(text: str) -> list[dict]:
    return [f.rule for f in find_rules(split_sections(text), source="guide.md")]


def test_rules_found_in_english_prose_lists_and_tables():
    found = rules(GUIDE)
    banned = {w: r for rule in found if "banned" in rule for w, r in rule["banned"].items()}
    assert banned == {
        "world-class": "",
        "cheapest": "",
        "cheap": "affordable",
        "foodie": "coffee lover",
        "guys": "everyone",
        "staff": "team",
        "just": "",
        "exotic": "",
        "addictive": "",
        "world's best": "our favourite",
        "best ever": "one we love",
    }
    others = [rule for rule in found if "banned" not in rule]
    assert others == [
        {"hashtags": {"required": ["#Acme"]}},
        {"hashtags": {"forbidden": ["#CoffeeAddict"]}},
        {"hashtags": {"forbidden": ["#FoodPorn"]}},
        {"hashtags": {"max": 3}},
        {"emoji": {"max": 2}},
        {"disclosures": [{"tag": "#ad", "when": ["partnership"]}]},
    ]  # nothing from "#ad does not count" or "drafts without #ad are never approved"


def test_rules_found_in_french_prose():
    found = rules(GUIDE_FR)
    banned = {w: r for rule in found if "banned" in rule for w, r in rule["banned"].items()}
    assert banned == {
        "top": "",
        "génial": "",
        "incroyable": "",
        "pas cher": "abordable",
        "newsletter": "Infolettre",
        "bon pour la santé": "",
        "brûle les graisses": "",
    }  # « comme cela » is an example of typography, not a word rule: bare "jamais" is no trigger
    assert [rule for rule in found if "banned" not in rule] == [
        {"hashtags": {"required": ["#Acme"]}},
        {"hashtags": {"max": 3}},
        {"emoji": {"max": 2}},
        {"disclosures": [{"tag": "#ad", "when": ["partenariat"]}]},
    ]


def test_each_finding_says_where_it_was_read():
    finding = next(
        f for f in find_rules(split_sections(GUIDE), source="en/voice.md") if "guys" in str(f.rule)
    )
    assert (finding.source, finding.heading) == ("en/voice.md", "Voice › Words")
    assert finding.quote == 'Replace "guys" with "everyone".'


@pytest.fixture
def kit(tmp_path) -> Path:
    return Path(shutil.copytree(SAMPLE_KIT, tmp_path / "kit"))


@pytest.fixture
def home(make_settings) -> Path:
    """A home whose store already holds the sample kit (copied from the session index)."""
    return make_settings().plume_home


def test_ingest_proposes_rules_and_changes_nothing_until_accepted(kit, home):
    brand_before = (kit / "brand.yaml").read_bytes()
    profile_before = load_profile(kit)
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    book_file = proposals.book_path(home)

    # The store already holds the kit: no file is re-embedded, but each is read for rules once.
    report = ingest(store, [kit], proposals=book_file)
    assert report.chunks == 0 and len(report.skipped) == 9 and report.ok
    book = Book.load(book_file)
    pending = {p.summary for p in book.pending(profile_before)}
    assert {
        "avoid “le meilleur café du monde” → write “notre coup de cœur”",
        "avoid “sans culpabilité”",
        "avoid “bon pour la santé”",
        "avoid “carbon neutral”",
    } <= pending
    # Rules the profile already holds are not proposed again ("cheap", #Tidewren, 2 emoji…).
    assert not any("cheap" in s or "#Tidewren" in s or "emoji" in s for s in pending)

    assert (kit / "brand.yaml").read_bytes() == brand_before
    assert not (kit / "brand.accepted.yaml").exists()
    assert load_profile(kit) == profile_before

    again = ingest(store, [kit], proposals=book_file)
    assert again.proposals == [] and Book.load(book_file).proposals == book.proposals


def test_accepting_appends_a_snippet_that_load_profile_merges(kit, home):
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    book_file = proposals.book_path(home)
    ingest(store, [kit], proposals=book_file)
    book = Book.load(book_file)
    by_summary = {p.summary: p for p in book.pending(load_profile(kit))}
    superlative = by_summary["avoid “le meilleur café du monde” → write “notre coup de cœur”"]
    health = by_summary["avoid “bon pour la santé”"]
    brand_before = (kit / "brand.yaml").read_text(encoding="utf-8")

    target = accept(book, superlative.id, kit)
    accept(book, health.id, kit)

    assert target == kit / "brand.accepted.yaml"
    profile = load_profile(kit)
    assert profile.banned["le meilleur café du monde"] == "notre coup de cœur"
    assert profile.banned["bon pour la santé"] == ""
    assert profile.banned["cheap"] == "affordable"  # brand.yaml's own rules are all kept
    assert (kit / "brand.yaml").read_text(encoding="utf-8") == brand_before
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# brand.accepted.yaml")
    assert f"# Proposal {superlative.id}, accepted" in text and "# from fr/regles.md" in text
    assert len([d for d in yaml.safe_load_all(text) if d]) == 2

    reloaded = Book.load(book_file)
    assert reloaded.get(superlative.id).status == "accepted"
    assert superlative.id not in {p.id for p in reloaded.pending(profile)}
    with pytest.raises(ValidationFailed, match="already accepted"):
        accept(reloaded, superlative.id, kit)
    with pytest.raises(NotFound, match="no rule proposal 999"):
        accept(reloaded, 999, kit)


def test_dismissed_proposals_stay_dismissed_after_reingest(kit, home):
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    book_file = proposals.book_path(home)
    ingest(store, [kit], proposals=book_file)
    book = Book.load(book_file)
    first = book.pending(load_profile(kit))[0]
    dismiss(book, first.id)

    # Editing the file re-reads it: the same rule keeps its number and its decision.
    rules_md = kit / "en" / "rules.md"
    rules_md.write_text(rules_md.read_text(encoding="utf-8") + '\nAvoid "synergy".\n')
    report = ingest(store, [kit], proposals=book_file)
    assert report.updated == ["en/rules.md"]
    assert [p.summary for p in report.proposals] == ["avoid “synergy”"]
    again = Book.load(book_file)
    assert again.get(first.id).status == "dismissed"
    assert first.id not in {p.id for p in again.pending(load_profile(kit))}

    # A pruned file takes its open proposals with it.
    rules_md.unlink()
    ingest(store, [kit], prune=True, proposals=book_file)
    assert not any(
        w["source"] == "en/rules.md" for p in Book.load(book_file).proposals for w in p.found_in
    )


def test_a_rule_that_would_break_the_profile_is_refused_and_nothing_is_written(tmp_path):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "brand.yaml").write_text("# ours\nhashtags:\n  max: 1\n  required: ['#Acme']\n")
    book = Book(tmp_path / "proposed_rules.yaml")
    (proposal,) = book.record(
        "voice.md", "hash", "en", find_rules(split_sections("Always include #Beans."), source="v")
    )
    with pytest.raises(
        ValidationFailed, match="hashtags.required lists 2 tags but hashtags.max is 1"
    ):
        accept(book, proposal.id, kit)
    assert not (kit / "brand.accepted.yaml").exists()
    assert book.get(proposal.id).status == "open"
