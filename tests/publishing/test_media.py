"""Images end to end: the media store, the checks, native uploads kept per post, the outbox and webhook."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from core import checks, media, platforms, posts
from core.brand import BrandProfile
from core.domain import Action, Decision, Status, Variant
from core.errors import ValidationFailed
from publishing.publishers import NotSent
from publishing.publishers.bluesky import BlueskyPublisher
from publishing.publishers.linkedin import LinkedInPublisher
from publishing.publishers.mastodon import MastodonPublisher
from publishing.publishers.outbox import OutboxPublisher
from publishing.publishers.webhook import WebhookPublisher
from publishing.publishers.x import XPublisher
from publishing.uploads import Uploads
from tests.fakes.networks.bluesky import FakeBluesky
from tests.fakes.networks.linkedin import FakeLinkedIn
from tests.fakes.networks.mastodon import FakeMastodon
from tests.fakes.networks.webhook import FakeWebhook
from tests.fakes.networks.x import FakeX
from tests.publishing.publishers.conftest import QUICK, a_post


def png(width: int = 40, height: int = 30, color=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def uploads(home, db):
    return Uploads(home=home, db=db)


def image(home, *, alt="A cup of Guji on a wooden table", data=None, name="guji.png") -> dict:
    item = media.store(home, data or png(), name)
    item.alt = alt
    return item.to_dict()


# --- the store and the checks ------------------------------------------------------------------

def test_an_image_is_kept_once_by_its_content_and_read_back(home):
    first, second = media.store(home, png(), "a.png"), media.store(home, png(), "b.png")
    assert first.sha256 == second.sha256 and (first.mime, first.width, first.height) == ("image/png", 40, 30)
    assert media.read(home, first) == png()
    assert [p.name for p in (home / "media").iterdir()] == [first.sha256]


def test_a_file_that_is_not_an_image_is_refused_with_its_name(home):
    with pytest.raises(ValidationFailed, match="notes.png is not an image Plume can read"):
        media.store(home, b"%PDF-1.7 not an image", "notes.png")
    assert not (home / "media").exists()


def test_each_limit_is_named_in_the_problem(home):
    big = media.store(home, png(), "big.png")
    big.size = 2_000_000
    assert media.check(big, platforms.get("bluesky")) == ["big.png is 1.9 MB; Bluesky takes images up to 977 KB"]
    wide = media.store(home, png(), "wide.png")
    wide.width, wide.height = 9000, 5000
    problem = media.check(wide, platforms.get("mastodon"))[0]
    assert "45,000,000 pixels; Mastodon takes up to 33,177,600" in problem
    webp = media.store(home, png(), "x.png")
    webp.mime = "image/webp"
    assert "LinkedIn takes GIF, JPEG, PNG" in media.check(webp, platforms.get("linkedin"))[0]


def test_checks_fail_without_alt_text_and_over_the_count(home):
    sample_profile = BrandProfile()
    five = [image(home, alt="")] + [image(home) for _ in range(4)]
    found = {c.name: c for c in checks.run("New roast.", network="x", locale="en", profile=sample_profile,
                                           media=five)}
    assert not found["alt_text"].ok and found["alt_text"].severity == "error"
    assert "guji.png" in found["alt_text"].message
    assert not found["media_limits"].ok and "5 images; X takes up to 4 per post" in found["media_limits"].message
    ok = {c.name: c for c in checks.run("New roast.", network="x", locale="en", profile=sample_profile,
                                        media=[image(home)])}
    assert ok["alt_text"].ok and ok["media_limits"].ok


def test_a_post_with_an_image_without_alt_text_cannot_be_approved(db, home):
    with db.session() as session:
        posts.save_brief(session, thread_id="t-img", text="brief", actor="ana")
        post = posts.present(session, thread_id="t-img", variant=Variant(
            network="x", locale="en", text="New roast.", media=[image(home, alt="")]), citations=[])
        with pytest.raises(ValidationFailed, match="image without alt text"):
            posts.decide(session, Decision(post_id=post.id, action=str(Action.APPROVE), actor="mia",
                                           version=post.version), approvers=[])
        assert posts.get(session, post.id).status == Status.AWAITING_APPROVAL


# --- native uploads, idempotent per post ---------------------------------------------------------

def x_publisher(fake, uploads):
    return XPublisher(name="brand-x", token=fake.token, base_url=fake.base_url, timeouts=QUICK, uploads=uploads)


def test_x_uploads_the_image_with_its_alt_text_and_a_resend_reuses_it(home, uploads):
    with FakeX() as fake:
        post = a_post("New roast.", network="x", media=[image(home)])
        fake.rate_limit(retry_after=60)  # the tweet is refused after the upload: a crash in between
        with pytest.raises(NotSent):
            x_publisher(fake, uploads).publish(post, key="k-x")
        published = x_publisher(fake, uploads).publish(post, key="k-x")
        assert fake.uploads == 1 and len(fake.posts) == 1
        [media_id] = fake.posts[0]["media_ids"]
        assert fake.media[media_id]["alt"] == "A cup of Guji on a wooden table"
        assert fake.media[media_id]["data"] == png() and published.id == fake.posts[0]["id"]


def test_mastodon_waits_for_the_asynchronous_processing_then_attaches(home, uploads):
    with FakeMastodon() as fake:
        publisher = MastodonPublisher(name="m", base_url=fake.base_url, token=fake.token, timeouts=QUICK,
                                      uploads=uploads)
        post = a_post("New roast.", network="mastodon", media=[image(home)])
        fake.fail(503)  # the status fails after the upload; the resend reuses the processed media
        with pytest.raises(NotSent):
            publisher.publish(post, key="k-m")
        publisher.publish(post, key="k-m")
        assert fake.uploads == 1 and len(fake.posts) == 1
        [attachment] = fake.posts[0]["media_attachments"]
        assert attachment["description"] == "A cup of Guji on a wooden table" and attachment["url"]


def test_bluesky_sends_images_with_alt_and_aspect_ratio(home, uploads):
    with FakeBluesky() as fake:
        publisher = BlueskyPublisher(name="b", handle=fake.handle, password=fake.password, base_url=fake.base_url,
                                     timeouts=QUICK, uploads=uploads)
        post = a_post("New roast.", network="bluesky", media=[image(home, data=png(64, 48))])
        fake.rate_limit(retry_after=5)
        with pytest.raises(NotSent):
            publisher.publish(post, key="k-b")
        publisher.publish(post, key="k-b")
        assert fake.uploads == 1 and len(fake.posts) == 1
        [img] = fake.posts[0]["embed"]["images"]
        assert img["alt"] == "A cup of Guji on a wooden table" and (img["aspectRatio"]["width"], img["aspectRatio"]["height"]) == (64, 48)
        assert fake.blobs[img["image"]["ref"]["$link"]]["data"] == png(64, 48)


def test_bluesky_sends_a_link_card_with_its_thumbnail(home, uploads):
    with FakeBluesky() as fake:
        publisher = BlueskyPublisher(name="b", handle=fake.handle, password=fake.password, base_url=fake.base_url,
                                     timeouts=QUICK, uploads=uploads)
        card = {"url": "https://tidewren.example/guji", "title": "Guji", "description": "Our new roast",
                "image": image(home, alt="")}
        publisher.publish(a_post("Out now https://tidewren.example/guji", network="bluesky", link_card=card),
                          key="k-card")
        external = fake.posts[0]["embed"]["external"]
        assert (external["uri"], external["title"], external["description"]) == (card["url"], "Guji", "Our new roast")
        assert external["thumb"]["ref"]["$link"] in fake.blobs


def test_linkedin_uploads_through_the_images_api_and_a_link_post_is_an_article(home, uploads):
    with FakeLinkedIn() as fake:
        publisher = LinkedInPublisher(name="li", token=fake.token, author="urn:li:organization:2414183",
                                      base_url=fake.base_url, timeouts=QUICK, uploads=uploads)
        post = a_post("New roast.", network="linkedin", media=[image(home)])
        fake.fail(429)
        with pytest.raises(NotSent):
            publisher.publish(post, key="k-li")
        publisher.publish(post, key="k-li")
        assert fake.uploads == 1 and len(fake.posts) == 1
        content = fake.posts[0]["content"]["media"]
        assert content["altText"] == "A cup of Guji on a wooden table" and fake.images[content["id"]]["data"] == png()
        card = {"url": "https://tidewren.example/guji", "title": "Guji", "description": "Our new roast"}
        publisher.publish(a_post("Read more", network="linkedin", link_card=card), key="k-art")
        assert fake.posts[1]["content"]["article"] == {"source": card["url"], "title": "Guji",
                                                        "description": "Our new roast"}


def test_an_image_missing_from_the_store_is_refused_before_anything_is_sent(home, uploads):
    with FakeX() as fake:
        post = a_post("New roast.", network="x", media=[image(home)])
        for stored in (home / "media").iterdir():
            stored.unlink()
        with pytest.raises(NotSent, match="missing") as caught:
            x_publisher(fake, uploads).publish(post, key="k-gone")
        assert not caught.value.retryable and fake.requests == []


def test_the_outbox_writes_the_images_beside_the_json(home, uploads, tmp_path):
    post = a_post("New roast.", network="threads", media=[image(home)])
    OutboxPublisher(tmp_path / "outbox", uploads=uploads).publish(post, key="k-o")
    record = json.loads((tmp_path / "outbox" / f"post-{post.id}.json").read_text())
    [item] = record["media"]
    assert (tmp_path / "outbox" / item["file"]).read_bytes() == png() and item["alt"].startswith("A cup")


def test_the_webhook_carries_the_images_in_its_signed_body(home, uploads):
    with FakeWebhook() as fake:
        WebhookPublisher(name="w", url=fake.base_url + "/hook", secret=fake.secret, timeouts=QUICK,
                         uploads=uploads).publish(a_post("New roast.", media=[image(home)]), key="k-w")
        [item] = fake.posts[0]["media"]
        assert base64.b64decode(item["data_base64"]) == png() and item["alt"].startswith("A cup")


def test_the_queue_shows_how_long_a_post_the_network_made_wait_has_left():
    from datetime import UTC, datetime, timedelta

    from bot.shell import queue_lines
    from core.domain import Post
    from service import Queue

    at = datetime.now(UTC) + timedelta(hours=5, minutes=30)
    waiting = Post(id=7, thread_id="t", network="linkedin", locale="en", text="Guji", status="scheduled", version=1,
                   run_at=at.isoformat(), waiting=f"LinkedIn is rate-limiting channel li (daily limit); waiting until "
                                                 f"{at:%a %d %b %H:%M} UTC")
    lines = queue_lines(Queue(upcoming=[waiting], attention=[], waiting=0), "UTC")
    [line] = [line for line in lines if "⏳" in line]
    assert line.strip().startswith("⏳ 5 h 2") and "daily limit" in line and len(line) < 120


def test_a_wrong_mastodon_visibility_stops_the_channels_file_at_load(tmp_path):
    from core.errors import ConfigError
    from publishing.channels import Channels

    (tmp_path / "c.yaml").write_text("channels:\n  - name: m\n    kind: mastodon\n    base_url: https://m.example\n"
                                     "    token: ${M}\n    visibility: friends\n")
    with pytest.raises(ConfigError, match="visibility must be one of public, unlisted, private, direct"):
        Channels.from_file(tmp_path / "c.yaml", outbox=tmp_path / "o", env={"M": "t"})
    (tmp_path / "c.yaml").write_text("channels:\n  - name: li\n    kind: linkedin\n    token: ${L}\n"
                                     "    author: acme\n")
    with pytest.raises(ConfigError, match="author must be urn:li:organization"):
        Channels.from_file(tmp_path / "c.yaml", outbox=tmp_path / "o", env={"L": "t"})
