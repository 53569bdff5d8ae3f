"""Portable lexical matching over a folded search column (works the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, or_

from agente_vendedor.core.text import fold


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so user input matches literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.like(f"%{like_escape(text)}%", escape="\\")
    return result


def token_filter(column: Any, query: str) -> ColumnElement[bool]:
    """Every word of the query appears somewhere in the folded column."""
    tokens = fold(query).split()
    return and_(*(_contains(column, token) for token in tokens)) if tokens else literal(False)


def rank_expression(column: Any, query: str, exact: list[ColumnElement[bool]]) -> ColumnElement[int]:
    """0 exact hit, 1 starts with the phrase, 2 a word starts with it, 3 contains it, 4 only the words."""
    phrase = like_escape(fold(query))
    return case(
        (or_(*exact), 0) if exact else (literal(False), 0),
        (column.like(f"{phrase}%", escape="\\"), 1),
        (column.like(f"% {phrase}%", escape="\\"), 2),
        (column.like(f"%{phrase}%", escape="\\"), 3),
        else_=4,
    )
