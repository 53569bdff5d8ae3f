"""Backups and restores of the database, the Chroma folder and the exports folder, checked by a manifest.

A backup is a folder `<destino>/<UTC timestamp>/` holding one file per component and `manifest.json`
(creation time, database kind, Alembic revision, and name/size/sha256 of every file). A restore verifies
every checksum and that every target is empty before it writes anything, then is all or nothing: it stages
every component beside its target (the database into a new file or a new PostgreSQL database, each folder
into a hidden sibling), verifies the staged copies, and only then switches them in by renames; a failure at
any step removes what was staged and renames back what was switched, leaving the targets as they were.

With a Chroma server (CHROMA_HOST) the vectors live in the server, not in a local folder: the backup records
that the index is rebuilt from the restored database with `agente-vendedor reindex`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from agente_vendedor.core import migrate
from agente_vendedor.core.config import Settings, normalize_database_url

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SQLITE_FILE = "database.sqlite3.gz"
POSTGRES_FILE = "database.pgdump"
ARCHIVES = {"chroma": "chroma.tar.gz", "exports": "exports.tar.gz"}
LABELS = {"database": "base de datos", "chroma": "carpeta de Chroma", "exports": "carpeta de exportaciones"}
_CHUNK = 1024 * 1024
CHROMA_SERVER_REASON = (
    "el índice está en un servidor Chroma (CHROMA_HOST): tras restaurar, reconstrúyalo desde la base de datos "
    "con `agente-vendedor reindex`"
)

DatabaseKind = Literal["sqlite", "postgresql"]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the user, in Spanish."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup, as the manifest records it."""

    component: str
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A component left out of a backup, and why."""

    component: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds; written last, so a folder with a manifest is a complete backup."""

    created_at: str
    database: DatabaseKind
    schema_revision: str | None
    files: list[BackupFile]
    skipped: list[Skipped] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """The manifest as pretty, UTF-8 friendly JSON."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        """Parse a manifest; raises BackupError when it is malformed."""
        try:
            data: dict[str, Any] = json.loads(raw)
            database = data["database"]
            if database not in ("sqlite", "postgresql"):
                raise ValueError(database)
            return cls(
                created_at=str(data["created_at"]),
                database=database,
                schema_revision=data.get("schema_revision"),
                files=[BackupFile(**entry) for entry in data["files"]],
                skipped=[Skipped(**entry) for entry in data.get("skipped", [])],
                format_version=int(data.get("format_version", FORMAT_VERSION)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{MANIFEST} está dañado o no tiene el formato esperado: {exc}") from exc

    def file(self, component: str) -> BackupFile | None:
        """The file of a component, if the backup has one."""
        return next((f for f in self.files if f.component == component), None)


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: its folder and its manifest."""

    folder: Path
    manifest: Manifest


@dataclass(frozen=True)
class RestoreResult:
    """What a restore wrote and at which schema revision the database is now."""

    restored: list[str]
    schema_revision: str | None
    head_revision: str | None


def database_kind(url: str) -> DatabaseKind:
    """`sqlite` or `postgresql`; any other database cannot be backed up."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"Solo se pueden copiar bases SQLite o PostgreSQL, no {backend!r}")


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite URL; in-memory databases have none."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL apunta a una base SQLite en memoria: no hay nada que copiar ni restaurar")
    return Path(database)


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore (no `+psycopg`, no password) and the environment carrying the password."""
    parsed = make_url(normalize_database_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(component: str, path: Path) -> BackupFile:
    return BackupFile(component=component, name=path.name, size=path.stat().st_size, sha256=sha256_of(path))


def _is_empty_folder(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def _snapshot_sqlite(source: Path, target: Path) -> str | None:
    """Copy a live SQLite database with the online backup API, check it, gzip it; returns its revision."""
    if not source.is_file():
        raise BackupError(f"No existe la base de datos SQLite {source}")
    raw = target.with_name(target.name.removesuffix(".gz"))
    # One backup step copies every page under a single read transaction: a consistent snapshot
    # while the server keeps writing (WAL lets writers go on meanwhile).
    with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(raw)) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        status = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"La copia de la base de datos no pasa la comprobación de integridad: {status}")
        revision = _sqlite_revision(copy)
    with raw.open("rb") as plain, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(plain, packed, _CHUNK)
    raw.unlink()
    return revision


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    """Run pg_dump/pg_restore; their own error text is passed on to the user."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"No se encuentra `{command[0]}`: instale el cliente de PostgreSQL (postgresql-client)")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"{what} falló (código {completed.returncode}): {completed.stderr.strip()}")


def _dump_postgres(url: str, target: Path) -> str | None:
    """`pg_dump --format=custom` (one consistent snapshot); returns the revision read just before."""
    revision = _postgres_revision(url)
    conninfo, env = libpq_connection(url)
    _run(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={conninfo}"], env, "pg_dump")
    return revision


def _connection_error(url: str, exc: OperationalError) -> BackupError:
    safe = make_url(url).render_as_string(hide_password=True)
    first_line = str(exc.orig or exc).strip().splitlines()[0]
    return BackupError(f"No se puede conectar a la base de datos {safe} (¿existe? créela con createdb): {first_line}")


def _revision(engine: Engine) -> str | None:
    try:
        return migrate.current_revision(engine)
    except OperationalError as exc:
        raise _connection_error(str(engine.url), exc) from exc
    finally:
        engine.dispose()


def _postgres_revision(url: str) -> str | None:
    return _revision(create_engine(normalize_database_url(url)))


def _postgres_table_count(url: str) -> int:
    engine = create_engine(normalize_database_url(url))
    query = text(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
    except OperationalError as exc:
        raise _connection_error(url, exc) from exc
    finally:
        engine.dispose()


def _archive_folder(folder: Path, target: Path) -> str | None:
    """Tar+gzip a folder's contents; returns why it was skipped, or None when archived."""
    if not folder.exists():
        return "la carpeta no existe"
    if not folder.is_dir():
        return "la ruta no es una carpeta"
    entries = sorted(folder.iterdir())
    if not entries:
        return "la carpeta está vacía"
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            tar.add(entry, arcname=entry.name)
    return None


def _refuse_destination_inside(destination: Path, folders: Iterable[Path]) -> None:
    target = destination.resolve()
    for folder in folders:
        if folder.exists() and target.is_relative_to(folder.resolve()):
            raise BackupError(f"El destino {destination} está dentro de {folder}, que también se copia: elija otro")


def _new_folder(destination: Path, created: datetime) -> Path:
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = destination / stamp, 1
    while candidate.exists() or (destination / f".{candidate.name}.partial").exists():
        n += 1
        candidate = destination / f"{stamp}-{n}"
    return candidate


def create_backup(*, settings: Settings, destination: Path, now: datetime | None = None) -> BackupResult:
    """Back up the database, the Chroma folder and the exports folder into `destination/<timestamp>/`."""
    url = settings.sqlalchemy_url
    kind = database_kind(url)
    folders = {"chroma": settings.CHROMA_PERSIST_DIRECTORY, "exports": settings.EXPORT_DIRECTORY}
    _refuse_destination_inside(destination, folders.values())
    created = (now or datetime.now(UTC)).astimezone(UTC)
    destination.mkdir(parents=True, exist_ok=True)
    final = _new_folder(destination, created)
    # Work in a hidden folder and rename at the end: an interrupted backup never looks complete.
    work = destination / f".{final.name}.partial"
    work.mkdir()
    try:
        if kind == "sqlite":
            database_file = work / SQLITE_FILE
            revision = _snapshot_sqlite(sqlite_path(url), database_file)
        else:
            database_file = work / POSTGRES_FILE
            revision = _dump_postgres(url, database_file)
        files = [_describe("database", database_file)]
        skipped: list[Skipped] = []
        if settings.CHROMA_HOST:
            skipped.append(Skipped(component="chroma", reason=CHROMA_SERVER_REASON))
            folders.pop("chroma")
        for component, folder in folders.items():
            archive = work / ARCHIVES[component]
            reason = _archive_folder(folder, archive)
            if reason is None:
                files.append(_describe(component, archive))
            else:
                skipped.append(Skipped(component=component, reason=f"{reason} ({folder})"))
        manifest = Manifest(
            created_at=created.isoformat(timespec="seconds"),
            database=kind,
            schema_revision=revision,
            files=files,
            skipped=skipped,
        )
        (work / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(folder=final, manifest=manifest)


def verify_backup(folder: Path) -> Manifest:
    """Read the manifest and check every file's size and SHA-256; raises BackupError listing every problem."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{folder} no contiene {MANIFEST}: no es una copia de seguridad completa")
    manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
    if manifest.file("database") is None:
        raise BackupError(f"{MANIFEST} no registra ningún archivo de base de datos")
    problems = []
    for entry in manifest.files:
        if Path(entry.name).name != entry.name or entry.name in ("", ".", ".."):
            problems.append(f"nombre de archivo no permitido en {MANIFEST}: {entry.name!r}")
            continue
        path = folder / entry.name
        if not path.is_file():
            problems.append(f"falta {entry.name}")
        elif path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
            problems.append(f"{entry.name} no coincide con su suma de control (archivo dañado o modificado)")
    if problems:
        raise BackupError("La copia de seguridad no es válida; no se ha restaurado nada: " + "; ".join(problems))
    return manifest


def _check_archive(archive: Path, destination: Path) -> str | None:
    """Why an archive cannot be extracted safely (absolute paths, `..`, links out, devices), or None."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                try:
                    tarfile.data_filter(member, str(destination))
                except tarfile.FilterError as exc:
                    return f"{archive.name} contiene una entrada no permitida ({member.name!r}: {exc})"
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"{archive.name} no se puede leer: {exc}"
    return None


def _paso(nombre: str) -> None:
    """A step of a restore has just completed (fault-injection point for the all-or-nothing tests)."""


def _unpack_sqlite(packed: Path, staging: Path) -> None:
    with gzip.open(packed, "rb") as source, staging.open("wb") as plain:
        shutil.copyfileobj(source, plain, _CHUNK)
        plain.flush()
        os.fsync(plain.fileno())


class _Staged:
    """One component copied beside its target: verify it, switch it in, undo the switch, or discard it."""

    component: str

    def verify(self) -> None:
        """Raise BackupError unless the staged copy is usable."""

    def switch(self) -> None:
        """Put the staged copy in place of the (empty) target, keeping the target aside."""

    def undo(self) -> None:
        """Reverse `switch`."""

    def discard(self) -> None:
        """Remove the staged copy (restore failed)."""

    def finish(self) -> None:
        """Remove the empty target kept aside (restore succeeded)."""


class _StagedSqlite(_Staged):
    component = "database"

    def __init__(self, packed: Path, target: Path, token: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.staging = target.with_name(f"{target.name}.restaurando-{token}")
        self.aside = target.with_name(f"{target.name}.anterior-{token}")
        try:
            _unpack_sqlite(packed, self.staging)
        except BaseException:
            self.discard()
            raise

    def verify(self) -> None:
        with closing(sqlite3.connect(self.staging)) as connection:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"La base de datos de la copia no pasa la comprobación de integridad: {status}")

    def switch(self) -> None:
        if self.target.exists() and self.target.stat().st_size > 0:
            raise BackupError(f"{self.target} dejó de estar vacía durante la restauración; no se ha sobrescrito")
        for leftover in (Path(f"{self.target}-wal"), Path(f"{self.target}-shm")):
            leftover.unlink(missing_ok=True)
        if self.target.exists():
            os.replace(self.target, self.aside)
        os.replace(self.staging, self.target)

    def undo(self) -> None:
        if self.target.exists() and not self.staging.exists():
            os.replace(self.target, self.staging)
        if self.aside.exists():
            os.replace(self.aside, self.target)

    def discard(self) -> None:
        self.staging.unlink(missing_ok=True)

    def finish(self) -> None:
        self.aside.unlink(missing_ok=True)


def _postgres_admin(url: str) -> Engine:
    """An AUTOCOMMIT engine on the server's maintenance database (CREATE/ALTER/DROP DATABASE)."""
    maintenance = make_url(normalize_database_url(url)).set(database="postgres")
    return create_engine(maintenance, isolation_level="AUTOCOMMIT")


class _StagedPostgres(_Staged):
    component = "database"

    def __init__(self, dump: Path, url: str, token: str, revision: str | None) -> None:
        parsed = make_url(normalize_database_url(url))
        self.name = str(parsed.database)
        self.staging = f"{self.name[:40]}_restaurando_{token}"
        self.aside = f"{self.name[:40]}_anterior_{token}"
        self.staging_url = parsed.set(database=self.staging).render_as_string(hide_password=False)
        self.url = url
        self.revision = revision
        admin = _postgres_admin(url)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.staging}"'))
        except OperationalError as exc:
            raise _connection_error(url, exc) from exc
        finally:
            admin.dispose()
        try:
            _restore_postgres(dump, self.staging_url)
        except BaseException:
            _quietly(self.discard)
            raise

    def verify(self) -> None:
        found = _postgres_revision(self.staging_url)
        if found != self.revision or not _postgres_table_count(self.staging_url):
            raise BackupError(
                f"La base restaurada no coincide con la copia (revisión {found!r}, se esperaba {self.revision!r})"
            )

    def _rename(self, old: str, new: str) -> None:
        admin = _postgres_admin(self.url)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
        except Exception as exc:
            raise BackupError(
                f"No se pudo renombrar la base {old} a {new} (¿hay conexiones abiertas? pare el servicio): {exc}"
            ) from exc
        finally:
            admin.dispose()

    def switch(self) -> None:
        if _postgres_table_count(self.url):
            raise BackupError(f"La base {self.name} dejó de estar vacía durante la restauración; no se ha tocado")
        self._rename(self.name, self.aside)
        try:
            self._rename(self.staging, self.name)
        except BaseException:
            self._rename(self.aside, self.name)
            raise

    def undo(self) -> None:
        self._rename(self.name, self.staging)
        self._rename(self.aside, self.name)

    def _drop(self, name: str) -> None:
        admin = _postgres_admin(self.url)
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def discard(self) -> None:
        self._drop(self.staging)

    def finish(self) -> None:
        self._drop(self.aside)


class _StagedFolder(_Staged):
    def __init__(self, component: str, archive: Path, folder: Path, token: str) -> None:
        self.component = component
        self.folder = folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging = folder.parent / f".{folder.name}.restaurando-{token}"
        self.aside = folder.parent / f".{folder.name}.anterior-{token}"
        self.staging.mkdir()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                self.expected = sum(1 for m in tar.getmembers() if m.isfile())
                tar.extractall(self.staging, filter="data")
        except BaseException:
            self.discard()
            raise

    def verify(self) -> None:
        found = sum(1 for p in self.staging.rglob("*") if p.is_file())
        if found != self.expected:
            raise BackupError(f"La {LABELS[self.component]} extraída tiene {found} archivos de {self.expected}")

    def switch(self) -> None:
        if not _is_empty_folder(self.folder):
            raise BackupError(f"La {LABELS[self.component]} {self.folder} dejó de estar vacía; no se ha tocado")
        if self.folder.exists():
            self.folder.rename(self.aside)
        self.staging.rename(self.folder)

    def undo(self) -> None:
        if self.folder.exists() and not self.staging.exists():
            self.folder.rename(self.staging)
        if self.aside.exists():
            self.aside.rename(self.folder)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def finish(self) -> None:
        shutil.rmtree(self.aside, ignore_errors=True)


def _restore_postgres(dump: Path, url: str) -> None:
    """`pg_restore --no-owner` in one transaction: all or nothing."""
    conninfo, env = libpq_connection(url)
    command = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    _run([*command, f"--dbname={conninfo}", str(dump)], env, "pg_restore")


def _database_blocker(kind: DatabaseKind, url: str) -> str | None:
    if kind == "sqlite":
        path = sqlite_path(url)
        if path.exists() and path.stat().st_size > 0:
            return f"la base de datos {path} ya existe y no está vacía"
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return f"existe un diario {wal} con datos; muévalo antes de restaurar"
        return None
    tables = _postgres_table_count(url)
    if tables:
        safe = make_url(url).render_as_string(hide_password=True)
        return f"la base de datos PostgreSQL {safe} ya tiene {tables} tabla(s)"
    return None


def _quietly(action: Callable[[], None]) -> None:
    """Best-effort clean-up while a failure is already on its way up."""
    try:
        action()
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def restore_backup(*, settings: Settings, source: Path) -> RestoreResult:
    """Restore a verified backup into empty targets only; every check runs before anything is written."""
    manifest = verify_backup(source)
    url = settings.sqlalchemy_url
    kind = database_kind(url)
    if kind != manifest.database:
        raise BackupError(
            f"La copia es de una base {manifest.database} y DATABASE_URL apunta a {kind}; no se ha restaurado nada"
        )
    folders = {"chroma": settings.CHROMA_PERSIST_DIRECTORY, "exports": settings.EXPORT_DIRECTORY}
    if settings.CHROMA_HOST:
        folders.pop("chroma")  # the server's index is rebuilt with `reindex`, never written from a local archive
    blockers = []
    if reason := _database_blocker(kind, url):
        blockers.append(reason)
    for component, folder in folders.items():
        entry = manifest.file(component)
        if entry is None:
            continue
        if not _is_empty_folder(folder):
            blockers.append(f"la {LABELS[component]} {folder} no está vacía")
        elif reason := _check_archive(source / entry.name, folder):
            blockers.append(reason)
    if blockers:
        raise BackupError("Solo se restaura en destinos vacíos; no se ha restaurado nada: " + "; ".join(blockers))

    database_entry = manifest.file("database")
    assert database_entry is not None  # verify_backup guarantees it
    token = uuid.uuid4().hex[:8]
    stagers: list[Callable[[], _Staged]] = []
    if kind == "sqlite":
        stagers.append(lambda: _StagedSqlite(source / database_entry.name, sqlite_path(url), token))
    else:
        stagers.append(lambda: _StagedPostgres(source / database_entry.name, url, token, manifest.schema_revision))
    for component, folder in folders.items():
        entry = manifest.file(component)
        if entry is not None:
            archive = source / entry.name
            stagers.append(functools.partial(_StagedFolder, component, archive, folder, token))

    staged: list[_Staged] = []
    switched: list[_Staged] = []
    try:
        for stage in stagers:
            staged.append(stage())
            _paso(f"preparar:{staged[-1].component}")
        for item in staged:
            item.verify()
            _paso(f"verificar:{item.component}")
        for item in staged:
            switched.append(item)  # before switching: a switch that fails half way is undone too
            item.switch()
            _paso(f"cambiar:{item.component}")
    except BaseException:
        for item in reversed(switched):
            _quietly(item.undo)
        for item in staged:
            _quietly(item.discard)
        raise
    for item in staged:
        _quietly(item.finish)
    restored = [item.component for item in staged]

    revision = _revision(create_engine(url))
    return RestoreResult(restored=restored, schema_revision=revision, head_revision=migrate.head_revision(url))
