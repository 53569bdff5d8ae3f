"""Plumbing shared by every feature package: settings, database, errors, health."""
