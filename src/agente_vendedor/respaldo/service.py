"""Create a backup of every component, and restore one all or nothing."""

from __future__ import annotations

import functools
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from agente_vendedor.core import migrate
from agente_vendedor.core.config import Settings
from agente_vendedor.respaldo import folders, postgresql, sqlite
from agente_vendedor.respaldo.exceptions import BackupError
from agente_vendedor.respaldo.manifest import (
    LABELS,
    MANIFEST,
    BackupFile,
    DatabaseKind,
    Manifest,
    Skipped,
    describe,
    verify_backup,
)
from agente_vendedor.respaldo.staging import Staged, quietly, schema_revision

CHROMA_SERVER_REASON = (
    "el índice está en un servidor Chroma (CHROMA_HOST): tras restaurar, reconstrúyalo desde la base de datos "
    "con `agente-vendedor reindexar`"
)


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
    targets = {"chroma": settings.CHROMA_PERSIST_DIRECTORY, "exports": settings.EXPORT_DIRECTORY}
    folders.refuse_destination_inside(destination, targets.values())
    created = (now or datetime.now(UTC)).astimezone(UTC)
    destination.mkdir(parents=True, exist_ok=True)
    final = _new_folder(destination, created)
    # Work in a hidden folder and rename at the end: an interrupted backup never looks complete.
    work = destination / f".{final.name}.partial"
    work.mkdir()
    try:
        if kind == "sqlite":
            database_file = work / sqlite.SQLITE_FILE
            revision = sqlite.snapshot(sqlite.sqlite_path(url), database_file)
        else:
            database_file = work / postgresql.POSTGRES_FILE
            revision = postgresql.create_dump(url, database_file)
        files: list[BackupFile] = [describe("database", database_file)]
        skipped: list[Skipped] = []
        if settings.CHROMA_HOST:
            skipped.append(Skipped(component="chroma", reason=CHROMA_SERVER_REASON))
            targets.pop("chroma")
        for component, folder in targets.items():
            archive = work / folders.ARCHIVES[component]
            reason = folders.archive_folder(folder, archive)
            if reason is None:
                files.append(describe(component, archive))
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


def _paso(nombre: str) -> None:
    """A step of a restore has just completed (fault-injection point for the all-or-nothing tests)."""


def restore_backup(*, settings: Settings, source: Path) -> RestoreResult:
    """Restore a verified backup into empty targets only; every check runs before anything is written."""
    manifest = verify_backup(source)
    url = settings.sqlalchemy_url
    kind = database_kind(url)
    if kind != manifest.database:
        raise BackupError(
            f"La copia es de una base {manifest.database} y DATABASE_URL apunta a {kind}; no se ha restaurado nada"
        )
    targets = {"chroma": settings.CHROMA_PERSIST_DIRECTORY, "exports": settings.EXPORT_DIRECTORY}
    if settings.CHROMA_HOST:
        targets.pop("chroma")  # the server's index is rebuilt with `reindexar`, never written from a local archive
    blockers = []
    if reason := (sqlite.blocker(url) if kind == "sqlite" else postgresql.blocker(url)):
        blockers.append(reason)
    for component, folder in targets.items():
        entry = manifest.file(component)
        if entry is None:
            continue
        if not folders.is_empty_folder(folder):
            blockers.append(f"la {LABELS[component]} {folder} no está vacía")
        elif reason := folders.check_archive(source / entry.name, folder):
            blockers.append(reason)
    if blockers:
        raise BackupError("Solo se restaura en destinos vacíos; no se ha restaurado nada: " + "; ".join(blockers))

    database_entry = manifest.file("database")
    assert database_entry is not None  # verify_backup guarantees it
    token = uuid.uuid4().hex[:8]
    stagers: list[Callable[[], Staged]] = []
    if kind == "sqlite":
        stagers.append(lambda: sqlite.StagedSqlite(source / database_entry.name, sqlite.sqlite_path(url), token))
    else:
        stagers.append(
            lambda: postgresql.StagedPostgres(source / database_entry.name, url, token, manifest.schema_revision)
        )
    for component, folder in targets.items():
        entry = manifest.file(component)
        if entry is not None:
            archive = source / entry.name
            stagers.append(functools.partial(folders.StagedFolder, component, archive, folder, token))

    staged: list[Staged] = []
    switched: list[Staged] = []
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
            quietly(item.undo)
        for item in staged:
            quietly(item.discard)
        raise
    for item in staged:
        quietly(item.finish)
    restored = [item.component for item in staged]

    revision = schema_revision(create_engine(url))
    return RestoreResult(restored=restored, schema_revision=revision, head_revision=migrate.head_revision(url))
