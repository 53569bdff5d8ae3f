"""Backups and restores on real databases: a backup taken while the server writes restores a consistent prefix."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agente_vendedor import respaldo
from agente_vendedor.cli import app as cli
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.clientes.schemas import ClienteResponse
from agente_vendedor.core.config import normalize_database_url
from agente_vendedor.core.migrate import current_revision, head_revision
from agente_vendedor.settings import Settings, get_settings
from tests.factories import cliente_data

PRELOADED = 3000


def _settings(url: str, base: Path) -> Settings:
    """Settings pointing at a database and at folders of its own under `base`."""
    return Settings(
        _env_file=None,
        ENVIRONMENT="test",
        DATABASE_URL=url,
        DATA_DIRECTORY=base / "data",
        CHROMA_PERSIST_DIRECTORY=base / "chroma",
        EXPORT_DIRECTORY=base / "exports",
        DEMO_DATA=False,
    )


def _count_clientes(url: str) -> int:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Cliente)).scalar_one())
    finally:
        engine.dispose()


def _table_count(url: str) -> int:
    """Tables in a database (0 for a missing SQLite file)."""
    if make_url(url).get_backend_name() == "sqlite":
        path = Path(str(make_url(url).database))
        if not path.exists():
            return 0
        with closing(sqlite3.connect(path)) as connection:
            return int(connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


class Writer(threading.Thread):
    """Keeps POSTing new clientes to the live server until told to stop; counts what got a 201, in order."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base_url, self.headers = base_url, headers
        self.created: list[str] = []
        self.error: str | None = None
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self) -> None:
        """Write one cliente at a time, so commits happen in the order of `created`."""
        try:
            with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as http:
                while not self.stop.is_set():
                    body = cliente_data()
                    response = http.post("/clientes/", json=body)
                    if response.status_code != 201:
                        self.error = f"{response.status_code}: {response.text}"
                        return
                    with self.progress:
                        self.created.append(body["email"])
                        self.progress.notify_all()
        except Exception as exc:  # surfaced by wait_for in the test thread
            self.error = repr(exc)
        finally:
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, writes: int) -> None:
        """Block until at least `writes` clientes were created (fails if the writer broke)."""
        with self.progress:
            self.progress.wait_for(lambda: len(self.created) >= writes or self.error is not None, timeout=60)
        assert self.error is None, self.error
        assert len(self.created) >= writes, "el escritor no avanzó"


def test_backup_while_the_server_writes_restores_a_consistent_prefix(
    live_url: str,
    admin_headers: dict[str, str],
    app: FastAPI,
    settings: Settings,
    backend: str,
    empty_database_factory: Callable[[str], str],
    tmp_path: Path,
) -> None:
    # Enough rows that copying the database is real work, not a single page.
    with app.state.session_factory.begin() as session:
        rows = [{"nombre": f"Precargado {i}", "email": f"precargado{i}@example.com"} for i in range(PRELOADED)]
        session.execute(insert(Cliente), rows)

    writer = Writer(live_url, admin_headers)
    writer.start()
    try:
        writer.wait_for(3)  # the server is being written to before the backup starts...
        before = _count_clientes(settings.DATABASE_URL)
        result = respaldo.create_backup(settings=settings, destination=tmp_path / "copias")
        after = _count_clientes(settings.DATABASE_URL)
        writer.wait_for(len(writer.created) + 1)  # ...and still after it ends: it wrote throughout
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error

    head = head_revision(settings.DATABASE_URL)
    assert result.manifest.schema_revision == head
    assert result.manifest.database == backend

    target_url = empty_database_factory(backend)
    restored = respaldo.restore_backup(settings=_settings(target_url, tmp_path / "destino"), source=result.folder)
    # The app's folders (search index, earlier tests' exports) travel with the database when they hold anything.
    assert restored.restored[0] == "database"
    assert set(restored.restored) == {"database"} | {entry.component for entry in result.manifest.files} - {"database"}
    assert restored.schema_revision == head

    if backend == "sqlite":
        with closing(sqlite3.connect(str(make_url(target_url).database))) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    engine = create_engine(normalize_database_url(target_url))
    try:
        assert current_revision(engine) == head
        with Session(engine) as session:
            clientes = session.scalars(select(Cliente).order_by(Cliente.id)).all()
            for cliente in clientes:  # every row is a whole, valid cliente
                ClienteResponse.model_validate(cliente)
                assert cliente.nombre and cliente.email and cliente.activo
            assert before <= len(clientes) <= after
            emails = [c.email for c in clientes]
            written = len(clientes) - PRELOADED
            # A prefix: all preloaded rows, then exactly the first `written` clientes the writer created.
            assert emails[:PRELOADED] == [f"precargado{i}@example.com" for i in range(PRELOADED)]
            assert emails[PRELOADED:] == writer.created[:written]
            # The restored database keeps working: ids (SQLite rowid / PostgreSQL sequence) continue after the last.
            nuevo = Cliente(nombre="Después de restaurar", email="despues@example.com")
            session.add(nuevo)
            session.commit()
            assert nuevo.id > clientes[-1].id
    finally:
        engine.dispose()


def test_a_corrupted_file_is_refused_and_nothing_is_written(
    client: TestClient, settings: Settings, backend: str, empty_database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    assert client.post("/clientes/", json=cliente_data()).status_code == 201
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    _write_tree(source.EXPORT_DIRECTORY, {"clientes.csv": b"nombre\nAna\n"})
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    database_file = result.folder / result.manifest.files[0].name
    data = bytearray(database_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database_file.write_bytes(bytes(data))

    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    with pytest.raises(respaldo.BackupError) as refused:
        respaldo.restore_backup(settings=target, source=result.folder)
    assert "no coincide con su suma de control" in refused.value.message
    assert database_file.name in refused.value.message
    assert "no se ha restaurado nada" in refused.value.message
    assert _table_count(target.DATABASE_URL) == 0
    assert not target.EXPORT_DIRECTORY.exists()


def test_a_missing_file_is_refused(
    settings: Settings, backend: str, empty_database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    _write_tree(source.EXPORT_DIRECTORY, {"clientes.csv": b"nombre\nAna\n"})
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    (result.folder / "exports.tar.gz").unlink()
    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    with pytest.raises(respaldo.BackupError, match="falta exports.tar.gz"):
        respaldo.restore_backup(settings=target, source=result.folder)
    assert _table_count(target.DATABASE_URL) == 0


def test_restore_refuses_a_target_that_is_not_empty(
    client: TestClient, settings: Settings, backend: str, empty_database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    assert client.post("/clientes/", json=cliente_data()).status_code == 201
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    _write_tree(source.EXPORT_DIRECTORY, {"clientes.csv": b"nombre\nAna\n"})
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")

    # Back into the database it came from: it has tables and rows.
    with pytest.raises(respaldo.BackupError, match="no se ha restaurado nada") as refused:
        respaldo.restore_backup(settings=_settings(settings.DATABASE_URL, tmp_path / "otra"), source=result.folder)
    assert "ya" in refused.value.message
    assert _count_clientes(settings.DATABASE_URL) == 1

    # An empty database but an exports folder in use: nothing is restored, not even the database.
    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    _write_tree(target.EXPORT_DIRECTORY, {"informe.csv": b"en uso"})
    with pytest.raises(respaldo.BackupError, match="carpeta de exportaciones .* no está vacía"):
        respaldo.restore_backup(settings=target, source=result.folder)
    assert _table_count(target.DATABASE_URL) == 0
    assert _tree(target.EXPORT_DIRECTORY) == {"informe.csv": b"en uso"}


ACCENTED_CHROMA = {
    "chroma.sqlite3": bytes(range(256)) * 8,
    "colección_ñandú/índice_vectores.bin": "vectores: «café», niño, acción".encode() + b"\x00\xff",
}
ACCENTED_EXPORTS = {
    "exportación_clientes_2026.csv": "nombre,ciudad\nJosé Núñez,Logroño\nÁngela Güell,Cádiz\n".encode(),
    "informes/año_pasado/resumen €.txt": "Señor Muñoz: 1.234,56 €".encode(),
}


def test_chroma_and_exports_round_trip_with_accents(
    settings: Settings, backend: str, empty_database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    _write_tree(source.CHROMA_PERSIST_DIRECTORY, ACCENTED_CHROMA)
    _write_tree(source.EXPORT_DIRECTORY, ACCENTED_EXPORTS)
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    assert {f.name for f in result.manifest.files} >= {"chroma.tar.gz", "exports.tar.gz"}
    assert result.manifest.skipped == []

    target = _settings(empty_database_factory(backend), tmp_path / "destino")
    target.EXPORT_DIRECTORY.mkdir(parents=True)  # an existing but empty folder is a valid target
    restored = respaldo.restore_backup(settings=target, source=result.folder)
    assert restored.restored == ["database", "chroma", "exports"]
    assert _tree(target.CHROMA_PERSIST_DIRECTORY) == ACCENTED_CHROMA
    assert _tree(target.EXPORT_DIRECTORY) == ACCENTED_EXPORTS


def test_missing_or_empty_folders_are_skipped_and_recorded(
    settings: Settings, backend: str, empty_database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    source.EXPORT_DIRECTORY.mkdir(parents=True)
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    assert [f["component"] for f in manifest["files"]] == ["database"]
    reasons = {s["component"]: s["reason"] for s in manifest["skipped"]}
    assert reasons["chroma"].startswith("la carpeta no existe")
    assert reasons["exports"].startswith("la carpeta está vacía")
    assert manifest["schema_revision"] == head_revision(settings.DATABASE_URL)
    assert manifest["created_at"].endswith("+00:00")
    target = _settings(empty_database_factory(backend), tmp_path / "d")
    assert respaldo.restore_backup(settings=target, source=result.folder).restored == ["database"]
    assert not target.CHROMA_PERSIST_DIRECTORY.exists()


def _replace_file(folder: Path, name: str, content: bytes) -> None:
    """Swap a backup file and fix its manifest entry, as an attacker with write access could."""
    (folder / name).write_bytes(content)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["name"] == name:
            entry["size"] = len(content)
            entry["sha256"] = respaldo.sha256_of(folder / name)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_archive_reaching_outside_its_folder_is_refused(tmp_path: Path) -> None:
    source = _settings(f"sqlite:///{tmp_path / 'origen.db'}", tmp_path / "origen")
    sqlite3.connect(tmp_path / "origen.db").close()
    _write_tree(source.EXPORT_DIRECTORY, {"a.csv": b"x"})
    result = respaldo.create_backup(settings=source, destination=tmp_path / "copias")
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        member = tarfile.TarInfo("../fuera.txt")
        member.size = 4
        tar.addfile(member, io.BytesIO(b"malo"))
    _replace_file(result.folder, "exports.tar.gz", evil.getvalue())

    target = _settings(f"sqlite:///{tmp_path / 'destino' / 'nueva.db'}", tmp_path / "destino")
    with pytest.raises(respaldo.BackupError, match="entrada no permitida"):
        respaldo.restore_backup(settings=target, source=result.folder)
    assert not (tmp_path / "destino" / "fuera.txt").exists()
    assert not (tmp_path / "destino" / "nueva.db").exists()


def test_restore_into_a_postgres_database_that_does_not_exist_says_so(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("solo PostgreSQL necesita que la base exista antes de restaurar")
    result = respaldo.create_backup(settings=settings, destination=tmp_path / "copias")
    missing = make_url(settings.DATABASE_URL).set(database="agente_no_existe_xyz").render_as_string(hide_password=False)
    with pytest.raises(respaldo.BackupError, match="No se puede conectar .*createdb"):
        respaldo.restore_backup(settings=_settings(missing, tmp_path / "destino"), source=result.folder)


def test_backup_refuses_a_destination_inside_a_copied_folder(settings: Settings, tmp_path: Path) -> None:
    source = _settings(settings.DATABASE_URL, tmp_path / "origen")
    _write_tree(source.EXPORT_DIRECTORY, {"a.csv": b"x"})
    with pytest.raises(respaldo.BackupError, match="está dentro de"):
        respaldo.create_backup(settings=source, destination=source.EXPORT_DIRECTORY / "copias")
    assert _tree(source.EXPORT_DIRECTORY) == {"a.csv": b"x"}


def test_backup_and_restore_commands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tienda.db'}")
    monkeypatch.setenv("EXPORT_DIRECTORY", str(tmp_path / "exports"))
    monkeypatch.setenv("CHROMA_PERSIST_DIRECTORY", str(tmp_path / "chroma"))
    _write_tree(tmp_path / "exports", {"exportación.csv": "José".encode()})
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        assert runner.invoke(cli, ["cargar-demo"]).exit_code == 0
        made = runner.invoke(cli, ["respaldar", "--destino", "copias"])
        assert made.exit_code == 0, made.output
        assert "Copia completada" in made.output
        (folder,) = (tmp_path / "copias").iterdir()

        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'restaurada.db'}")
        monkeypatch.setenv("EXPORT_DIRECTORY", str(tmp_path / "exports-restauradas"))
        get_settings.cache_clear()
        restored = runner.invoke(cli, ["restaurar", str(folder)])
        assert restored.exit_code == 0, restored.output
        assert f"Revisión del esquema restaurada: {head_revision(get_settings().sqlalchemy_url)}" in restored.output
        assert _count_clientes(get_settings().DATABASE_URL) == 5
        assert (tmp_path / "exports-restauradas" / "exportación.csv").read_text() == "José"

        again = runner.invoke(cli, ["restaurar", str(folder)])
        assert again.exit_code == 1
        assert "no se ha restaurado nada" in again.output

        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'otra.db'}")
        get_settings.cache_clear()
        nothing = runner.invoke(cli, ["restaurar", str(tmp_path)])
        assert nothing.exit_code == 1
        assert "manifest.json" in nothing.output
        assert not (tmp_path / "otra.db").exists()
    finally:
        get_settings.cache_clear()
