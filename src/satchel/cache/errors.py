"""What the cache's store raises, in a module of its own so the remote tier (which the store
calls) can raise and catch them without importing the store."""

from __future__ import annotations

from satchel.errors import SatchelError


class DigestMismatch(Exception):
    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected sha256 {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class CacheWriteFailed(SatchelError):
    """A write to the cache failed; the cache has switched to its scratch root. Retry once.
    When the scratch root fails too (the temporary directory is on the same full disk), there
    is nowhere left to write: the error is the user's, one line like any other."""
