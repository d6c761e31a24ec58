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
from satchel.cli import parsers
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
    assert parsers._terminal_columns() == shutil.get_terminal_size().columns


def test_help_is_argparses(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    monkeypatch.setenv("COLUMNS", "72")
    ours = parsers.build_parser("install")
    # the same parser, built with argparse's own classes
    monkeypatch.setattr(parsers, "_parser_class", lambda: argparse.ArgumentParser)
    theirs = parsers.build_parser("install")
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
        "'satchel.python.interpreter', 'satchel.python.run') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- METADATA: only the header block is read -----------------------------------------------------

def _metadata_samples() -> list[bytes]:
    from tests.support.installs import HEADER_SAMPLES

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
    from tests.support.satisfied import Dist, assert_not_satisfied, assert_satisfied, spy_on_parsing

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
        "from satchel.index import client, file_transport, findlinks, http, metadata; "
        "file_transport._file_path('file:///srv/simple/six/'); http._default_user_agent(); "
        "print(sorted(m for m in ('satchel.build', 'urllib.request', 'email.parser', 'email.utils', "
        "'socket', 'importlib.metadata', 'http.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the user cache directory without platformdirs ---------------------------------------------

_XDG = [None, "", "/x/cache", "/x/cache/", "/", "//x", "rel/cache", " /x", "~/c", "/a b/\u00e9"]
_HOME = [None, "", "/home/u", "/home/u/", "/", "//h", "rel", "~", "/h//", "/a b"]


@pytest.mark.skipif(sys.platform != "linux", reason="the shortcut answers on Linux only")
@pytest.mark.parametrize("xdg", _XDG)
@pytest.mark.parametrize("home", _HOME)
def test_user_cache_dir_is_platformdirs(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str | None
) -> None:
    import platformdirs

    from satchel.cache import userdir

    for name, value in (("XDG_CACHE_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    try:
        theirs: str | None = platformdirs.user_cache_dir("satchel", appauthor=False)
    except RuntimeError:  # no home directory to be found
        theirs = None
    narrow = userdir.narrow_user_cache_dir()
    if narrow is not None:
        assert narrow == theirs
    if (xdg and xdg.startswith("/")) or (not xdg and home and home.startswith("/")):
        assert narrow is not None  # the usual environments are answered without platformdirs
    if theirs is not None:
        assert userdir.user_cache_dir() == theirs


def test_user_cache_dir_leaves_android_to_platformdirs() -> None:
    from satchel.cache import userdir

    usual = {"HOME": "/home/u"}
    assert userdir.narrow_user_cache_dir(usual) == (
        "/home/u/.cache/satchel" if sys.platform == "linux" else None
    )
    assert userdir.narrow_user_cache_dir({**usual, "ANDROID_DATA": "/data"}) is None
    assert userdir.narrow_user_cache_dir({**usual, "ANDROID_ROOT": "/system"}) is None


def test_every_record_type_has_its_own_docstring() -> None:
    """A dataclass without a docstring gets one made from ``inspect.signature`` when it is defined
    (~55 us a class here, at import, on every run). Satchel's records document themselves."""
    import ast

    missing = []
    for path in sorted((Path(__file__).resolve().parents[2] / "src" / "satchel").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or ast.get_docstring(node):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if getattr(target, "id", getattr(target, "attr", None)) == "dataclass":
                    missing.append(f"{path.name}:{node.lineno} {node.name}")
    assert not missing, missing
