"""`plume ingest`, `plume guidelines` and `plume rules` as a user runs them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import app
from core.settings import SAMPLE_KIT, load
from knowledge.profile import load_profile


@pytest.fixture
def env(tmp_path, monkeypatch):
    """PLUME_HOME and PLUME_KIT for `app.main`; the kit starts without guidelines."""
    home, kit = tmp_path / "home", tmp_path / "kit"
    kit.mkdir()
    monkeypatch.setenv("PLUME_HOME", str(home))
    monkeypatch.setenv("PLUME_KIT", str(kit))
    return home, kit


def guidelines(capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert app.main(["guidelines", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sources_are_relative_to_the_folder_or_the_file_ingested(env, tmp_path, capsys):
    folder = tmp_path / "brand"
    (folder / "en" / "social").mkdir(parents=True)
    (folder / "en" / "social" / "emoji.md").write_text("# Emoji\nAt most two emoji per post.\n")
    single = tmp_path / "elsewhere" / "deep" / "hashtags.txt"
    single.parent.mkdir(parents=True)
    single.write_text("Always end with #Acme and at most three hashtags.\n")

    assert app.main(["ingest", str(folder)]) == 0
    assert app.main(["ingest", str(single)]) == 0
    found = guidelines(capsys, "emoji and hashtags per post", "--k", "5")

    assert {hit["source"] for hit in found} == {"en/social/emoji.md", "hashtags.txt"}
    assert all(set(hit) == {"source", "heading", "text", "score"} for hit in found)
    emoji = next(hit for hit in found if hit["source"] == "en/social/emoji.md")
    assert (emoji["heading"], emoji["text"]) == ("Emoji", "At most two emoji per post.")
    assert 0 < emoji["score"] <= 1
    assert len(guidelines(capsys, "emoji", "--k", "1")) == 1

    assert app.main(["guidelines", "emoji", "--k", "0"]) == 2
    assert "--k must be 1 or more" in capsys.readouterr().err


def test_ingest_reports_proposals_and_rules_accept_them(env, make_settings, capsys, monkeypatch):
    home, _ = env
    make_settings(home=home)  # the sample kit already indexed: nothing is embedded again
    kit = Path(shutil.copytree(SAMPLE_KIT, home.parent / "sample"))
    monkeypatch.setenv("PLUME_KIT", str(kit))  # proposals are checked against its profile
    brand = (kit / "brand.yaml").read_bytes()

    assert app.main(["ingest", str(kit)]) == 0
    out = capsys.readouterr().out
    count = int(re.search(r"(\d+) rule proposals found — review with `plume rules`", out).group(1))
    assert count >= 10

    assert app.main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert f"{count} rule proposals (none applies until accepted)" in listing
    number = int(re.search(r"\[(\d+)\] avoid “sans culpabilité”", listing).group(1))
    assert "fr/regles.md › Règles de publication › Mots à éviter" in listing

    assert app.main(["rules", "accept", str(number)]) == 0
    assert f"✓ Rule {number} accepted: drafts follow it from now on" in capsys.readouterr().out
    with app.assemble(load(), run_scheduler=False, quiet=True) as plume:
        assert plume.runner.context.brand().banned["sans culpabilité"] == ""
        assert plume.profile == load_profile(kit)  # the kit itself is never rewritten
    assert (kit / "brand.yaml").read_bytes() == brand

    assert app.main(["rules", "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)
    assert len(pending) == count - 1 and number not in {p["id"] for p in pending}
    assert {"id", "rule", "summary", "source", "found_in"} <= set(pending[0])
    assert app.main(["rules", "dismiss", str(pending[0]["id"])]) == 0
    assert app.main(["rules", "accept", "999", str(number), str(pending[1]["id"])]) == 1
    out, err = capsys.readouterr()
    assert "There is no proposed rule #999" in err and f"Rule #{number} was already accepted" in err
    assert f"✓ Rule {pending[1]['id']} accepted" in out
