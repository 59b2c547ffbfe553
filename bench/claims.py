"""Claims check evaluation: drafts with planted unsupported claims must be caught, clean ones must pass.

The set (bench/claims_set.yaml) gives each draft the context it was written from: brief, cited
passages, fetched sources with their dates, and the sample kit's brand profile. A planted draft is
caught when the claims check fails on it; it is fully named when the failure names every planted
claim. A clean draft that fails is a false alarm. Prints the misses, then a JSON summary as the last line.
Targets: caught >= 95 %, false alarms <= 5 %.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import grounding  # noqa: E402
from core.settings import SAMPLE_KIT  # noqa: E402
from knowledge.profile import load_profile  # noqa: E402

SET = Path(__file__).resolve().parent / "claims_set.yaml"


def evaluate(path: Path = SET) -> dict:
    profile = load_profile(SAMPLE_KIT)
    contexts = yaml.safe_load(path.read_text(encoding="utf-8"))["contexts"]
    rows = []
    started = time.perf_counter()
    for context in contexts:
        grounds = grounding.Grounds(
            brief=context["brief"], passages=context.get("passages", []), profile=profile,
            sources=[{"kind": "html", **s} for s in context.get("sources", [])],
            now=datetime.fromisoformat(str(context["now"])))
        for number, draft in enumerate(context["drafts"], 1):
            check = grounding.claims(draft["text"], locale=context["locale"], grounds=grounds)
            found = grounding.unsupported(draft["text"], locale=context["locale"], grounds=grounds)
            planted = draft.get("planted", [])
            rows.append({"draft": f"{context['id']}#{number}", "locale": context["locale"], "planted": planted,
                         "flagged": not check.ok, "found": found,
                         "named": all(any(p in f or f in p for f in found) for p in planted)})
    seconds = time.perf_counter() - started
    planted = [r for r in rows if r["planted"]]
    clean = [r for r in rows if not r["planted"]]
    caught = sum(r["flagged"] for r in planted)
    alarms = sum(r["flagged"] for r in clean)
    return {"rows": rows, "summary": {
        "drafts": len(rows), "planted": len(planted), "clean": len(clean),
        "caught": f"{caught}/{len(planted)}", "caught_pct": round(100 * caught / len(planted), 1),
        "fully_named": f"{sum(r['named'] for r in planted)}/{len(planted)}",
        "false_alarms": f"{alarms}/{len(clean)}", "false_alarm_pct": round(100 * alarms / len(clean), 1),
        "by_locale": {loc: {"caught": f"{sum(r['flagged'] for r in planted if r['locale'] == loc)}/"
                                      f"{sum(1 for r in planted if r['locale'] == loc)}",
                            "false_alarms": f"{sum(r['flagged'] for r in clean if r['locale'] == loc)}/"
                                            f"{sum(1 for r in clean if r['locale'] == loc)}"}
                      for loc in sorted({r['locale'] for r in rows})},
        "ms_per_draft": round(1000 * seconds / len(rows), 1)}}


def main() -> int:
    result = evaluate()
    for row in result["rows"]:
        if row["planted"] and not (row["flagged"] and row["named"]):
            print(f"missed  {row['draft']}: planted {row['planted']}, found {row['found']}")
        elif not row["planted"] and row["flagged"]:
            print(f"false alarm  {row['draft']}: {row['found']}")
    summary = result["summary"]
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if summary["caught_pct"] >= 95 and summary["false_alarm_pct"] <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
