"""The no-op check (satchel.install.satisfied), against the resolver it stands in for.

Most cases are differential: the same installed set is handed to ``check`` and to the real
resolver (with an in-memory index offering other versions of everything). Whenever ``check``
says "satisfied", the resolver must keep exactly the installed distributions, no more and no
fewer, without a warning; and in each case here where ``check`` declines, the resolver indeed
does something else (picks from the index, warns, or fails).
"""

from __future__ import annotations

import random

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from satchel.install.satisfied import check
from tests.support.resolve_fakes import MARKERS
from tests.support.satisfied import (
    PYTHON,
    Dist,
    assert_not_satisfied,
    assert_satisfied,
    both,
    installed,
    spy_on_parsing,
)

# -- satisfied ----------------------------------------------------------------------------------


def test_dependencies_are_followed_transitively() -> None:
    dists = [
        Dist("Alpha", "1.0", ["beta>=1", "Gamma_Pkg<2"]),
        Dist("beta", "1.5", ["delta"]),
        Dist("gamma-pkg", "1.0"),
        Dist("delta", "2.0"),
        Dist("unrelated", "1.0"),  # installed, not asked for: not counted
    ]
    assert_satisfied(dists, ["alpha"], ("alpha", "beta", "delta", "gamma-pkg"))


def test_markers_are_evaluated_for_the_target() -> None:
    dists = [
        Dist(
            "alpha",
            "1.0",
            [
                'old-backport; python_version < "3.10"',  # false on 3.11: not needed
                'linux-only; sys_platform == "linux"',
                "win-only; sys_platform == 'win32'",
            ],
        ),
        Dist("linux-only", "1.0"),
    ]
    assert_satisfied(dists, ["alpha"], ("alpha", "linux-only"))
    # A root whose marker is false is ignored, even when nothing of it is installed.
    assert_satisfied(dists, ["alpha", 'pywin32; sys_platform == "win32"'], ("alpha", "linux-only"))
    # ...but a true marker on a missing dependency is not.
    assert_not_satisfied(
        [Dist("alpha", "1.0", ['linux-only; sys_platform == "linux"'])],
        ["alpha"],
        "linux-only is not installed",
    )


def test_extras_pull_in_their_dependencies() -> None:
    alpha = Dist(
        "alpha",
        "1.0",
        ["beta", 'gamma>=2; extra == "fast"', 'delta; extra == "never"', 'eps; extra == "Other_Thing"'],
        provides_extra=["fast", "never", "Other_Thing"],
    )
    assert_satisfied([alpha, Dist("beta", "1.0")], ["alpha"], ("alpha", "beta"))
    assert_satisfied(
        [alpha, Dist("beta", "1.0"), Dist("gamma", "2.0")], ["alpha[fast]"], ("alpha", "beta", "gamma")
    )
    # Extra names compare normalized (PEP 685).
    assert_satisfied(
        [alpha, Dist("beta", "1.0"), Dist("eps", "1.0")], ["alpha[other-thing]"], ("alpha", "beta", "eps")
    )
    # An extra asked for by a dependency counts too.
    user = Dist("user", "1.0", ["alpha[fast]>=1"])
    assert_satisfied(
        [user, alpha, Dist("beta", "1.0"), Dist("gamma", "2.0")],
        ["user"],
        ("alpha", "beta", "gamma", "user"),
    )
    assert_not_satisfied([alpha, Dist("beta", "1.0")], ["alpha[fast]"], "gamma is not installed")
    assert_not_satisfied(
        [alpha, Dist("beta", "1.0"), Dist("gamma", "1.5")], ["alpha[fast]"], "gamma 1.5 does not satisfy"
    )


def test_an_extra_that_adds_nothing_but_is_declared_is_fine() -> None:
    alpha = Dist("alpha", "1.0", provides_extra=["empty"])
    assert_satisfied([alpha], ["alpha[empty]"], ("alpha",))


def test_installed_prereleases_are_kept_when_they_match() -> None:
    # The pre-release rules choose among index versions; an installed pre-release that the
    # specifier contains is kept, as the resolver does.
    dists = [Dist("alpha", "2.0rc1")]
    assert_satisfied(dists, ["alpha>=1"], ("alpha",))
    assert_satisfied(dists, ["alpha"], ("alpha",))
    # "<2" excludes the pre-releases of 2 (PEP 440), whatever is installed.
    assert_not_satisfied(dists, ["alpha<2"], "alpha 2.0rc1 does not satisfy")


def test_the_same_name_required_twice_must_meet_both() -> None:
    dists = [Dist("alpha", "1.5"), Dist("user", "1.0", ["alpha<2"])]
    assert_satisfied(dists, ["alpha>=1", "user"], ("alpha", "user"))
    assert_not_satisfied(dists, ["alpha>1.6", "user"], "alpha 1.5 does not satisfy")


def test_dependency_cycles_end() -> None:
    dists = [Dist("alpha", "1.0", ["beta"]), Dist("beta", "1.0", ["alpha>=1"])]
    assert_satisfied(dists, ["alpha"], ("alpha", "beta"))


def test_constraints_restrict_but_never_add() -> None:
    dists = [Dist("alpha", "1.0", ["beta"]), Dist("beta", "1.0")]
    # A constraint on something not needed adds nothing (and it need not be installed).
    assert_satisfied(dists, ["alpha"], ("alpha", "beta"), constraints=["other==1.0", "beta<2"])
    # A constraint whose marker is false is ignored.
    assert_satisfied(dists, ["alpha"], ("alpha", "beta"), constraints=['beta>5; sys_platform == "win32"'])
    assert_not_satisfied(dists, ["alpha"], "beta 1.0 does not match the constraints", constraints=["beta>=1.5"])
    # Several constraints on one name all apply.
    assert_not_satisfied(
        dists, ["alpha"], "does not match the constraints", constraints=["beta>=0.5", "beta!=1.0"]
    )


def test_no_deps_looks_at_the_roots_only() -> None:
    dists = [
        Dist("alpha", "1.0", ["missing>=1"], requires_python=">=3.12"),
        Dist("beta", "1.0"),
    ]
    assert_satisfied(dists, ["alpha", "beta"], ("alpha", "beta"), no_deps=True)
    assert_satisfied(dists, ["alpha[whatever]"], ("alpha",), no_deps=True)
    assert_not_satisfied(dists, ["alpha", "gamma"], "gamma is not installed", no_deps=True)
    assert_not_satisfied(dists, ["alpha>=2"], "alpha 1.0 does not satisfy", no_deps=True)


# -- not satisfied: the resolver would do something else ------------------------------------------


def test_missing_and_wrong_versions() -> None:
    dists = [Dist("alpha", "1.0", ["beta>=1.5"]), Dist("beta", "1.0")]
    assert_not_satisfied(dists, ["alpha"], "beta 1.0 does not satisfy beta>=1.5 (required by alpha 1.0)")
    assert_not_satisfied(dists, ["alpha==2.0"], "alpha 1.0 does not satisfy")
    assert_not_satisfied(dists, ["nothere"], "nothere is not installed")


def test_requires_python_that_excludes_the_target() -> None:
    assert_not_satisfied([Dist("alpha", "1.0", requires_python=">=3.12")], ["alpha"], "requires Python")
    # One the resolver cannot parse is ignored by both.
    assert_satisfied([Dist("alpha", "1.0", requires_python="nonsense")], ["alpha"], ("alpha",))
    assert_satisfied([Dist("alpha", "1.0", requires_python=">=3.8")], ["alpha"], ("alpha",))


def test_an_extra_nobody_provides_makes_the_resolver_warn() -> None:
    assert_not_satisfied([Dist("alpha", "1.0")], ["alpha[nope]"], "does not provide the extra 'nope'")


def test_a_marker_that_cannot_be_evaluated_makes_the_resolver_warn() -> None:
    dists = [Dist("alpha", "1.0", ['beta; platform_release ~= "x"']), Dist("beta", "1.0")]
    assert_not_satisfied(dists, ["alpha"], "cannot evaluate the marker")


def test_invalid_metadata_is_left_to_the_resolver() -> None:
    # Even in an extra nobody asked for: the resolver reads every Requires-Dist and fails.
    dists = [Dist("alpha", "1.0", ['beta>=>1; extra == "test"'], provides_extra=["test"])]
    assert_not_satisfied(dists, ["alpha"], "invalid dependency")
    # A METADATA Name that is another project's: the resolver does not take it as installed.
    assert_not_satisfied([Dist("alpha", "1.0", metadata_name="beta")], ["alpha"], "metadata names beta")


def test_invalid_installed_version() -> None:
    outcome = check([Requirement("alpha")], installed(Dist("alpha", "not.a.version")), MARKERS, PYTHON)
    assert not outcome and "invalid version" in outcome.reason


def test_urls_are_never_satisfied_here() -> None:
    have = installed(Dist("alpha", "1.0", ["beta @ https://example.invalid/beta-1.0.tar.gz"]))
    outcome = check([Requirement("alpha @ https://example.invalid/alpha.whl")], have, MARKERS, PYTHON)
    assert not outcome and "direct reference" in outcome.reason
    outcome = check([Requirement("alpha")], have, MARKERS, PYTHON)
    assert not outcome and "direct reference" in outcome.reason
    outcome = check(
        [Requirement("alpha")], have, MARKERS, PYTHON, constraints=[Requirement("alpha @ file:///x")]
    )
    assert not outcome and "is a URL" in outcome.reason


def test_constraints_with_extras_are_left_to_the_resolver() -> None:
    outcome = check(
        [Requirement("alpha")], installed(Dist("alpha", "1.0")), MARKERS, PYTHON,
        constraints=[Requirement("alpha[x]<2")],
    )
    assert not outcome and "names extras" in outcome.reason


def test_surprises_are_not_satisfied() -> None:
    class Broken(Dist):
        @property
        def requires_dist(self) -> list[str]:  # type: ignore[override]
            raise RuntimeError("disk on fire")

        @requires_dist.setter
        def requires_dist(self, value: list[str]) -> None:
            pass

    outcome = check([Requirement("alpha")], {"alpha": Broken("alpha", "1.0")}, MARKERS, PYTHON)
    assert not outcome and "disk on fire" in outcome.reason




def test_extra_only_lines_are_never_parsed_unless_their_extra_is_wanted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = spy_on_parsing(monkeypatch)
    alpha = Dist(
        "alpha", "1.0", ["beta", 'pytest; extra == "test"', 'sphinx; extra == "docs"'],
        provides_extra=["test", "docs"],
    )
    have = installed(alpha, Dist("beta", "1.0"), Dist("pytest", "8.0"))
    assert check([Requirement("alpha")], have, MARKERS, PYTHON)
    assert parsed == []  # "beta" is read without packaging's parser, the rest skipped
    assert check([Requirement("alpha[test]")], have, MARKERS, PYTHON)
    assert parsed == ['pytest; extra == "test"', 'sphinx; extra == "docs"']


def test_marker_environment_is_the_targets() -> None:
    # The same installed set, two targets: only the matching one needs the Windows dependency.
    have = installed(Dist("alpha", "1.0", ['pywin32; sys_platform == "win32"']))
    assert check([Requirement("alpha")], have, MARKERS, PYTHON)
    windows = {**MARKERS, "sys_platform": "win32", "os_name": "nt"}
    outcome = check([Requirement("alpha")], have, windows, PYTHON)
    assert not outcome and "pywin32 is not installed" in outcome.reason
    assert Marker('sys_platform == "win32"').evaluate(windows)


# -- random installed sets, against the resolver -----------------------------------------------

_NAMES = ["a", "b", "c", "d", "e"]
_INSTALLED_VERSIONS = ["0.5", "1.0", "1.0", "1.5", "2.0", "2.0", "3.0rc1", "1.2"]  # 1.2: not on the index
_SPECS = ["", "", ">=1", "<2", "==1.0", "!=1.5", ">=0.5,<3", "~=1.0", ">=2", "==3.0rc1", "<1.5"]
_MARKERS = ['sys_platform == "win32"', 'python_version >= "3.8"', 'extra == "x"', 'extra == "y"',
            'os_name == "posix" and extra == "x"', 'python_version < "3"', 'platform_release ~= "x"']


def _random_requirement(rng: random.Random, *, markers: list[str], marked: float = 0.35) -> str:
    text = rng.choice(_NAMES)
    if rng.random() < 0.2:
        text += "[x]"
    text += rng.choice(_SPECS) if rng.random() < 0.6 else ""
    if markers and rng.random() < marked:
        text += "; " + rng.choice(markers)
    return text


def _random_case(rng: random.Random) -> tuple[list[Dist], list[str], list[str], bool]:
    dists = []
    for name in _NAMES:
        if rng.random() < 0.12:
            continue
        dists.append(
            Dist(
                name,
                rng.choice(_INSTALLED_VERSIONS),
                [_random_requirement(rng, markers=_MARKERS) for _ in range(rng.choice([0, 1, 1, 2, 3]))],
                requires_python=rng.choice([None] * 12 + [">=3.8", ">=3.12", "nonsense"]),
                provides_extra=["x"] if rng.random() < 0.7 else [],
                metadata_name=name.upper() if rng.random() < 0.97 else "z",
            )
        )
    root_markers = _MARKERS[:2] + _MARKERS[5:6]  # the user's markers evaluate (else: an error)
    roots = [_random_requirement(rng, markers=root_markers, marked=0.1) for _ in range(rng.randint(1, 3))]
    constraints = [rng.choice(_NAMES) + rng.choice(_SPECS[2:]) for _ in range(rng.choice([0, 0, 1, 2]))]
    return dists, roots, constraints, rng.random() < 0.1


def test_random_installed_sets_are_satisfied_exactly_when_the_resolver_keeps_them() -> None:
    """Seeded random indexes and installed sets: ``check`` says "satisfied" exactly when a real
    resolution keeps every installed distribution as it is (and warns about nothing), and then
    names the same packages."""
    satisfied = 0
    for seed in range(1000):
        dists, roots, constraints, no_deps = _random_case(random.Random(seed))
        outcome, kept = both(dists, roots, constraints=constraints, no_deps=no_deps)
        case = f"seed {seed}: {dists} {roots} -c {constraints} no_deps={no_deps}: {outcome}"
        assert outcome.satisfied == (kept is not None), case
        if outcome.satisfied:
            assert outcome.names == kept, case
            satisfied += 1
    assert 100 < satisfied < 900  # both answers are common enough to mean something
