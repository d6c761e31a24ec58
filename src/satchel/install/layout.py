"""Names the wheel spec gives a wheel's parts, shared by unpacking and installing (a module of its
own so that installing from the cache does not import the unpacker)."""

from __future__ import annotations

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
SIGNATURE_FILES = ("RECORD.jws", "RECORD.p7s")
