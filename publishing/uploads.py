"""Images on their way to a network: the bytes from the media store, and the uploads already made.

An upload's remote id is written to the database (per publish key, image and channel) before the
post that uses it is sent, so a resend after a crash between upload and post reuses it: one post,
and one upload (or a second one only when the first has expired on the network).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import media as store
from core.db import Database
from core.domain import Media
from core.errors import StorageError
from core.models import UploadRow
from publishing.publishers.base import NotSent, OutcomeUnknown

# upload(media, data) -> (what the network gave back, how long it keeps an unused upload)
Upload = Callable[[Media, bytes], tuple[dict, timedelta | None]]
MARGIN = timedelta(minutes=5)  # an upload about to expire is made again rather than risked


class Uploads:
    def __init__(self, *, home: Path, db: Database):
        self.home, self.db = Path(home), db

    def read(self, media: Media | dict) -> bytes:
        try:
            return store.read(self.home, media)
        except StorageError as exc:  # nothing was sent: a human re-attaches the image and retries
            raise NotSent(str(exc), retryable=False) from exc

    def ensure(self, *, key: str, channel: str, media: list[dict], upload: Upload) -> list[tuple[Media, dict]]:
        """Each image's remote reference for this post on this channel, uploading only what is missing."""
        done = []
        for item in map(Media.from_dict, media):
            remote = self.remembered(key=key, sha256=item.sha256, channel=channel)
            if remote is None:
                try:
                    remote, keeps = upload(item, self.read(item))
                except OutcomeUnknown as silent:  # an upload is not a post: nothing is online yet
                    raise NotSent(f"uploading {item.filename} ended without an answer ({silent}); "
                                  "nothing was posted", retryable=True) from silent
                self.remember(key=key, sha256=item.sha256, channel=channel, remote=remote, keeps=keeps)
            done.append((item, remote))
        return done

    def remembered(self, *, key: str, sha256: str, channel: str) -> dict | None:
        with self.db.session() as session:
            row = session.get(UploadRow, (key, sha256, channel))
            if row is None:
                return None
            expires = row.expires_at.replace(tzinfo=UTC) if row.expires_at and not row.expires_at.tzinfo \
                else row.expires_at
            if expires is not None and expires - MARGIN <= datetime.now(UTC):
                return None
            return dict(row.remote)

    def remember(self, *, key: str, sha256: str, channel: str, remote: dict, keeps: timedelta | None) -> None:
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(UploadRow, (key, sha256, channel))
            if row is None:
                row = UploadRow(publish_key=key, sha256=sha256, channel=channel)
                session.add(row)
            row.remote, row.uploaded_at = remote, now
            row.expires_at = now + keeps if keeps is not None else None


def without_store(channel: str) -> NotSent:
    return NotSent(f"channel {channel} was set up without Plume's database, so it cannot send images",
                   retryable=False)
