"""Test fixtures: every database test runs on a real SQLite file and on the real local PostgreSQL.

`TEST_DATABASES=sqlite` (or `postgresql`) narrows the run; by default both run and an unreachable
PostgreSQL is a failure, not a skip. `TEST_POSTGRES_URL` points at a server where we may create
throwaway databases (default: the local trust-auth server).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, close_all_sessions

from agente_vendedor.auth.models import Usuario
from agente_vendedor.core import migrate
from agente_vendedor.core.config import normalize_database_url
from agente_vendedor.core.db import Base
from agente_vendedor.core.security import create_access_token, hash_password
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings

BACKENDS = [b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
POSTGRES_ADMIN_URL = normalize_database_url(
    os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)


def _create_postgres_database() -> str:
    """Create an empty throwaway database and return its URL."""
    name = f"agente_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - only when the server is down
        pytest.fail(f"PostgreSQL no responde en {POSTGRES_ADMIN_URL}: {exc}. Arránquelo o use TEST_DATABASES=sqlite")
    finally:
        admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def empty_database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Make empty databases of a backend on demand; PostgreSQL ones are dropped at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'agente.db'}"
        url = _create_postgres_database()
        created.append(url)
        return url

    yield make
    for url in created:
        _drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, empty_database_factory: object) -> str:
    """A database of each backend, migrated to head by Alembic (never `create_all`)."""
    url: str = empty_database_factory(request.param)  # type: ignore[operator]
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the test app: its own folders, no demo data, no `.env`."""
    base = tmp_path_factory.mktemp("app")
    return Settings(
        _env_file=None,
        ENVIRONMENT="test",
        DATABASE_URL=database_url,
        DATA_DIRECTORY=base / "data",
        CHROMA_PERSIST_DIRECTORY=base / "data" / "chroma",
        EXPORT_DIRECTORY=base / "exports",
        DEMO_DATA=False,
        MIN_FREE_DISK_MB=0,
        RATE_LIMIT_LOGIN="10000/minute",
        RATE_LIMIT_RAG="10000/minute",
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    """The application under test, one per backend."""
    return create_app(settings)


def _wipe(app: FastAPI) -> None:
    """Empty every table so each test starts from a clean, migrated database."""
    rag = getattr(app.state, "rag", None)
    if rag is not None and not rag.vectors_paused():
        # A chat turn leaves its index work to the background processor: wait for a pass in flight and finish the
        # rest here, so nothing of this test reaches the index (or opens sessions) after the wipe.
        rag.process_outbox_safely()
    for intento in range(20):
        try:
            close_all_sessions()  # a test's open session would hold locks that TRUNCATE waits for on PostgreSQL
            break
        except RuntimeError:  # the processor thread opened a session while the registry was being walked
            if intento == 19:
                raise
            time.sleep(0.05)
    engine = app.state.engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    app.state.cache.bump("catalogo")  # the wipe bypasses the ORM, so it tells the caches itself
    app.state.cache.bump("usuarios")


TEST_PASSWORD = "contraseña-de-prueba-123"


@dataclass(frozen=True)
class StaffMember:
    """A user created for a test, with ready-to-use auth headers."""

    id: int
    email: str
    rol: str
    headers: dict[str, str]


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of TEST_PASSWORD for every test user (hashing is deliberately slow)."""
    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(app: FastAPI, settings: Settings, password_hash: str) -> Iterator[Callable[..., StaffMember]]:
    """Create staff users straight in the database and mint their tokens; wiped afterwards."""
    counter = iter(range(1, 10_000))

    def make(rol: str = "admin", *, email: str | None = None, activo: bool = True) -> StaffMember:
        address = email or f"{rol}{next(counter)}@tienda.example.com"
        with app.state.session_factory.begin() as db_session:
            usuario = Usuario(email=address, password_hash=password_hash, rol=rol, activo=activo)
            db_session.add(usuario)
            db_session.flush()
            user_id = usuario.id
        token = create_access_token(user_id=user_id, rol=rol, secret=settings.SECRET_KEY, expires_minutes=30)
        return StaffMember(user_id, address, rol, {"Authorization": f"Bearer {token}"})

    yield make
    _wipe(app)


@pytest.fixture
def admin_headers(make_user: Callable[..., StaffMember]) -> dict[str, str]:
    """Authorization headers of a fresh admin."""
    return make_user("admin").headers


@pytest.fixture
def client(app: FastAPI, admin_headers: dict[str, str]) -> Iterator[TestClient]:
    """An HTTP client talking to the app through ASGI as an admin; the database is wiped afterwards."""
    with TestClient(app, headers=admin_headers) as test_client:
        yield test_client
    _wipe(app)


@pytest.fixture
def anon_client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client without credentials; the database is wiped afterwards."""
    with TestClient(app) as test_client:
        yield test_client
    _wipe(app)


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A database session for service-level tests; the database is wiped afterwards."""
    with app.state.session_factory() as db_session:
        yield db_session
        db_session.rollback()
    _wipe(app)


@pytest.fixture(scope="session")
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn on a free loopback port, for tests that need real concurrency."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("el servidor de pruebas no arrancó")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_url(live_server: str, app: FastAPI) -> Iterator[str]:
    """Base URL of the running server; the database is wiped after the test."""
    yield live_server
    _wipe(app)


@pytest.fixture
def backend(database_url: str) -> str:
    """`sqlite` or `postgresql`."""
    return make_url(database_url).get_backend_name()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which databases this run covers."""
    return f"bases de datos: {', '.join(BACKENDS)} (TEST_DATABASES)"
