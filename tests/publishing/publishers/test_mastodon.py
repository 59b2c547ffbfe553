"""Mastodon through the real Mastodon.py against a loopback Mastodon: one status per key, errors sorted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from publishing.publishers import NotSent, OutcomeUnknown
from publishing.publishers.mastodon import MastodonPublisher
from tests.fakes.networks.mastodon import FakeMastodon
from tests.publishing.publishers.conftest import QUICK, a_post


@pytest.fixture
def fake():
    with FakeMastodon() as server:
        yield server


def publisher(fake, token="mastodon-token") -> MastodonPublisher:
    return MastodonPublisher(name="brand-mastodon", base_url=fake.base_url, token=token, timeouts=QUICK,
                             token_env="MASTODON_TOKEN")


def test_a_post_becomes_one_status_with_its_permalink(fake, post):
    published = publisher(fake).publish(post, key="k-1")
    assert [s["id"] for s in fake.posts] == [published.id]
    assert published.url == f"{fake.base_url}/@tidewren/{published.id}"
    assert fake.sources[published.id] == post.text
    sent = [r for r in fake.requests if r.path == "/api/v1/statuses"][0]
    assert sent.headers["idempotency-key"] == "k-1" and sent.form["visibility"] == "public"


def test_the_same_key_twice_makes_one_status(fake, post):
    first = publisher(fake).publish(post, key="same")
    again = publisher(fake).publish(post, key="same")
    assert again == first and len(fake.posts) == 1


def test_a_timeout_after_the_status_was_stored_is_unknown_and_lookup_finds_it(fake, post):
    fake.hang_after_store(1.5)
    with pytest.raises(OutcomeUnknown, match="may exist"):
        publisher(fake).publish(post, key="k-2")
    assert len(fake.posts) == 1  # it did go out
    found = publisher(fake).lookup(post, key="k-2")
    assert found is not None and found.id == fake.posts[0]["id"]
    assert len(fake.posts) == 1  # asking never posts


def test_lookup_says_none_when_the_status_is_certainly_not_there(fake, post):
    publisher(fake).publish(a_post("Another post entirely"), key="other")
    assert publisher(fake).lookup(post, key="k-3") is None


def test_lookup_ignores_the_same_text_posted_before_the_approval(fake):
    publisher(fake).publish(a_post("Monday specials are back"), key="last-week")
    approved_later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    again = replace(a_post("Monday specials are back"), approved_at=approved_later)
    assert publisher(fake).lookup(again, key="this-week") is None


def test_connection_refused_is_retryable_and_nothing_is_sent(fake, post):
    fake.stop()
    with pytest.raises(NotSent, match="could not reach Mastodon") as caught:
        publisher(fake).publish(post, key="k-4")
    assert caught.value.retryable and fake.posts == []


def test_429_is_retryable_after_the_rate_limit_reset(fake, post):
    fake.rate_limit(retry_after=120)
    with pytest.raises(NotSent, match="rate-limiting") as caught:
        publisher(fake).publish(post, key="k-5")
    assert caught.value.retryable and 100 < caught.value.retry_after <= 121
    assert fake.posts == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable_because_the_key_makes_a_resend_harmless(fake, post, status):
    fake.fail(status)
    with pytest.raises(NotSent) as caught:
        publisher(fake).publish(post, key="k-6")
    assert caught.value.retryable and fake.posts == []
    publisher(fake).publish(post, key="k-6")  # the scheduler's retry
    publisher(fake).publish(post, key="k-6")
    assert len(fake.posts) == 1


def test_a_5xx_after_the_status_was_stored_is_settled_as_published(fake, post):
    fake.fail(500, after_store=True)
    published = publisher(fake).publish(post, key="k-6b")
    assert [s["id"] for s in fake.posts] == [published.id]


def test_a_refused_token_is_final_and_says_what_to_do(fake, post):
    with pytest.raises(NotSent, match="the Mastodon token for channel brand-mastodon was refused") as caught:
        publisher(fake, token="revoked").publish(post, key="k-7")
    assert not caught.value.retryable and "MASTODON_TOKEN" in str(caught.value)
    assert "revoked" not in str(caught.value)


def test_a_missing_scope_403_is_a_refused_token_too(fake, post):
    fake.fail(403)
    with pytest.raises(NotSent, match="token for channel brand-mastodon was refused"):
        publisher(fake).publish(post, key="k-8")


def test_too_long_is_refused_with_mastodons_own_message(fake):
    with pytest.raises(NotSent, match="character limit of 500 exceeded") as caught:
        publisher(fake).publish(a_post("x" * 501), key="k-9")
    assert not caught.value.retryable and fake.posts == []


def test_check_names_the_account_without_posting(fake):
    assert publisher(fake).check() == "@tidewren@127.0.0.1"
    with pytest.raises(NotSent, match="was refused") as caught:
        publisher(fake, token="wrong").check()
    assert not caught.value.retryable
    assert fake.posts == []


def test_a_connection_dropped_after_sending_is_unknown_not_refused(fake, post):
    fake.drop_after_store()
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post, key="k-10")
    assert len(fake.posts) == 1
    assert publisher(fake).lookup(post, key="k-10").id == fake.posts[0]["id"]
