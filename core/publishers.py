"""Publishers: where an approved post goes at its time. Today: the outbox (one file per post)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from core.domain import Post
from core.errors import PublishFailed


class Publisher(Protocol):
    name: str

    def publish(self, post: Post) -> str:
        """Publish once and return a reference to the published post.

        Raise PublishFailed when the network certainly did not publish; any other
        exception means the outcome is unknown and a human must check.
        """


class OutboxPublisher:
    """Writes each published post to PLUME_HOME/outbox/post-<id>.json, atomically and only once."""

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, post_id: int) -> Path:
        return self.folder / f"post-{post_id}.json"

    def publish(self, post: Post) -> str:
        target = self.path_for(post.id)
        if target.exists():  # published before a crash cut the bookkeeping short: never twice
            return str(target)
        record = {
            "post_id": post.id,
            "network": post.network,
            "locale": post.locale,
            "text": post.text,
            "approved_by": post.approved_by,
            "approved_hash": post.approved_hash,
            "scheduled_for": post.run_at,
            "published_at": datetime.now(UTC).isoformat(),
            "thread_id": post.thread_id,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            os.replace(partial, target)
        except OSError as exc:
            raise PublishFailed(f"Could not write to the outbox {self.folder}: {exc.strerror or exc}") from exc
        return str(target)
