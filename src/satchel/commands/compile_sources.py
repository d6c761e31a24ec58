"""`satchel compile`'s inputs: requirements.in-style files and pyproject.toml sources (with
extras and dependency groups), constraints, and the pins of an existing output file."""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.errors import SatchelError
from satchel.requirements.models import ParsedRequirements, RequirementSpec
from satchel.requirements.parser import merge_requirements, parse_requirements_file
from satchel.requirements.pyproject import (
    PyProject,
    group_requirements,
    is_pyproject,
    project_requirements,
    read_pyproject,
    split_group,
)

log = logging.getLogger("satchel")


@dataclass
class DynamicProject:
    """A pyproject source whose requirements only its build backend knows."""

    project: PyProject
    extras: tuple[str, ...]
    all_extras: bool
    label: str


@dataclass
class Sources:
    """Everything the sources say. ``labels`` maps each root spec (by identity) to its
    ``# via`` annotation; ``projects`` are the pyproject sources read; ``dynamic`` those whose
    requirements come from their build backend."""

    parsed: ParsedRequirements
    labels: dict[int, str] = field(default_factory=dict)
    #: root spec (by identity) -> the pylock.toml condition it comes with: "'test' in extras"
    #: for an extra's requirement, "'dev' in dependency_groups" for a group's
    conditions: dict[int, str] = field(default_factory=dict)
    projects: list[PyProject] = field(default_factory=list)
    dynamic: list[DynamicProject] = field(default_factory=list)
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def label(self, spec: RequirementSpec) -> str:
        return self.labels.get(id(spec), spec.source)

    def condition(self, spec: RequirementSpec) -> str | None:
        return self.conditions.get(id(spec))


def default_sources(cwd: Path) -> list[str]:
    """pip-compile's default: requirements.in, else pyproject.toml, in the current directory."""
    for name in ("requirements.in", "pyproject.toml"):
        if (cwd / name).is_file():
            return [name]
    raise SatchelError(
        "no source given, and no requirements.in or pyproject.toml here",
        hint="name the sources: satchel compile requirements.in -o requirements.txt",
    )


def read_sources(args: argparse.Namespace, cwd: Path) -> Sources:
    srcs: list[str] = list(args.src) or default_sources(cwd)
    parts: list[ParsedRequirements] = []
    labels: dict[int, str] = {}
    conditions: dict[int, str] = {}
    projects: list[PyProject] = []
    dynamic: list[DynamicProject] = []
    groups_by_file: dict[Path | None, list[str]] = {}
    for value in args.group:
        path, name = split_group(value)
        groups_by_file.setdefault(path, []).append(name)
    extras = tuple(args.extra)
    pyprojects = [s for s in srcs if is_pyproject(s)]
    if (extras or args.all_extras) and not pyprojects:
        raise SatchelError(
            "--extra and --all-extras need a pyproject.toml source",
            hint="satchel compile pyproject.toml --extra NAME",
        )
    for src in srcs:
        if src == "-":
            raise SatchelError("reading requirements from standard input is not supported", hint="name a file")
        if is_pyproject(src):
            project = read_pyproject(src)
            projects.append(project)
            who = f"{project.name or Path(src).parent.name} ({src})"
            specs: list[RequirementSpec] = []
            if project.has_project:
                chosen = project.check_extras(extras)
                if project.needs_build(chosen or (project.extras if args.all_extras else ())):
                    dynamic.append(DynamicProject(project, chosen, args.all_extras, who))
                else:
                    specs = project_requirements(project)
                    for extra in project.extras if args.all_extras else chosen:
                        for spec in project_requirements(project, [extra])[len(specs) :]:
                            conditions[id(spec)] = f"'{extra}' in extras"
                            specs.append(spec)
            elif extras or args.all_extras:
                raise SatchelError(f"{src}: no [project] table, so no extras", hint="drop --extra")
            for spec in specs:
                labels[id(spec)] = who
            wanted = [*groups_by_file.pop(None, []), *groups_by_file.pop(Path(src), [])]
            for group in wanted:
                for spec in group_requirements(project, [group]):
                    labels[id(spec)] = f"{project.name or Path(src).parent.name} ({src}:{group})"
                    conditions[id(spec)] = f"'{group}' in dependency_groups"
                    specs.append(spec)
            parts.append(ParsedRequirements(requirements=specs))
        else:
            parsed = parse_requirements_file(src)
            for spec in parsed.requirements:
                labels[id(spec)] = f"-r {_file_of(spec.source, src)}"
            parts.append(parsed)
    # --group PATH:NAME for a pyproject.toml that is not a source; --group NAME without one
    for path, names in groups_by_file.items():
        file = path or Path("pyproject.toml")
        project = read_pyproject(file)
        specs = []
        for group in names:
            for spec in group_requirements(project, [group]):
                labels[id(spec)] = f"{project.name or file.parent.name} ({file}:{group})"
                conditions[id(spec)] = f"'{group}' in dependency_groups"
                specs.append(spec)
        parts.append(ParsedRequirements(requirements=specs))
    for constraint_file in args.constraint:
        parsed = parse_requirements_file(constraint_file, constraint=True)
        for spec in parsed.constraints:
            labels[id(spec)] = f"-c {_file_of(spec.source, constraint_file)}"
        parts.append(parsed)
    merged = merge_requirements(parts)
    all_groups = tuple(dict.fromkeys(split_group(g)[1] for g in args.group))
    all_extras: tuple[str, ...] = ()
    if args.all_extras:
        all_extras = tuple(sorted({e for p in projects for e in p.extras}))
    else:
        all_extras = tuple(dict.fromkeys(str(canonicalize_name(e)) for e in extras))
    return Sources(merged, labels, conditions, projects, dynamic, all_extras, all_groups)


def _file_of(source: str, default: str) -> str:
    """The file part of ``path:line`` (nested -r files are named by their own path)."""
    path, sep, line = source.rpartition(":")
    return path if sep and line.isdigit() else default


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;\\#]+)")


def existing_pins(output: Path, fmt: str) -> dict[str, Version]:
    """The pins of the output file as it is (the preferences of a new compile); nothing when
    it is missing. A file that cannot be read is a warning: the compile starts afresh.

    A requirements.txt is scanned for ``name==version`` lines only (what compile writes; the
    full parser's shlex pass over every ``--hash`` line costs a tenth of a warm compile).
    tests/unit/test_compile_command.py checks the scan against the parser."""
    if not output.is_file():
        return {}
    try:
        if fmt == "pylock.toml":
            return _pylock_pins(output)
        text = output.read_text(encoding="utf-8")
    except (SatchelError, ValueError, OSError) as exc:
        log.warning("ignoring the pins in %s: %s", output, exc)
        return {}
    return pins_in_text(text)


def pins_in_text(text: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in text.splitlines():
        m = _PIN.match(line)
        if m is None or "*" in m.group(2):
            continue
        try:
            pins[str(canonicalize_name(m.group(1)))] = Version(m.group(2))
        except InvalidVersion:
            continue
    return pins


def _pylock_pins(path: Path) -> dict[str, Version]:
    from packaging.pylock import Pylock

    from satchel.requirements.toml import parse_toml

    lock = Pylock.from_dict(parse_toml(path.read_bytes(), str(path)))
    return {str(p.name): p.version for p in lock.packages if p.version is not None}
