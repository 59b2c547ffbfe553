"""Rules stated in the guidelines: found in English and French prose, proposed, applied only once accepted."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from core import rules
from core.errors import InvalidTransition, NotFound, ValidationFailed
from core.rules import Finding
from core.settings import SAMPLE_KIT, Settings
from knowledge.chunking import split_sections
from knowledge.ingest import ingest
from knowledge.profile import check_rule, load_profile, with_rules
from knowledge.proposals import find_rules
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


def found(text: str) -> list[dict]:
    return [f.rule for f in find_rules(split_sections(text))]


def test_rules_found_in_english_prose_lists_and_tables():
    found_rules = found(GUIDE)
    banned = {w: r for rule in found_rules if "banned" in rule for w, r in rule["banned"].items()}
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
    others = [rule for rule in found_rules if "banned" not in rule]
    assert others == [
        {"hashtags": {"required": ["#Acme"]}},
        {"hashtags": {"forbidden": ["#CoffeeAddict"]}},
        {"hashtags": {"forbidden": ["#FoodPorn"]}},
        {"hashtags": {"max": 3}},
        {"emoji": {"max": 2}},
        {"disclosures": [{"tag": "#ad", "when": ["partnership"]}]},
    ]  # nothing from "#ad does not count" or "drafts without #ad are never approved"


def test_rules_found_in_french_prose():
    found_rules = found(GUIDE_FR)
    banned = {w: r for rule in found_rules if "banned" in rule for w, r in rule["banned"].items()}
    assert banned == {
        "top": "",
        "génial": "",
        "incroyable": "",
        "pas cher": "abordable",
        "newsletter": "Infolettre",
        "bon pour la santé": "",
        "brûle les graisses": "",
    }  # « comme cela » is an example of typography, not a word rule: bare "jamais" is no trigger
    assert [rule for rule in found_rules if "banned" not in rule] == [
        {"hashtags": {"required": ["#Acme"]}},
        {"hashtags": {"max": 3}},
        {"emoji": {"max": 2}},
        {"disclosures": [{"tag": "#ad", "when": ["partenariat"]}]},
    ]


def test_each_finding_says_where_it_was_read():
    finding = next(f for f in find_rules(split_sections(GUIDE)) if "guys" in str(f.rule))
    assert finding.heading == "Voice › Words"
    assert finding.quote == 'Replace "guys" with "everyone".'


@pytest.fixture
def kit(tmp_path) -> Path:
    return Path(shutil.copytree(SAMPLE_KIT, tmp_path / "kit"))


@pytest.fixture
def home(make_settings) -> Path:
    """A home whose store already holds the sample kit (copied from the session index)."""
    return make_settings().plume_home


def pending(db, kit) -> dict[str, rules.Rule]:
    with db.session() as session:
        profile = with_rules(load_profile(kit), rules.accepted(session))
        return {r.summary: r for r in rules.pending(session, profile)}


def test_ingest_proposes_rules_and_changes_nothing_until_accepted(kit, home, db):
    brand_before = (kit / "brand.yaml").read_bytes()
    profile_before = load_profile(kit)
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))

    # The store already holds the kit: no file is re-embedded, but each is read for rules once.
    report = ingest(store, [kit], db=db)
    assert report.chunks == 0 and len(report.skipped) == 9 and report.ok
    waiting = pending(db, kit)
    assert {
        "avoid “le meilleur café du monde” — write “notre coup de cœur” instead",
        "avoid “sans culpabilité”",
        "avoid “bon pour la santé”",
        "avoid “carbon neutral”",
    } <= set(waiting)
    health = waiting["avoid “bon pour la santé”"]
    assert health.source == "guidelines" and health.locale == "fr"
    assert health.origin.startswith("fr/regles.md › Règles de publication › Allégations: “")
    # Rules the profile already holds are not proposed again ("cheap", #Tidewren, 2 emoji…).
    assert not any("cheap" in s or "#Tidewren" in s or "emoji" in s for s in waiting)

    assert (kit / "brand.yaml").read_bytes() == brand_before
    assert load_profile(kit) == profile_before
    with db.session() as session:
        assert rules.accepted(session) == []

    again = ingest(store, [kit], db=db)
    assert again.proposals == [] and pending(db, kit) == waiting


def test_an_accepted_guideline_rule_applies_beside_the_kit_and_learned_rules(kit, home, db):
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    ingest(store, [kit], db=db)
    waiting = pending(db, kit)
    superlative = waiting["avoid “le meilleur café du monde” — write “notre coup de cœur” instead"]
    brand_before = (kit / "brand.yaml").read_text(encoding="utf-8")

    with db.session() as session:
        rules.settle(session, rule_id=superlative.id, actor="mia", accept=True, approvers=["mia"])
        with pytest.raises(InvalidTransition, match="already accepted by mia"):
            rules.settle(session, rule_id=superlative.id, actor="mia", accept=True, approvers=["mia"])
        with pytest.raises(NotFound, match="no proposed rule #999"):
            rules.settle(session, rule_id=999, actor="mia", accept=True, approvers=["mia"])
        profile = with_rules(load_profile(kit), rules.accepted(session))
    assert profile.banned["le meilleur café du monde"] == "notre coup de cœur"
    assert profile.banned["cheap"] == "affordable"  # brand.yaml's own rules are all kept
    assert (kit / "brand.yaml").read_text(encoding="utf-8") == brand_before
    assert superlative.summary not in pending(db, kit)


def test_dismissed_proposals_stay_dismissed_after_reingest(kit, home, db):
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    ingest(store, [kit], db=db)
    first = next(iter(pending(db, kit).values()))
    with db.session() as session:
        rules.settle(session, rule_id=first.id, actor="mia", accept=False, approvers=[])

    # Editing the file re-reads it: the same rule keeps its number and its decision.
    rules_md = kit / "en" / "rules.md"
    rules_md.write_text(rules_md.read_text(encoding="utf-8") + '\nAvoid "synergy".\n')
    report = ingest(store, [kit], db=db)
    assert report.updated == ["en/rules.md"]
    assert [p.summary for p in report.proposals] == ["avoid “synergy”"]
    with db.session() as session:
        assert {r.id: r.status for r in rules.rules(session)}[first.id] == "dismissed"
    assert first.summary not in pending(db, kit)

    # A pruned file takes its open proposals with it; decided ones stay decided.
    rules_md.unlink()
    ingest(store, [kit], prune=True, db=db)
    with db.session() as session:
        left = rules.rules(session)
    assert not any(w["source"] == "en/rules.md" for r in left for w in r.found_in)
    assert "avoid “synergy”" not in {r.summary for r in left}


def test_learned_and_found_rules_are_one_list_and_one_rule_is_proposed_once(db):
    with db.session() as session:
        [found_rule] = rules.record_guidelines(
            session, source="en/voice.md", digest="h1", locale="en",
            findings=[Finding({"banned": {"synergy": ""}}, "Voice › Words", 'Avoid "synergy".')],
        )
        learned = rules.propose(session, rule={"banned": {"Synergy": "teamwork"}},
                                evidence="replaced in 2 edits", source=rules.FEEDBACK)
        note = rules.propose(session, rule={"reviewer_notes": ["shorter"]},
                             evidence="asked 2 times", source=rules.FEEDBACK)
        assert learned is None  # the guidelines proposed it already
        assert [r.id for r in rules.rules(session)] == [found_rule.id, note.id]
        assert note.origin == "learned from feedback: asked 2 times"


def test_a_rule_the_profile_cannot_take_is_refused_and_stays_proposed(tmp_path, db):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "brand.yaml").write_text("# ours\nhashtags:\n  max: 1\n  required: ['#Acme']\n")
    profile = load_profile(kit)
    with db.session() as session:
        [rule] = rules.record_guidelines(
            session, source="voice.md", digest="h", locale="en",
            findings=find_rules(split_sections("Always include #Beans.")),
        )
    with db.session() as session, pytest.raises(
        ValidationFailed, match="hashtags.required lists 2 tags but hashtags.max is 1"
    ):
        rules.settle(session, rule_id=rule.id, actor="mia", accept=True, approvers=[],
                     check=partial(check_rule, profile))
    with db.session() as session:
        assert [r.status for r in rules.rules(session)] == ["proposed"]
        # Even if accepted some other way, drafting goes on without it.
        rules.settle(session, rule_id=rule.id, actor="mia", accept=True, approvers=[])
        assert with_rules(profile, rules.accepted(session)).hashtags.required == ["#Acme"]
