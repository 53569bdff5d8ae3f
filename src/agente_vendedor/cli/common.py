"""What every command shares: the console, the database for one command, and migrating before work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from agente_vendedor.core import migrate
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.settings import get_settings

console = Console(stderr=True)


@contextmanager
def db_engine() -> Iterator[Engine]:
    """An engine on DATABASE_URL for the length of one command, disposed when the block ends."""
    engine = create_db_engine(get_settings().sqlalchemy_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def db_session() -> Iterator[Session]:
    """One transaction for a command: committed when the block ends, rolled back if it raises; engine disposed."""
    with db_engine() as engine, create_session_factory(engine).begin() as session:
        yield session


def safe_url(url: str) -> str:
    """A database URL fit for the screen: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def migrate_database(revision: str = "head") -> None:
    """Apply pending migrations up to `revision` and say so."""
    url = get_settings().sqlalchemy_url
    migrate.upgrade(url, revision)
    console.print(f"[green]Base de datos migrada a {revision}[/green] ({safe_url(url)})")
