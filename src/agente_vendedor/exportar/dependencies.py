"""Who is exporting: one small dependency the authentication work replaces."""

from __future__ import annotations

ANONIMO = "anonimo"


def get_usuario_exportacion() -> str:
    """The user recorded in the export history (`anonimo` until authentication lands)."""
    return ANONIMO
