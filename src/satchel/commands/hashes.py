"""`satchel hash FILE... [-a ALGORITHM]`: the ``--hash`` option of each file, as pip prints it."""

from __future__ import annotations

import argparse
import hashlib
import sys

from satchel.errors import SatchelError
from satchel.settings import Settings

_CHUNK = 1 << 20


def run(args: argparse.Namespace, settings: Settings) -> int:
    out = sys.stdout
    for path in args.files:
        digest = hashlib.new(args.algorithm)
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise SatchelError(f"cannot read {path}: {exc.strerror or exc}") from None
        out.write(f"{path}:\n--hash={args.algorithm}:{digest.hexdigest()}\n")
    return 0
