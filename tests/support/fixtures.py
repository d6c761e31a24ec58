"""Shared pytest fixtures (index server, interpreters, environments)."""
