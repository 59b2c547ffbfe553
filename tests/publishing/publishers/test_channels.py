"""The channels file: the documented example loads, mistakes get friendly errors, posts are routed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import ConfigError, NotFound
from core.settings import Settings
from publishing.channels import Channels
from publishing.publishers import NotSent, OutboxPublisher
from tests.fakes.networks.mastodon import FakeMastodon
from tests.publishing.publishers.conftest import a_post

EXAMPLE = Path(__file__).resolve().parents[3] / "channels.example.yaml"
SECRETS = {"MASTODON_TOKEN": "tok-mastodon-123", "BLUESKY_APP_PASSWORD": "pass-bsky-456",
           "LINKEDIN_TOKEN": "tok-linkedin-789", "X_USER_TOKEN": "tok-x-abc", "PLUME_WEBHOOK_SECRET": "whsec-def"}


def load(tmp_path, text: str, env: dict | None = None) -> Channels:
    path = tmp_path / "channels.yaml"
    path.write_text(text)
    return Channels.from_file(path, outbox=tmp_path / "outbox", env=env or {})


def test_the_documented_example_loads_and_shows_no_secret(tmp_path):
    channels = Channels.from_file(EXAMPLE, outbox=tmp_path / "outbox", env=SECRETS)
    assert {p.name for p in channels.all()} == {"brand-mastodon", "brand-bluesky", "brand-linkedin", "brand-x",
                                               "instagram-zap", "outbox"}
    assert channels.for_network("mastodon").name == "brand-mastodon"
    assert channels.for_network("instagram").name == "instagram-zap"
    assert channels.route("threads") == "outbox"  # no channel: nothing lost, it waits as a file
    assert channels.audience("linkedin") == ("Europe/Paris", "FR")
    assert channels.audience("x") == (None, None)
    assert sorted(channels.secrets()) == sorted(SECRETS.values())  # for the log redactor
    rows = channels.describe()
    shown = repr(rows)
    assert not any(secret in shown for secret in SECRETS.values())
    assert "/plume/instagram" not in shown  # webhook paths are often secrets themselves
    zap = next(r for r in rows if r["name"] == "instagram-zap")
    assert zap["kind"] == "webhook" and zap["serves"] == "instagram" and zap["account"] == "https://hooks.example.com/…"
    outbox = next(r for r in rows if r["name"] == "outbox")
    assert "threads" in outbox["serves"] and "mastodon" not in outbox["serves"]


def test_without_a_file_the_outbox_takes_every_network(tmp_path):
    channels = Channels.load(Settings(_env_file=None, plume_home=tmp_path))
    assert [p.kind for p in channels.all()] == ["outbox"]
    assert isinstance(channels.for_network("linkedin"), OutboxPublisher)
    assert channels.audience("linkedin") == (None, None)


def test_the_file_in_plume_home_is_found_and_plume_channels_wins(tmp_path, monkeypatch):
    (tmp_path / "channels.yaml").write_text("channels:\n  - {name: home-x, kind: x, token: '${XT}'}\n")
    monkeypatch.setenv("XT", "t")
    assert Channels.load(Settings(_env_file=None, plume_home=tmp_path)).get("home-x").kind == "x"
    other = tmp_path / "elsewhere.yaml"
    other.write_text("channels:\n  - {name: other-x, kind: x, token: '${XT}'}\n")
    monkeypatch.setenv("PLUME_CHANNELS", str(other))
    assert Channels.load(Settings(_env_file=None, plume_home=tmp_path)).get("other-x").kind == "x"
    monkeypatch.setenv("PLUME_CHANNELS", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="PLUME_CHANNELS points to .*missing.yaml"):
        Channels.load(Settings(_env_file=None, plume_home=tmp_path))


@pytest.mark.parametrize(("text", "env", "message"), [
    ("channels:\n  - {name: a, kind: myspace}", {}, "Channel a: unknown kind 'myspace'; use one of outbox, webhook"),
    ("channels:\n  - {name: a, kind: mastodon, token: '${T}'}", {"T": "x"}, "Channel a \\(mastodon\\) is missing base_url"),
    ("channels:\n  - {name: a, kind: x, token: '${X_TOKEN}'}", {}, "Channel a: `token` needs the environment variable X_TOKEN"),
    ("channels:\n  - {name: a, kind: x, token: abc123}", {}, "Channel a: `token` must be an environment reference"),
    ("channels:\n  - {name: a, kind: x, tokn: '${T}', token: '${T}'}", {"T": "x"}, "unknown field\\(s\\) tokn for kind x"),
    ("channels:\n  - {name: a, kind: x, token: '${T}'}\n  - {name: b, kind: x, token: '${T}'}", {"T": "x"},
     "Channels a, b all publish to x and none is marked `default: true`"),
    ("channels:\n  - {name: a, kind: x, token: '${T}', timezone: Mars/Olympus}", {"T": "x"}, "unknown IANA time zone"),
    ("channels:\n  - {name: a, kind: x, network: linkedin, token: '${T}'}", {"T": "x"}, "network 'linkedin' is not one x"),
    ("channels:\n  - {name: a, kind: outbox, network: x, country: XX}", {},
     "Channel a: No public-holiday calendar for country 'XX'"),
    ("channels:\n  - {name: a, kind: outbox}\n  - {name: a, kind: outbox, network: x}", {}, "Two channels are named a"),
    ("channels:\n  - {name: outbox, kind: x, token: '${T}'}", {"T": "x"}, "`outbox` is kept for the outbox"),
    ("channels: {name: a}", {}, "must have a `channels:` list"),
    ("channels: [\n", {}, "is not valid YAML"),
])
def test_mistakes_get_a_friendly_error(tmp_path, text, env, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text, env)


def test_two_channels_for_one_network_need_a_default(tmp_path):
    channels = load(tmp_path, "channels:\n  - {name: a, kind: x, token: '${T}'}\n"
                              "  - {name: b, kind: x, token: '${T}', default: true}\n", {"T": "x"})
    assert channels.for_network("x").name == "b" and channels.get("a").name == "a"
    assert {r["name"]: r["serves"] for r in channels.describe()} == {
        "a": "-", "b": "x", "outbox": "bluesky, mastodon, linkedin, threads, instagram, facebook"}


def test_an_unknown_channel_name_lists_the_known_ones(tmp_path):
    with pytest.raises(NotFound, match="No channel named 'nope'; known channels: outbox"):
        Channels([], outbox=tmp_path).get("nope")


def test_the_router_sends_each_post_through_its_channel(tmp_path):
    with FakeMastodon() as fake:
        channels = load(tmp_path, f"channels:\n  - {{name: toots, kind: mastodon, base_url: '{fake.base_url}', "
                                  "token: '${MT}'}\n", {"MT": fake.token})
        router = channels.router()
        toot = router.publish(a_post(network="mastodon"), key="k1")
        filed = router.publish(a_post(network="linkedin"), key="k2")
        assert [s["id"] for s in fake.posts] == [toot.id]
        assert Path(filed.id).parent == tmp_path / "outbox"
        # A post keeps the channel chosen before its first send, even for another network.
        pinned = replace(a_post(network="x"), channel="toots")
        assert channels.channel_for(pinned).name == "toots"
        assert router.lookup(a_post(network="linkedin"), key="k3") is None
        gone = replace(a_post(), channel="retired")
        with pytest.raises(NotSent, match="No channel named 'retired'") as caught:
            router.publish(gone, key="k4")
        assert not caught.value.retryable


def test_channel_test_checks_credentials_and_never_posts(tmp_path):
    with FakeMastodon() as fake:
        text = f"channels:\n  - {{name: toots, kind: mastodon, base_url: '{fake.base_url}', token: '${{MT}}'}}\n"
        assert load(tmp_path, text, {"MT": fake.token}).test("toots") == \
            "Channel toots (mastodon) is ready: it posts as @tidewren@127.0.0.1"
        with pytest.raises(NotSent, match="token for channel toots was refused .*put it in MT"):
            load(tmp_path, text, {"MT": "revoked"}).test("toots")
        assert fake.posts == []
