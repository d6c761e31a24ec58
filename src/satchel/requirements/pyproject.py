"""A pyproject.toml as a source of requirements: ``[project] dependencies``, its
``optional-dependencies`` (extras) and PEP 735 ``[dependency-groups]`` (with
``{include-group = "..."}``).

Only reading happens here. A project whose dependencies are ``dynamic`` cannot be read
statically (:meth:`PyProject.needs_build` says so): the caller gets its core metadata from the
build backend (``prepare_metadata_for_build_wheel``) and turns it into requirements with
:func:`requirements_from_metadata`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.errors import RequirementsFileError
from satchel.requirements.models import RequirementSpec
from satchel.requirements.parser import parse_requirement_line
from satchel.requirements.toml import parse_toml

PYPROJECT = "pyproject.toml"


def is_pyproject(path: str | Path) -> bool:
    """Whether a source file is read as a pyproject.toml (by its name, like pip and uv)."""
    return Path(path).name == PYPROJECT


@dataclass(frozen=True)
class PyProject:
    """What a pyproject.toml declares about requirements.

    ``path`` as the user named it (messages show it); ``name`` canonical (None without a
    ``[project]`` table or name); ``optional_dependencies`` and ``dependency_groups`` keyed by
    normalized extra and group names; ``group_names`` maps them back to the names as written.
    ``dynamic`` is ``[project] dynamic``, normalized to lower case.
    """

    path: Path
    name: str | None = None
    version: str | None = None
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    optional_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dependency_groups: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    group_names: Mapping[str, str] = field(default_factory=dict)
    dynamic: frozenset[str] = frozenset()
    has_project: bool = False

    @property
    def directory(self) -> Path:
        return self.path.absolute().parent

    @property
    def extras(self) -> tuple[str, ...]:
        return tuple(sorted(self.optional_dependencies))

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(sorted(self.dependency_groups))

    def needs_build(self, extras: Iterable[str] = ()) -> bool:
        """Whether the requirements asked for are only known to the build backend: the
        dependencies are dynamic, or extras are asked for and the optional ones are."""
        if "dependencies" in self.dynamic:
            return True
        return bool(list(extras)) and "optional-dependencies" in self.dynamic

    def check_extras(self, extras: Iterable[str]) -> tuple[str, ...]:
        """``extras`` normalized; an error naming the file for one the project does not have
        (unless the optional dependencies are dynamic: only the backend knows them)."""
        out = []
        for extra in extras:
            key = canonicalize_name(extra)
            if key not in self.optional_dependencies and "optional-dependencies" not in self.dynamic:
                known = ", ".join(self.extras) or "none"
                raise RequirementsFileError(
                    f"{self.path}: the project has no extra {extra!r}",
                    hint=f"its extras ([project.optional-dependencies]): {known}",
                )
            out.append(key)
        return tuple(dict.fromkeys(out))


def read_pyproject(path: str | Path) -> PyProject:
    """Read ``path`` (a leading BOM allowed); a clear error naming it when it is missing, not
    TOML (:func:`~satchel.requirements.toml.parse_toml`), or malformed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RequirementsFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise RequirementsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    data = parse_toml(raw, str(path))

    project = data.get("project")
    if project is not None and not isinstance(project, dict):
        raise RequirementsFileError(f"{path}: [project] must be a table")
    project = project or {}
    name = project.get("name")
    if name is not None and not isinstance(name, str):
        raise RequirementsFileError(f"{path}: [project] name must be a string")
    dynamic = _strings(project.get("dynamic", []), path, "[project] dynamic")
    deps = _strings(project.get("dependencies", []), path, "[project] dependencies")
    optional_raw = project.get("optional-dependencies", {})
    if not isinstance(optional_raw, dict):
        raise RequirementsFileError(f"{path}: [project.optional-dependencies] must be a table")
    optional: dict[str, tuple[str, ...]] = {}
    for extra, reqs in optional_raw.items():
        key = canonicalize_name(extra)
        where = f"[project.optional-dependencies] {extra}"
        optional[key] = optional.get(key, ()) + _strings(reqs, path, where)
    groups_raw = data.get("dependency-groups", {})
    if not isinstance(groups_raw, dict):
        raise RequirementsFileError(f"{path}: [dependency-groups] must be a table")
    groups: dict[str, tuple[Any, ...]] = {}
    names: dict[str, str] = {}
    for group, entries in groups_raw.items():
        key = canonicalize_name(group)
        if key in groups:
            raise RequirementsFileError(
                f"{path}: [dependency-groups] names {names[key]!r} and {group!r}, "
                "the same group once normalized (PEP 735)"
            )
        if not isinstance(entries, list):
            raise RequirementsFileError(f"{path}: [dependency-groups] {group} must be a list")
        groups[key] = tuple(entries)
        names[key] = group
    requires_python = project.get("requires-python")
    version = project.get("version")
    return PyProject(
        path=path,
        name=str(canonicalize_name(name)) if name else None,
        version=version if isinstance(version, str) else None,
        requires_python=requires_python if isinstance(requires_python, str) else None,
        dependencies=deps,
        optional_dependencies=optional,
        dependency_groups=groups,
        group_names=names,
        dynamic=frozenset(d.lower() for d in dynamic),
        has_project=bool(project),
    )


def _strings(value: object, path: Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RequirementsFileError(f"{path}: {where} must be a list of strings")
    return tuple(value)


def project_requirements(
    project: PyProject, extras: Iterable[str] = (), *, all_extras: bool = False
) -> list[RequirementSpec]:
    """``[project] dependencies`` plus the optional dependencies of ``extras`` (all of them
    with ``all_extras``). The project's own extras (``name[other]`` in an extra, as projects
    write to combine extras) are followed. Only for static metadata (see ``needs_build``)."""
    if not project.has_project:
        raise RequirementsFileError(
            f"{project.path}: no [project] table to read dependencies from",
            hint="use --group NAME for [dependency-groups], or add a [project] table",
        )
    chosen = list(project.extras) if all_extras else list(project.check_extras(extras))
    out = [_spec(text, project, "[project] dependencies") for text in project.dependencies]
    seen: set[str] = set()
    while chosen:
        extra = chosen.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        where = f"[project.optional-dependencies] {extra}"
        for text in project.optional_dependencies.get(extra, ()):
            spec = _spec(text, project, where)
            if spec.name is not None and spec.name == project.name and spec.url is None:
                chosen.extend(sorted(spec.extras))  # "self[other]": that extra too
                continue
            out.append(spec)
    return out


def group_requirements(project: PyProject, groups: Iterable[str]) -> list[RequirementSpec]:
    """The requirements of PEP 735 dependency groups, ``{include-group = ...}`` followed;
    an unknown group or a cycle of includes is an error naming the file."""
    out: list[RequirementSpec] = []
    for group in groups:
        out.extend(_group(project, group, ()))
    return out


def _group(project: PyProject, group: str, chain: tuple[str, ...]) -> list[RequirementSpec]:
    key = canonicalize_name(group)
    if key not in project.dependency_groups:
        known = ", ".join(project.group_names[g] for g in project.groups) or "none"
        where = f" (included from {chain[-1]!r})" if chain else ""
        raise RequirementsFileError(
            f"{project.path}: no dependency group {group!r}{where}",
            hint=f"its groups ([dependency-groups]): {known}",
        )
    if key in chain:
        cycle = " -> ".join([*chain[chain.index(key) :], key])
        raise RequirementsFileError(
            f"{project.path}: [dependency-groups] include a cycle: {cycle}",
            hint="a group may not include itself, directly or through others (PEP 735)",
        )
    shown = project.group_names[key]
    out: list[RequirementSpec] = []
    for entry in project.dependency_groups[key]:
        if isinstance(entry, str):
            out.append(_spec(entry, project, f"[dependency-groups] {shown}"))
        elif isinstance(entry, dict) and set(entry) == {"include-group"} and isinstance(
            entry["include-group"], str
        ):
            out.extend(_group(project, entry["include-group"], (*chain, key)))
        else:
            raise RequirementsFileError(
                f"{project.path}: [dependency-groups] {shown}: unsupported entry {entry!r}",
                hint='entries are requirement strings or {include-group = "other"} (PEP 735)',
            )
    return out


def _spec(text: str, project: PyProject, where: str) -> RequirementSpec:
    return parse_requirement_line(
        text, source=f"{project.path} {where}", base_dir=project.directory
    )


def requirements_from_metadata(
    requires_dist: Sequence[str],
    extras: Iterable[str],
    environment: Mapping[str, str],
    *,
    source: str,
    project_name: str | None = None,
) -> list[RequirementSpec]:
    """Root requirements from a project's core metadata (``Requires-Dist``), as the
    build backend reported it: those without an ``extra`` condition, and those of ``extras``.

    A requirement kept for an extra has its marker evaluated here, in ``environment`` (the
    target's), and dropped: what remains has no ``extra`` in it. The project's own
    extras (``name[other] ; extra == "x"``) are followed.
    """
    wanted = [canonicalize_name(e) for e in extras]
    out: list[RequirementSpec] = []
    seen: set[str] = set()
    pending = ["", *wanted]
    parsed: list[Requirement] = []
    for text in requires_dist:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement as exc:
            raise RequirementsFileError(f"{source}: invalid Requires-Dist {text!r}: {exc}") from None
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        for req in parsed:
            if not _mentions_extra(req.marker):
                if extra:
                    continue  # taken once, with extra ""
                keep_marker = True
            else:
                if not extra or not req.marker or not req.marker.evaluate({**environment, "extra": extra}):
                    continue
                keep_marker = False
            if project_name is not None and canonicalize_name(req.name) == project_name and not req.url:
                pending.extend(sorted(canonicalize_name(e) for e in req.extras))
                continue
            if not keep_marker:
                req = Requirement(str(req))  # a copy, without the marker
                req.marker = None
            out.append(
                RequirementSpec(
                    name=str(canonicalize_name(req.name)),
                    requirement=req,
                    url=req.url,
                    source=source,
                    line=str(req),
                    extras=frozenset(canonicalize_name(e) for e in req.extras),
                    marker=req.marker,
                )
            )
    return out


_EXTRA_RE = re.compile(r"\bextra\b")


def _mentions_extra(marker: Marker | None) -> bool:
    return marker is not None and bool(_EXTRA_RE.search(str(marker)))


def split_group(value: str) -> tuple[Path | None, str]:
    """``--group [PATH:]NAME`` (pip 25.1, uv): the pyproject.toml path (None: ./pyproject.toml)
    and the group name. A Windows drive letter is not mistaken for a separator."""
    path, sep, name = value.rpartition(":")
    if not sep or not path or re.fullmatch(r"[A-Za-z]", path):
        return None, value
    return Path(path), name
