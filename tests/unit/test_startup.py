"""Start-up shortcuts (docs/performance.md, "Start-up and no-op"): each stands in for a library
call the no-op install no longer pays the import of, and must answer exactly what it would."""

from __future__ import annotations

import configparser
import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.cache import atomic, record
from satchel.cli import main as cli
from satchel.index.config import read_plain_ini


def configparser_sections(path: Path) -> dict[str, list[tuple[str, str]]] | None:
    """What pip's reader (``configparser.RawConfigParser``) makes of ``path``; None on error."""
    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as f:
            parser.read_file(f)
    except (UnicodeDecodeError, configparser.Error):
        return None
    return {section: parser.items(section) for section in parser.sections()}


_ODD_LINES = [
    "[global]", "[install]", "[Global]", "[ global ]", "[DEFAULT]", "[a]b]", "[a[b]", "[]", "[x",
    "[global] ; not a comment", "key", "= value", " : value", "  continued", "\tcontinued = too",
    "\ufeff[global]", "k\x0c= v", "\x0bk = v", "# comment", "; comment", "  # indented", "",
    "   ", "\t",
]
_SPACES = ["", " ", "  ", "\t", "\x0c", "\u00a0"]
_ENDINGS = ["\n", "\r\n", "\r"]


def _option_line(rng: random.Random) -> str:
    key = "".join(rng.choice("aAbB_-.:=9 \u00e9") for _ in range(rng.randint(0, 6)))
    value = "".join(rng.choice("vV/:=#; \t\u00a0\u00e9") for _ in range(rng.randint(0, 8)))
    delimiter = rng.choice("=:")
    return key + rng.choice(_SPACES) + delimiter + rng.choice(_SPACES) + value + rng.choice(_SPACES)


def _ini_text(rng: random.Random) -> str:
    lines = [rng.choice(["[global]", "[install]", "[x]"])] if rng.random() < 0.8 else []
    for _ in range(rng.randint(0, 8)):
        kind = rng.random()
        if kind < 0.6:
            lines.append(_option_line(rng))
        elif kind < 0.7:
            lines.append(rng.choice(["[global]", "[install]", "[Global]", "[ global ]"]))
        else:
            lines.append(rng.choice(_ODD_LINES))
    text = "".join(line + rng.choice(_ENDINGS) for line in lines)
    return text.rstrip("\r\n") if rng.random() < 0.2 else text


def test_plain_ini_reads_what_configparser_reads(tmp_path: Path) -> None:
    path = tmp_path / "pip.conf"
    compared = 0
    for seed in range(1500):
        text = _ini_text(random.Random(seed))
        path.write_bytes(text.encode())
        plain = read_plain_ini(path)
        if plain is not None:
            assert plain == configparser_sections(path), text
            compared += 1
    assert compared > 300  # the random texts are often enough in the narrow form


@pytest.mark.parametrize(
    "text",
    [
        "[global]\nindex-url = http://127.0.0.1/simple\nextra-index-url = a\n  b\n",
        "[global]\nk = 1\n[global]\nk = 2\n",
        "[global]\nk = 1\nK = 2\n",
        "k = 1\n[global]\n",
        "[DEFAULT]\nk = 1\n[global]\n",
        "[global]\nno delimiter\n",
    ],
)
def test_plain_ini_leaves_the_rest_to_configparser(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pip.conf"
    path.write_text(text)
    assert read_plain_ini(path) is None


def test_plain_ini_reads_the_usual_pip_conf(tmp_path: Path) -> None:
    path = tmp_path / "pip.conf"
    path.write_text(
        "# pip\n[global]\nindex-url = http://127.0.0.1/simple\n"
        "extra-index-url = http://127.0.0.1/a http://127.0.0.1/b\n\n[install]\nfind-links=/w\n"
    )
    expected = configparser_sections(path)
    assert read_plain_ini(path) == expected
    assert expected == {
        "global": [
            ("index-url", "http://127.0.0.1/simple"),
            ("extra-index-url", "http://127.0.0.1/a http://127.0.0.1/b"),
        ],
        "install": [("find-links", "/w")],
    }


def test_plain_ini_does_not_read_undecodable_files(tmp_path: Path) -> None:
    path = tmp_path / "pip.conf"
    path.write_bytes(b"[global]\nk = \xff\n")
    assert read_plain_ini(path) is None


@pytest.mark.parametrize("size", [0, 1, 55, 64, 1000, record._SMALL, record._SMALL + 1, 1 << 20])
def test_record_sha256_is_hashlibs(size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert record.sha256(data) == hashlib.sha256(data).digest()


def test_record_sha256_without_hashlib_loaded() -> None:
    code = (
        "import sys, os; from satchel.cache import record; "
        "data = os.urandom(3000); digest = record.sha256(data); "
        "loaded = 'hashlib' in sys.modules; import hashlib; "
        "print(loaded, digest == hashlib.sha256(data).digest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_temp_names_are_12_hex_digits(tmp_path: Path) -> None:
    name = atomic.temp_name(tmp_path / "entry").name
    prefix, token, rest = name.split("-", 2)
    assert prefix + "-" == atomic.TEMP_PREFIX
    assert rest == "entry"
    assert len(token) == 12
    int(token, 16)


def test_syncfs_is_loaded_on_first_use() -> None:
    code = (
        "import sys; from satchel.cache import atomic; "
        "before = 'ctypes' in sys.modules; fn = atomic._syncfs; "
        "print(before, fn is atomic._get_syncfs(), 'ctypes' in sys.modules or fn is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "x", "57", "200"])
@pytest.mark.parametrize("tty", [False, True])
def test_terminal_columns_are_shutils(
    monkeypatch: pytest.MonkeyPatch, columns: str | None, tty: bool
) -> None:
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    if tty:
        monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((123, 45)))
    assert cli._terminal_columns() == shutil.get_terminal_size().columns


def test_help_is_argparses(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    monkeypatch.setenv("COLUMNS", "72")
    ours = cli.build_parser("install")
    # the same parser, built with argparse's own classes
    monkeypatch.setattr(cli, "_parser_class", lambda: argparse.ArgumentParser)
    theirs = cli.build_parser("install")
    assert type(ours) is not argparse.ArgumentParser
    assert ours.format_help() == theirs.format_help()
    sub = next(a for a in ours._actions if isinstance(a, argparse._SubParsersAction))
    sub_theirs = next(a for a in theirs._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices["install"].format_help() == sub_theirs.choices["install"].format_help()


def test_the_no_op_path_imports_nothing_it_does_not_need() -> None:
    code = (
        "import sys; from satchel.cli.main import build_parser; "
        "build_parser('install').parse_args(['install', 'x']); "
        "from satchel.commands import common, install_noop; "
        "from satchel.python import cached, discover; "
        "from satchel.install import installed, satisfied; "
        "from satchel.requirements import parser; from satchel.index import config; "
        "print(sorted(m for m in ('shutil', 'tempfile', 'random', 'hashlib', 'secrets', "
        "'ctypes', 'configparser', 'shlex', 'satchel.cache.manifest', "
        "'satchel.python.interpreter') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- METADATA: only the header block is read -----------------------------------------------------

def _metadata_samples() -> list[bytes]:
    from tests.unit.test_install_installed import HEADER_SAMPLES

    rng = random.Random(7)
    pieces = [b"Name: a", b"Requires-Dist: b", b"  cont", b"\t", b"", b"x", b"From y", b": z"]
    samples = list(HEADER_SAMPLES)
    for _ in range(300):
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 12))]
        samples.append(b"".join(line + rng.choice([b"\n", b"\r\n", b"\r"]) for line in lines))
    big = b"".join(b"Classifier: %d\n" % i for i in range(3000))  # past the first read
    samples += [big + b"\nbody", big + b"\r\n\r\nbody", big, b"Name: a\n" + b"x" * 40000]
    return samples


def test_metadata_is_read_up_to_its_header_block(tmp_path: Path) -> None:
    from satchel.install import installed

    path = tmp_path / "METADATA"
    for data in _metadata_samples():
        for body in (b"", b"\n\nDescription\n" * 3000):
            path.write_bytes(data + body)
            want = installed.parse_headers(data + body).items()
            assert installed._read_headers(path).items() == want, data


# -- Requires-Dist lines whose marker is certainly false for the target ---------------------------

_ENVS = [
    {"python_version": python, "sys_platform": platform, "os_name": os_name,
     "platform_system": system, "implementation_name": impl,
     "platform_python_implementation": impl_cap, "platform_machine": machine}
    for python, platform, os_name, system, impl, impl_cap, machine in [
        ("3.11", "linux", "posix", "Linux", "cpython", "CPython", "x86_64"),
        ("3.8", "win32", "nt", "Windows", "cpython", "CPython", "AMD64"),
        ("3.14", "darwin", "posix", "Darwin", "pypy", "PyPy", "arm64"),
        ("3.12", "emscripten", "posix", "Emscripten", "cpython", "CPython", "wasm32"),
        ("3.10", "linux", "posix", "Linux", "graalpy", "GraalVM", "aarch64"),
    ]
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
            var, op, value = "python_version", rng.choice(["<", "<=", ">", ">=", "==", "!="]), rng.choice(_VERSIONS)
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
    from packaging.markers import InvalidMarker, Marker, default_environment
    from packaging.utils import canonicalize_name

    from satchel.install import satisfied

    rng = random.Random(0)
    compared = 0
    for _ in range(15000):
        text = _marker_text(rng)
        tree = satisfied._marker_tree(text)
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
                assert satisfied._marker_holds(tree, full) == want, (text, env, extra)
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
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    from satchel.install import satisfied

    env = {**default_environment(), **_ENVS[0], "extra": ""}
    for head in ("dep", "dep>=1.0", "dep[x] (>=1,<2) ", "a.b_c-d==1.*"):
        text = f"{head};{marker}"
        assert satisfied.certainly_not_needed(text, env), text
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
        'dep; python_full_version < "3"',
        'dep; "nt" == os_name',
        'dep; python_version < "3.*"',
        'dep; os.name == "nt"',
        'dep; os_name == "n\\x74"',
        "dep",
        "dep; ",
    ],
)
def test_lines_not_skipped_for_the_target(text: str) -> None:
    from packaging.markers import default_environment

    from satchel.install import satisfied

    env = {**default_environment(), **_ENVS[0], "extra": ""}
    assert not satisfied.certainly_not_needed(text, env)


def test_skipped_lines_agree_with_packaging_on_real_metadata() -> None:
    """Every Requires-Dist of the test environment's own distributions, for several targets."""
    import importlib.metadata

    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    from satchel.install import satisfied

    skipped = 0
    for dist in importlib.metadata.distributions():
        for text in dist.requires or ():
            for env in _ENVS:
                if satisfied.certainly_not_needed(text, {**default_environment(), **env, "extra": ""}):
                    skipped += 1
                    req = Requirement(text)
                    assert req.marker is not None and not req.marker.evaluate(env), text
    assert skipped > 20


# -- the same, through the no-op check and the resolver it stands in for --------------------------

_MARKED_DEPS = [
    'old; python_version < "3.10"',  # false for the target (3.11, linux): skipped unparsed
    'win; sys_platform == "win32" and extra == "dev"',
    "nt-only (>=1) ; os_name == 'nt' or platform_system == 'Windows'",
    'mac[x]>=2;(platform_system == "Darwin")',
    'beta>=1.5; python_version >= "3.8" and (os_name == "posix" or os_name == "nt")',  # true
    "gamma[fast]; implementation_name == 'cpython'",  # true, with an extra
]


def test_marked_dependencies_are_followed_without_packaging(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.test_install_satisfied import (
        Dist,
        assert_not_satisfied,
        assert_satisfied,
        spy_on_parsing,
    )

    parsed = spy_on_parsing(monkeypatch)
    alpha = Dist("alpha", "1.0", _MARKED_DEPS)
    gamma = Dist("gamma", "1.0", ['delta; extra == "fast"'], provides_extra=["fast"])
    dists = [alpha, Dist("beta", "2.0"), gamma, Dist("delta", "1.0")]
    assert_satisfied(dists, ["alpha"], ("alpha", "beta", "delta", "gamma"))
    assert not [text for text in parsed if text in _MARKED_DEPS]
    # the true ones are followed, with their specifiers and extras
    assert_not_satisfied([alpha, Dist("beta", "1.0"), gamma, Dist("delta", "1.0")], ["alpha"],
                         "beta 1.0 does not satisfy")
    assert_not_satisfied([alpha, Dist("beta", "2.0"), gamma], ["alpha"],
                         "delta is not installed")
    assert_not_satisfied([alpha, Dist("beta", "2.0")], ["alpha"], "gamma is not installed")


def test_a_command_runs_with_start_up_frozen_and_fewer_collections(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gc

    import satchel.cli.main as cli_main

    seen: dict[str, object] = {}

    def fake_run(args: object, settings: object) -> int:
        seen["threshold"] = gc.get_threshold()
        seen["enabled"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()
        return 0

    import satchel.commands.listing as listing

    monkeypatch.setattr(listing, "run", fake_run)
    monkeypatch.setenv("SATCHEL_CACHE_DIR", str(tmp_path))
    before = (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count())
    assert cli_main.main(["list"]) == 0
    assert seen["threshold"] == cli_main.GC_THRESHOLD
    assert seen["enabled"] is True
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 0
    # and everything is as it was afterwards
    assert (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()) == before


# -- warm installs: what only sources, the network or odd file URLs need is imported then ----------

def test_file_url_paths_are_url2pathnames() -> None:
    from urllib.request import url2pathname

    from satchel.index.fileurl import url2pathname as ours

    rng = random.Random(13)
    alphabet = ["a", "/", "//", "%", "%20", "%2F", "%ff", "%C3%A9", "\u00e9", " ", "+", ":", "~", "."]
    samples = ["/opt/pypi/simple/six/", "/", "", "//host/x", "///x", "/a%20b/", "C:/x", "/x/./../y"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(3000)]
    for path in samples:
        assert ours(path) == url2pathname(path), path


def test_a_warm_install_of_wheels_imports_no_build_or_network_machinery() -> None:
    # what a warm --offline install of wheels, from a local file: index too, imports
    code = (
        "import sys; from satchel.commands import install, pipeline, sources; "
        "from satchel.index import client, findlinks, http, metadata; "
        "from satchel.index.http import _file_path, _default_user_agent; "
        "_file_path('file:///opt/pypi/simple/six/'); _default_user_agent(); "
        "print(sorted(m for m in ('satchel.build', 'urllib.request', 'email.parser', "
        "'importlib.metadata', 'http.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
