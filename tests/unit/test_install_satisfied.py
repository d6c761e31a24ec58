"""The no-op check (satchel.install.satisfied), against the resolver it stands in for.

Most cases are differential: the same installed set is handed to ``check`` and to the real
resolver (with an in-memory index offering other versions of everything). Whenever ``check``
says "satisfied", the resolver must keep exactly the installed distributions, no more and no
fewer, without a warning; and in each case here where ``check`` declines, the resolver indeed
does something else (picks from the index, warns, or fails).
"""

from __future__ import annotations

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement

from satchel.install.satisfied import check, is_extra_only, plain_requirement
from tests.support.resolve_fakes import MARKERS
from tests.support.satisfied import (
    PYTHON,
    Dist,
    assert_not_satisfied,
    assert_satisfied,
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


# -- extra-only Requires-Dist lines ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'pytest; extra == "test"',
        "pytest ; extra == 'test'",
        'pytest>=7.0; extra == "test"',
        'pytest-cov (>=2.0,<3) ; extra == "testing"',
        'sphinx~=7.2;extra=="docs"',
        'jsonschema[format-nongpl,x]>=4.18.0; extra == "validation"',
        'a.b_c-d==1.0.*; extra == "x"',
        'a!=2.0rc1,<3.0.post1,>=1.0.dev0 ; extra == "x"',
    ],
)
def test_extra_only_lines(text: str) -> None:
    assert is_extra_only(text)
    req = Requirement(text)
    env = {**default_environment(), "extra": ""}
    assert req.marker is not None and not req.marker.evaluate(env)


@pytest.mark.parametrize(
    "text",
    [
        "pytest",  # no marker
        'pytest; python_version < "3.10"',  # another marker
        'pytest; python_version < "3.10" and extra == "test"',  # it is evaluated, can fail
        'pytest; extra == "test" or python_version < "3.10"',
        'pytest; extra != "test"',
        'pytest>=>7; extra == "test"',  # invalid
        'pytest>=7.*; extra == "test"',  # invalid: ".*" only with == and !=
        'pytest~=7; extra == "test"',  # invalid: ~= needs two release segments
        'pytest===7.0; extra == "test"',  # valid, but not in the narrow form
        'pytest>=7.0+local; extra == "test"',  # invalid: no local versions with >=
        'pytest @ https://x.invalid/p.whl ; extra == "test"',
        'pytest[]; extra == "test"',
        'pytest (); extra == "test"',
        'pytest-; extra == "test"',
        'pytest; extra == ""',
        "pytest; extra == 'test\"",
        'pytest; extra == "test"\n  folded',
    ],
)
def test_not_extra_only_lines(text: str) -> None:
    assert not is_extra_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "beta",
        "Jupyter_Server<3,>=2.19.0",
        "a.b (>=1.0,<2)",
        "x[Fast_Thing, other] ~=1.2.3",
        "y !=2.0rc1 , ==1.0.*",
        "z>=1.0.post1.dev3 ",
    ],
)
def test_plain_lines_read_like_packaging_reads_them(text: str) -> None:
    plain = plain_requirement(text)
    assert plain is not None
    req = Requirement(text)
    assert (plain.name, set(plain.extras), plain.specifier) == (req.name, req.extras, req.specifier)
    assert req.marker is None and req.url is None and str(plain) == text


@pytest.mark.parametrize(
    "text",
    [
        'beta; python_version < "3.10"',
        'beta; extra == "x"',
        "beta @ https://x.invalid/beta.whl",
        "beta>=1.0+local",
        "beta===1.0",
        "beta>=>1",
        "beta (>=1",
    ],
)
def test_other_lines_are_left_to_packaging(text: str) -> None:
    assert plain_requirement(text) is None


def test_narrow_forms_agree_with_packaging_on_real_metadata() -> None:
    """Every Requires-Dist of the test environment's own distributions."""
    import importlib.metadata

    env = {**default_environment(), "extra": ""}
    seen = 0
    for dist in importlib.metadata.distributions():
        for text in dist.requires or ():
            req = Requirement(text)
            plain = plain_requirement(text)
            if plain is not None:
                seen += 1
                assert (plain.name, set(plain.extras), plain.specifier, req.marker) == (
                    req.name, req.extras, req.specifier, None
                ), text
            if is_extra_only(text):
                seen += 1
                assert req.marker is not None and not req.marker.evaluate(env), text
    assert seen > 20


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
