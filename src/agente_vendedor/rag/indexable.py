"""What `rag` needs to know about an entity to index and search it, declared by the package that owns the entity.

`rag` is generic over what it indexes: it never imports `productos` or `clientes`. Each owner describes its rows
with an `Indexable` (its own `indice.py`), and the composition root hands them to `Rag` (`agente_vendedor.models`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, Integer, Table, Text

from agente_vendedor.core.db import Base

Metadata = dict[str, str | int | float | bool]


T = TypeVar("T")  # a mapped class with an integer primary key `id`


def fts_table(name: str) -> Table:
    """A full-text copy of an entity's searchable text, one row per entity (`rowid` is the entity's id).

    On SQLite an FTS5 virtual table with the trigram tokenizer (created by a migration); on PostgreSQL a plain table
    with a pg_trgm GIN index. Declared on `Base.metadata` so every tool that walks it (tests wiping tables) sees it;
    `rowid` because that is the only key an FTS5 table has.
    """
    return Table(
        name,
        Base.metadata,
        Column("rowid", Integer, primary_key=True, autoincrement=False),
        Column("texto", Text, nullable=False),
    )


def _always(_row: Any) -> bool:
    return True


@dataclass(frozen=True)
class Indexable(Generic[T]):
    """An entity the index keeps in step with the database: its rows, their texts and their vector metadata."""

    entidad: str  # singular, as the outbox records it: "producto"
    coleccion: str  # the vector collection, plural as the CLI names it: "productos"
    modelo: type[T]
    fts: Table
    documento: Callable[[T], str]  # the text its vector is computed from
    lexico: Callable[[T], str]  # its full-text copy (`rag.text.lexical_text`)
    metadata: Callable[[T, str], Metadata]  # what the index stores next to the vector; the str is the fingerprint
    con_vector: Callable[[T], bool] = _always  # rows without a vector are never offered by the vector search
    # The same rule as `con_vector`, as SQL conditions (to count the rows that should have a vector).
    con_vector_sql: tuple[ColumnElement[bool], ...] = field(default=())
