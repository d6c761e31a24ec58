"""The narrow fast parser (satchel.standards.narrow) against packaging, which it stands in for:
on every text it accepts it must answer exactly what packaging answers; the rest it leaves to
packaging."""

from __future__ import annotations

import random

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from satchel.standards import narrow
from satchel.standards.narrow import is_extra_only, plain_requirement

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


# -- Requires-Dist lines whose marker is certainly false for the target ---------------------------

_ENVS = [
    {"python_version": python, "sys_platform": platform, "os_name": os_name,
     "platform_system": system, "implementation_name": impl,
     "platform_python_implementation": impl_cap, "platform_machine": machine,
     "python_full_version": full}
    for (python, platform, os_name, system, impl, impl_cap, machine), full in zip([
        ("3.11", "linux", "posix", "Linux", "cpython", "CPython", "x86_64"),
        ("3.8", "win32", "nt", "Windows", "cpython", "CPython", "AMD64"),
        ("3.14", "darwin", "posix", "Darwin", "pypy", "PyPy", "arm64"),
        ("3.12", "emscripten", "posix", "Emscripten", "cpython", "CPython", "wasm32"),
        ("3.10", "linux", "posix", "Linux", "graalpy", "GraalVM", "aarch64"),
    ], ["3.11.7", "3.8.0", "3.14.0rc1", "3.12.1+", "3.10.12"], strict=True)
]
_VERSIONS = ["3", "3.8", "3.9", "3.10", "3.11", "3.11.0", "3.11.7", "3.12", "3.14", "3.15",
             "03.11", "2.7"]
_STRINGS = ["linux", "win32", "darwin", "nt", "posix", "Linux", "Windows", "Darwin", "cpython",
            "pypy", "PyPy", "CPython", "x86_64", "arm64", "", "test", "Test_X", "dev", "a-b"]
_ODD_VALUES = ["3.*", "3.11+", "1!2", "a b", "x'y", "n\\x74", "3.11rc1"]
_STRING_VARS = ["extra", "os_name", "sys_platform", "platform_system", "platform_machine",
                "implementation_name", "platform_python_implementation"]
_ODD_VARS = ["python_full_version", "platform_release", "os.name", "python_implementation",
             "extras", "implementation_version"]


def _marker_text(rng: random.Random, depth: int = 0) -> str:
    def ws() -> str:
        return rng.choice(["", " ", " ", "  ", "\t"])

    def atom() -> str:
        if depth < 2 and rng.random() < 0.2:
            return "(" + ws() + _marker_text(rng, depth + 1) + ws() + ")"
        odd = rng.random()
        if rng.random() < 0.4:
            var, op, value = rng.choice(["python_version"] * 3 + ["python_full_version"]), rng.choice(["<", "<=", ">", ">=", "==", "!="]), rng.choice(_VERSIONS)
        else:
            var, op, value = rng.choice(_STRING_VARS), rng.choice(["==", "!="]), rng.choice(_STRINGS)
        if odd < 0.04:
            var = rng.choice(_ODD_VARS)
        elif odd < 0.08:
            op = rng.choice(["<", ">=", "~=", "===", "in", "not in"])
        elif odd < 0.12:
            value = rng.choice(_ODD_VALUES + _VERSIONS + _STRINGS)
        quote = rng.choice(["'", '"'])
        if odd > 0.97:
            return f"{quote}{value}{quote} {op} {var}"
        return f"{var}{ws()}{op}{ws()}{quote}{value}{quote}"

    parts = [atom()]
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        boolop = rng.choice(["and", "or"] * 10 + ["And", "xor", "andos_name"])
        parts += [rng.choice([" ", " ", "\t", ""]) + boolop + rng.choice([" ", " ", "", "\t"]), atom()]
    text = "".join(parts)
    if rng.random() < 0.03:
        text = text[: rng.randint(0, len(text))]
    return text


def test_narrow_markers_evaluate_like_packaging() -> None:
    from packaging.markers import InvalidMarker, Marker
    from packaging.utils import canonicalize_name

    rng = random.Random(0)
    compared = 0
    for _ in range(15000):
        text = _marker_text(rng)
        tree = narrow.marker_tree(text)
        if tree is None:
            continue
        try:
            marker = Marker(text)
        except InvalidMarker:  # pragma: no cover - what this test is for
            pytest.fail(f"narrow but invalid: {text!r}")
        for env in _ENVS:
            for extra in ("", "test", "Test_X", "dev"):
                full = {**default_environment(), **env, "extra": canonicalize_name(extra)}
                want = marker.evaluate({**env, "extra": extra})
                assert narrow.narrow_marker_holds(tree, full) == want, (text, env, extra)
        compared += 1
    assert compared > 3000  # the random markers are often enough in the narrow form


@pytest.mark.parametrize(
    "marker",
    [
        'os_name == "nt"', "python_version < '3.10'", 'python_version>="3.14"',
        'sys_platform == "win32" and extra == "dev"', '(os_name == "nt" and '
        'implementation_name != "pypy") and extra == \'test\'', "python_version < '3.9' or "
        "python_version >= '3.15'", 'platform_system == "Darwin"  ',
    ],
)
def test_lines_skipped_for_the_target(marker: str) -> None:
    env = {**default_environment(), **_ENVS[0], "extra": ""}
    for head in ("dep", "dep>=1.0", "dep[x] (>=1,<2) ", "a.b_c-d==1.*"):
        text = f"{head};{marker}"
        assert narrow.certainly_not_needed(text, env), text
        req = Requirement(text)
        assert req.marker is not None and not req.marker.evaluate(_ENVS[0])


@pytest.mark.parametrize(
    "text",
    [
        'dep; os_name == "posix"',  # true for the target
        'dep; python_version >= "3.11"',
        'dep; extra == "x" or python_version >= "3"',
        'dep @ https://x.invalid/d.whl ; os_name == "nt"',  # not a narrow requirement
        'dep>=>1; os_name == "nt"',
        'dep; os_name == "nt" and',
        'dep; os_name < "nt"',  # not a narrow marker
        'dep; platform_release < "3"',  # (python_full_version is in the narrow form)
        'dep; "nt" == os_name',
        'dep; python_version < "3.*"',
        'dep; os.name == "nt"',
        'dep; os_name == "n\\x74"',
        "dep",
        "dep; ",
    ],
)
def test_lines_not_skipped_for_the_target(text: str) -> None:
    env = {**default_environment(), **_ENVS[0], "extra": ""}
    assert not narrow.certainly_not_needed(text, env)


def test_skipped_lines_agree_with_packaging_on_real_metadata() -> None:
    """Every Requires-Dist of the test environment's own distributions, for several targets."""
    import importlib.metadata

    skipped = 0
    for dist in importlib.metadata.distributions():
        for text in dist.requires or ():
            for env in _ENVS:
                if narrow.certainly_not_needed(text, {**default_environment(), **env, "extra": ""}):
                    skipped += 1
                    req = Requirement(text)
                    assert req.marker is not None and not req.marker.evaluate(env), text
    assert skipped > 20


# -- whole requirements in the narrow form (the no-op install's requirement lines) ---------------

_REQ_VERSIONS = ["1.0", "2", "1.0.0rc9", "0.6", "1!2.0", "1.0.post1", "1.0.dev0", "2.0a0", "1.0+x",
                 "2.0a.0", "01.0", "1.*", "1.0.*", "3.11"]
_REQ_OPS = ["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=>", "="]


def _requirement_text(rng: random.Random) -> str:
    def ws() -> str:
        return rng.choice(["", "", " ", "\t", "  "])

    name = rng.choice(["foo", "Foo_Bar", "a.b-c", "x1", "zope.interface", "-bad", "bad-", "a b", "foo.tar.gz"])
    text = ws() + name
    if rng.random() < 0.3:
        extras = [rng.choice(["x", "Test_X", "dev", "a-b", "", "b c", "sec"]) for _ in range(rng.randint(1, 3))]
        text += ws() + "[" + (ws() + ",").join(extras) + "]"
    specs = [f"{rng.choice(_REQ_OPS)}{ws()}{rng.choice(_REQ_VERSIONS)}" for _ in range(rng.choice([0, 1, 1, 2, 3]))]
    joined = (ws() + "," + ws()).join(specs)
    if specs and rng.random() < 0.2:
        joined = "(" + ws() + joined + ws() + ")"
    text += ws() + joined
    if rng.random() < 0.5:
        text += ws() + ";" + ws() + _marker_text(rng)
    if rng.random() < 0.05:
        text += rng.choice([" @ https://x.invalid/p.whl", " #c", "\\", " --hash=sha256:00", ";"])
    return text + ws()


def test_narrow_requirements_read_like_packaging_reads_them() -> None:
    from packaging.requirements import InvalidRequirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from satchel.standards.versions import contains_all, parse_version

    rng = random.Random(508)
    versions = [(t, parse_version(t)) for t in ["0.5", "1.0", "1.0rc1", "1.0.post1", "1.0+x", "1.5", "2.0",
                                                "2.0a0", "2.0.dev3", "3.0", "1!1.0", "10.1"]]
    compared = 0
    for _ in range(20000):
        text = _requirement_text(rng)
        got = narrow.narrow_requirement(text)
        if got is None:
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:  # pragma: no cover - what this test is for
            pytest.fail(f"narrow but invalid: {text!r}")
        assert req.url is None
        assert got.name == canonicalize_name(req.name), text
        assert got.extras == {canonicalize_name(e) for e in req.extras}, text
        for vtext, v in versions:
            assert v is not None
            want = req.specifier.contains(Version(vtext), prereleases=True)
            assert contains_all(got.specifiers, v) == want, (text, vtext)
        assert (got.marker is None) == (req.marker is None), text
        if req.marker is not None:
            for env in _ENVS:
                for extra in ("", "test", "dev"):
                    full = {**default_environment(), **env}
                    assert got.holds(full, extra) == req.marker.evaluate({**env, "extra": extra}), (text, env)
        compared += 1
    assert compared > 3000
