"""Pedidos Service: sales orders (`ventas`)."""
