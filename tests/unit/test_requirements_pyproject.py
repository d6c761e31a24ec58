"""pyproject.toml as a requirements source: dependencies, extras, PEP 735 groups, dynamic
metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.errors import RequirementsFileError
from satchel.requirements.pyproject import (
    group_requirements,
    is_pyproject,
    project_requirements,
    read_pyproject,
    requirements_from_metadata,
    split_group,
)

PYPROJECT = """\
[project]
name = "My_App"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["alpha>=1", "beta ; python_version < '3.10'"]

[project.optional-dependencies]
Test = ["pytest-ish==2"]
all = ["my-app[test]", "gamma"]

[dependency-groups]
lint = ["ruff-ish"]
Dev = [{include-group = "lint"}, "delta[x]>2"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def names(specs: list) -> list[str]:  # type: ignore[type-arg]
    return [str(s.requirement) for s in specs]


def test_dependencies_and_extras(tmp_path: Path) -> None:
    project = read_pyproject(write(tmp_path, PYPROJECT))
    assert project.name == "my-app" and project.requires_python == ">=3.9"
    assert project.extras == ("all", "test") and project.groups == ("dev", "lint")
    assert names(project_requirements(project)) == ["alpha>=1", 'beta; python_version < "3.10"']
    assert names(project_requirements(project, ["TEST"]))[2:] == ["pytest-ish==2"]
    # an extra naming the project's own extra takes that one too
    assert names(project_requirements(project, ["all"]))[2:] == ["gamma", "pytest-ish==2"]
    assert len(project_requirements(project, all_extras=True)) == 4
    spec = project_requirements(project)[0]
    assert spec.source.endswith("pyproject.toml [project] dependencies")
    assert not project.needs_build(["test"])


def test_unknown_extra_is_an_error_naming_the_file(tmp_path: Path) -> None:
    project = read_pyproject(write(tmp_path, PYPROJECT))
    with pytest.raises(RequirementsFileError, match=r"pyproject.toml: the project has no extra 'docs'") as e:
        project_requirements(project, ["docs"])
    assert e.value.hint == "its extras ([project.optional-dependencies]): all, test"


def test_groups_with_includes(tmp_path: Path) -> None:
    project = read_pyproject(write(tmp_path, PYPROJECT))
    assert names(group_requirements(project, ["dev"])) == ["ruff-ish", "delta[x]>2"]
    assert names(group_requirements(project, ["lint", "Dev"])) == ["ruff-ish", "ruff-ish", "delta[x]>2"]
    assert "[dependency-groups] lint" in group_requirements(project, ["dev"])[0].source


def test_group_errors(tmp_path: Path) -> None:
    project = read_pyproject(write(tmp_path, PYPROJECT))
    with pytest.raises(RequirementsFileError, match="no dependency group 'docs'") as e:
        group_requirements(project, ["docs"])
    assert e.value.hint == "its groups ([dependency-groups]): Dev, lint"
    cyclic = read_pyproject(
        write(
            tmp_path,
            '[dependency-groups]\na = [{include-group = "b"}]\nb = ["x", {include-group = "c"}]\n'
            'c = [{include-group = "a"}]\n',
        )
    )
    with pytest.raises(RequirementsFileError, match=r"pyproject.toml: \[dependency-groups\] include a cycle: a -> b -> c -> a"):
        group_requirements(cyclic, ["a"])
    bad = read_pyproject(write(tmp_path, '[dependency-groups]\na = [{include = "b"}]\n'))
    with pytest.raises(RequirementsFileError, match="unsupported entry"):
        group_requirements(bad, ["a"])
    dup = write(tmp_path, '[dependency-groups]\nA_b = ["x"]\na-b = ["y"]\n')
    with pytest.raises(RequirementsFileError, match="the same group once normalized"):
        read_pyproject(dup)
    missing = read_pyproject(write(tmp_path, '[dependency-groups]\na = [{include-group = "zz"}]\n'))
    with pytest.raises(RequirementsFileError, match="no dependency group 'zz' \\(included from 'a'\\)"):
        group_requirements(missing, ["a"])


def test_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(RequirementsFileError, match=r"not valid TOML: .*line 1"):
        read_pyproject(write(tmp_path, "[project\n"))
    with pytest.raises(RequirementsFileError, match=r"\[project\] dependencies must be a list of strings"):
        read_pyproject(write(tmp_path, '[project]\nname = "x"\ndependencies = "alpha"\n'))
    with pytest.raises(RequirementsFileError, match="no such file"):
        read_pyproject(tmp_path / "nope" / "pyproject.toml")
    project = read_pyproject(write(tmp_path, '[project]\nname = "x"\ndependencies = ["al pha"]\n'))
    with pytest.raises(RequirementsFileError, match=r"pyproject.toml \[project\] dependencies: invalid requirement"):
        project_requirements(project)
    no_project = read_pyproject(write(tmp_path, '[dependency-groups]\na = ["x"]\n'))
    with pytest.raises(RequirementsFileError, match=r"no \[project\] table"):
        project_requirements(no_project)


def test_nested_too_deeply_is_not_valid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(RequirementsFileError, match=r"pyproject.toml: not valid TOML: .*nested too deeply"):
        read_pyproject(path)


def test_leading_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"\xef\xbb\xbf" + PYPROJECT.encode())
    project = read_pyproject(path)
    assert project.name == "my-app"
    assert names(project_requirements(project)) == ["alpha>=1", 'beta; python_version < "3.10"']


def test_dynamic_dependencies_need_the_backend(tmp_path: Path) -> None:
    project = read_pyproject(
        write(tmp_path, '[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n')
    )
    assert project.needs_build()
    partly = read_pyproject(
        write(tmp_path, '[project]\nname = "x"\ndependencies = []\ndynamic = ["optional-dependencies"]\n')
    )
    assert not partly.needs_build() and partly.needs_build(["feature"])
    assert partly.check_extras(["Feature"]) == ("feature",)  # only the backend knows


def test_requirements_from_metadata() -> None:
    requires = [
        "alpha>=1",
        'beta ; python_version < "3.10"',
        'gamma==2 ; extra == "test"',
        'delta ; extra == "test" and sys_platform == "win32"',
        'x-app[test] ; extra == "all"',
        'eps ; extra == "other"',
    ]
    env = {"python_version": "3.12", "sys_platform": "linux"}
    base = requirements_from_metadata(requires, [], env, source="x (metadata)", project_name="x-app")
    assert [str(s.requirement) for s in base] == ["alpha>=1", 'beta; python_version < "3.10"']
    full = requirements_from_metadata(requires, ["all"], env, source="x (metadata)", project_name="x-app")
    assert [str(s.requirement) for s in full] == ["alpha>=1", 'beta; python_version < "3.10"', "gamma==2"]
    assert all(s.source == "x (metadata)" for s in full)


def test_helpers() -> None:
    assert is_pyproject("a/b/pyproject.toml") and not is_pyproject("requirements.in")
    assert split_group("dev") == (None, "dev")
    assert split_group("sub/pyproject.toml:dev") == (Path("sub/pyproject.toml"), "dev")
    assert split_group("C:dev") == (None, "C:dev")
