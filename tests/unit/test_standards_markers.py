"""Marker evaluation (satchel.standards.markers): packaging's answer where it has one, and one
policy for markers it cannot evaluate -- applied the same way by the resolver (a dependency: left
out with a warning; a root or constraint: an error) and by the no-op check (never "satisfied"
then, so the full install says what the resolver says)."""

from __future__ import annotations

import random

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from satchel.errors import SatchelError
from satchel.install.satisfied import check
from satchel.standards.markers import MarkerUndefined, marker_holds
from tests.support.resolve_fakes import MARKERS, FakeFinder, versions
from tests.support.satisfied import PYTHON, Dist, assert_not_satisfied, installed

# Markers packaging parses but cannot evaluate in core metadata, one per way it fails.
UNDEFINED = [
    'python_version ~= "x"',  # UndefinedComparison
    'platform_release ~= "x"',
    '"x" in extras',  # KeyError (packaging 26): a lock-file variable, not in metadata
    'dependency_groups == "x"',
]

_VARS = ["python_version", "python_full_version", "os_name", "sys_platform", "platform_release",
         "implementation_name", "platform_machine", "extra", "extras", "dependency_groups"]
_OPS = ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"]
_VALUES = ["3.11", "3", "3.11.7", "x", "linux", "posix", "test", "", "2!1.0", "3.*", "6.1.0"]


def _random_marker(rng: random.Random) -> str:
    atoms = []
    for _ in range(rng.randint(1, 3)):
        var, op, value = rng.choice(_VARS), rng.choice(_OPS), rng.choice(_VALUES)
        atoms.append(f'"{value}" {op} {var}' if rng.random() < 0.2 else f'{var} {op} "{value}"')
    return f" {rng.choice(['and', 'or'])} ".join(atoms)


def test_marker_holds_is_packagings_answer_or_undefined() -> None:
    rng = random.Random(11)
    defined = undefined = 0
    for _ in range(3000):
        text = _random_marker(rng)
        try:
            marker = Marker(text)
        except Exception:
            continue
        for extra in ("", "test"):
            try:
                want: bool | None = marker.evaluate({**MARKERS, "extra": extra})
            except Exception:
                want = None
            try:
                got: bool | None = marker_holds(marker, MARKERS, extra)
            except MarkerUndefined:
                got = None
            assert got == want, (text, extra)
            if want is None:
                undefined += 1
            else:
                defined += 1
    assert defined > 1000 and undefined > 100


@pytest.mark.parametrize("text", UNDEFINED)
def test_undefined_markers_raise_one_exception(text: str) -> None:
    with pytest.raises(MarkerUndefined):
        marker_holds(Marker(text), MARKERS)


def test_the_environment_is_the_targets_not_this_interpreters() -> None:
    windows = {**MARKERS, "sys_platform": "win32", "os_name": "nt"}
    assert marker_holds(Marker('sys_platform == "win32"'), windows)
    assert not marker_holds(Marker('sys_platform == "win32"'), MARKERS)
    assert marker_holds(Marker('extra == "Dev_Tools"'), MARKERS, "dev-tools")  # PEP 685


@pytest.mark.parametrize("text", UNDEFINED)
def test_a_dependency_with_an_undefined_marker_is_left_out_with_a_warning(text: str) -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", [f"b; {text}", "c"])
    finder.add("b", "1.0")
    finder.add("c", "1.0")
    result = finder.resolve("a")
    assert versions(result) == {"a": "1.0", "c": "1.0"}
    (warning,) = result.warnings
    assert "Ignoring dependency 'b;" in warning and "cannot evaluate its marker" in warning
    # and the no-op check does not call that installed set "nothing to do": the full install
    # has a warning to print
    dists = [Dist("a", "1.0", [f"b; {text}", "c"]), Dist("c", "1.0")]
    assert_not_satisfied(dists, ["a"], "cannot evaluate the marker")


@pytest.mark.parametrize("text", UNDEFINED)
def test_a_root_or_constraint_with_an_undefined_marker_is_an_error(text: str) -> None:
    finder = FakeFinder()
    finder.add("a", "1.0")
    with pytest.raises(SatchelError, match=r"cannot evaluate the marker of 'a; .*' \(command line\)"):
        finder.resolve(f"a; {text}")
    with pytest.raises(SatchelError, match=r"\(constraints.txt\)"):
        finder.resolve("a", constraints=[f"a<2; {text}"])
    # the no-op check leaves both to the resolver
    have = installed(Dist("a", "1.0"))
    outcome = check([Requirement(f"a; {text}")], have, MARKERS, PYTHON)
    assert not outcome and "cannot evaluate the marker" in outcome.reason
    outcome = check([Requirement("a")], have, MARKERS, PYTHON, constraints=[Requirement(f"a<2; {text}")])
    assert not outcome and "cannot evaluate the marker" in outcome.reason


def test_a_build_requirement_with_an_undefined_marker_is_an_error() -> None:
    import sys
    from pathlib import Path

    from satchel.build.env import BuildEnv
    from satchel.errors import BuildError

    env = BuildEnv(python=Path(sys.executable), root=None, scripts_dir=None, requirements=())
    with pytest.raises(BuildError, match="cannot evaluate the marker of build requirement 'x; "):
        env.missing(['x; python_version ~= "x"'], dict(MARKERS))
