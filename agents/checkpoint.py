"""Where graph checkpoints live: SQLite beside Plume's data, or PostgreSQL with DATABASE_URL."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from core.errors import StorageError
from core.settings import Settings


def strict_serde() -> JsonPlusSerializer:
    # The state holds plain values only, so no module may be revived from a checkpoint blob.
    return JsonPlusSerializer(allowed_msgpack_modules=None)


class Checkpoints(AbstractContextManager):
    """Opens the checkpointer for the settings and closes its connection on exit."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._close = lambda: None

    def __enter__(self) -> BaseCheckpointSaver:
        if self.settings.is_postgres:
            return self._postgres()
        return self._sqlite(self.settings.plume_home / "checkpoints.sqlite")

    def _sqlite(self, path: Path) -> BaseCheckpointSaver:
        from langgraph.checkpoint.sqlite import SqliteSaver

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(connection, serde=strict_serde())
            saver.setup()
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"Plume can't open its checkpoint store {path}: {exc}. "
                               "Move the file away or set PLUME_HOME.") from exc
        self._close = connection.close
        return saver

    def _postgres(self) -> BaseCheckpointSaver:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        url = self.settings.db_url.replace("postgresql+psycopg://", "postgresql://", 1)
        try:
            connection = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        except psycopg.Error as exc:
            raise StorageError(f"Plume can't reach PostgreSQL for checkpoints: {str(exc).splitlines()[0]}") from exc
        saver = PostgresSaver(connection, serde=strict_serde())
        saver.setup()
        self._close = connection.close
        return saver

    def __exit__(self, *exc) -> None:
        self._close()
