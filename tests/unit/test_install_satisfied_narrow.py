"""The narrow no-op check (``satchel.install.satisfied_narrow``) against ``check``, which the
resolver's own tests hold to (tests/unit/test_install_satisfied.py): on many generated installed
sets, whenever the narrow check answers it answers what ``check`` answers, names and versions
alike; where it cannot tell it declines."""

from __future__ import annotations

import random

from packaging.requirements import Requirement

from satchel.install.satisfied import check
from satchel.install.satisfied_narrow import plainly_satisfied
from satchel.standards.narrow import narrow_requirement
from tests.support.resolve_fakes import MARKERS
from tests.support.satisfied import PYTHON, Dist, installed

_NAMES = ["a", "b", "c", "d", "e", "F_f"]
_VERSIONS = ["0.5", "1.0", "1.0", "1.0.0", "1.5", "2.0", "2.0", "3.0rc1", "1.2", "1.0.post1", "2.0.dev1",
             "1.0+local", "1!1.0", "01.0", "1.0-1", "2.0a0"]
_SPECS = ["", "", "", ">=1", "<2", "==1.0", "!=1.5", ">=0.5,<3", "~=1.0", ">=2", "==3.0rc1", "<1.5", "==1.*",
          "!=2.*", ">1.0", "<=2.0", "==1.0+local", ">=1.0.post1", " (>=1, <3)", "===1.0", ">=2.0a.0",
          "<3.0rc1", ">1.0.dev0", "~=1.0.0"]
_MARKERS = ['sys_platform == "win32"', 'python_version >= "3.8"', 'extra == "x"', 'extra == "Y"',
            'os_name == "posix" and extra == "x"', 'python_version < "3"', 'platform_release ~= "x"',
            'python_full_version >= "3.11.4"', '(extra == "x" or extra == "y") and os_name == "posix"',
            'platform_release >= "6"', "implementation_name == 'cpython' or extra == 'y'"]
_ROOT_MARKERS = ['sys_platform == "win32"', 'python_version >= "3.8"', 'python_full_version < "3.9"',
                 'os_name == "posix"']


def _requirement(rng: random.Random, markers: list[str], marked: float) -> str:
    text = rng.choice(_NAMES)
    if rng.random() < 0.2:
        text += rng.choice(["[x]", "[y]", "[x,y]", "[Y]"])
    text += rng.choice(_SPECS)
    if markers and rng.random() < marked:
        text += rng.choice(["; ", " ;", ";"]) + rng.choice(markers)
    return text


def _case(rng: random.Random) -> tuple[list[Dist], list[str], list[str], bool]:
    dists = []
    for name in _NAMES:
        if rng.random() < 0.1:
            continue
        dists.append(
            Dist(
                name,
                rng.choice(_VERSIONS),
                [_requirement(rng, _MARKERS, 0.4) for _ in range(rng.choice([0, 1, 1, 2, 3]))],
                requires_python=rng.choice([None] * 10 + [">=3.8", ">=3.12", "nonsense", ">=3.7, <4", "~=3.11"]),
                provides_extra=rng.choice([["x"], ["x", "y"], [], ["X"]]),
                metadata_name=name.upper() if rng.random() < 0.97 else "z",
            )
        )
    roots = [_requirement(rng, _ROOT_MARKERS, 0.15) for _ in range(rng.randint(1, 3))]
    constraints = [rng.choice(_NAMES) + rng.choice(_SPECS[3:]) for _ in range(rng.choice([0, 0, 1, 2]))]
    return dists, roots, constraints, rng.random() < 0.1


def test_the_narrow_check_answers_as_check_does() -> None:
    answered = satisfied = 0
    for seed in range(4000):
        dists, roots, constraints, no_deps = _case(random.Random(seed))
        have = installed(*dists)
        outcome = check(
            [Requirement(r) for r in roots],
            have,
            MARKERS,
            PYTHON,
            constraints=[Requirement(c) for c in constraints],
            no_deps=no_deps,
        )
        satisfied += outcome.satisfied
        narrow_roots = [narrow_requirement(r) for r in roots]
        narrow_constraints = [narrow_requirement(c) for c in constraints]
        if any(r is None for r in narrow_roots + narrow_constraints):
            continue  # the requirement files are not in the narrow form: the full path reads them
        kept = plainly_satisfied(
            [r for r in narrow_roots if r is not None],
            have,
            MARKERS,
            PYTHON,
            constraints=[c for c in narrow_constraints if c is not None],
            no_deps=no_deps,
        )
        case = f"seed {seed}: {dists} {roots} -c {constraints} no_deps={no_deps}: {outcome}"
        if kept is not None:
            answered += 1
            assert outcome.satisfied, case
            assert kept == (outcome.names, outcome.versions), case
    assert satisfied > 300
    assert answered > satisfied // 3  # the narrow check answers often enough to mean something


def test_it_declines_what_it_does_not_model() -> None:
    env = dict(MARKERS)
    root = narrow_requirement("a")
    assert root is not None
    for dist in [
        Dist("a", "1.0", ["b===1.0"]),  # not a narrow line
        Dist("a", "1.0", ['b; platform_release >= "6"']),  # not a narrow marker
        Dist("a", "1.0-1"),  # not the normalized spelling
        Dist("a", "1.0", requires_python="nonsense"),  # check ignores it: the narrow form declines
    ]:
        assert plainly_satisfied([root], installed(dist, Dist("b", "1.0")), env, PYTHON) is None
    assert plainly_satisfied([root], installed(Dist("a", "1.0")), {**env, "python_full_version": "3.11.7+"}, PYTHON) is None
    del env["platform_machine"]
    assert plainly_satisfied([root], installed(Dist("a", "1.0")), env, PYTHON) is None
    assert plainly_satisfied([root], installed(Dist("a", "1.0")), MARKERS, PYTHON) == (("a",), ("1.0",))
