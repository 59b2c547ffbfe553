"""LinkedIn's Posts API against a loopback LinkedIn: versioned headers, the URN from x-restli-id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from publishing.publishers import NotSent, OutcomeUnknown
from publishing.publishers.linkedin import LinkedInPublisher, commentary
from tests.fakes.networks.linkedin import FakeLinkedIn
from tests.publishing.publishers.conftest import QUICK, a_post


@pytest.fixture
def fake():
    with FakeLinkedIn() as server:
        yield server


def publisher(fake, token="linkedin-token", author="urn:li:organization:2414183") -> LinkedInPublisher:
    return LinkedInPublisher(name="brand-linkedin", token=token, author=author, base_url=fake.base_url,
                             timeouts=QUICK, token_env="LINKEDIN_TOKEN")


def test_a_post_goes_to_the_page_and_comes_back_as_its_urn(fake):
    published = publisher(fake).publish(a_post("Our Guji roast (limited) is out #coffee", network="linkedin"),
                                        key="k-1")
    [stored] = fake.posts
    assert published.id == stored["id"] and published.id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{published.id}/"
    assert stored["author"] == "urn:li:organization:2414183" and stored["lifecycleState"] == "PUBLISHED"
    # Unescaped parentheses would make LinkedIn cut the text at "(": little-text escaping keeps it whole.
    assert stored["commentary"] == r"Our Guji roast \(limited\) is out {hashtag|\#|coffee}"
    sent = fake.requests[-1].headers
    assert sent["x-restli-protocol-version"] == "2.0.0" and len(sent["linkedin-version"]) == 6


def test_without_an_author_the_token_owner_posts(fake, post):
    publisher(fake, author=None).publish(post, key="k-2")
    assert fake.posts[0]["author"] == "urn:li:person:Ab3xYz09"


def test_commentary_escapes_every_reserved_character():
    assert commentary(r"a|b{c}d@e[f]g<h>i*j_k~l\m") == r"a\|b\{c\}d\@e\[f\]g\<h\>i\*j\_k\~l\\m"


def test_a_timeout_after_sending_is_unknown_and_lookup_cannot_tell(fake, post):
    fake.hang_after_store(1.5)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post, key="k-3")
    assert len(fake.posts) == 1
    with pytest.raises(OutcomeUnknown, match="check the page of channel brand-linkedin"):
        publisher(fake).lookup(post, key="k-3")


def test_a_5xx_is_unknown_because_linkedin_has_no_idempotency(fake, post):
    fake.fail(500)
    with pytest.raises(OutcomeUnknown, match="may have been published"):
        publisher(fake).publish(post, key="k-4")


def test_connection_refused_is_retryable(fake, post):
    fake.stop()
    with pytest.raises(NotSent) as caught:
        publisher(fake).publish(post, key="k-5")
    assert caught.value.retryable


def test_a_429_waits_until_midnight_utc_without_retry_after(fake, post):
    """LinkedIn's daily limits reset at 00:00 UTC and its 429 says nothing about when."""
    fake.rate_limit()
    with pytest.raises(NotSent, match="APPLICATION DAY limit") as caught:
        publisher(fake).publish(post, key="k-6")
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert caught.value.waiting and abs(caught.value.retry_after - (midnight - now).total_seconds()) < 5


def test_an_expired_token_is_final(fake, post):
    with pytest.raises(NotSent, match="LinkedIn token for channel brand-linkedin was refused .*Invalid access token"
                       ) as caught:
        publisher(fake, token="expired").publish(post, key="k-7")
    assert not caught.value.retryable and "LINKEDIN_TOKEN" in str(caught.value)


def test_a_duplicate_is_refused_with_linkedins_message(fake, post):
    publisher(fake).publish(post, key="k-8")
    with pytest.raises(NotSent, match="Content is a duplicate of urn:li:share:") as caught:
        publisher(fake).publish(post, key="k-9")
    assert not caught.value.retryable and len(fake.posts) == 1


def test_check_of_a_member_channel_reads_userinfo_without_posting(fake):
    assert publisher(fake, author=None).check() == "Mia Tidewren as urn:li:person:Ab3xYz09"
    with pytest.raises(NotSent, match="was refused"):
        publisher(fake, token="bad", author=None).check()
    assert fake.posts == []


def test_check_of_a_page_channel_passes_with_a_community_management_token(fake):
    """A page token has no OpenID scopes (/v2/userinfo answers 403); its page roles are what matter."""
    assert publisher(fake, token="page-token").check() == "urn:li:organization:2414183 as administrator"
    fake.roles = {"urn:li:organization:2414183": "ANALYST"}
    with pytest.raises(NotSent, match="may not post for urn:li:organization:2414183"):
        publisher(fake, token="page-token").check()
    assert fake.posts == []


def test_a_link_keeps_its_fragment_and_gets_no_hashtag_template():
    text = "Spring menu: https://example.com/recipes/#spring #coffee"
    assert commentary(text) == ("Spring menu: https://example.com/recipes/\\#spring {hashtag|\\#|coffee}")


def test_a_duplicate_names_the_post_already_there(fake, post):
    first = publisher(fake).publish(post, key="k-d1")
    with pytest.raises(NotSent, match=f"already on the page: {first.id}") as caught:
        publisher(fake).publish(post, key="k-d2")
    assert not caught.value.retryable


def test_a_silent_profile_lookup_before_posting_is_a_retryable_refusal_not_an_unknown(post):
    """Without a configured author, LinkedIn is first asked who the token is; no post can exist yet."""
    import socket

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        quiet = LinkedInPublisher(name="brand-linkedin", token="linkedin-token", author=None,
                                  base_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeouts=QUICK)
        with pytest.raises(NotSent, match="nothing was posted") as refused:
            quiet.publish(post, key="k1")
    assert refused.value.retryable
