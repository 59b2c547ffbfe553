"""Database engine, sessions and migrations (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone-aware columns; everything stored is UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value else None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the scheduler thread read while a front end writes; busy_timeout waits for
    # the other writer instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection) -> None:
    # Take SQLite's write lock when a transaction starts: two deciders then queue on
    # busy_timeout instead of one failing on a stale snapshot, and the loser sees the winner.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, serialize_writes: bool = True) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            parent = Path(path).parent
            if parent.exists() and not parent.is_dir():
                raise StorageError(f"Plume's data folder {parent} is a file, not a folder. Move it away or set PLUME_HOME.")
            parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if serialize_writes:
            # pysqlite's own implicit BEGIN is switched off so that ours is the only one.
            event.listen(engine, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
            event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; the same migrations run on SQLite and PostgreSQL."""
    config = _config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
    except SQLAlchemyError as exc:
        raise StorageError(f"Plume can't use its database ({safe_url(engine)}): {first_line(exc)}. "
                           "If this file is not Plume's database, move it away or set DATABASE_URL.") from exc


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


class Database:
    """The engine and a session factory; `session()` commits on success and rolls back on error."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> Database:
        migrate(self.engine)
        return self

    def ready(self) -> Database:
        """For readers that must not migrate: the schema is this version's, else a StorageError saying what to do."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        try:
            with self.engine.connect() as connection:
                current = set(MigrationContext.configure(connection).get_current_heads())
        except SQLAlchemyError as exc:
            raise StorageError(f"Plume can't use its database ({safe_url(self.engine)}): {first_line(exc)}. "
                               "If this file is not Plume's database, move it away or set DATABASE_URL.") from exc
        if not current:
            raise StorageError("Plume has no data here yet: start Plume (`plume`) or run `plume migrate` first.")
        if current != set(ScriptDirectory.from_config(_config()).get_heads()):
            raise StorageError("Plume's database is from another version of Plume: run `plume migrate` to upgrade "
                               "it, then try again.")
        return self

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except (OperationalError, InterfaceError) as exc:  # the database is down, locked or gone
            session.rollback()
            raise StorageError(f"Plume's database is unavailable right now ({first_line(exc)}); "
                               "nothing was changed, try again in a moment.") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
