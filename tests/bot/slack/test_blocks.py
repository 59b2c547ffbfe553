"""Block Kit builders: every message and view parses with slack_sdk.models and stays inside Slack's limits."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack import blocks
from core.domain import Passage, Post, Status, digest
from core.pause import Pause
from service import Queue

AT = (datetime.now(UTC) + timedelta(days=1)).isoformat()
EVIL = "Big news <!channel> <!here> <@U123ABC> <https://evil.example|click> & more"


def post(**kw) -> Post:
    fields = dict(id=7, thread_id="t", network="linkedin", locale="en", text="Fresh Guji roast, out now.",
                  status=Status.AWAITING_APPROVAL, version=2, run_at=AT, time_reason="weekday morning",
                  checks=[{"name": "length", "ok": True, "message": "fits"},
                          {"name": "banned", "ok": False, "message": "uses <!here> “cheap”", "severity": "error"}],
                  citations=[{"id": "a#0", "source": "en/voice.md", "heading": "Voice › Tone"}])
    fields.update(kw)
    return Post(**fields)


def valid_message(payload: dict) -> list[dict]:
    assert 1 <= len(payload["blocks"]) <= blocks.MESSAGE_BLOCKS
    assert len(payload["text"]) <= blocks.FALLBACK_TEXT
    for raw in payload["blocks"]:
        Block.parse(raw).validate_json()
        for text in _texts(raw):
            assert len(text) <= 3000
    return payload["blocks"]


def valid_view(view: dict) -> dict:
    View(**view).validate_json()
    return view


def _texts(node):
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text"):
            yield node["text"]
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def test_card_shows_everything_a_reviewer_needs_with_exact_buttons_carrying_ids_only():
    shown = valid_message(blocks.card(post(rationale="Warm <@U1> voice for LinkedIn"), zone="Europe/Paris"))
    text = json.dumps(shown, ensure_ascii=False)
    assert "LinkedIn · English" in text and "draft v2" in text
    assert "Why: Warm &lt;@U1&gt; voice for LinkedIn" in text
    assert "Length *26/3000* as LinkedIn counts" in text
    assert "✗ uses &lt;!here&gt; “cheap”" in text
    assert "en/voice.md › Voice › Tone" in text
    assert "weekday morning" in text and "Europe/Paris" in text
    actions = [b for b in shown if b["type"] == "actions"][0]["elements"]
    assert [a["text"]["text"] for a in actions] == ["Approve", "Request changes", "Edit", "Reject"]
    assert {a["value"] for a in actions} == {"7:2"}
    assert [a["action_id"] for a in actions] == list(blocks.CARD_ACTIONS)


def test_model_output_cannot_broadcast_mention_or_link():
    payload = blocks.card(post(text=EVIL, warnings=[EVIL], time_reason=EVIL,
                               citations=[{"source": EVIL, "heading": EVIL}]), zone="UTC")
    valid_message(payload)
    raw = json.dumps(payload)
    for live in ("<!channel>", "<!here>", "<@U123ABC>", "<https://"):
        assert live not in raw
    assert "&lt;!channel&gt;" in raw and "&amp; more" in raw


def test_long_text_is_split_into_sections_within_limits_without_breaking_entities():
    text = ("Tom & Jerry <3 coffee " * 140).strip()  # 3000+ characters, escaping grows it further
    shown = valid_message(blocks.card(post(text=text), zone="UTC"))
    quoted = [b["text"]["text"] for b in shown if b["type"] == "section" and b["text"]["text"].startswith(">")]
    assert len(quoted) >= 2
    joined = "".join(q.replace("\n>", " ").lstrip(">") for q in quoted)
    assert "&amp" not in joined.replace("&amp;", "")
    one_line = "x" * 7000
    assert all(len(c) <= 3000 for c in blocks.quote_chunks(one_line))


def test_decided_card_has_no_buttons_and_says_who_when_what():
    decided = post(status=Status.SCHEDULED, approved_by="UBOSS", approved_at=AT, last_actor="UBOSS")
    shown = valid_message(blocks.card(decided, zone="Europe/Paris"))
    assert not any(b["type"] == "actions" for b in shown)
    text = json.dumps(shown, ensure_ascii=False)
    assert "Approved by <@UBOSS>" in text and "scheduled for" in text
    rejected = valid_message(blocks.card(post(status=Status.REJECTED, last_actor="UMIA", last_reason="off <!here>"),
                                         zone="UTC"))
    assert "Rejected by <@UMIA>" in json.dumps(rejected) and "<!here>" not in json.dumps(rejected)


def test_superseded_card_points_to_the_next_version():
    old = blocks.card(post(), zone="UTC", text="old text",
                      superseded=blocks.Superseded(actor="UMIA", reason="shorter", edited=False, next_version=3))
    text = json.dumps(valid_message(old), ensure_ascii=False)
    assert "Changes requested by <@UMIA>" in text and "version 3" in text and "old text" in text
    assert "actions" not in text


def test_votes_are_shown_when_several_approvals_are_needed():
    text = json.dumps(blocks.card(post(), zone="UTC", votes=["UBOSS"], needed=2))
    assert "1 of 2 approvals: <@UBOSS>" in text


@pytest.mark.parametrize("build", [blocks.changes_modal, blocks.edit_modal, blocks.reject_modal])
def test_modals_parse_and_carry_ids_in_private_metadata(build):
    view = valid_view(build(post(text="y" * 5000), channel="CMKT", thread_ts="1.2"))
    meta = json.loads(view["private_metadata"])
    assert {k: meta.pop(k) for k in ("post", "version", "channel", "thread")} == \
        {"post": 7, "version": 2, "channel": "CMKT", "thread": "1.2"}
    assert meta in ({}, {"zone": "UTC"})  # the edit modal reads a time in words in the editor's zone


def test_changes_modal_offers_the_reason_labels_and_combines_them():
    view = blocks.changes_modal(post())
    labels = [o["text"]["text"] for o in view["blocks"][1]["element"]["options"]]
    assert labels == ["Off-brand tone", "Wrong facts", "Format/length", "Legal or compliance", "Timing", "Other"]
    assert blocks.change_reason(["tone", "legal"], " drop the claim ") == "Off-brand tone, Legal or compliance: drop the claim"
    assert blocks.change_reason([], "") == ""


def test_edit_modal_is_prefilled_with_text_and_takes_the_time_in_words_in_the_editors_zone():
    view = valid_view(blocks.edit_modal(post(run_at="2026-12-08T08:00:00+00:00"), zone="America/New_York"))
    assert view["blocks"][1]["element"]["initial_value"] == "Fresh Guji roast, out now."
    when = view["blocks"][2]
    assert when["optional"] and when["element"]["type"] == "plain_text_input"
    assert "next Tuesday 9am" in when["element"]["placeholder"]["text"]
    assert when["hint"]["text"] == "Now Tue 8 Dec 03:00 America/New_York. Leave blank to keep it."
    assert json.loads(view["private_metadata"])["zone"] == "America/New_York"


def test_home_pending_queue_and_guidelines_stay_within_limits():
    many = [post(id=i, text="z" * 2900) for i in range(40)]
    scheduled = [post(id=100 + i, status=Status.SCHEDULED, run_at=AT) for i in range(60)]
    home = valid_view(blocks.home_view(waiting=many, upcoming=scheduled, zone="Europe/Paris", approver=True,
                                       held_note="⏸ on hold"))
    assert len(home["blocks"]) <= blocks.VIEW_BLOCKS
    assert any(b.get("type") == "actions" for b in home["blocks"])
    valid_message(blocks.pending_message(many, zone="UTC", approver=True))
    failed = [post(id=300 + i, status=Status.FAILED) for i in range(30)]
    queue = Queue(upcoming=scheduled, attention=failed, waiting=3, pause=Pause(held=True, held_by="UBOSS"))
    shown = json.dumps(valid_message(blocks.queue_message(queue, zone="America/New_York")), ensure_ascii=False)
    assert "Publishing is on hold* (by <@UBOSS>)" in shown and "Needs a human:* #300" in shown
    found = [Passage(id="a", source="en/rules.md", heading="Emoji <!here>", text="At most 2 emoji. " * 100)]
    guide = blocks.guidelines_message("emoji", found)
    valid_message(guide)
    assert "en/rules.md › Emoji &lt;!here&gt;" in json.dumps(guide, ensure_ascii=False)


def test_progress_and_already_answers():
    valid_message(blocks.progress(["Read the brief"] * 30, done=True, notes=["n <!channel>"] * 20, count=2))
    valid_message(blocks.progress([], error="Empty <!here>", retry_value="brief-abc"))
    assert blocks.already(Status.SCHEDULED, "UBOSS") == "Already approved by <@UBOSS>. Nothing was changed."
    assert blocks.already(Status.REJECTED, "UMIA").startswith("Already rejected by <@UMIA>")
    assert blocks.who("plume") == "plume" and blocks.who("<!here>") == "&lt;!here&gt;"


def test_rule_proposal_has_accept_and_dismiss_then_says_who_decided():
    from core.rules import Rule

    proposed = Rule(3, {"banned": {"<!channel> cheap": "affordable"}}, "replaced in 2 edits", "feedback")
    rendered = valid_message(blocks.rule_proposal(proposed))
    buttons = rendered[-1]["elements"]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Accept rule", blocks.RULE_ACCEPT, "3"), ("Dismiss", blocks.RULE_DISMISS, "3")]
    assert "<!channel>" not in json.dumps(rendered)
    accepted = Rule(3, {"banned": {"cheap": ""}}, "", "guidelines", "accepted", "en", decided_by="UBOSS",
                    found_in=[{"source": "en/rules.md", "heading": "Words to avoid", "quote": "Never say “cheap”."}])
    rendered = valid_message(blocks.rule_proposal(accepted))
    assert all(b["type"] != "actions" for b in rendered) and "Accepted by <@UBOSS>" in json.dumps(rendered)
    assert "en/rules.md › Words to avoid" in json.dumps(rendered, ensure_ascii=False)


def approved(**kw) -> Post:
    text = kw.pop("text", "Fresh Guji roast, out now.")
    return post(text=text, approved_hash=digest(text), approved_by="UBOSS", **kw)


def buttons_of(payload: dict) -> list[tuple[str, str, str]]:
    return [(e["text"]["text"], e["action_id"], e["value"])
            for b in valid_message(payload) if b["type"] == "actions" for e in b["elements"]]


def test_publishing_news_offers_what_a_human_needs_next_with_ids_only():
    failed = approved(status=Status.FAILED, last_reason="LinkedIn refused the token (401) <!here>")
    news = blocks.post_news(failed, zone="UTC")
    assert buttons_of(news) == [("Retry", blocks.RETRY_POST, "7")]
    assert "was not published: LinkedIn refused the token (401) &lt;!here&gt;" in news["text"]

    unknown = approved(status=Status.UNKNOWN, last_reason="the network timed out after the request was sent")
    assert buttons_of(blocks.post_news(unknown, zone="UTC")) == [
        ("It was posted", blocks.POSTED, "7"), ("Post it again", blocks.POST_AGAIN, "7")]

    held = approved(status=Status.HELD, last_reason="its time passed 3 h ago while Plume was not running")
    news = blocks.post_news(held, zone="UTC")
    assert buttons_of(news) == [("Publish now", blocks.RETRY_POST, "7")]
    assert "move it to tomorrow 9am" in json.dumps(news, ensure_ascii=False) and "/plume cancel 7" in json.dumps(news)

    sent = approved(status=Status.PUBLISHED, external_ref="urn:li:share:9",
                    external_url="https://www.linkedin.com/feed/update/urn:li:share:9")
    news = blocks.post_news(sent, zone="UTC")
    assert buttons_of(news) == []
    assert "<https://www.linkedin.com/feed/update/urn:li:share:9|View on LinkedIn>" in news["text"]
    # Sent through a webhook, the permalink is the receiver's: it is named by its host, not as the network.
    relayed = blocks.post_news(approved(status=Status.PUBLISHED, external_ref="d-1", channel="zapier",
                                        external_url="https://hooks.example.com/deliveries/d-1"), zone="UTC")
    assert "|View on hooks.example.com>" in relayed["text"] and "View on LinkedIn" not in relayed["text"]
    # A URL that could break out of the link markup is shown as the network's id instead.
    sneaky = blocks.post_news(approved(status=Status.PUBLISHED, external_ref="42",
                                       external_url="https://x.test/a|<!channel>"), zone="UTC")
    assert "<!channel>" not in json.dumps(sneaky) and sneaky["text"].endswith("→ 42")


def test_news_after_someone_acted_says_so_without_buttons_and_no_retry_for_changed_text():
    done = blocks.post_news(approved(status=Status.SCHEDULED), zone="UTC", done="🔁 <@UBOSS> sent it again")
    assert buttons_of(done) == [] and "sent it again" in json.dumps(done)
    tampered = approved(status=Status.FAILED, last_reason="the text changed after it was approved")
    tampered.text = "Edited behind everyone's back"
    news = blocks.post_news(tampered, zone="UTC")
    assert buttons_of(news) == [] and "only the exact text that was approved" in json.dumps(news)
