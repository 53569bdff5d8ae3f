"""SQL expressions that format export cells inside the database, identically on SQLite and PostgreSQL.

Formatting in SQL keeps Python out of the per-cell hot path and lets PostgreSQL's `COPY` produce the
final CSV by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# Cells that a spreadsheet would read as a formula (OWASP CSV injection): = + - @ tab CR.
RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class iso_utc(FunctionElement[str]):
    """A UTC timestamp as ISO 8601 text with seconds and a `Z`: `2026-11-26T10:00:00Z`."""

    type = String()
    inherit_cache = True
    name = "iso_utc"


class money_text(FunctionElement[str]):
    """A Numeric(10, 2) amount as text with exactly two decimals: `19.90`."""

    type = String()
    inherit_cache = True
    name = "money_text"


class neutralize(FunctionElement[str]):
    """Text cells that start like a formula get a leading `'`; everything else is unchanged."""

    type = String()
    inherit_cache = True
    name = "neutralize"


def _arg(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    clauses: list[ColumnElement[Any]] = list(element.clauses)
    return compiler.process(clauses[0], **kw)


@compiles(iso_utc, "sqlite")
def _iso_utc_sqlite(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores UTCDateTime as naive UTC text.
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {_arg(element, compiler, **kw)})"


@compiles(iso_utc, "postgresql")
def _iso_utc_postgresql(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    return f"""to_char(({_arg(element, compiler, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


@compiles(money_text, "sqlite")
def _money_text_sqlite(element: money_text, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps NUMERIC as a float: printf rounds it back to its two decimals.
    return f"printf('%.2f', {_arg(element, compiler, **kw)})"


@compiles(money_text, "postgresql")
def _money_text_postgresql(element: money_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(CAST({_arg(element, compiler, **kw)} AS NUMERIC(12, 2)) AS TEXT)"


def _neutralize(element: neutralize, compiler: SQLCompiler, chr_function: str, shortcut: str, **kw: Any) -> str:
    value = _arg(element, compiler, **kw)
    prefixes = ", ".join(
        f"{chr_function}({ord(p)})" if p in ("\t", "\r") else "'" + p.replace("'", "''") + "'" for p in RISKY_PREFIXES
    )
    first = shortcut.format(value=value)
    return f"CASE {first}WHEN substr({value}, 1, 1) IN ({prefixes}) THEN '''' || {value} ELSE {value} END"


@compiles(neutralize, "sqlite")
def _neutralize_sqlite(element: neutralize, compiler: SQLCompiler, **kw: Any) -> str:
    # Every risky prefix sorts below 'A' byte-wise (SQLite's BINARY collation), so most text is settled
    # by one comparison. Not on PostgreSQL: locale collations ignore punctuation when comparing.
    return _neutralize(element, compiler, "char", "WHEN {value} >= 'A' THEN {value} ", **kw)


@compiles(neutralize, "postgresql")
def _neutralize_postgresql(element: neutralize, compiler: SQLCompiler, **kw: Any) -> str:
    return _neutralize(element, compiler, "chr", "", **kw)
