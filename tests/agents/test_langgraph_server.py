"""The brief graph under LangGraph's own server, as a LangGraph user runs it: `langgraph dev` on the
project's langgraph.json, driven over HTTP the way Studio and Agent Inbox drive it."""

import json
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx

from core import audit, posts
from core.db import Database
from core.domain import Status
from tests.conftest import wait_for

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
BRIEF = "Announce our new Ethiopia Guji roast on LinkedIn and X, tomorrow morning"
OFFLINE = {  # nothing leaves the machine: no analytics, no version check, no tracing
    "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "true", "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def langgraph_dev(where: Path, env: dict[str, str], *, auth: bool = False):
    """`langgraph dev` serving the project's langgraph.json from `where` (its paths made absolute, so
    the server's own files land there), until the block ends."""
    config = json.loads((REPO / "langgraph.json").read_text())
    config["dependencies"] = [str((REPO / dep).resolve()) for dep in config["dependencies"]]
    config["graphs"] = {name: f"{(REPO / path).resolve()}:{attr}"
                        for name, spec in config["graphs"].items() for path, attr in [spec.rsplit(":", 1)]}
    config.pop("env", None)
    if auth:
        config["auth"] = {"path": f"{Path(__file__).with_name('server_auth.py')}:auth"}
    (where / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    log = where / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(LANGGRAPH), "dev", "--config", "langgraph.json", "--host", "127.0.0.1", "--port", str(port),
             "--no-browser", "--no-reload"], cwd=where, env={**os.environ, **OFFLINE, **env}, stdout=out,
            stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=180)

    def ready() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"langgraph dev exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            return client.get("/ok").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, timeout=180, every=0.5)
        yield client
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)


def run(server: httpx.Client, thread: str, *, headers: dict | None = None, **body) -> dict:
    """One run on the thread, waited for; its values, with `__interrupt__` when it stopped for humans."""
    response = server.post(f"/threads/{thread}/runs/wait", json={"assistant_id": "brief", **body}, headers=headers)
    assert response.status_code == 200, response.text
    values = response.json()
    assert "__error__" not in values, values
    return values


def asked(values: dict) -> list[dict]:
    return [item for intr in values.get("__interrupt__", []) for item in intr["value"]]


def test_a_brief_runs_to_the_interrupt_and_agent_inbox_responses_approve_and_edit(tmp_path, make_settings):
    settings = make_settings(home=tmp_path / "home")  # the sample kit already indexed there
    with langgraph_dev(tmp_path, {"PLUME_HOME": str(settings.plume_home), "PLUME_TIMEZONE": "Europe/Paris"}) as server:
        assistant = server.post("/assistants/search", json={"graph_id": "brief"}).json()[0]["assistant_id"]
        schemas = server.get(f"/assistants/{assistant}/schemas")  # what Studio builds its input form from
        assert schemas.status_code == 200
        assert schemas.json()["input_schema"]["required"] == ["text"]
        assert "variants" in schemas.json()["output_schema"]["properties"]

        thread = server.post("/threads", json={}).json()["thread_id"]
        first, second = asked(run(server, thread, input={"text": BRIEF}))
        assert {first["action_request"]["args"]["network"], second["action_request"]["args"]["network"]} == \
            {"x", "linkedin"}
        assert first["config"]["allow_accept"] and "checks passed" in first["description"]

        # Agent Inbox's accept carries the item's request; its edit, the request with the fields changed.
        edited = json.loads(json.dumps(second["action_request"]))
        edited["args"]["text"] = edited["args"]["text"].replace("Our new Ethiopia Guji roast",
                                                                "Our new Ethiopia Guji roast, washed and bright")
        values = run(server, thread, command={"resume": [{"type": "accept", "args": first["action_request"]},
                                                         {"type": "edit", "args": edited}]})
        again = asked(values)  # the edit is checked again and comes back for approval, as version 2
        assert [(i["action_request"]["args"]["post_id"], i["action_request"]["args"]["version"]) for i in again] == \
            [(second["action_request"]["args"]["post_id"], 2)]
        assert server.get(f"/threads/{thread}/state").json()["values"]["notes"] == []

    db = Database(settings.db_url)
    try:
        with db.session() as session:
            approved = posts.get(session, first["action_request"]["args"]["post_id"])
            edit = posts.get(session, second["action_request"]["args"]["post_id"])
            assert posts.brief_text(session, thread) == (BRIEF, "agent-inbox")  # stored by the graph itself
            approved_trail = [(e.action, e.actor) for e in audit.trail(session, approved.id)]
            edit_trail = [(e.action, e.actor) for e in audit.trail(session, edit.id)]
    finally:
        db.dispose()
    assert approved.status == Status.SCHEDULED and approved.approved_by == "agent-inbox"
    assert ("post.approved", "agent-inbox") in approved_trail and ("post.scheduled", "plume") in approved_trail
    assert edit.status == Status.AWAITING_APPROVAL and edit.version == 2 and "washed and bright" in edit.text
    assert ("post.edited", "agent-inbox") in edit_trail and edit_trail[-1] == ("post.revised", "plume")


def test_the_servers_authenticated_user_decides_and_only_approvers_approve(tmp_path, make_settings):
    settings = make_settings(home=tmp_path / "home")
    ana, boss = {"x-user": "UANA"}, {"x-user": "UBOSS"}
    env = {"PLUME_HOME": str(settings.plume_home), "PLUME_APPROVERS": "UBOSS"}
    with langgraph_dev(tmp_path, env, auth=True) as server:
        assert server.post("/threads", json={}).status_code == 401
        thread = server.post("/threads", json={}, headers=ana).json()["thread_id"]
        waiting = asked(run(server, thread, headers=ana, input={"text": "Launch the Guji roast on LinkedIn"}))
        post_id = waiting[0]["action_request"]["args"]["post_id"]

        refused = run(server, thread, headers=ana, command={"resume": [{"type": "accept", "args": None}]})
        assert refused["notes"] == [f"The approval of post #{post_id} by UANA was not applied: Only the team's "
                                    "approvers can approve or reject drafts."]
        assert [i["action_request"]["args"]["post_id"] for i in asked(refused)] == [post_id]  # asked again

        approved = run(server, thread, headers=boss, command={"resume": [{"type": "accept", "args": None}]})
        assert not asked(approved)

    db = Database(settings.db_url)
    try:
        with db.session() as session:
            post = posts.get(session, post_id)
            assert posts.brief_text(session, thread) == ("Launch the Guji roast on LinkedIn", "UANA")
            trail = [(e.action, e.actor) for e in audit.trail(session, post_id)]
    finally:
        db.dispose()
    assert post.status == Status.SCHEDULED and post.approved_by == "UBOSS"
    assert [a for a in trail if a[0] == "post.approved"] == [("post.approved", "UBOSS")]
