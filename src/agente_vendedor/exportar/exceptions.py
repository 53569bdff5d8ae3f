"""Domain errors of the exporter."""

from __future__ import annotations

from agente_vendedor.core.errors import AppError


class DemasiadosRegistros(AppError):
    """More rows match than one export may hold."""

    status_code = 422
    code = "demasiados_registros"

    def __init__(self, *, encontrados: int, maximo: int, formato: str) -> None:
        super().__init__(
            f"La exportación en formato {formato} coincide con {encontrados} registros y el máximo es {maximo}: "
            "acote los filtros (por ejemplo, un rango de fechas más corto)"
        )
        self.encontrados = encontrados
        self.maximo = maximo
