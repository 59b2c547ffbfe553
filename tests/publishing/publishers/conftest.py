"""Shared pieces for the publisher tests: a post as the scheduler hands it over, short timeouts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from core.domain import Post
from publishing.publishers import Timeouts

IDS = itertools.count(1)
QUICK = Timeouts(connect=1.0, read=0.5)  # the fakes' hang_after_store sleeps past this


def a_post(text: str = "Fresh Guji roast, out now. #coffee https://tidewren.example/guji", *,
           network: str = "mastodon", **fields) -> Post:
    approved = datetime.now(UTC) - timedelta(minutes=1)
    return Post(id=next(IDS), thread_id="t1", network=network, locale="en", text=text, status="publishing",
                version=1, approved_by="mia", approved_at=approved.isoformat(), approved_hash="h",
                run_at=datetime.now(UTC).isoformat(), **fields)


@pytest.fixture
def post():
    return a_post()
