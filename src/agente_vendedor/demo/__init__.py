"""The demo catalog loaded on a first start."""
