"""A restore is all or nothing: a failure after any step leaves the targets exactly as they were."""

from __future__ import annotations

import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agente_vendedor import respaldo
from agente_vendedor.core.config import normalize_database_url
from agente_vendedor.respaldo import postgresql, sqlite
from agente_vendedor.respaldo import service as respaldo_service
from agente_vendedor.settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL
from tests.respaldo.test_backup import (
    ACCENTED_CHROMA,
    ACCENTED_EXPORTS,
    _count_clientes,
    _settings,
    _table_count,
    _tree,
    _write_tree,
)

STEPS = [
    "preparar:database",
    "preparar:chroma",
    "preparar:exports",
    "verificar:database",
    "verificar:chroma",
    "verificar:exports",
    "cambiar:database",
    "cambiar:chroma",
    "cambiar:exports",
]


class Fallo(RuntimeError):
    """The injected failure."""


def _databases_like(url: str) -> set[str]:
    """Databases on the PostgreSQL server whose name starts like the target's (staged or set-aside copies)."""
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT datname FROM pg_database")).scalars().all()
    finally:
        engine.dispose()
    prefix = str(make_url(url).database)[:40]
    return {n for n in names if n.startswith(prefix)}


def _leftovers(base: Path, database_url: str | None = None) -> list[str]:
    """Staged or set-aside files and folders a restore could leave under `base` (and beside a SQLite target)."""
    places = [base]
    if database_url is not None and make_url(database_url).get_backend_name() == "sqlite":
        places.append(Path(str(make_url(database_url).database)).parent)
    return sorted(
        str(p) for place in places for p in place.rglob("*") if ".restaurando-" in p.name or ".anterior-" in p.name
    )


@pytest.fixture
def backup_folder(settings: Settings, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A backup of the test database (with a few clientes) plus a Chroma folder and an exports folder; its clientes.

    The clientes are deleted afterwards: the database is shared with the rest of the session.
    """
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from agente_vendedor.clientes.models import Cliente

    engine = create_engine(normalize_database_url(settings.DATABASE_URL))
    emails = [f"{uuid.uuid4().hex}@tienda.example.com" for _ in range(3)]
    with Session(engine) as session:
        for i, email in enumerate(emails):
            session.add(Cliente(nombre=f"Cliente {i}", email=email))
        session.commit()
    try:
        source = _settings(settings.DATABASE_URL, tmp_path / "origen")
        _write_tree(source.CHROMA_PERSIST_DIRECTORY, ACCENTED_CHROMA)
        _write_tree(source.EXPORT_DIRECTORY, ACCENTED_EXPORTS)
        folder = respaldo.create_backup(settings=source, destination=tmp_path / "copias").folder
        yield folder, _count_clientes(settings.DATABASE_URL)
    finally:
        with Session(engine) as session:
            session.execute(delete(Cliente).where(Cliente.email.in_(emails)))
            session.commit()
        engine.dispose()


def test_every_step_is_a_restore_step(
    backup_folder: tuple[Path, int],
    backend: str,
    empty_database_factory: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, clientes = backup_folder
    seen: list[str] = []
    monkeypatch.setattr(respaldo_service, "_paso", seen.append)
    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    respaldo.restore_backup(settings=target, source=folder)
    assert seen == STEPS
    assert _count_clientes(target.DATABASE_URL) == clientes
    assert _leftovers(tmp_path / "destino", target.DATABASE_URL) == []


@pytest.mark.parametrize("step", STEPS)
def test_a_failure_at_any_step_leaves_the_targets_as_they_were(
    step: str,
    backup_folder: tuple[Path, int],
    backend: str,
    empty_database_factory: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, clientes = backup_folder
    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    target.EXPORT_DIRECTORY.mkdir(parents=True)  # an existing empty folder must come back as it was
    before_databases = _databases_like(target.DATABASE_URL) if backend == "postgresql" else set()

    def fail_at(name: str) -> None:
        if name == step:
            raise Fallo(name)

    monkeypatch.setattr(respaldo_service, "_paso", fail_at)
    with pytest.raises(Fallo):
        respaldo.restore_backup(settings=target, source=folder)

    assert _table_count(target.DATABASE_URL) == 0
    assert not target.CHROMA_PERSIST_DIRECTORY.exists()
    assert target.EXPORT_DIRECTORY.is_dir() and _tree(target.EXPORT_DIRECTORY) == {}
    assert _leftovers(tmp_path / "destino", target.DATABASE_URL) == []
    if backend == "postgresql":
        assert _databases_like(target.DATABASE_URL) == before_databases
    else:
        assert not Path(str(make_url(target.DATABASE_URL).database)).exists()

    # Nothing was left half done: the same restore now goes through.
    monkeypatch.undo()
    restored = respaldo.restore_backup(settings=target, source=folder)
    assert restored.restored == ["database", "chroma", "exports"]
    assert _count_clientes(target.DATABASE_URL) == clientes
    assert _tree(target.CHROMA_PERSIST_DIRECTORY) == ACCENTED_CHROMA
    assert _tree(target.EXPORT_DIRECTORY) == ACCENTED_EXPORTS


def test_a_failure_inside_a_step_leaves_nothing_staged(
    backup_folder: tuple[Path, int],
    backend: str,
    empty_database_factory: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, _ = backup_folder
    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    before_databases = _databases_like(target.DATABASE_URL) if backend == "postgresql" else set()

    def broken(*args: object, **kwargs: object) -> None:
        raise Fallo("a medias")

    # The database load itself fails half way (pg_restore into the new database / the SQLite unpacking).
    if backend == "postgresql":
        monkeypatch.setattr(postgresql, "_restore_postgres", broken)
    else:
        monkeypatch.setattr(sqlite, "_unpack_sqlite", broken)
    with pytest.raises(Fallo):
        respaldo.restore_backup(settings=target, source=folder)
    assert _table_count(target.DATABASE_URL) == 0
    assert _leftovers(tmp_path / "destino", target.DATABASE_URL) == []
    if backend == "postgresql":
        assert _databases_like(target.DATABASE_URL) == before_databases

    # An archive fails while it is extracted.
    monkeypatch.undo()
    monkeypatch.setattr(tarfile.TarFile, "extractall", broken)
    with pytest.raises(Fallo):
        respaldo.restore_backup(settings=target, source=folder)
    assert _table_count(target.DATABASE_URL) == 0
    assert not target.CHROMA_PERSIST_DIRECTORY.exists() and not target.EXPORT_DIRECTORY.exists()
    assert _leftovers(tmp_path / "destino", target.DATABASE_URL) == []
    if backend == "postgresql":
        assert _databases_like(target.DATABASE_URL) == before_databases


def test_with_a_chroma_server_the_backup_says_to_reindex(settings: Settings, tmp_path: Path) -> None:
    source = _settings(settings.DATABASE_URL, tmp_path / "origen").model_copy(update={"CHROMA_HOST": "127.0.0.1"})
    _write_tree(source.CHROMA_PERSIST_DIRECTORY, ACCENTED_CHROMA)  # a stale local folder is not the index
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    assert result.manifest.file("chroma") is None
    (skipped,) = [s for s in result.manifest.skipped if s.component == "chroma"]
    assert "agente-vendedor reindexar" in skipped.reason
