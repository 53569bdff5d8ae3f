"""Domain errors of the Pedidos service."""

from __future__ import annotations

from agente_vendedor.core.errors import AppError, ConflictError, NotFoundError


class VentaNoEncontrada(NotFoundError):
    """No order has that id."""

    code = "venta_no_encontrada"

    def __init__(self, venta_id: int) -> None:
        super().__init__(f"No existe ninguna venta con id {venta_id}")


class ClienteInactivo(AppError):
    """The cliente exists but was deactivated, so it cannot buy."""

    status_code = 422
    code = "cliente_inactivo"

    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"El cliente con id {cliente_id} está dado de baja y no puede realizar pedidos")


class ProductoNoDisponible(AppError):
    """The product exists but is not active in the catalog."""

    status_code = 422
    code = "producto_no_disponible"

    def __init__(self, producto_id: int, nombre: str) -> None:
        super().__init__(f"El producto '{nombre}' (id {producto_id}) no está disponible para la venta")


class StockInsuficiente(ConflictError):
    """A line asks for more units than the product has; nothing of the order was kept."""

    code = "stock_insuficiente"

    def __init__(self, producto_id: int, nombre: str, solicitado: int, disponible: int) -> None:
        super().__init__(
            f"Stock insuficiente para '{nombre}' (id {producto_id}): se pidieron {solicitado} "
            f"y hay {disponible} disponibles"
        )
        self.producto_id = producto_id
        self.disponible = disponible


class TotalDemasiadoAlto(AppError):
    """The order's total does not fit the amounts the database stores."""

    status_code = 422
    code = "total_demasiado_alto"

    def __init__(self) -> None:
        super().__init__("El total del pedido supera el máximo admitido (99.999.999,99)")


class TransicionNoPermitida(ConflictError):
    """The requested state change is not part of the order lifecycle."""

    code = "transicion_no_permitida"

    def __init__(self, venta_id: int, actual: str, nuevo: str) -> None:
        super().__init__(f"La venta {venta_id} está '{actual}' y no puede pasar a '{nuevo}'")


class ClaveIdempotenciaReutilizada(ConflictError):
    """The `Idempotency-Key` was already used with a different request body."""

    code = "idempotencia_conflicto"

    def __init__(self) -> None:
        super().__init__(
            "La clave Idempotency-Key ya se usó con un pedido distinto; use una clave nueva para un pedido nuevo"
        )


class PedidoEnCurso(ConflictError):
    """Another request with the same key is still being processed (only seen in a narrow race)."""

    code = "pedido_en_curso"

    def __init__(self) -> None:
        super().__init__("Ya se está procesando un pedido con esta Idempotency-Key; reintente en unos segundos")
