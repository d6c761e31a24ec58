"""Resolver behaviour against an in-memory finder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.resolve import ResolveOptions, RootRequirement, resolve
from satchel.resolve.candidates import Candidate
from satchel.resolve.provider import SatchelProvider
from satchel.resolve.requirements import SpecifierRequirement
from tests.support.resolve_fakes import (
    MARKERS,
    PLATFORM_TAG,
    FakeFinder,
    make_interpreter,
    root,
    versions,
)


@pytest.fixture
def finder() -> FakeFinder:
    return FakeFinder()


# -- basics ------------------------------------------------------------------------------------


def test_chain_resolves_newest_versions(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b>=1"])
    finder.add("a", "2.0", ["b>=2"])
    finder.add("b", "1.0")
    finder.add("b", "2.0", ["c"])
    finder.add("b", "2.1", ["c"])
    finder.add("c", "0.5")
    result = finder.resolve("a")
    assert versions(result) == {"a": "2.0", "b": "2.1", "c": "0.5"}
    assert list(result) == ["a", "b", "c"]
    assert result["a"].is_direct and not result["b"].is_direct
    assert result["a"].requires == ("b",)
    assert result["b"].requires == ("c",)
    assert result.roots == ("a",)
    assert result.dependents("c") == ("b",)
    assert result.install_order() == ("c", "b", "a")


def test_result_is_independent_of_root_order(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["c<2"])
    finder.add("a", "2.0", ["c>=2"])
    finder.add("b", "1.0", ["c<2"])
    finder.add("c", "1.0")
    finder.add("c", "2.0")
    one = finder.resolve("a", "b")
    two = finder.resolve("b", "a")
    assert versions(one) == versions(two) == {"a": "1.0", "b": "1.0", "c": "1.0"}


def test_names_are_normalized(finder: FakeFinder) -> None:
    finder.add("Foo.Bar", "1.0", ["Baz_Qux"])
    finder.add("baz-qux", "1.0")
    result = finder.resolve("FOO_bar")
    assert versions(result) == {"baz-qux": "1.0", "foo-bar": "1.0"}
    assert result["Foo.Bar"].requires == ("baz-qux",)


def test_empty_roots(finder: FakeFinder) -> None:
    assert len(finder.resolve()) == 0


def test_dependency_cycle_resolves(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b"])
    finder.add("b", "1.0", ["a"])
    result = finder.resolve("a")
    assert versions(result) == {"a": "1.0", "b": "1.0"}
    assert result.install_order() == ("a", "b")


def test_a_cycle_the_backtracking_cut_off_is_dropped(finder: FakeFinder) -> None:
    # e requires its own extra (e[x] -> e -> e[x]); after backtracking on d nothing requires
    # them any more, and the result must simply leave them out (resolvelib's own walk of the
    # final graph recursed forever on such a cycle: a RecursionError traceback).
    for version in ("1.0", "2.0"):
        finder.add("d", version)
        finder.add("e", version, extras=["x"])
    finder.install("d", "1.0", ["e>=1"])
    finder.install("e", "1.5", ["d>=2", "e[x]"])
    finder.installed["e"] = replace(finder.installed["e"], provides_extra=("x",))
    assert versions(finder.resolve("d")) == {"d": "2.0"}


# -- extras and markers ------------------------------------------------------------------------


def test_extras_pull_their_dependencies(finder: FakeFinder) -> None:
    finder.add(
        "a", "1.0", ["b", "c; extra == 'fast'", "d; extra == 'other'"], extras=["fast", "other"]
    )
    for name in "bcd":
        finder.add(name, "1.0")
    plain = finder.resolve("a")
    assert set(plain) == {"a", "b"}
    fast = finder.resolve("a[fast]")
    assert set(fast) == {"a", "b", "c"}
    assert fast["a"].extras == ("fast",)
    assert fast["a"].requires == ("b", "c")


def test_extras_names_are_normalized(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["c; extra == 'Fast_Path'"], extras=["Fast_Path"])
    finder.add("c", "1.0")
    result = finder.resolve("a[fast-path]")
    assert set(result) == {"a", "c"}
    assert result["a"].extras == ("fast-path",)


def test_extra_candidate_has_same_version_as_base(finder: FakeFinder) -> None:
    # a[x] 2.0 would need c>=2 which does not exist, so a must fall back to 1.0 as a whole.
    finder.add("a", "1.0", ["c; extra == 'x'"], extras=["x"])
    finder.add("a", "2.0", ["c>=2; extra == 'x'"], extras=["x"])
    finder.add("c", "1.0")
    result = finder.resolve("a", "a[x]")
    assert versions(result) == {"a": "1.0", "c": "1.0"}


def test_extras_referring_to_own_extras(finder: FakeFinder) -> None:
    finder.add(
        "a",
        "1.0",
        ["b; extra == 'x'", "c; extra == 'y'", "a[x,y]; extra == 'all'"],
        extras=["x", "y", "all"],
    )
    finder.add("b", "1.0")
    finder.add("c", "1.0")
    result = finder.resolve("a[all]")
    assert set(result) == {"a", "b", "c"}
    assert result["a"].extras == ("all", "x", "y")
    assert result["a"].requires == ("b", "c")


def test_unknown_extra_warns(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    result = finder.resolve("a[nope]")
    assert set(result) == {"a"}
    assert any("does not provide the extra 'nope'" in w for w in result.warnings)


def test_markers_are_evaluated_for_the_interpreter(finder: FakeFinder) -> None:
    finder.add(
        "a",
        "1.0",
        [
            "win; sys_platform == 'win32'",
            "new; python_version >= '3.8'",
            "old; python_version < '3'",
        ],
    )
    finder.add("new", "1.0")
    result = finder.resolve("a", "winroot; sys_platform == 'win32'")
    assert set(result) == {"a", "new"}
    assert ("win",) not in finder.called("prefetch")
    assert ("winroot",) not in finder.called("prefetch")


# -- backtracking --------------------------------------------------------------------------------


def test_backtracks_when_dependency_has_no_match(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b>=1"])
    finder.add("a", "2.0", ["b<1"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    assert versions(finder.resolve("a")) == {"a": "1.0", "b": "2.0"}


def test_backtracks_across_packages(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["c==1.0"])
    finder.add("a", "2.0", ["c==2.0"])
    finder.add("b", "1.0", ["c==1.0"])
    finder.add("c", "1.0")
    finder.add("c", "2.0")
    assert versions(finder.resolve("a", "b")) == {"a": "1.0", "b": "1.0", "c": "1.0"}


# -- pre-releases ------------------------------------------------------------------------------


@pytest.fixture
def prereleases(finder: FakeFinder) -> FakeFinder:
    finder.add("a", "1.0")
    finder.add("a", "1.1")
    finder.add("a", "2.0b1")
    finder.add("a", "2.0rc1")
    return finder


def test_prereleases_excluded_by_default(prereleases: FakeFinder) -> None:
    assert versions(prereleases.resolve("a")) == {"a": "1.1"}


def test_prereleases_with_pre(prereleases: FakeFinder) -> None:
    assert versions(prereleases.resolve("a", pre=True)) == {"a": "2.0rc1"}


def test_prereleases_when_specifier_names_one(prereleases: FakeFinder) -> None:
    assert versions(prereleases.resolve("a>=2.0b1")) == {"a": "2.0rc1"}
    assert versions(prereleases.resolve("a==2.0b1")) == {"a": "2.0b1"}


def test_prereleases_when_only_they_satisfy(prereleases: FakeFinder) -> None:
    # no final release is >1.1, so pre-releases are allowed (PEP 440)
    assert versions(prereleases.resolve("a>1.1")) == {"a": "2.0rc1"}
    with pytest.raises(ResolutionImpossible):
        prereleases.resolve("a>=2")  # 2.0rc1 < 2.0


def test_prereleases_only_project(finder: FakeFinder) -> None:
    finder.add("a", "0.1.dev3")
    finder.add("a", "0.1a1")
    assert versions(finder.resolve("a")) == {"a": "0.1a1"}


# -- yanked (PEP 592) ----------------------------------------------------------------------------


def test_yanked_skipped_unless_exactly_pinned(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0", yanked="broken")
    assert versions(finder.resolve("a")) == {"a": "1.0"}
    assert versions(finder.resolve("a>=1")) == {"a": "1.0"}
    pinned = finder.resolve("a==2.0")
    assert versions(pinned) == {"a": "2.0"}
    assert pinned["a"].file is not None and pinned["a"].file.yanked == "broken"
    assert any("yanked: broken" in w for w in pinned.warnings)
    assert versions(finder.resolve("a===2.0")) == {"a": "2.0"}


def test_yanked_not_used_for_wildcard_pins(finder: FakeFinder) -> None:
    finder.add("a", "2.0", yanked="")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("a==2.*")
    assert "yanked" in e.value.message
    assert e.value.hint is not None and "a==2.0" in e.value.hint


def test_yanked_pin_prefers_unyanked_file(finder: FakeFinder) -> None:
    finder.add("a", "1.0", wheels=[PLATFORM_TAG], yanked="bad wheel")
    finder.add("a", "1.0", wheels=[], sdist=True)
    result = finder.resolve("a==1.0")
    assert result["a"].file is not None and result["a"].file.filename == "a-1.0.tar.gz"


# -- Requires-Python ---------------------------------------------------------------------------


def test_file_requires_python_filters_versions(finder: FakeFinder) -> None:
    finder.add("a", "1.0", file_requires_python=">=3.8")
    finder.add("a", "2.0", file_requires_python=">=3.12")
    assert versions(finder.resolve("a")) == {"a": "1.0"}
    assert not [c for c in finder.called("get_metadata") if c[1] == "2.0"]


def test_metadata_requires_python_rejects_candidate(finder: FakeFinder) -> None:
    # The index does not say, only the metadata does: the candidate is rejected later.
    finder.add("a", "1.0", requires_python=">=3.7")
    finder.add("a", "2.0", requires_python=">=3.12")
    result = finder.resolve("a")
    assert versions(result) == {"a": "1.0"}
    assert "<python>" not in result


def test_requires_python_prerelease_interpreter_semantics(finder: FakeFinder) -> None:
    finder.add("a", "1.0", file_requires_python=">=3.11")
    assert versions(finder.resolve("a")) == {"a": "1.0"}


# -- files and tags ----------------------------------------------------------------------------


def test_best_tag_wins_and_candidate_carries_that_file(finder: FakeFinder) -> None:
    files = finder.add(
        "a", "1.0", wheels=["py310-none-any", "py311-none-any", "py3-none-any"], sdist=True
    )
    result = finder.resolve("a")
    chosen = result["a"].file
    assert chosen == files[1]
    assert chosen is not None and chosen.filename == "a-1.0-py311-none-any.whl"
    assert chosen.hashes == files[1].hashes
    assert finder.called("get_metadata") == [("a", "1.0", "a-1.0-py311-none-any.whl")]


def test_platform_wheel_beats_pure_wheel(finder: FakeFinder) -> None:
    finder.add("a", "1.0", wheels=["py3-none-any", PLATFORM_TAG])
    assert finder.resolve("a")["a"].file.filename == f"a-1.0-{PLATFORM_TAG}.whl"  # type: ignore[union-attr]


def test_higher_build_tag_wins(finder: FakeFinder) -> None:
    finder.add("a", "1.0", wheels=["1-py3-none-any", "2-py3-none-any"])
    assert finder.resolve("a")["a"].file.filename == "a-1.0-2-py3-none-any.whl"  # type: ignore[union-attr]


def test_incompatible_wheels_fall_back_to_sdist_or_older_version(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0", wheels=["cp27-cp27m-win32"])
    finder.add("b", "1.0", wheels=["cp27-cp27m-win32"], sdist=True)
    result = finder.resolve("a", "b")
    assert versions(result) == {"a": "1.0", "b": "1.0"}
    assert result["b"].file is not None and result["b"].file.filename == "b-1.0.tar.gz"


def test_first_index_wins_for_same_filename(finder: FakeFinder) -> None:
    first = finder.add("a", "1.0")[0]
    from dataclasses import replace

    finder.files["a"].append(replace(first, url="https://mirror.invalid/a.whl"))
    assert finder.resolve("a")["a"].file == first


def test_only_binary_and_no_binary(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0", wheels=[], sdist=True)
    assert versions(finder.resolve("a", only_binary={":all:"})) == {"a": "1.0"}
    assert versions(finder.resolve("a", only_binary={"A"})) == {"a": "1.0"}
    assert versions(finder.resolve("a", no_binary={":all:"})) == {"a": "2.0"}
    # a name given explicitly wins over :all:
    assert versions(finder.resolve("a", only_binary={":all:"}, no_binary={"a"})) == {"a": "2.0"}


def test_hashes_restrict_files(finder: FakeFinder) -> None:
    _wheel, sdist = finder.add("a", "1.0", sdist=True)
    finder.add("a", "2.0")
    req = root("a", hashes=[f"sha256:{sdist.hashes['sha256'].upper()}"])
    result = finder.resolve(req)
    assert result["a"].file == sdist
    assert result["a"].hashes == (f"sha256:{sdist.hashes['sha256']}",)


def test_unrelated_files_ignored(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0")
    finder.files["a"][1] = finder.files["a"][1].__class__(
        filename="a-2.0.exe", url="https://x.invalid/a-2.0.exe"
    )
    finder.files["a"].append(
        finder.files["a"][0].__class__(filename="other-9.0.tar.gz", url="https://x.invalid/o")
    )
    assert versions(finder.resolve("a")) == {"a": "1.0"}


# -- installed distributions -------------------------------------------------------------------


def test_installed_version_kept_without_index(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b>=1"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    finder.install("b", "1.0")
    result = finder.resolve("a")
    assert versions(result) == {"a": "1.0", "b": "1.0"}
    assert result["b"].installed and result["b"].file is None and result["b"].url is None
    assert ("b",) not in finder.called("find_files")
    assert ("b",) not in finder.called("prefetch")


def test_installed_version_replaced_when_not_satisfying(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b>=2"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    finder.install("b", "1.0")
    result = finder.resolve("a")
    assert versions(result) == {"a": "1.0", "b": "2.0"}
    assert not result["b"].installed and result["b"].file is not None


def test_installed_version_abandoned_when_its_dependencies_conflict(finder: FakeFinder) -> None:
    finder.add("b", "1.0", ["c<2"])
    finder.add("b", "2.0", ["c>=2"])
    finder.add("c", "1.0")
    finder.add("c", "2.0")
    finder.install("b", "1.0", ["c<2"])
    result = finder.resolve("b", "c>=2")
    assert versions(result) == {"b": "2.0", "c": "2.0"}
    assert not result["b"].installed


def test_upgrade_applies_to_roots_only(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b"])
    finder.add("a", "2.0", ["b"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    finder.install("a", "1.0", ["b"])
    finder.install("b", "1.0")
    assert versions(finder.resolve("a")) == {"a": "1.0", "b": "1.0"}
    assert versions(finder.resolve("a", upgrade=True)) == {"a": "2.0", "b": "1.0"}
    assert versions(finder.resolve("a", upgrade_packages=frozenset({"B"}))) == {
        "a": "1.0",
        "b": "2.0",
    }


def test_upgrade_keeps_installed_when_it_is_newest(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0")
    finder.install("a", "2.0")
    result = finder.resolve("a", upgrade=True)
    assert result["a"].installed and str(result["a"].version) == "2.0"


def test_installed_without_metadata_is_ignored(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    result = finder.resolve("a", installed={"a": Version("0.9")})
    assert versions(result) == {"a": "1.0"} and not result["a"].installed


def test_installed_extras_use_installed_metadata(finder: FakeFinder) -> None:
    finder.add("a", "2.0", ["c; extra == 'x'"], extras=["x"])
    finder.add("c", "1.0")
    finder.installed["a"] = finder.metadata["a-2.0-py3-none-any.whl"]
    result = finder.resolve("a[x]")
    assert result["a"].installed and set(result) == {"a", "c"}


# -- constraints and options ------------------------------------------------------------------


def test_constraints_restrict_but_do_not_add(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    finder.add("c", "1.0")
    result = finder.resolve("a", constraints=["b<2", "c==1.0", "a; sys_platform == 'win32'"])
    assert versions(result) == {"a": "1.0", "b": "1.0"}
    assert ("c",) not in finder.called("find_files")


def test_constraint_with_extras_is_an_error(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    with pytest.raises(ResolutionImpossible, match="names extras"):
        finder.resolve("a", constraints=["a[x]<2"])


def test_no_deps(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b"], extras=["x"])
    result = finder.resolve("a[x]", no_deps=True)
    assert set(result) == {"a"}
    assert result["a"].requires == ()


def test_roots_with_false_markers_are_skipped(finder: FakeFinder) -> None:
    assert len(finder.resolve("missing; python_version < '3'")) == 0


def test_too_many_rounds(finder: FakeFinder) -> None:
    for i in range(5):
        finder.add(f"p{i}", "1.0", [f"p{i + 1}"])
    finder.add("p5", "1.0")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("p0", max_rounds=3)
    assert "Gave up resolving after 3 rounds" in e.value.message
    assert e.value.hint is not None and "constraints" in e.value.hint


def test_inconsistent_metadata_is_an_error(finder: FakeFinder) -> None:
    finder.add("a", "1.0", metadata_name="b")
    with pytest.raises(ResolutionImpossible, match=r"says it is b 1\.0, not a 1\.0"):
        finder.resolve("a")


def test_invalid_dependency_is_an_error(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b >>= 1"])
    with pytest.raises(ResolutionImpossible, match="invalid dependency"):
        finder.resolve("a")


# -- direct references --------------------------------------------------------------------------


def test_direct_url_root(finder: FakeFinder) -> None:
    url = "file:///src/a-3.0.tar.gz"
    finder.add_direct(url, "a", "3.0", ["b"])
    finder.add("a", "9.0")
    finder.add("b", "1.0")
    result = finder.resolve(f"a @ {url}")
    assert versions(result) == {"a": "3.0", "b": "1.0"}
    assert result["a"].url == url and result["a"].file is None and result["a"].is_direct
    assert ("a",) not in finder.called("find_files")


def test_direct_url_given_separately(finder: FakeFinder) -> None:
    url = "https://example.invalid/a.zip"
    finder.add_direct(url, "a", "3.0")
    req = RootRequirement(Requirement("a"), url=url, source="cli")
    assert finder.resolve(req)["a"].url == url


def test_direct_url_satisfies_transitive_specifier(finder: FakeFinder) -> None:
    url = "file:///src/b"
    finder.add_direct(url, "b", "2.5")
    finder.add("a", "1.0", ["b>=2"])
    finder.add("b", "3.0")
    result = finder.resolve("a", f"b @ {url}")
    assert result["b"].url == url


def test_direct_url_with_extras(finder: FakeFinder) -> None:
    url = "file:///src/a"
    finder.add_direct(url, "a", "1.0", ["c; extra == 'x'"])
    finder.add("c", "1.0")
    result = finder.resolve(f"a[x] @ {url}", "a")
    assert result["a"].url == url and result["a"].extras == ("x",)
    assert set(result) == {"a", "c"}


def test_direct_url_name_mismatch(finder: FakeFinder) -> None:
    url = "file:///src/b"
    finder.add_direct(url, "b", "1.0")
    with pytest.raises(ResolutionImpossible, match=r"contains b 1\.0, not a"):
        finder.resolve(f"a @ {url}")


def test_constraint_url_applies_to_dependency(finder: FakeFinder) -> None:
    url = "file:///src/b"
    finder.add_direct(url, "b", "1.5")
    finder.add("a", "1.0", ["b"])
    finder.add("b", "2.0")
    result = finder.resolve("a", constraints=[f"b @ {url}"])
    assert result["b"].url == url and not result["b"].is_direct


def test_pins_and_direct_urls_are_resolved_first(finder: FakeFinder) -> None:
    url = "file:///src/d"
    finder.add_direct(url, "d", "1.0")
    for name in "abc":
        finder.add(name, "1.0")
    finder.resolve("a", "b", "c==1.0", f"d @ {url}")
    order = [call[0] for call in finder.called("get_metadata")]
    assert order == ["c", "a", "b"]  # d's metadata came with its URL, before everything


# -- prefetching ------------------------------------------------------------------------------


def test_prefetch_names_and_metadata(finder: FakeFinder) -> None:
    finder.add("a", "1.0", ["b", "c"])
    finder.add("a", "2.0", ["b", "c"])
    finder.add("a", "3.0", ["b", "c"])
    finder.add("b", "1.0")
    finder.add("c", "1.0")
    finder.resolve("a")
    prefetched = finder.called("prefetch")
    assert prefetched == [("a",), ("b",), ("c",)]
    # each name is prefetched before its page is read
    for name in ("b", "c"):
        assert finder.calls.index(("prefetch", name)) < finder.calls.index(("find_files", name))
    meta = finder.called("prefetch_metadata")
    assert ("a", "3.0", "a-3.0-py3-none-any.whl") in meta
    # only the best candidate's: the runner-up waits until the resolver backtracks
    assert ("a", "2.0", "a-2.0-py3-none-any.whl") not in meta
    assert ("a", "1.0", "a-1.0-py3-none-any.whl") not in meta
    assert len(meta) == len(set(meta))  # never twice
    assert finder.calls.index(
        ("prefetch_metadata", "a", "3.0", "a-3.0-py3-none-any.whl")
    ) < finder.calls.index(("get_metadata", "a", "3.0", "a-3.0-py3-none-any.whl"))


def test_runner_up_sdist_metadata_not_prefetched(finder: FakeFinder) -> None:
    finder.add("a", "1.0", wheels=[], sdist=True)
    finder.add("a", "2.0", wheels=[], sdist=True)
    finder.resolve("a")
    assert finder.called("prefetch_metadata") == [("a", "2.0", "a-2.0.tar.gz")]


# -- error messages found by the packse conformance run (tests/e2e/test_packse.py) -------------


def test_requires_python_upper_bound_hint_says_older(finder: FakeFinder) -> None:
    # packse python-less-than-current: Requires-Python <=3.8 on 3.11 needs an older Python,
    # not "a newer Python" as the hint used to say.
    finder.add("a", "1.0", file_requires_python="<=3.8")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("a==1.0")
    hint = e.value.hint or ""
    assert "requires Python <=3.8" in hint and "use an older Python" in hint
    assert "newer Python" not in hint

    finder.add("b", "1.0", file_requires_python=">=3.12")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("b")
    assert "use a newer Python or require an older b" in (e.value.hint or "")

    finder.add("c", "1.0", file_requires_python="==3.8.*")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("c")
    assert "use a Python it supports" in (e.value.hint or "")


def test_metadata_requires_python_upper_bound_hint_says_older(finder: FakeFinder) -> None:
    finder.add("a", "1.0", requires_python="<3.10")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("a")
    assert "Use an older interpreter" in (e.value.hint or "")


def test_missing_version_with_no_usable_release_lists_why(finder: FakeFinder) -> None:
    # packse python-greater-than-current-many: a==1.0 does not exist and every other release
    # needs a newer Python. The message used to say the index lists no file for this
    # interpreter, hiding both facts.
    for v in ["2.0", "2.1"]:
        finder.add("a", v, file_requires_python=">=3.12")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("a==1.0")
    lines = e.value.message.splitlines()
    assert lines[0] == "No version of a satisfies a==1.0."
    assert "  no release of a matches ==1.0, and these cannot be used:" in lines
    assert "    2.1: requires Python >=3.12" in lines
    assert not any("lists no file" in line for line in lines)
    assert "requires Python >=3.12" in (e.value.hint or "")


def test_only_yanked_release_is_not_called_missing(finder: FakeFinder) -> None:
    # packse package-only-yanked: the one release is yanked; the file itself would fit.
    finder.add("a", "1.0", yanked="")
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve("a")
    lines = e.value.message.splitlines()
    assert "    1.0: yanked" in lines
    assert not any("lists no file" in line for line in lines)
    assert "a==1.0" in (e.value.hint or "")


# -- caches (speed without changing answers) ---------------------------------------------------


def _provider(finder: FakeFinder, **options: object) -> SatchelProvider:
    return SatchelProvider(
        finder=finder,
        interpreter=make_interpreter(),
        options=ResolveOptions(**options),  # type: ignore[arg-type]
        constraints={},
        direct_urls={},
        root_names=frozenset(),
        hashes={},
    )


def _req(text: str) -> SpecifierRequirement:
    req = Requirement(text)
    return SpecifierRequirement(req.name, frozenset(req.extras), req.specifier, req)


def _matches(
    provider: SatchelProvider,
    reqs: list[SpecifierRequirement],
    rejected: Sequence[Candidate] = (),
    identifier: str = "a",
) -> list[str]:
    found = provider.find_matches(
        identifier, {identifier: iter(reqs)}, {identifier: iter(rejected)}
    )
    assert not callable(found)
    return [str(c.version) for c in found]


def test_repeated_questions_are_answered_alike(finder: FakeFinder) -> None:
    for v in ("1.0", "1.1", "2.0", "2.1", "3.0rc1"):
        finder.add("a", v)
    provider = _provider(finder)
    assert _matches(provider, [_req("a>=1.1")]) == ["2.1", "2.0", "1.1"]
    # the same text in another object, and the same question twice: same answer
    assert _matches(provider, [_req("a>=1.1")]) == ["2.1", "2.0", "1.1"]
    assert _matches(provider, [_req("a>=1.1"), _req("a>=1.1")]) == ["2.1", "2.0", "1.1"]
    # every specifier counts, in any order
    assert _matches(provider, [_req("a>=1.1"), _req("a<2.1")]) == ["2.0", "1.1"]
    assert _matches(provider, [_req("a<2.1"), _req("a>=1.1")]) == ["2.0", "1.1"]
    assert _matches(provider, [_req("a<2.1,>=1.1")]) == ["2.0", "1.1"]
    # a specifier naming a pre-release lets pre-releases in; the cached answer without it
    # does not
    assert _matches(provider, [_req("a>=3.0rc1")]) == ["3.0rc1"]
    assert _matches(provider, [_req("a>=2.1")]) == ["2.1"]
    assert _matches(provider, [_req("a>=2.1"), _req("a!=3.0rc1,>=2.2a0")]) == []
    assert finder.called("find_files") == [("a",)]


def test_rejected_candidates_are_left_out_in_order(finder: FakeFinder) -> None:
    for v in ("1.0", "2.0", "3.0", "4.0"):
        finder.add("a", v)
    provider = _provider(finder)
    req = _req("a")
    found = provider.find_matches("a", {"a": iter([req])}, {"a": iter([])})
    assert not callable(found)
    by_version = {str(c.version): c for c in found}
    assert _matches(provider, [req], [by_version["4.0"], by_version["3.0"]]) == ["2.0", "1.0"]
    assert _matches(provider, [req], [by_version["3.0"], by_version["1.0"]]) == ["4.0", "2.0"]
    assert _matches(provider, [req], list(found)) == []
    assert _matches(provider, [req]) == ["4.0", "3.0", "2.0", "1.0"]  # nothing stuck


def test_extras_candidates_are_cached_per_identifier(finder: FakeFinder) -> None:
    finder.add("a", "1.0", extras=["x"])
    finder.add("a", "2.0", extras=["x"])
    provider = _provider(finder)
    plain = provider.find_matches("a", {"a": iter([_req("a<2")])}, {})
    extra = provider.find_matches(
        "a[x]", {"a[x]": iter([_req("a[x]")]), "a": iter([_req("a<2")])}, {}
    )
    assert not callable(plain) and not callable(extra)
    assert [c.identifier for c in plain] == ["a"]
    assert [(c.identifier, str(c.version)) for c in extra] == [("a[x]", "1.0")]
    again = provider.find_matches("a[x]", {"a[x]": iter([_req("a[x]<2")])}, {})
    assert not callable(again)
    assert list(again) == list(extra) and again[0] is extra[0]


def test_satisfaction_is_per_requirement_and_candidate(finder: FakeFinder) -> None:
    finder.add("a", "1.0")
    finder.add("a", "2.0")
    provider = _provider(finder)
    found = provider.find_matches("a", {"a": iter([_req("a")])}, {})
    assert not callable(found)
    new, old = found
    low, high = _req("a<2"), _req("a>=2")
    for _ in range(2):
        assert [provider.is_satisfied_by(r, c) for r in (low, high) for c in (new, old)] == [
            False,
            True,
            True,
            False,
        ]


def test_caches_do_not_leak_between_resolutions(finder: FakeFinder) -> None:
    # One finder, resolutions for different interpreters and options: each answers for its own.
    finder.add("a", "1.0", wheels=["py3-none-any"], sdist=True)
    finder.add("a", "2.0", wheels=[], sdist=True, file_requires_python=">=3.10")
    finder.add("a", "3.0b1")
    roots = [root("a")]
    assert str(resolve(roots, finder=finder, interpreter=make_interpreter())["a"].version) == "2.0"
    old_python = replace(
        make_interpreter(),
        version=(3, 9, 18),
        markers={**MARKERS, "python_version": "3.9", "python_full_version": "3.9.18"},
    )
    assert str(resolve(roots, finder=finder, interpreter=old_python)["a"].version) == "1.0"
    binary = ResolveOptions(only_binary=frozenset({":all:"}))
    assert (
        str(
            resolve(roots, finder=finder, interpreter=make_interpreter(), options=binary)[
                "a"
            ].version
        )
        == "1.0"
    )
    pre = ResolveOptions(pre=True)
    assert (
        str(resolve(roots, finder=finder, interpreter=make_interpreter(), options=pre)["a"].version)
        == "3.0b1"
    )
    no_tags = replace(make_interpreter(), tags=("cp311-cp311-win_amd64",))
    chosen = resolve(roots, finder=finder, interpreter=no_tags)["a"]
    assert chosen.file is not None and chosen.file.filename == "a-2.0.tar.gz"
    assert str(resolve(roots, finder=finder, interpreter=make_interpreter())["a"].version) == "2.0"


def test_marker_warnings_name_each_release(finder: FakeFinder) -> None:
    odd = "b; sys_platform ~= 'linux'"  # cannot be evaluated: ~= needs versions
    finder.add("a", "2.0", [odd, "c<1"])
    finder.add("a", "1.0", [odd])
    finder.add("c", "0.5")
    finder.add("c", "1.0")
    result = finder.resolve("a", "c>=1")
    assert versions(result) == {"a": "1.0", "c": "1.0"}
    warned = [w for w in result.warnings if "cannot evaluate its marker" in w]
    assert [w.split(" of ")[1].split(":")[0] for w in warned] == ["a 2.0", "a 1.0"]


def test_deep_backtracking_tests_few_versions(
    finder: FakeFinder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shape of "urllib3<1.25.4 boto3": every top release pins its own range of mid, and
    # every mid but the oldest needs a urllib3 the root excludes. Testing every version of mid
    # for every question made this quadratic (boto3 took a minute); the answer must not change.
    finder.add("urllib3", "0.9")
    finder.add("urllib3", "1.0")
    finder.add("jmespath", "1.0")
    for i in range(100):
        finder.add("top", f"{i}.0", [f"mid>={i}.0,<{i + 1}.0", "jmespath"])
        for j in range(10):
            finder.add("mid", f"{i}.{j}", ["urllib3>=1" if i else "urllib3<1", "jmespath>=0.9"])
    calls = [0]
    for cls in (Specifier, SpecifierSet):
        original = cls.contains

        def counting(
            self: object, *args: object, _original: object = original, **kw: object
        ) -> bool:
            calls[0] += 1
            return _original(self, *args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(cls, "contains", counting)
    result = finder.resolve("urllib3<1", "top")
    assert versions(result) == {"jmespath": "1.0", "mid": "0.9", "top": "0.0", "urllib3": "0.9"}
    assert calls[0] < 2_000  # it was 133,516


def test_preferred_versions_are_tried_first_where_allowed(finder: FakeFinder) -> None:
    """A lock's existing pins (ResolveOptions.preferred) win over newer releases, but never
    over the requirements."""
    finder.add("a", "1.0", ["b"])
    finder.add("a", "2.0", ["b"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    assert versions(finder.resolve("a")) == {"a": "2.0", "b": "2.0"}
    preferred = {"a": Version("1.0"), "b": Version("1.0")}
    assert versions(finder.resolve("a", preferred=preferred)) == {"a": "1.0", "b": "1.0"}
    assert versions(finder.resolve("a", "b>=2", preferred=preferred)) == {"a": "1.0", "b": "2.0"}
