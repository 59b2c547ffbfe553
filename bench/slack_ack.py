"""Slack ack latency while the model is slow: 20 concurrent signed requests, fake model at 5 s per call.

Runs the real app behind its real HTTP server, a loopback fake of Slack's Web API and a fake
OpenAI-compatible model that takes 5 s per call. Each round sends 20 requests at once (mentions
that start briefs, reply messages, /plume commands, App Home opens and card clicks) and measures
the time until Slack would get its HTTP response. Target: p99 < 100 ms.

Prints one line per round, then a JSON summary as the last line.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import assemble  # noqa: E402
from bot.slack import blocks  # noqa: E402
from bot.slack.app import build  # noqa: E402
from bot.slack.server import make_server  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.bot.slack.fake_slack import FakeSlack  # noqa: E402
from tests.bot.slack.signing import SlackSender  # noqa: E402
from tests.fakes.copywriter import Copywriter  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

CONCURRENCY = 20
ROUNDS = 5
MODEL_DELAY = 5.0
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TARGET_P99_MS = 100.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def request_kinds(send: SlackSender, response_url: str, round_no: int):
    def mention(i):
        return send.mention(f"Announce our new Guji roast on LinkedIn and X, take {round_no}-{i}",
                            ts=f"17{round_no:02d}{i:04d}.000001", user="UANA")

    def command(i):
        return send.command("queue", user="UBOSS", response_url=f"{response_url}b{round_no}-{i}")

    def home(i):
        return send.event({"type": "app_home_opened", "user": "UMIA", "channel": "D1", "tab": "home"})

    def click(i):
        return send.click(blocks.REQUEST_CHANGES, "1:1", user="UMIA")

    return [mention, mention, mention, mention, mention, command, home, click]


def fire_rounds(url: str, response_url: str, out) -> None:
    """Plays Slack from its own process, so the client's threads don't compete with the app for the GIL."""
    send = SlackSender(url, SECRET)
    for round_no in range(ROUNDS):
        kinds = request_kinds(send, response_url, round_no)
        results: list = [None] * CONCURRENCY
        barrier = threading.Barrier(CONCURRENCY)

        def fire(i, kinds=kinds, results=results, barrier=barrier):
            barrier.wait()
            results[i] = kinds[i % len(kinds)](i)

        threads = [threading.Thread(target=fire, args=(i,)) for i in range(CONCURRENCY)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.put([(r.status, r.seconds * 1000) for r in results])
        time.sleep(1.0)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="plume-bench-slack-"))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    try:
        with FakeOpenAI(Copywriter().script, delay=MODEL_DELAY) as model, FakeSlack(token=TOKEN) as slack:
            settings = Settings(_env_file=None, plume_home=home, plume_model="fake-model",
                                openai_base_url=model.base_url, openai_api_key="bench", slack_bot_token=TOKEN,
                                slack_signing_secret=SECRET, slack_api_url=slack.api_url,
                                plume_approvers="UBOSS,UMIA", plume_timezone="Europe/Paris")
            with assemble(settings, quiet=True) as plume:
                app = build(plume)
                server = make_server(app, host="127.0.0.1", port=0)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                send = SlackSender(server.url, SECRET)
                send.mention("warm-up brief", ts="1600000000.000001")  # imports, first DB writes, auth.test
                time.sleep(0.5)
                context = multiprocessing.get_context("spawn")
                out = context.Queue()
                client = context.Process(target=fire_rounds, args=(server.url, slack.response_url(""), out))
                client.start()
                for round_no in range(ROUNDS):
                    pairs = out.get(timeout=120)
                    round_ms = [ms for _, ms in pairs]
                    for status, _ in pairs:
                        statuses[status] = statuses.get(status, 0) + 1
                    latencies += round_ms
                    print(f"round {round_no + 1}: p50 {statistics.median(round_ms):.1f} ms, "
                          f"max {max(round_ms):.1f} ms, model calls so far {model.calls}", flush=True)
                client.join(30)
                summary = {
                    "requests": len(latencies), "concurrency": CONCURRENCY, "model_delay_s": MODEL_DELAY,
                    "ack_ms_p50": round(percentile(latencies, 50), 1),
                    "ack_ms_p95": round(percentile(latencies, 95), 1),
                    "ack_ms_p99": round(percentile(latencies, 99), 1),
                    "ack_ms_max": round(max(latencies), 1),
                    "statuses": statuses, "model_calls_started": model.calls,
                    "target_p99_ms": TARGET_P99_MS,
                    "ok": percentile(latencies, 99) < TARGET_P99_MS and set(statuses) == {200},
                }
                print(json.dumps(summary), flush=True)
                # Twenty briefs are still waiting on a 5 s model: don't wait for them.
                server.shutdown()
                os._exit(0 if summary["ok"] else 1)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
