"""pip 26's release control: ``--all-releases NAMES`` and ``--only-final NAMES``."""

from __future__ import annotations

import argparse

from satchel.commands.request import InstallRequest
from satchel.commands.request import name_set as _names
from satchel.errors import SatchelError
from satchel.requirements.models import ParsedRequirements


def release_control(
    args: argparse.Namespace | InstallRequest, parsed: ParsedRequirements
) -> tuple[frozenset[str], frozenset[str]]:
    """(all_releases, only_final) as canonical names or ":all:", from the requirement files then
    the command line; refused with --pre, as pip refuses it."""
    if args.pre and (args.all_releases or args.only_final):
        raise SatchelError(
            "--pre cannot be used with --all-releases or --only-final",
            hint="--pre is --all-releases :all:",
        )
    return (
        _names([*parsed.all_releases, *args.all_releases], set()),
        _names([*parsed.only_final, *args.only_final], set()),
    )
