"""Agente Vendedor Inteligente: agente de ventas en español sobre el catálogo real de una tienda."""

__version__ = "0.1.0"
