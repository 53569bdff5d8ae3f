"""Bounded path and query parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_DB_INT = 2_147_483_647  # PostgreSQL INTEGER: larger ids would overflow the driver, not just miss.

IdPath = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="Identificador numérico")]
Skip = Annotated[int, Query(ge=0, le=10_000_000, description="Registros a saltar")]
Limit = Annotated[int, Query(ge=1, le=500, description="Máximo de registros (hasta 500)")]
