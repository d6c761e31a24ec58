"""packse conformance: uv's resolver scenarios, run through the real CLI against the local index.

Each scenario (``tests/data/packse/*/*.toml``, see docs/conformance.md) is built into
wheels and sdists (tests/support/packse.py), published on a local index, and resolved with
``satchel install --dry-run`` into an empty venv of the scenario's Python. The `` + name==version``
lines are compared with ``[expected]``: a satisfiable scenario must exit 0 and, when packse
lists packages, resolve exactly those versions; an unsatisfiable one must fail with one clear
``error:`` line and no traceback.

Three tables below say where this differs from running packse's expectation verbatim:

* :data:`NOT_APPLICABLE`: scenarios about things a single-environment installer does not do
  (universal / forked locks whose outcome depends on the fork, resolving for another Python than
  the target's). Reported as skipped with the reason.
* :data:`STANDARD_OVERRIDES`: where packse (uv's policy) contradicts the standards as pip applies
  them; the standard's outcome is asserted instead, with the reason.
* :data:`LINUX_X86_64_ONLY`: scenarios that hold only because this host is Linux x86_64.

A session summary (tests/support/packse_report.py) prints the applicable / passing / not-applicable counts.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Result, Satchel, assert_error
from tests.support.index_server import IndexServer
from tests.support.packse import (
    DistCache,
    Outcome,
    Scenario,
    find_python,
    load_scenarios,
    parse_dry_run,
    publish_scenario,
    same_versions,
    unconditional_roots,
)

SCENARIOS = load_scenarios()

_UNIVERSAL_FORK = (
    "universal (forked) lock: packse expects no resolution because the universal resolver cannot "
    "fork on requirements that are not siblings; a single environment has no fork and resolves it"
)
_PYTHON_OVERRIDE = (
    "resolves for another Python than the environment's (uv's --python-version); satchel resolves "
    "for the interpreter it installs into and has no such option"
)

#: Scenarios that do not apply to a single-environment install, with the reason.
NOT_APPLICABLE: dict[str, str] = {
    # Universal locks whose expected outcome is an artefact of forking.
    "conflict-in-fork": (
        "universal (forked) lock: the conflict exists only in the sys_platform == 'os2' fork; in a "
        "single Linux environment neither root requirement applies"
    ),
    "fork-non-local-fork-marker-direct": _UNIVERSAL_FORK,
    "fork-non-local-fork-marker-transitive": _UNIVERSAL_FORK,
    "preferences-dependent-forking-conflicting": (
        "universal (forked) lock: the conflict comes from resolving both sys_platform forks with "
        "one set of preferences; a single Linux environment resolves it (cleaver 1, foo 1, bar 2)"
    ),
    "specific-architecture": (
        "universal lock: checks which wheels the lock records per architecture; `b` has only "
        "cp313 wheels and no sdist, so packse's default CPython 3.12 environment cannot install it "
        "(a lock need not)"
    ),
    # A target Python distinct from the environment's.
    "compatible-python-incompatible-override": _PYTHON_OVERRIDE,
    "incompatible-python-compatible-override": _PYTHON_OVERRIDE,
    "incompatible-python-compatible-override-available-no-wheels": _PYTHON_OVERRIDE,
    "incompatible-python-compatible-override-no-compatible-wheels": _PYTHON_OVERRIDE,
    "incompatible-python-compatible-override-other-wheel": _PYTHON_OVERRIDE,
    "incompatible-python-compatible-override-unavailable-no-wheels": _PYTHON_OVERRIDE,
    "python-patch-override-no-patch": _PYTHON_OVERRIDE,
    "python-patch-override-patch-compatible": _PYTHON_OVERRIDE,
}

_PEP440_ONLY_PRE = (
    "PEP 440: pre-releases are accepted when no final release satisfies the specifier; packse "
    "(uv) wants an explicit opt-in"
)
_PEP440_NAMED_PRE = (
    "PEP 440: a specifier that names a pre-release ({spec}) accepts pre-releases, also in a "
    "dependency's metadata (pip); packse (uv) accepts them only from the user's requirements"
)

#: Where packse's expectation contradicts the standards as pip applies them: the outcome asserted
#: instead, and why.
STANDARD_OVERRIDES: dict[str, tuple[Outcome, str]] = {
    "package-only-prereleases-in-range": (
        Outcome(True, {"a": "1.0.0a1"}),
        _PEP440_ONLY_PRE + " (only 1.0.0a1 satisfies a>0.1.0)",
    ),
    "transitive-package-only-prereleases-in-range": (
        Outcome(True, {"a": "0.1.0", "b": "1.0.0a1"}),
        _PEP440_ONLY_PRE + " (only 1.0.0a1 satisfies a's b>0.1)",
    ),
    "transitive-prerelease-and-stable-dependency-many-versions-holes": (
        Outcome(True, {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b4"}),
        _PEP440_ONLY_PRE + " (only pre-releases of c satisfy both a's and b's specifiers)",
    ),
    "transitive-prerelease-and-stable-dependency": (
        Outcome(True, {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"}),
        _PEP440_NAMED_PRE.format(spec="c==2.0.0b1"),
    ),
    "transitive-prerelease-and-stable-dependency-many-versions": (
        Outcome(True, {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b9"}),
        _PEP440_NAMED_PRE.format(spec="c>=2.0.0b1"),
    ),
    "transitive-yanked-and-unyanked-dependency": (
        Outcome(True, {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0"}),
        "PEP 592 (file yanking): a yanked release is used when the specifier pins it with ==, "
        "whoever wrote the pin (a's metadata says c==2.0.0; pip installs it too); packse (uv) "
        "honours only the user's own pins",
    ),
    "python-less-than-current": (
        Outcome(False),
        "Requires-Python is a requirement like any other (pip and the core metadata spec): "
        "a's Requires-Python <=3.8 excludes Python 3.9; packse (uv) ignores upper bounds",
    ),
}

#: Applicable only because this host is Linux x86_64 (marker or platform-tag dependent).
LINUX_X86_64_ONLY: dict[str, str] = {
    "fork-marker-disjoint": "both requirements on a carry sys_platform == 'linux'",
    "no-sdist-no-wheels-with-matching-abi": "packse resolves for x86_64-manylinux2014, the host's platform",
    "no-sdist-no-wheels-with-matching-platform": "packse resolves for x86_64-manylinux2014, the host's platform",
    "no-sdist-no-wheels-with-matching-python": "packse resolves for x86_64-manylinux2014, the host's platform",
}

ON_LINUX_X86_64 = sys.platform == "linux" and platform.machine() == "x86_64"


def _unclassified(scenario: Scenario) -> str | None:
    """Why a scenario missing from the tables cannot be run as is (new scenario data).

    Universal scenarios apply when their outcome necessarily holds in one environment: no
    markers at all, or a satisfiable lock without listed packages (restricting a universal
    resolution to one environment gives a resolution for it); the others must be classified
    in NOT_APPLICABLE or LINUX_X86_64_ONLY by hand, as must other-platform resolutions."""
    if scenario.name in NOT_APPLICABLE or scenario.name in LINUX_X86_64_ONLY:
        return None
    if scenario.options.python is not None:
        return _PYTHON_OVERRIDE
    if scenario.options.python_platform is not None:
        return f"resolves for platform {scenario.options.python_platform} (not yet classified)"
    if not scenario.options.universal or not scenario.has_markers():
        return None
    if scenario.expected.satisfiable and not scenario.expected.packages:
        return None
    return "universal (forked) lock whose expected outcome depends on the fork (not yet classified)"


def _params() -> Iterator[object]:
    for scenario in SCENARIOS:
        reason = NOT_APPLICABLE.get(scenario.name) or _unclassified(scenario)
        marks = [pytest.mark.skip(reason=f"not applicable: {reason}")] if reason else []
        yield pytest.param(scenario, id=scenario.name, marks=marks)


@pytest.fixture(scope="session")
def dist_cache(tmp_path_factory: pytest.TempPathFactory) -> DistCache:
    return DistCache(tmp_path_factory.mktemp("packse-dists"))


@pytest.fixture(scope="session")
def packse_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One satchel cache for the session (interpreter probes, metadata by sha256); index pages
    are revalidated on every run (--refresh), since each scenario has its own index."""
    return tmp_path_factory.mktemp("packse-cache")


@pytest.fixture(scope="session")
def packse_venvs(tmp_path_factory: pytest.TempPathFactory, packse_cache: Path) -> dict[str, Path]:
    """Empty venvs by Python version, created on first use and shared (dry runs change nothing)."""
    root = tmp_path_factory.mktemp("packse-venvs")

    class _Venvs(dict[str, Path]):
        def __missing__(self, version: str) -> Path:
            python = find_python(version)
            if python is None:
                pytest.skip(f"no interpreter: needs pyenv CPython {version}")
            venv = Satchel(root, packse_cache).venv(f"py{version}", python=python)
            self[version] = venv
            return venv

    return _Venvs()


def run_scenario(scenario: Scenario, server: IndexServer, satchel: Satchel, venv: Path,
                 cache: DistCache) -> Result:
    publish_scenario(scenario, server, cache)
    return satchel.run("install", "--dry-run", "--refresh", "-p", venv, *scenario.cli_args(), check=False)


@pytest.mark.parametrize("scenario", list(_params()))
def test_scenario(
    scenario: Scenario,
    index_server: IndexServer,
    tmp_path: Path,
    dist_cache: DistCache,
    packse_cache: Path,
    packse_venvs: dict[str, Path],
) -> None:
    if scenario.name in LINUX_X86_64_ONLY and not ON_LINUX_X86_64:
        pytest.skip(f"not applicable: {LINUX_X86_64_ONLY[scenario.name]}, and this host is not Linux x86_64")
    expected, _ = STANDARD_OVERRIDES.get(scenario.name, (scenario.expected, ""))
    venv = packse_venvs[scenario.python]
    satchel = Satchel(tmp_path, packse_cache, index_url=index_server.index_url)
    result = run_scenario(scenario, index_server, satchel, venv, dist_cache)
    assert "Traceback" not in result.stderr, result
    context = f"{scenario.name}: expected {expected.describe()}\n{scenario.description}\n{result}"
    if not expected.satisfiable:
        assert result.returncode != 0, context
        assert_error(result)
        return
    assert result.returncode == 0, context
    resolved = parse_dry_run(result.stderr)
    if expected.packages:
        assert same_versions(resolved, expected.packages), f"resolved {resolved}\n{context}"
    else:
        missing = set(unconditional_roots(scenario)) - set(resolved)
        assert not missing, f"{sorted(missing)} missing from {resolved}\n{context}"


def test_every_table_entry_names_a_scenario() -> None:
    """The tables above stay in step with the scenario data (a renamed scenario is noticed)."""
    if not SCENARIOS:
        pytest.skip("packse scenarios not found (set SATCHEL_PACKSE_DIR)")
    names = {s.name for s in SCENARIOS}
    for table in (NOT_APPLICABLE, STANDARD_OVERRIDES, LINUX_X86_64_ONLY):
        assert set(table) <= names, set(table) - names
    assert not set(NOT_APPLICABLE) & set(STANDARD_OVERRIDES)
