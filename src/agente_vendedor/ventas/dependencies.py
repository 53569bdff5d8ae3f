"""Request-level dependencies of the Pedidos service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

SISTEMA = "sistema"


def usuario_actual() -> str:
    """Who is acting, for the state history; the authentication work replaces this single function."""
    return SISTEMA


UsuarioDep = Annotated[str, Depends(usuario_actual)]
