"""`install -r pyproject.toml`, `install --group [PATH:]NAME`, `--extra`/`--all-extras`: a
project's declared requirements as install's root requirements, as `uv pip install -r
pyproject.toml --extra NAME` and pip 25.1's `--group` have them. The project itself is not
installed.

Reading is :mod:`satchel.requirements.pyproject`'s; this module only decides which parts a
command line asks for. A project whose dependencies are ``dynamic`` is only known to its build
backend: it is returned as a :class:`DynamicProject`, and :func:`dynamic_requirements` asks the
build layer (PEP 517 ``prepare_metadata_for_build_wheel``, cached) once the install has a finder.

Kept light to import: :class:`satchel.commands.request.InstallRequest` calls it before the
no-op check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from satchel.errors import RequirementsFileError, SatchelError
from satchel.requirements.models import RequirementSpec
from satchel.requirements.pyproject import (
    PyProject,
    group_requirements,
    is_pyproject,
    project_requirements,
    read_pyproject,
    requirements_from_metadata,
    split_group,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.commands.sources import SourceFinder


_MARKER_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class DynamicProject:
    """A pyproject.toml whose requirements only its build backend knows: its dependencies
    (or, with extras asked for, its optional dependencies) are ``dynamic``."""

    project: PyProject
    extras: tuple[str, ...]
    all_extras: bool


@dataclass(frozen=True)
class ProjectSources:
    """What the pyproject sources of a command line add: requirement lines, and the dynamic
    projects still to be asked."""

    specs: tuple[RequirementSpec, ...] = ()
    dynamic: tuple[DynamicProject, ...] = ()


def read_project_sources(
    pyprojects: Sequence[str],
    groups: Sequence[str],
    extras: Sequence[str],
    all_extras: bool,
) -> ProjectSources:
    """The requirements of ``-r pyproject.toml`` files (``[project] dependencies`` and the
    optional dependencies of ``extras``) and of ``--group [PATH:]NAME`` values (PEP 735
    groups, ``include-group`` followed; PATH defaults to ./pyproject.toml and must name a
    pyproject.toml, as in pip). Paths are taken relative to the current directory; relative
    paths inside a project are relative to its own directory."""
    if (extras or all_extras) and not pyprojects:
        raise SatchelError(
            "--extra and --all-extras need a pyproject.toml (or a pylock.toml) to choose from",
            hint="satchel install -r pyproject.toml --extra NAME",
        )
    specs: list[RequirementSpec] = []
    dynamic: list[DynamicProject] = []
    for name in dict.fromkeys(pyprojects):
        project = read_pyproject(name)
        if not project.has_project:
            raise RequirementsFileError(
                f"{name}: no [project] table to read dependencies from",
                hint="install its dependency groups with --group NAME, or add a [project] table",
            )
        chosen = project.check_extras(extras)
        if project.needs_build(chosen or (project.extras if all_extras else ())):
            dynamic.append(DynamicProject(project, chosen, all_extras))
        else:
            specs += project_requirements(project, chosen, all_extras=all_extras)
    by_file: dict[str, list[str]] = {}
    for value in groups:
        path, group = split_group(value)
        file = str(path) if path is not None else "pyproject.toml"
        if not is_pyproject(file):
            raise SatchelError(
                f"--group {value}: {file} is not a pyproject.toml",
                hint="--group [PATH:]NAME, where PATH names a pyproject.toml (default ./pyproject.toml)",
            )
        if not group:
            raise SatchelError(f"--group {value}: no group name", hint="--group [PATH:]NAME")
        by_file.setdefault(file, []).append(group)
    for file, names in by_file.items():
        specs += group_requirements(read_pyproject(file), list(dict.fromkeys(names)))
    return ProjectSources(tuple(specs), tuple(dynamic))


def dynamic_requirements(
    dynamic: Sequence[DynamicProject], finder: SourceFinder, environment: Mapping[str, str]
) -> list[RequirementSpec]:
    """The requirements of projects with dynamic dependencies, from their build backend's
    metadata (``Requires-Dist`` evaluated for the target's ``environment``)."""
    from packaging.utils import canonicalize_name

    from satchel.requirements.urls import path_to_url

    out: list[RequirementSpec] = []
    for item in dynamic:
        project = item.project
        url = path_to_url(project.directory)
        name = project.name or finder.name_of(url)
        meta = finder.get_direct_metadata(name, url)
        # Provides-Extra, and the extras Requires-Dist names (metadata before 2.1 may leave
        # Provides-Extra out)
        provided = {canonicalize_name(e) for e in meta.provides_extra}
        for text in meta.requires_dist:
            provided.update(canonicalize_name(e) for e in _MARKER_EXTRA.findall(text))
        for extra in item.extras:
            if canonicalize_name(extra) not in provided:
                known = ", ".join(sorted(provided)) or "none"
                raise RequirementsFileError(
                    f"{project.path}: the project has no extra {extra!r}",
                    hint=f"its extras (from the build backend's metadata): {known}",
                )
        extras = tuple(sorted(provided)) if item.all_extras else item.extras
        out += requirements_from_metadata(
            meta.requires_dist, extras, environment, source=f"{project.path} (built metadata)", project_name=name
        )
    return out

