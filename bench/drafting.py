"""Drafting evaluation: a scripted model makes typical mistakes; do the checks catch them, and
does the bounded revise loop fix what the model fixes (and flag what it does not)?

Prints one line per scenario and a JSON summary as the last line.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.runner import thread_id_for  # noqa: E402
from app import assemble  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.sloppy import Sloppy  # noqa: E402

LAUNCH = "Announce our new Ethiopia Guji roast on LinkedIn and X https://tidewren.coffee/guji"
BILINGUAL = "Announce our new Ethiopia Guji roast on LinkedIn and X in English and French https://tidewren.coffee/guji"
PARTNER = ("Announce our partnership with the Atelier Grès ceramics studio on LinkedIn and X "
           "https://tidewren.coffee/atelier")
# scenario: (brief, mistakes made, mistakes the model will not fix, what the checks must say)
SCENARIOS = {
    "clean draft (control)": (LAUNCH, set(), set(), None),
    "too long for X": (LAUNCH, {"too_long"}, set(), "characters as X counts"),
    "banned word": (LAUNCH, {"banned_word"}, set(), "Banned word “cheap”"),
    "glossary term dropped in French": (BILINGUAL, {"dropped_glossary"}, set(), "Glossary"),
    "disclosure missing": (PARTNER, {"missing_disclosure"}, set(), "#ad"),
    "disclosure missing, model stubborn": (PARTNER, {"missing_disclosure"}, {"missing_disclosure"}, "#ad"),
}


def run(home_root: Path, indexed: Path | None) -> tuple[list[dict], Path]:
    results = []
    for number, (name, (brief, make, stubborn, expected)) in enumerate(SCENARIOS.items()):
        home = home_root / f"s{number}"
        if indexed:
            shutil.copytree(indexed, home / "chroma")
        model = Sloppy(make=set(make), stubborn=set(stubborn))
        with FakeOpenAI(model.script) as fake:
            settings = Settings(_env_file=None, plume_home=home, plume_model="fake-model",
                                openai_base_url=fake.base_url, openai_api_key="eval")
            with assemble(settings, quiet=True) as plume:
                outcome = plume.runner.start(thread_id=thread_id_for("eval", name), text=brief, actor="eval")
                calls = fake.calls
        indexed = indexed or home / "chroma"
        requested = " | ".join(model.fix_requests)
        still = [c["message"] for p in outcome.posts for c in p.checks if not c["ok"] and c["severity"] == "error"]
        caught = expected is None and not requested or expected is not None and expected in requested
        remaining = expected is not None and any(expected in m for m in still)
        results.append({
            "scenario": name, "caught": caught, "fixed": bool(expected) and caught and not remaining,
            "flagged_on_card": remaining, "revision_rounds": model.revised_rounds, "llm_calls": calls,
            "blocking_problems_left": len(still),
        })
    return results, indexed


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="plume-drafting-"))
    try:
        results, _ = run(root, None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for r in results:
        print(f"{r['scenario']:38s} caught={r['caught']!s:5} fixed={r['fixed']!s:5} "
              f"flagged={r['flagged_on_card']!s:5} rounds={r['revision_rounds']} calls={r['llm_calls']}")
    mistakes = [r for r in results if r["scenario"] != "clean draft (control)"]
    summary = {
        "scenarios": len(results),
        "mistakes_caught": f"{sum(r['caught'] for r in mistakes)}/{len(mistakes)}",
        "fixed_by_revision": f"{sum(r['fixed'] for r in mistakes)}/{len(mistakes)}",
        "left_flagged_on_card": f"{sum(r['flagged_on_card'] for r in mistakes)}/{len(mistakes)}",
        "control_false_alarms": sum(1 for r in results if r["scenario"] == "clean draft (control)"
                                    and r["revision_rounds"]),
        "max_revision_rounds": max(r["revision_rounds"] for r in results),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
