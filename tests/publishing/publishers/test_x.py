"""X API v2 against a loopback X: a tweet id and its URL, 403 duplicate vs 403 refused, rate-limit reset."""

from __future__ import annotations

import pytest

from publishing.publishers import NotSent, OutcomeUnknown
from publishing.publishers.x import XPublisher
from tests.fakes.networks.x import FakeX
from tests.publishing.publishers.conftest import QUICK, a_post


@pytest.fixture
def fake():
    with FakeX() as server:
        yield server


def publisher(fake, token="x-user-token") -> XPublisher:
    return XPublisher(name="brand-x", token=token, base_url=fake.base_url, timeouts=QUICK, token_env="X_TOKEN")


def test_a_post_becomes_one_tweet_with_its_url(fake, post):
    published = publisher(fake).publish(post, key="k-1")
    assert fake.posts == [{"id": published.id, "text": post.text}]
    assert published.url == f"https://x.com/i/web/status/{published.id}"


def test_429_waits_until_the_rate_limit_reset(fake, post):
    fake.rate_limit(retry_after=600)
    with pytest.raises(NotSent, match="rate-limiting") as caught:
        publisher(fake).publish(post, key="k-2")
    assert caught.value.retryable and 590 < caught.value.retry_after <= 601


def test_a_duplicate_403_is_a_refused_post_not_a_refused_token(fake, post):
    publisher(fake).publish(post, key="k-3")
    with pytest.raises(NotSent, match="X refused the post: You are not allowed to create a Tweet with duplicate"
                       ) as caught:
        publisher(fake).publish(post, key="k-4")
    assert not caught.value.retryable


def test_a_403_about_authentication_is_a_credentials_problem(fake, post):
    fake.fail(403, reply=fake.auth_error())
    with pytest.raises(NotSent, match="the X token for channel brand-x was refused") as caught:
        publisher(fake).publish(post, key="k-5")
    assert "X_TOKEN" in str(caught.value)


def test_a_403_refusing_the_content_is_not_called_a_bad_token(fake, post):
    fake.fail(403, message="You are not permitted to perform this action.")
    with pytest.raises(NotSent, match="X refused the post: You are not permitted") as caught:
        publisher(fake).publish(post, key="k-5b")
    assert "token" not in str(caught.value) and not caught.value.retryable


def test_a_bad_token_is_refused(fake, post):
    with pytest.raises(NotSent, match="the X token for channel brand-x was refused"):
        publisher(fake, token="stale").publish(post, key="k-6")


def test_too_long_is_refused_with_xs_message(fake):
    with pytest.raises(NotSent, match="longer than 280 characters") as caught:
        publisher(fake).publish(a_post("z" * 281, network="x"), key="k-7")
    assert not caught.value.retryable


def test_5xx_and_timeouts_are_unknown(fake, post):
    fake.fail(503)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post, key="k-8")
    fake.hang_after_store(1.5)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post, key="k-9")
    assert len(fake.posts) == 1
    with pytest.raises(OutcomeUnknown):
        publisher(fake).lookup(post, key="k-9")


def test_connection_refused_is_retryable(fake, post):
    fake.stop()
    with pytest.raises(NotSent) as caught:
        publisher(fake).publish(post, key="k-10")
    assert caught.value.retryable


def test_check_reads_users_me_without_posting(fake):
    assert publisher(fake).check() == "@tidewren"
    with pytest.raises(NotSent, match="was refused"):
        publisher(fake, token="bad").check()
    assert fake.posts == []


def test_a_connection_dropped_after_sending_is_unknown(fake, post):
    fake.drop_after_store()
    with pytest.raises(OutcomeUnknown, match="RemoteProtocolError"):
        publisher(fake).publish(post, key="k-11")
    assert len(fake.posts) == 1
