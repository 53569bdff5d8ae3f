"""What every restored component shares: staged beside its target, verified, switched in, undone on failure."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from agente_vendedor.core import migrate
from agente_vendedor.respaldo.exceptions import BackupError


class Staged:
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


def quietly(action: Callable[[], None]) -> None:
    """Best-effort clean-up while a failure is already on its way up."""
    try:
        action()
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def connection_error(url: str, exc: OperationalError) -> BackupError:
    """A database that does not answer, said in Spanish with the password hidden."""
    safe = make_url(url).render_as_string(hide_password=True)
    first_line = str(exc.orig or exc).strip().splitlines()[0]
    return BackupError(f"No se puede conectar a la base de datos {safe} (¿existe? créela con createdb): {first_line}")


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision of a database (None when it has none); the engine is disposed afterwards."""
    try:
        return migrate.current_revision(engine)
    except OperationalError as exc:
        raise connection_error(str(engine.url), exc) from exc
    finally:
        engine.dispose()
