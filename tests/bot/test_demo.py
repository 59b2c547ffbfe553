"""`plume demo`: a scripted brief on the sample kit ends with a post in the outbox."""

import io
import json

from app import assemble
from bot.shell import demo
from core import posts
from core.domain import Status


def test_demo_publishes_what_passes_and_rejects_the_rest(make_settings):
    settings = make_settings()
    out = io.StringIO()
    with assemble(settings, quiet=True) as plume:
        assert demo(plume, out, delay=1, wait=30) == 0
        with plume.db.session() as session:
            published = posts.with_status(session, [Status.PUBLISHED])
            rejected = posts.with_status(session, [Status.REJECTED])
    shown = out.getvalue()
    assert published and "📤" in shown
    for post in published:
        record = json.loads((settings.outbox / f"post-{post.id}.json").read_text())
        assert record["text"] == post.text and record["approved_by"] == "demo-manager"
        assert str(settings.outbox / f"post-{post.id}.json") in shown
    # Offline mode cannot translate, so the French drafts are turned down with a reason.
    assert rejected and all(p.locale == "fr" for p in rejected)
