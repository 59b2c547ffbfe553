"""Tokens that last: stored encrypted, refreshed once across processes, connected through OAuth with PKCE."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from core.db import Database
from core.errors import ConfigError
from core.settings import Settings
from publishing import oauth
from publishing.channels import Channels
from publishing.publishers import NotSent
from publishing.publishers.x import XPublisher
from publishing.tokens import Bearer, Tokens, expiring
from tests.fakes.networks.x import FakeX
from tests.publishing.publishers.conftest import QUICK, a_post
from tests.test_postgres import pg_url  # noqa: F401 — a fresh PostgreSQL database per test

KEY = Fernet.generate_key().decode()


@pytest.fixture
def fake():
    with FakeX() as server:
        yield server


def stored_x(fake, db, *, ttl: float = 7200) -> Tokens:
    """A connected X channel: tokens from the fake's OAuth server, stored encrypted."""
    fake.oauth.ttl = ttl
    grant = fake.oauth.issue()
    tokens = Tokens(db=db, secret_key=KEY)
    tokens.save(channel="brand-x", network="x", access=grant["access_token"], refresh=grant["refresh_token"],
                expires_in=grant["expires_in"])
    return tokens


def refresher(fake):
    return oauth.refresher(channel="brand-x", token_url=f"{fake.base_url}/2/oauth2/token",
                           client_id=fake.oauth.client_id, client_secret=None, timeouts=QUICK)


def test_tokens_are_encrypted_at_rest_and_need_the_key(fake, db):
    stored_x(fake, db)
    with db.session() as session:
        raw = session.execute(text("SELECT access, refresh FROM channel_tokens")).one()
    assert not any(value.startswith(("access-", "refresh-")) for value in raw)
    with pytest.raises(ConfigError, match="PLUME_SECRET_KEY is not set"):
        Tokens(db=db, secret_key=None).get("brand-x")
    with pytest.raises(ConfigError, match="not the key the channel tokens were stored with"):
        Tokens(db=db, secret_key=Fernet.generate_key().decode()).get("brand-x")


def test_a_post_scheduled_after_the_token_expired_is_sent_with_a_refreshed_one(fake, db):
    """X user tokens live 2 hours: a post for tomorrow must not get a 401."""
    tokens = stored_x(fake, db, ttl=60)  # inside the early-refresh margin: already "expiring"
    publisher = XPublisher(name="brand-x", bearer=Bearer(channel="brand-x", tokens=tokens, refresher=refresher(fake)),
                           base_url=fake.base_url, timeouts=QUICK)
    publisher.publish(a_post("Tomorrow's roast", network="x"), key="k-1")
    assert len(fake.posts) == 1 and fake.oauth.refreshes == 1
    assert tokens.get("brand-x").generation == 2


def test_a_401_on_a_stored_token_refreshes_once_and_sends_again(fake, db):
    tokens = stored_x(fake, db)
    fake.oauth.expire(tokens.get("brand-x").access)  # revoked early on X's side
    publisher = XPublisher(name="brand-x", bearer=Bearer(channel="brand-x", tokens=tokens, refresher=refresher(fake)),
                           base_url=fake.base_url, timeouts=QUICK)
    publisher.publish(a_post("Now", network="x"), key="k-2")
    assert len(fake.posts) == 1 and fake.oauth.refreshes == 1


def test_a_spent_refresh_token_asks_for_a_new_connection(fake, db):
    tokens = stored_x(fake, db, ttl=60)
    fake.oauth.spent |= fake.oauth.refresh_tokens  # refreshed elsewhere and rotated: ours is dead
    with pytest.raises(NotSent, match="plume channels connect brand-x") as caught:
        tokens.fresh("brand-x", refresher(fake))
    assert not caught.value.retryable


def two_refreshes_at_once(fake, db) -> list[str]:
    tokens = stored_x(fake, db, ttl=60)
    seen = tokens.get("brand-x").generation
    start, got, errors = threading.Barrier(2), [], []

    def one():
        other = Tokens(db=Database(db.url), secret_key=KEY)  # its own engine: another process's view
        try:
            start.wait()
            got.append(other.refresh("brand-x", refresher(fake), seen=seen).access)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            other.db.dispose()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return got


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once_on_sqlite(fake, db):
    got = two_refreshes_at_once(fake, db)
    assert fake.oauth.refreshes == 1 and len(set(got)) == 1 and fake.oauth.valid(got[0])


@pytest.mark.postgres
def test_two_processes_refreshing_at_once_spend_the_refresh_token_once_on_postgres(fake, pg_url):  # noqa: F811
    database = Database(pg_url).migrate()
    try:
        got = two_refreshes_at_once(fake, database)
        assert fake.oauth.refreshes == 1 and len(set(got)) == 1 and fake.oauth.valid(got[0])
    finally:
        database.dispose()


def test_expiring_lists_tokens_a_human_must_renew(fake, db):
    tokens = Tokens(db=db, secret_key=KEY)
    tokens.save(channel="brand-linkedin", network="linkedin", access="li", expires_in=5 * 86400)
    tokens.save(channel="brand-x", network="x", access="x", refresh="r", expires_in=7200)  # renews itself
    tokens.save(channel="later", network="linkedin", access="li2", expires_in=30 * 86400)
    with db.session() as session:
        soon = expiring(session, within=timedelta(days=7))
    assert [(e.channel, e.network) for e in soon] == [("brand-linkedin", "linkedin")]


def channels_file(tmp_path, fake, extra: str = "") -> Settings:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "channels.yaml").write_text(f"""
channels:
  - name: brand-x
    kind: x
    client_id: {fake.oauth.client_id}
    base_url: {fake.base_url}
    auth_url: {fake.base_url}/i/oauth2/authorize
    token_url: {fake.base_url}/2/oauth2/token
{extra}""")
    return Settings(_env_file=None, plume_home=home, plume_secret_key=KEY)


def browser(url: str) -> None:
    """What a person's browser does: follow the authorize page's redirect to the loopback callback."""
    httpx.get(url, follow_redirects=True, timeout=10).raise_for_status()


def test_connect_runs_the_oauth_flow_and_the_channel_then_posts(fake, tmp_path):
    settings = channels_file(tmp_path, fake)
    said = []
    message = oauth.connect(settings, "brand-x", open_url=browser, say=said.append, wait=10)
    assert "Channel brand-x is connected" in message and "renewed automatically" in message
    assert "code_challenge_method=S256" in said[0] and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in said[0]
    db = Database(settings.db_url)
    try:
        channels = Channels.load(settings, db=db)
        [row] = [r for r in channels.describe() if r["name"] == "brand-x"]
        assert row["token"].startswith("stored token, renewed automatically")
        channels.get("brand-x").publish(a_post("Connected", network="x"), key="k-c")
    finally:
        db.dispose()
    assert len(fake.posts) == 1


def test_connect_refuses_without_the_secret_key_before_opening_a_browser(fake, tmp_path):
    settings = channels_file(tmp_path, fake).model_copy(update={"plume_secret_key": None})
    opened = []
    with pytest.raises(ConfigError, match="PLUME_SECRET_KEY is not set"):
        oauth.connect(settings, "brand-x", open_url=opened.append, say=lambda _: None, wait=5)
    assert opened == []


def test_a_channel_not_connected_yet_says_how(fake, tmp_path):
    settings = channels_file(tmp_path, fake)
    db = Database(settings.db_url).migrate()
    try:
        channels = Channels.load(settings, db=db)
        assert channels.describe()[0]["token"] == "not connected: run `plume channels connect brand-x`"
        with pytest.raises(NotSent, match="run `plume channels connect brand-x`"):
            channels.get("brand-x").publish(a_post("x", network="x"), key="k-n")
    finally:
        db.dispose()


def test_oauth1_user_keys_sign_each_request(tmp_path):
    keys = {"consumer_key": "ck", "consumer_secret": "cs", "token": "at", "token_secret": "ats"}
    with FakeX(oauth1_keys=keys) as fake:
        (tmp_path / "c.yaml").write_text(f"""
channels:
  - name: brand-x
    kind: x
    base_url: {fake.base_url}
    consumer_key: ${{X_CK}}
    consumer_secret: ${{X_CS}}
    access_token: ${{X_AT}}
    access_token_secret: ${{X_ATS}}
""")
        env = {"X_CK": "ck", "X_CS": "cs", "X_AT": "at", "X_ATS": "ats"}
        channels = Channels.from_file(tmp_path / "c.yaml", outbox=tmp_path / "o", env=env)
        assert channels.test("brand-x").endswith("@tidewren")
        channels.get("brand-x").publish(a_post("Signed", network="x"), key="k-o1")
        assert len(fake.posts) == 1
        bad = Channels.from_file(tmp_path / "c.yaml", outbox=tmp_path / "o", env={**env, "X_CS": "wrong"})
        with pytest.raises(NotSent, match="was refused"):
            bad.get("brand-x").publish(a_post("Unsigned", network="x"), key="k-o2")


def test_an_x_24_hour_cap_waits_for_its_reset(fake):
    fake.daily_cap(who="app", reset_in=5 * 3600)
    publisher = XPublisher(name="brand-x", token=fake.token, base_url=fake.base_url, timeouts=QUICK)
    with pytest.raises(NotSent, match="24-hour app cap") as caught:
        publisher.publish(a_post("Capped", network="x"), key="k-cap")
    assert caught.value.waiting and 5 * 3600 - 10 < caught.value.retry_after <= 5 * 3600
