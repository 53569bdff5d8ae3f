"""Request-level dependencies of the Pedidos service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agente_vendedor.auth.dependencies import get_actor

UsuarioDep = Annotated[str, Depends(get_actor)]
"""Who is acting, for the state history: the authenticated user's e-mail."""
