"""satchel: a Python package installer whose cache can never break an install."""

__version__ = "0.1.0"
