"""The embedded default channel: one JSON file per published post under PLUME_HOME/outbox."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from core.domain import Post
from publishing.publishers.base import NotSent, Published

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class OutboxPublisher:
    """Writes each published post to <folder>/post-<id>.json, atomically and only once; its images go
    beside it (post-<id>-<n>.<ext>, named in the JSON's `media[].file`) before the JSON appears."""

    kind = "outbox"

    def __init__(self, folder: Path, *, name: str = "outbox", network: str = "*", uploads=None):
        self.folder = folder
        self.name = name
        self.network = network
        self.uploads = uploads

    def path_for(self, post_id: int) -> Path:
        return self.folder / f"post-{post_id}.json"

    def publish(self, post: Post, *, key: str) -> Published:
        target = self.path_for(post.id)
        if target.exists():  # published before a crash cut the bookkeeping short: never twice
            return self._published(target)
        record = {
            "post_id": post.id,
            "network": post.network,
            "locale": post.locale,
            "text": post.text,
            "publish_key": key,
            "approved_by": post.approved_by,
            "approved_hash": post.approved_hash,
            "scheduled_for": post.run_at,
            "published_at": datetime.now(UTC).isoformat(),
            "thread_id": post.thread_id,
            "media": [],
            "link_card": post.link_card,
        }
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for number, media in enumerate(post.media, 1):
                name = f"post-{post.id}-{number}.{EXTENSIONS.get(media['mime'], 'img')}"
                self._write(self.folder / name, self._read(media))
                record["media"].append({**media, "file": name})
            partial.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            os.replace(partial, target)
        except OSError as exc:
            with contextlib.suppress(OSError):  # a folder we cannot write may hold no partial file
                partial.unlink(missing_ok=True)
            raise NotSent(f"Could not write to the outbox {self.folder}: {exc.strerror or exc}",
                          retryable=True) from exc
        return self._published(target)

    def _read(self, media: dict) -> bytes:
        if self.uploads is None:
            from publishing.uploads import without_store
            raise without_store(self.name)
        return self.uploads.read(media)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        target = self.path_for(post.id)
        return self._published(target) if target.exists() else None

    def check(self) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NotSent(f"The outbox {self.folder} cannot be created: {exc.strerror or exc}",
                          retryable=False) from exc
        if not os.access(self.folder, os.W_OK):
            raise NotSent(f"The outbox {self.folder} is not writable", retryable=False)
        return f"files in {self.folder.resolve()}"

    @staticmethod
    def _published(target: Path) -> Published:
        return Published(id=str(target), url=target.resolve().as_uri())
