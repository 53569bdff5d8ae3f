"""Domain errors of the catalog."""

from __future__ import annotations

from agente_vendedor.core.errors import ConflictError, NotFoundError


class ProductoNoEncontrado(NotFoundError):
    """No product has that id."""

    code = "producto_no_encontrado"

    def __init__(self, producto_id: int) -> None:
        super().__init__(f"No existe ningún producto con id {producto_id}")


class SkuDuplicado(ConflictError):
    """Another product already uses that SKU."""

    code = "sku_duplicado"

    def __init__(self, sku: str) -> None:
        super().__init__(f"Ya existe un producto con el SKU {sku}")
