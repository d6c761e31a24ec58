"""Build flags shared by install, download and wheel: -b/--build-constraint files, and the
build options of a command that builds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from satchel.commands.sources import BuildOptions
from satchel.errors import RequirementsFileError, SatchelError
from satchel.requirements.models import ParsedRequirements


def build_constraints(files: Sequence[str]) -> tuple[str, ...]:
    """The requirements of -b/--build-constraint files (pip's constraints-file syntax: named
    requirements only)."""
    if not files:
        return ()
    from satchel.requirements.parser import parse_command_line

    try:
        parsed = parse_command_line([], constraint_files=list(files), base_dir=Path.cwd())
    except RequirementsFileError as exc:  # (the reader calls every -c/-b file a constraints file)
        message = exc.message.replace("constraints file", "build constraints file (-b)", 1)
        raise RequirementsFileError(message, hint=exc.hint) from None
    out = []
    for spec in parsed.constraints:
        if spec.requirement is None or spec.url is not None:
            raise SatchelError(
                f"{spec.source}: {spec.line!r}: build constraints must be named requirements without a URL"
            )
        out.append(str(spec.requirement))
    return tuple(out)


def merge_config_settings(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """``--config-settings`` pairs merged as pip merges them: a key given twice becomes a list."""
    merged: dict[str, str | list[str]] = {}
    for key, value in pairs:
        old = merged.get(key)
        if old is None:
            merged[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            merged[key] = [old, value]
    return merged


def build_options(
    parsed: ParsedRequirements,
    *,
    config_settings: Iterable[tuple[str, str]],
    isolation: bool,
    build_constraint_files: Sequence[str],
    no_isolation: Iterable[str],
    git_timeout: float | None = None,
) -> BuildOptions:
    """Config settings from the command line then each requirement line, merged as pip merges
    them (a key given twice becomes a list); editables; build constraints and isolation."""
    pairs = list(config_settings)
    for spec in parsed.requirements:
        pairs.extend(spec.config_settings)
    merged = merge_config_settings(pairs)
    return BuildOptions(
        isolation=isolation,
        config_settings=merged,
        editables=frozenset(spec.url for spec in parsed.requirements if spec.editable and spec.url),
        build_constraints=build_constraints(build_constraint_files),
        no_isolation=frozenset(str(canonicalize_name(n)) for n in no_isolation),
        git_timeout=git_timeout,
    )
