"""Printing: logging to stderr, errors as one line plus a hint, summaries."""

from __future__ import annotations

import logging
import sys
from typing import TextIO


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"error: {msg}"
        if record.levelno >= logging.WARNING:
            return f"warning: {msg}"
        if record.levelno >= logging.INFO:
            return msg
        return f"debug: {record.name}: {msg}"


def setup_logging(verbose: int, quiet: int, stream: TextIO | None = None) -> None:
    root = logging.getLogger("satchel")
    root.handlers.clear()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter())
    root.addHandler(handler)
    root.propagate = False
    if verbose:
        root.setLevel(logging.DEBUG)
    elif quiet >= 2:
        root.setLevel(logging.ERROR)
    elif quiet:
        root.setLevel(logging.WARNING)
    else:
        root.setLevel(logging.INFO)


def print_error(message: str, hint: str | None = None) -> None:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.stderr.flush()
