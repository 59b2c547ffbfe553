"""Pipeline overhead: 20 briefs, 2 networks × 2 locales, a fake model that answers instantly.

Prints one line per brief, then a JSON summary as the last line:
overhead_ms_p95 (time per brief outside the model), llm_calls (per brief) and token totals.
Targets: overhead p95 < 300 ms, llm_calls <= 3.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.runner import thread_id_for  # noqa: E402
from app import assemble  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.fakes.copywriter import Copywriter  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

BRIEFS = 20
TOPICS = ["our new Ethiopia Guji roast", "the Colombian Huila decaf", "Saturday's cupping at the roastery",
          "the Wren Espresso blend's new label", "our winter subscription box"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="plume-bench-"))
    try:
        with FakeOpenAI(Copywriter().script) as fake:
            settings = Settings(_env_file=None, plume_home=home, plume_model="fake-model",
                                openai_base_url=fake.base_url, openai_api_key="bench", plume_timezone="Europe/Paris")
            with assemble(settings, quiet=True) as plume:
                # Warm-up: first-call costs (imports, HTTP client, embedding model) are not per-brief costs.
                plume.runner.start(thread_id=thread_id_for("bench", "warm"), actor="bench",
                                   text="Launch the Guji roast on LinkedIn and X in English and French")
                fake.reset()
                model_seconds, calls = plume.model.usage.seconds, plume.model.usage.calls
                tokens_before = plume.model.usage.snapshot()
                overheads, totals = [], []
                for i in range(BRIEFS):
                    text = (f"Announce {TOPICS[i % len(TOPICS)]} on LinkedIn and X, in English and French. "
                            f"https://tidewren.coffee/news/{i}")
                    started = time.perf_counter()
                    plume.runner.start(thread_id=thread_id_for("bench", str(i)), text=text, actor="bench")
                    total = time.perf_counter() - started
                    in_model = plume.model.usage.seconds - model_seconds
                    model_seconds = plume.model.usage.seconds
                    overheads.append((total - in_model) * 1000)
                    totals.append(total * 1000)
                    print(f"brief {i + 1:2d}: total {total * 1000:7.1f} ms, outside the model "
                          f"{overheads[-1]:7.1f} ms", flush=True)
                usage = plume.model.usage.snapshot()
                summary = {
                    "briefs": BRIEFS,
                    "variants_per_brief": 4,
                    "overhead_ms_p50": round(statistics.median(overheads), 1),
                    "overhead_ms_p95": round(percentile(overheads, 0.95), 1),
                    "total_ms_p95": round(percentile(totals, 0.95), 1),
                    "llm_calls": round((usage["calls"] - calls) / BRIEFS, 2),
                    "http_requests_to_model": fake.calls,
                    "prompt_tokens": usage["prompt_tokens"] - tokens_before["prompt_tokens"],
                    "completion_tokens": usage["completion_tokens"] - tokens_before["completion_tokens"],
                }
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
