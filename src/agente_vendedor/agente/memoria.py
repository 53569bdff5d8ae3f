"""The per-chat dialogue state stored as JSON on the conversation row."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationError

Paso = Literal["datos_cliente", "confirmacion", "ofrecido", "eligiendo", "sin_stock"]


class LineaCarrito(BaseModel):
    """A product in the cart; its price is always read from the catalog, never stored here."""

    producto_id: int
    cantidad: int = Field(ge=1)


class EstadoDialogo(BaseModel):
    """What the agent remembers between turns."""

    carrito: list[LineaCarrito] = []
    version_carrito: int = 0
    mostrados: list[int] = []
    foco: int | None = None
    paso: Paso | None = None
    nombre: str | None = None
    email: str | None = None
    telefono: str | None = None
    cliente_id: int | None = None
    cantidad_pendiente: int | None = None
    ultima_venta_id: int | None = None
    ofrecidos: list[int] = []  # what the last "¿se lo añado?" offered (several when the customer asked for several)
    recientes: list[int] = []  # products talked about, most recent last ("me llevo las dos")
    tema: str | None = None  # the shop topic last answered, for "¿y los domingos?"
    turno: int = 0

    @classmethod
    def load(cls, raw: str) -> EstadoDialogo:
        """The stored state; a corrupt or old document starts afresh rather than failing the chat."""
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()

    def dump(self) -> str:
        """JSON for the conversation row."""
        return self.model_dump_json()

    def cantidad_en_carrito(self, producto_id: int) -> int:
        """Units of a product already in the cart."""
        return sum(linea.cantidad for linea in self.carrito if linea.producto_id == producto_id)

    def poner(self, producto_id: int, cantidad: int) -> None:
        """Set the units of a product in the cart (0 removes it); every change bumps the cart version."""
        resto = [linea for linea in self.carrito if linea.producto_id != producto_id]
        if cantidad > 0:
            resto.append(LineaCarrito(producto_id=producto_id, cantidad=cantidad))
        self.carrito = resto
        self.version_carrito += 1
        if self.paso == "confirmacion":
            self.paso = None

    def vaciar(self) -> None:
        """Empty the cart (after an order or a cancellation)."""
        self.carrito = []
        self.version_carrito += 1
        self.paso = None
