"""The webhook (signed, keyed JSON POST) and the outbox (one file per post), the two generic channels."""

from __future__ import annotations

import json

import pytest

from publishing.publishers import NotSent, OutboxPublisher, OutcomeUnknown
from publishing.publishers.webhook import WebhookPublisher, verify
from tests.fakes.networks.webhook import FakeWebhook
from tests.publishing.publishers.conftest import QUICK, a_post


@pytest.fixture
def fake():
    with FakeWebhook(secret="s3cret") as server:
        yield server


def webhook(fake, secret="s3cret") -> WebhookPublisher:
    return WebhookPublisher(name="zapier", url=f"{fake.base_url}/hooks/plume", secret=secret, timeouts=QUICK,
                            secret_env="PLUME_WEBHOOK_SECRET")


def test_the_receiver_can_verify_the_signature_and_reads_the_post(fake, post):
    published = webhook(fake).publish(post, key="k-1")
    [request] = fake.requests
    assert verify("s3cret", request.body, request.headers["x-plume-signature"])
    assert not verify("other", request.body, request.headers["x-plume-signature"])
    assert request.headers["idempotency-key"] == "k-1"
    body = json.loads(request.body)
    assert body["text"] == post.text and body["key"] == "k-1" and body["post_id"] == post.id
    assert published.id == "delivery-1" and published.url.endswith("/deliveries/k-1")


def test_a_wrong_secret_is_refused_and_final(fake, post):
    with pytest.raises(NotSent, match="webhook shared secret for channel zapier was refused") as caught:
        webhook(fake, secret="guess").publish(post, key="k-2")
    assert not caught.value.retryable and fake.posts == []


def test_the_channel_check_reaches_the_receiver_with_a_signed_ping_and_publishes_nothing(fake):
    assert "verified a signed ping" in webhook(fake).check()
    assert fake.pings == 1 and fake.posts == []
    with pytest.raises(NotSent, match="shared secret for channel zapier was refused"):
        webhook(fake, secret="guess").check()
    fake.stop()
    with pytest.raises(NotSent, match="could not reach webhook"):  # nothing listening is not "ready"
        webhook(fake).check()


def test_a_receiver_that_does_not_answer_pings_is_reached_but_not_verified(tmp_path):
    from publishing.channels import Channels

    with FakeWebhook(secret="s3cret", answers_pings=False) as deaf:
        with pytest.raises(OutcomeUnknown, match="cannot verify the shared secret"):
            webhook(deaf).check()
        (tmp_path / "channels.yaml").write_text(f"channels:\n  - name: zapier\n    kind: webhook\n"
                                                f"    url: {deaf.base_url}/hooks/plume\n    secret: ${{HOOK}}\n")
        channels = Channels.from_file(tmp_path / "channels.yaml", outbox=tmp_path / "outbox", env={"HOOK": "s3cret"})
        with pytest.raises(NotSent, match="cannot verify"):  # `plume channels test zapier` says so plainly
            channels.test("zapier")
        assert deaf.posts == []


def test_a_5xx_is_retryable_and_the_key_keeps_it_single(fake, post):
    fake.fail(502, after_store=True)
    with pytest.raises(NotSent) as caught:
        webhook(fake).publish(post, key="k-3")
    assert caught.value.retryable
    webhook(fake).publish(post, key="k-3")
    assert len(fake.posts) == 1


def test_timeout_after_delivery_is_unknown_and_lookup_cannot_tell(fake, post):
    fake.hang_after_store(1.5)
    with pytest.raises(OutcomeUnknown):
        webhook(fake).publish(post, key="k-4")
    with pytest.raises(OutcomeUnknown, match="check the receiving system"):
        webhook(fake).lookup(post, key="k-4")


def test_429_and_refused_connections_are_retryable(fake, post):
    fake.rate_limit(retry_after=5)
    with pytest.raises(NotSent) as caught:
        webhook(fake).publish(post, key="k-5")
    assert caught.value.retryable and caught.value.retry_after == 5
    fake.stop()
    with pytest.raises(NotSent) as caught:
        webhook(fake).publish(post, key="k-5")
    assert caught.value.retryable


def test_the_outbox_writes_one_file_and_finds_it_again(tmp_path, post):
    outbox = OutboxPublisher(tmp_path / "outbox")
    assert outbox.lookup(post, key="k") is None
    published = outbox.publish(post, key="k")
    assert published.id == str(outbox.path_for(post.id))
    assert published.url == outbox.path_for(post.id).resolve().as_uri()
    assert json.loads(outbox.path_for(post.id).read_text())["publish_key"] == "k"
    assert outbox.publish(post, key="k") == published == outbox.lookup(post, key="k")
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [f"post-{post.id}.json"]


def test_an_outbox_that_is_a_file_is_retryable(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    with pytest.raises(NotSent, match="Could not write to the outbox") as caught:
        OutboxPublisher(blocker).publish(a_post(), key="k")
    assert caught.value.retryable
    with pytest.raises(NotSent, match="cannot be created"):
        OutboxPublisher(blocker).check()
