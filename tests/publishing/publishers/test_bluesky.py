"""Bluesky through the real atproto client against a loopback PDS: a fixed record key, found again."""

from __future__ import annotations

import re

import pytest

from publishing.publishers import NotSent, OutcomeUnknown
from publishing.publishers.bluesky import BlueskyPublisher, facets, record_key
from tests.fakes.networks.bluesky import FakeBluesky
from tests.publishing.publishers.conftest import QUICK, a_post

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        yield server


def publisher(fake, password=None) -> BlueskyPublisher:
    return BlueskyPublisher(name="brand-bluesky", handle=fake.handle, password=password or fake.password,
                            base_url=fake.base_url, timeouts=QUICK, password_env="BLUESKY_APP_PASSWORD")


def test_the_record_key_is_a_valid_tid_fixed_by_the_publish_key():
    keys = {record_key(f"key-{i}") for i in range(500)}
    assert len(keys) == 500 and all(TID.match(k) for k in keys)
    assert record_key("abc") == record_key("abc") != record_key("abd")


def test_a_post_becomes_one_record_with_links_and_tags_clickable(fake, post):
    published = publisher(fake).publish(post, key="k-1")
    rkey = record_key("k-1")
    assert published.url == f"https://bsky.app/profile/{fake.handle}/post/{rkey}"
    assert published.id == f"at://{fake.did}/app.bsky.feed.post/{rkey}"
    [stored] = fake.posts
    assert stored["text"] == post.text and stored["langs"] == ["en"] and stored["rkey"] == rkey
    spans = {f["features"][0].get("uri") or f["features"][0].get("tag"):
             post.text.encode()[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in stored["facets"]}
    assert spans == {"coffee": "#coffee", "https://tidewren.example/guji": "https://tidewren.example/guji"}


def test_facet_offsets_count_utf8_bytes():
    [tag] = facets("Café ☕ #brunch")
    assert tag["index"] == {"byteStart": len("Café ☕ ".encode()), "byteEnd": len("Café ☕ #brunch".encode())}


def test_the_same_key_twice_makes_one_post(fake, post):
    first = publisher(fake).publish(post, key="same")
    assert publisher(fake).publish(post, key="same") == first
    assert len(fake.posts) == 1


def test_a_timeout_after_the_record_was_stored_is_unknown_and_lookup_finds_it(fake, post):
    fake.hang_after_store(1.5)
    with pytest.raises(OutcomeUnknown, match="may exist"):
        publisher(fake).publish(post, key="k-2")
    assert len(fake.posts) == 1
    found = publisher(fake).lookup(post, key="k-2")
    assert found is not None and found.url.endswith(record_key("k-2"))


def test_lookup_says_none_for_a_record_that_was_never_made(fake, post):
    assert publisher(fake).lookup(post, key="never-sent") is None


def test_a_5xx_after_the_record_was_stored_is_settled_as_published(fake, post):
    fake.fail(500, after_store=True)
    published = publisher(fake).publish(post, key="k-3")
    assert published.url.endswith(record_key("k-3")) and len(fake.posts) == 1


def test_a_5xx_before_storing_is_retryable(fake, post):
    fake.fail(502)
    with pytest.raises(NotSent) as caught:
        publisher(fake).publish(post, key="k-4")
    assert caught.value.retryable and fake.posts == []


def test_connection_refused_is_retryable(fake, post):
    fake.stop()
    with pytest.raises(NotSent, match="could not reach Bluesky") as caught:
        publisher(fake).publish(post, key="k-5")
    assert caught.value.retryable


def test_429_carries_retry_after(fake, post):
    channel = publisher(fake)
    channel.check()  # logged in: the 429 hits the post itself
    fake.rate_limit(retry_after=90)
    with pytest.raises(NotSent, match="rate-limiting") as caught:
        channel.publish(post, key="k-6")
    assert caught.value.retryable and caught.value.retry_after == 90
    assert fake.posts == []


def test_a_wrong_app_password_is_final_and_says_what_to_do(fake, post):
    with pytest.raises(NotSent, match="the Bluesky token for channel brand-bluesky was refused") as caught:
        publisher(fake, password="wrong-pass").publish(post, key="k-7")
    assert not caught.value.retryable and "BLUESKY_APP_PASSWORD" in str(caught.value)
    assert "wrong-pass" not in str(caught.value)


def test_an_expired_session_logs_in_again_once(fake, post):
    channel = publisher(fake)
    channel.check()
    fake.expire_sessions()
    channel.publish(post, key="k-8")
    assert len(fake.posts) == 1 and fake.sessions == 2


def test_too_long_is_refused_with_the_pds_message(fake):
    with pytest.raises(NotSent, match="longer than 300 graphemes") as caught:
        publisher(fake).publish(a_post("y" * 301), key="k-9")
    assert not caught.value.retryable


def test_check_logs_in_without_posting(fake):
    assert publisher(fake).check() == f"@{fake.handle}"
    with pytest.raises(NotSent, match="was refused"):
        publisher(fake, password="nope").check()
    assert fake.posts == []


def test_a_url_ending_in_a_balanced_parenthesis_is_linked_whole():
    text = "Lire https://fr.wikipedia.org/wiki/Paris_(homonymie) et (voir https://tidewren.example/paris)."
    links = [f["features"][0]["uri"] for f in facets(text)]
    assert links == ["https://fr.wikipedia.org/wiki/Paris_(homonymie)", "https://tidewren.example/paris"]


def test_tags_follow_blueskys_rules_so_a_year_is_not_a_tag():
    found = [f["features"][0] for f in facets("Best of #2024, brewed with #café-crème! #ok_")]
    assert found == [{"$type": "app.bsky.richtext.facet#tag", "tag": "café-crème"},
                     {"$type": "app.bsky.richtext.facet#tag", "tag": "ok"}]


def test_mentions_are_resolved_to_dids_and_unknown_handles_stay_plain(fake):
    fake.handles["mia.bsky.social"] = "did:plc:mia234567abcdefghijklmn"
    text = "Thanks @mia.bsky.social and @nobody.bsky.social"
    publisher(fake).publish(a_post(text, network="bluesky"), key="k-m")
    [stored] = fake.posts
    mentions = [f for f in stored["facets"] if f["features"][0]["$type"].endswith("#mention")]
    assert [f["features"][0]["did"] for f in mentions] == ["did:plc:mia234567abcdefghijklmn"]
    start = mentions[0]["index"]["byteStart"]
    assert text.encode()[start:mentions[0]["index"]["byteEnd"]] == b"@mia.bsky.social"


@pytest.mark.parametrize("status", [500, 400, 409])
def test_already_exists_of_any_status_is_looked_up_not_failed(fake, post, status):
    """Today's PDS answers 500 on a taken record key; atproto#4728 makes it an explicit 4xx."""
    fake.duplicate_status = status
    first = publisher(fake).publish(post, key="k-dup")
    again = publisher(fake).publish(post, key="k-dup")
    assert again == first and len(fake.posts) == 1
