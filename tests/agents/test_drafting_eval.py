"""The drafting evaluation as a test: every typical mistake is caught; the revise loop fixes what
the model fixes and leaves the rest flagged on the card, within two rounds."""

from bench.drafting import run


def test_checks_catch_every_mistake_and_revision_is_bounded(tmp_path, indexed_kit):
    results = {r["scenario"]: r for r in run(tmp_path, indexed_kit)[0]}
    control = results.pop("clean draft (control)")
    assert control["revision_rounds"] == 0 and control["blocking_problems_left"] == 0
    assert all(r["caught"] for r in results.values()), results
    stubborn = results.pop("disclosure missing, model stubborn")
    assert all(r["fixed"] and r["blocking_problems_left"] == 0 for r in results.values()), results
    assert stubborn["flagged_on_card"] and stubborn["revision_rounds"] == 2
    # intake + draft (+ one localization) + at most two revision rounds
    assert all(r["llm_calls"] <= 5 for r in results.values())
