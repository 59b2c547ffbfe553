"""The proposed time follows the audience of the channel a post goes to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app import assemble


def test_a_channel_with_its_own_audience_gets_times_in_that_zone(make_settings, tmp_path):
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n"
        "  - {name: us-linkedin, kind: outbox, network: linkedin, timezone: America/New_York, country: US}\n",
        encoding="utf-8")
    settings = make_settings(plume_networks="linkedin,x", plume_channels=channels)  # team zone: Europe/Paris
    with assemble(settings, run_scheduler=False, quiet=True) as plume:
        outcome = plume.runner.start(thread_id="shell:audience", text="Our winter blend is back", actor="ana")
    linkedin = next(p for p in outcome.posts if p.network == "linkedin")
    x = next(p for p in outcome.posts if p.network == "x")

    assert "America/New_York" in linkedin.time_reason and "Europe/Paris" in x.time_reason
    local = datetime.fromisoformat(linkedin.run_at).astimezone(ZoneInfo("America/New_York"))
    assert 10 <= local.hour < 12 and local.weekday() in (1, 2, 3)  # LinkedIn's study window, New York time
