"""PostgreSQL: `pg_dump --format=custom`; restored into a new database that is renamed into place."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from agente_vendedor.core.config import normalize_database_url
from agente_vendedor.respaldo.exceptions import BackupError
from agente_vendedor.respaldo.staging import Staged, connection_error, quietly, schema_revision

POSTGRES_FILE = "database.pgdump"


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore (no `+psycopg`, no password) and the environment carrying the password."""
    parsed = make_url(normalize_database_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    """Run pg_dump/pg_restore; their own error text is passed on to the user."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"No se encuentra `{command[0]}`: instale el cliente de PostgreSQL (postgresql-client)")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"{what} falló (código {completed.returncode}): {completed.stderr.strip()}")


def create_dump(url: str, target: Path) -> str | None:
    """`pg_dump --format=custom` (one consistent snapshot); returns the revision read just before."""
    found = _postgres_revision(url)
    conninfo, env = libpq_connection(url)
    _run(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={conninfo}"], env, "pg_dump")
    return found


def _postgres_revision(url: str) -> str | None:
    return schema_revision(create_engine(normalize_database_url(url)))


def _postgres_table_count(url: str) -> int:
    engine = create_engine(normalize_database_url(url))
    query = text(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
    except OperationalError as exc:
        raise connection_error(url, exc) from exc
    finally:
        engine.dispose()


def blocker(url: str) -> str | None:
    """Why the PostgreSQL target cannot receive a restore (it has tables), or None."""
    tables = _postgres_table_count(url)
    if tables:
        safe = make_url(url).render_as_string(hide_password=True)
        return f"la base de datos PostgreSQL {safe} ya tiene {tables} tabla(s)"
    return None


def _postgres_admin(url: str) -> Engine:
    """An AUTOCOMMIT engine on the server's maintenance database (CREATE/ALTER/DROP DATABASE)."""
    maintenance = make_url(normalize_database_url(url)).set(database="postgres")
    return create_engine(maintenance, isolation_level="AUTOCOMMIT")


def _restore_postgres(dump: Path, url: str) -> None:
    """`pg_restore --no-owner` in one transaction: all or nothing."""
    conninfo, env = libpq_connection(url)
    command = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    _run([*command, f"--dbname={conninfo}", str(dump)], env, "pg_restore")


class StagedPostgres(Staged):
    """The dump restored into a new database beside the target, swapped in by renaming both databases."""

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
            raise connection_error(url, exc) from exc
        finally:
            admin.dispose()
        try:
            _restore_postgres(dump, self.staging_url)
        except BaseException:
            quietly(self.discard)
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
