"""Tests of the Pedidos service."""
