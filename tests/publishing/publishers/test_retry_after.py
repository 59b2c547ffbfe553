"""Reading how long a network wants us to wait, from the headers each one actually sends."""

from __future__ import annotations

from email.utils import formatdate

from publishing.publishers.base import retry_after

NOW = 1_780_000_000.0


def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after({"retry-after": "30"}, now=NOW) == 30
    assert retry_after({"retry-after": formatdate(NOW + 90, usegmt=True)}, now=NOW) == 90
    assert retry_after({"retry-after": "soon"}, now=NOW) is None


def test_rate_limit_reset_as_epoch_or_as_seconds_from_now():
    assert retry_after({"x-rate-limit-reset": str(int(NOW + 600))}, now=NOW) == 600  # X
    assert retry_after({"ratelimit-reset": str(int(NOW + 120))}, now=NOW) == 120  # Bluesky's PDS
    assert retry_after({"ratelimit-reset": "45"}, now=NOW) == 45  # the IETF draft
    assert retry_after({"x-ratelimit-reset": str(int(NOW - 5))}, now=NOW) == 0  # already past


def test_no_usable_header_leaves_the_backoff_to_the_scheduler():
    assert retry_after({}, now=NOW) is None
    assert retry_after({"x-rate-limit-reset": "nan"}, now=NOW) is None
