"""SQLite: an online-backup snapshot, gzipped; restored into a new file that is renamed into place."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from agente_vendedor.respaldo.exceptions import BackupError
from agente_vendedor.respaldo.manifest import CHUNK
from agente_vendedor.respaldo.staging import Staged

SQLITE_FILE = "database.sqlite3.gz"


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite URL; in-memory databases have none."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL apunta a una base SQLite en memoria: no hay nada que copiar ni restaurar")
    return Path(database)


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def snapshot(source: Path, target: Path) -> str | None:
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
        shutil.copyfileobj(plain, packed, CHUNK)
    raw.unlink()
    return revision


def blocker(url: str) -> str | None:
    """Why the SQLite target cannot receive a restore (it holds data), or None."""
    path = sqlite_path(url)
    if path.exists() and path.stat().st_size > 0:
        return f"la base de datos {path} ya existe y no está vacía"
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return f"existe un diario {wal} con datos; muévalo antes de restaurar"
    return None


def _unpack_sqlite(packed: Path, staging: Path) -> None:
    with gzip.open(packed, "rb") as source, staging.open("wb") as plain:
        shutil.copyfileobj(source, plain, CHUNK)
        plain.flush()
        os.fsync(plain.fileno())


class StagedSqlite(Staged):
    """The database file unpacked beside the target, renamed into place by `switch`."""

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
