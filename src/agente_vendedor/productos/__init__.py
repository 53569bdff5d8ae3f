"""The shop's catalog."""
