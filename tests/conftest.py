"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from OPENBUREAU_TEST_PG_URL (scripts/test starts a real server). Without
it the PostgreSQL half fails loudly rather than skipping.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openbureau.context import Bureau
from openbureau.governance.members import Role, add_member, issue_key
from openbureau.schema_migrations import upgrade
from openbureau.settings import Settings

# Timing belongs in bench/, not in tests: on a loaded 2-core CI machine hypothesis' default
# 200 ms deadline per example fails correct code.
hypothesis_settings.register_profile("openbureau", deadline=None)
hypothesis_settings.load_profile("openbureau")

PG_URL_ENV = "OPENBUREAU_TEST_PG_URL"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.fail(f"{PG_URL_ENV} is not set: run the suite through scripts/test")
    return url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url) -> str:
    name = f"ob_template_{_worker()}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(pg_admin_url).set(database=name))
    upgrade(engine)
    engine.dispose()
    admin.dispose()
    return name


def _fresh_pg_database(pg_admin_url: str, template: str) -> tuple[str, callable]:
    name = f"ob_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False), drop


def _test_keys() -> dict[str, str]:
    return {
        "encryption_key": base64.b64encode(os.urandom(32)).decode(),
        "blind_index_key": base64.b64encode(os.urandom(32)).decode(),
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request) -> str:
    return request.param


@pytest.fixture
def settings(request, db_backend, tmp_path) -> Iterator[Settings]:
    keys = _test_keys()
    if db_backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        db_path = tmp_path / "bureau.db"
        shutil.copy(template, db_path)
        yield Settings(data_dir=tmp_path, database_url=f"sqlite:///{db_path}", **keys)
    else:
        admin = request.getfixturevalue("pg_admin_url")
        template = request.getfixturevalue("pg_template")
        url, drop = _fresh_pg_database(admin, template)
        try:
            yield Settings(data_dir=tmp_path, database_url=url, **keys)
        finally:
            drop()


@pytest.fixture
def bureau(settings) -> Iterator[Bureau]:
    instance = Bureau.from_settings(settings)
    yield instance
    instance.dispose()


@pytest.fixture
def env_settings(settings, monkeypatch) -> Settings:
    """Exposes the test database to CLI commands through OPENBUREAU_* variables."""
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OPENBUREAU_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("OPENBUREAU_ENCRYPTION_KEY", settings.encryption_key)
    monkeypatch.setenv("OPENBUREAU_BLIND_INDEX_KEY", settings.blind_index_key)
    return settings


class Members:
    """Creates members with keys for a test."""

    def __init__(self, bureau: Bureau) -> None:
        self.bureau = bureau

    def add(self, code: str, *roles: Role):
        with self.bureau.sessions() as session, session.begin():
            member = add_member(session, code, code.upper(), list(roles), "operator:test")
            key = issue_key(session, code, "operator:test")
        return member, key.secret_key


@pytest.fixture
def members(bureau) -> Members:
    return Members(bureau)


@pytest.fixture
def client(bureau):
    from fastapi.testclient import TestClient

    from openbureau.api.app import create_app

    with TestClient(create_app(bureau), raise_server_exceptions=False) as test_client:
        yield test_client
