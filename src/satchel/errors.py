"""User-facing errors. Every layer raises these; the CLI prints them as one line plus a hint."""

from __future__ import annotations


class SatchelError(Exception):
    """An error caused by input, environment or network, never a bug.

    ``message`` is one line saying what went wrong and where (file:line, package, URL);
    ``hint`` optionally says what the user can do about it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class RequirementsFileError(SatchelError):
    """A requirements or constraints file is malformed (message names file:line)."""


class IndexError_(SatchelError):
    """The package index could not be reached or answered with an error."""


class HashMismatchError(SatchelError):
    """A downloaded file's digest differs from the one the index (or --hash) promised."""


class InstallError(SatchelError):
    """A wheel could not be installed (unsafe paths, bad RECORD, missing RECORD on uninstall)."""


class ResolutionImpossible(SatchelError):
    """The requirements conflict; message explains the chain."""


class InterpreterError(SatchelError):
    """The target interpreter could not be found or introspected."""


class BuildError(SatchelError):
    """A PEP 517 build failed."""


class OfflineError(SatchelError):
    """--offline was given and something needed is not in the cache."""
