"""Bad input never prints a traceback (issue 11, item 4).

A table of bad inputs (``CASES``: environment variables, proxies, URLs, paths, requirement
files, options) goes through the CLI in a subprocess, against the local test index. Each must
end with a non-zero exit and exactly one ``error:`` line naming what is wrong and where (the
variable, the URL, the path, file:line); a few inputs that satchel deliberately works around
(a cache directory it cannot write) must say so in one ``warning:`` line and go on. Any
``Traceback`` fails the case.

Adding a case is one row of ``CASES``. In ``args``, ``env`` values, ``files`` and ``needles``,
``{tmp}`` is the case's own directory, ``{venv}`` an environment with ``alpha`` 1.0 installed,
``{index}`` the local index URL and ``{port}`` a port nothing listens on.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.cli import Result, Satchel, assert_error, satchel_traceback
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

# What a case must end with: a user error (exit 1), an argparse usage error (exit 2, also one
# `error:` line), or a warning and success (exit 0).
ERROR, USAGE, WARNING = "error", "usage", "warning"


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    needles: tuple[str, ...]  # each must be in the error (or warning) line
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)  # written under {tmp} first
    outcome: str = ERROR


def case(
    id: str,
    *args: str,
    needles: tuple[str, ...] | str,
    env: dict[str, str] | None = None,
    files: dict[str, str | bytes] | None = None,
    outcome: str = ERROR,
) -> Case:
    return Case(
        id,
        args,
        (needles,) if isinstance(needles, str) else needles,
        env or {},
        files or {},
        outcome,
    )


INSTALL = ("install", "-p", "{venv}")  # alpha is installed there already
NEW = (*INSTALL, "--dry-run", "beta")  # something to resolve: the index is needed
NET = (*NEW, "--refresh")  # ... and asked now, not answered from the cache
REQS = "{tmp}/requirements.txt"
GROUPS = '[dependency-groups]\ndev = ["beta"]\n'

CASES = [
    # -- every SATCHEL_* variable ---------------------------------------------------------------
    # (SATCHEL_LOCK_TIMEOUT=abc was a traceback at import, issue 11; SATCHEL_GIT_TIMEOUT too)
    case("lock-timeout-word", "list", env={"SATCHEL_LOCK_TIMEOUT": "abc"}, needles=("SATCHEL_LOCK_TIMEOUT", "'abc'", "seconds")),
    case("lock-timeout-negative", *INSTALL, "alpha", env={"SATCHEL_LOCK_TIMEOUT": "-5"}, needles=("SATCHEL_LOCK_TIMEOUT", "'-5'")),
    case("git-timeout-word", "list", env={"SATCHEL_GIT_TIMEOUT": "soon"}, needles=("SATCHEL_GIT_TIMEOUT", "'soon'")),
    case("git-timeout-zero", "freeze", env={"SATCHEL_GIT_TIMEOUT": "0"}, needles=("SATCHEL_GIT_TIMEOUT", "more than 0")),
    case("index-ttl-word", *NEW, env={"SATCHEL_INDEX_TTL": "ten"}, needles=("SATCHEL_INDEX_TTL", "'ten'")),
    case("index-ttl-nan", *NEW, env={"SATCHEL_INDEX_TTL": "nan"}, needles=("SATCHEL_INDEX_TTL", "'nan'")),
    case("index-url-env-words", *INSTALL, "alpha", env={"SATCHEL_INDEX_URL": "not a url"}, needles=("SATCHEL_INDEX_URL", "'not a url'")),
    case("index-url-env-scheme", *NEW, env={"SATCHEL_INDEX_URL": "ftp://127.0.0.1/simple"}, needles=("SATCHEL_INDEX_URL", "ftp://127.0.0.1/simple")),
    case("link-mode-env", *NEW, env={"SATCHEL_LINK_MODE": "teleport"}, needles=("SATCHEL_LINK_MODE", "'teleport'", "hardlink")),
    case("no-fast-path-env", *INSTALL, "alpha", env={"SATCHEL_NO_FAST_PATH": "maybe"}, needles=("SATCHEL_NO_FAST_PATH", "'maybe'")),
    case("no-fsync-env", "cache", "dir", env={"SATCHEL_UNSAFE_NO_FSYNC": "perhaps"}, needles=("SATCHEL_UNSAFE_NO_FSYNC", "'perhaps'")),
    case("remote-connect-timeout-env", *INSTALL, "alpha", env={"SATCHEL_REMOTE_CONNECT_TIMEOUT": "abc"}, needles=("SATCHEL_REMOTE_CONNECT_TIMEOUT", "'abc'")),
    case("remote-read-timeout-env", "list", env={"SATCHEL_REMOTE_READ_TIMEOUT": "-1"}, needles=("SATCHEL_REMOTE_READ_TIMEOUT", "'-1'")),
    case("remote-cache-mode-env", *INSTALL, "alpha", env={"SATCHEL_REMOTE_CACHE_MODE": "write"}, needles=("SATCHEL_REMOTE_CACHE_MODE", "'write'")),
    case("cache-dir-env-under-proc", *NEW, env={"SATCHEL_CACHE_DIR": "/proc/nope/cache"}, needles=("/proc/nope/cache", "cannot be created"), outcome=WARNING),
    # -- pip's configuration ----------------------------------------------------------------------
    case("pip-index-url-env", *NEW, env={"PIP_INDEX_URL": "not a url", "SATCHEL_INDEX_URL": ""}, needles=("PIP_INDEX_URL", "not a url")),
    case("pip-conf-index-url", *NEW, env={"PIP_CONFIG_FILE": "{tmp}/pip.conf", "SATCHEL_INDEX_URL": ""}, files={"pip.conf": "[global]\nindex-url = ftp://x/simple\n"}, needles=("{tmp}/pip.conf", "ftp://x/simple")),
    case("netrc-malformed", *NET, env={"NETRC": "{tmp}/netrc"}, files={"netrc": "machine\n"}, needles=("{tmp}/netrc",), outcome=WARNING),
    # -- proxies ---------------------------------------------------------------------------------
    case("http-proxy-bad-port", *NET, env={"HTTP_PROXY": "http://127.0.0.1:notaport"}, needles=("HTTP_PROXY", "notaport")),
    case("http-proxy-no-host", *NET, env={"http_proxy": "http://:8080"}, needles=("http_proxy", "http://:8080")),
    case("all-proxy-socks", *NET, env={"ALL_PROXY": "socks5://127.0.0.1:{port}"}, needles=("ALL_PROXY", "socks5://127.0.0.1:{port}")),
    case("https-proxy-words", *NET, env={"HTTPS_PROXY": "not a proxy"}, needles=("HTTPS_PROXY", "not a proxy")),
    # (loopback hosts never go through a proxy: an index elsewhere, through a proxy that is down)
    case("http-proxy-down", *NEW, "-i", "http://index.invalid/simple", env={"HTTP_PROXY": "http://127.0.0.1:{port}"}, needles=("index.invalid", "proxy")),
    # -- malformed URLs ----------------------------------------------------------------------------
    # (an --index-url that is not a URL was accepted without a word when nothing needed installing, issue 11)
    case("index-url-words", *INSTALL, "alpha", "-i", "not a url", needles=("--index-url", "'not a url'")),
    case("index-url-no-host", *NEW, "--index-url", "http:///simple", needles=("--index-url", "http:///simple")),
    case("index-url-bad-port", *NEW, "-i", "http://127.0.0.1:99999/simple", needles=("--index-url", "127.0.0.1:99999")),
    case("index-url-file-missing", *NEW, "-i", "file:///nonexistent/simple", needles=("file:///nonexistent/simple", "does not exist")),
    case("extra-index-url-scheme", *NEW, "--extra-index-url", "ftp://127.0.0.1/simple", needles=("--extra-index-url", "ftp://127.0.0.1/simple")),
    case("find-links-bracket", *NEW, "-f", "http://[bad/links", needles=("--find-links", "http://[bad/links")),
    case("direct-url-no-scheme", *INSTALL, "beta @ not-a-url", needles=("{tmp}/not-a-url", "does not exist")),
    case("direct-url-no-host", *INSTALL, "beta @ https:///beta-1.0-py3-none-any.whl", needles=("command line", "https:///beta-1.0-py3-none-any.whl")),
    case("direct-url-in-file", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\nbeta @ http://127.0.0.1:70000/b.whl\n"}, needles=("requirements.txt:2", "http://127.0.0.1:70000/b.whl")),
    case("direct-url-unreachable", *INSTALL, "beta @ http://127.0.0.1:{port}/beta-1.0-py3-none-any.whl", needles=("127.0.0.1:{port}",)),
    case("bare-url-empty", *INSTALL, "https://", needles=("command line", "https://")),
    case("git-url-no-host", *INSTALL, "beta @ git+https://", needles=("git+https://",)),
    case("git-url-scheme", *INSTALL, "beta @ git+ftp://127.0.0.1/x", needles=("git+ftp://127.0.0.1/x",)),
    case("requirements-remote", *INSTALL, "-r", "http://127.0.0.1:{port}/r.txt", needles=("http://127.0.0.1:{port}/r.txt",)),
    case("vcs-url-without-host-in-file", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\ngit+https://\n"}, needles=("requirements.txt:2", "'git+https://' names no host")),
    case("editable-vcs-url-without-host", *INSTALL, "-r", REQS, files={"requirements.txt": "-e git+https://\n"}, needles=("requirements.txt:1", "names no host")),
    case("missing-file-url-in-file", *INSTALL, "-r", REQS, files={"requirements.txt": "foo @ file:///nonexistent/x.whl\n"}, needles=("requirements.txt:1", "local file 'file:///nonexistent/x.whl' does not exist")),
    case("missing-file-url-argument", *INSTALL, "foo @ file:///nonexistent/x.whl", needles=("command line", "does not exist")),
    case("index-url-in-file-words", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\n--index-url not a url\n"}, needles=("requirements.txt:2",)),
    case("index-url-in-file-scheme", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\n--index-url ftp://x/simple\n"}, needles=("requirements.txt:2", "ftp://x/simple")),
    case("find-links-in-file", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\n-f https://\n"}, needles=("requirements.txt:2", "https://")),
    # -- impossible paths ---------------------------------------------------------------------------
    # (--target under /proc was a traceback, issue 11)
    case("target-under-proc", "install", "--target", "/proc/nope", "beta", needles=("/proc/nope",)),
    case("target-parent-is-file", "install", "--target", "{tmp}/file/target", "beta", files={"file": "x"}, needles=("{tmp}/file",)),
    case("target-is-file", "install", "--target", "{tmp}/file", "beta", files={"file": "x"}, needles=("{tmp}/file",)),
    case("target-python-missing", "install", "--target", "{tmp}/t", "-p", "{tmp}/nowhere", "beta", needles=("{tmp}/nowhere",)),
    case("cache-dir-under-proc", *NEW, "--cache-dir", "/proc/nope", needles=("/proc/nope", "cannot be created"), outcome=WARNING),
    case("cache-dir-parent-is-file", *NEW, "--cache-dir", "{tmp}/file/cache", files={"file": "x"}, needles=("{tmp}/file/cache", "cannot be created"), outcome=WARNING),
    case("venv-under-proc", "venv", "/proc/nope/venv", needles=("/proc/nope/venv",)),
    case("venv-parent-is-file", "venv", "{tmp}/file/venv", files={"file": "x"}, needles=("{tmp}/file",)),
    case("venv-is-file", "venv", "{tmp}/file", files={"file": "x"}, needles=("{tmp}/file",)),
    # -- requirement files ----------------------------------------------------------------------
    case("requirements-missing", *INSTALL, "-r", "{tmp}/missing.txt", needles=("missing.txt",)),
    case("requirements-bad-line", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\nbeta==\n"}, needles=("requirements.txt:2",)),
    case("requirements-missing-include", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha\n-r other.txt\n"}, needles=("requirements.txt:2", "other.txt")),
    case("requirements-bad-hash", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha==1.0 --hash=sha256\n"}, needles=("requirements.txt:1", "--hash")),
    case("requirements-unknown-hash", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha==1.0 --hash=md9:abc\n"}, needles=("requirements.txt:1", "md9")),
    case("requirements-unknown-option", *INSTALL, "-r", REQS, files={"requirements.txt": "--frobnicate\n"}, needles=("requirements.txt:1", "--frobnicate")),
    case("requirements-editable-missing", *INSTALL, "-r", REQS, files={"requirements.txt": "-e ./nowhere\n"}, needles=("requirements.txt:1", "./nowhere")),
    case("requirements-is-directory", *INSTALL, "-r", "{tmp}", needles=("{tmp}",)),
    case("requirements-not-utf8", *INSTALL, "-r", REQS, files={"requirements.txt": b"alpha\n\xff\xfe\n"}, needles=("requirements.txt:2",)),
    case("constraints-bad-line", *INSTALL, "alpha", "-c", "{tmp}/c.txt", files={"c.txt": "alpha>>1\n"}, needles=("c.txt:1",)),
    case("requirements-hash-not-hex", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha==1.0 --hash=sha256:zz\n"}, needles=("requirements.txt:1", "'zz'")),
    case("requirements-include-cycle", *INSTALL, "-r", REQS, files={"requirements.txt": "-r requirements.txt\n"}, needles=("requirements.txt:1", "cycle")),
    case("requirements-option-no-value", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha --config-settings\n"}, needles=("requirements.txt:1", "--config-settings")),
    case("requirements-bad-marker", *INSTALL, "-r", REQS, files={"requirements.txt": "alpha ; python_version >> '3'\n"}, needles=("requirements.txt:1", "python_version >>")),
    case("requirements-remote-include", *INSTALL, "-r", REQS, files={"requirements.txt": "-c https://127.0.0.1:{port}/c.txt\n"}, needles=("requirements.txt:1", "https://127.0.0.1:{port}/c.txt")),
    case("requirement-arg-bad", *INSTALL, "alpha[oops", needles=("alpha[oops",)),
    case("requirement-sdist-missing", *INSTALL, "file:///nonexistent/x-1.0.tar.gz", needles=("/nonexistent/x-1.0.tar.gz",)),
    # -- interpreters ---------------------------------------------------------------------------
    case("python-missing", "install", "-p", "{tmp}/nowhere/python", "beta", needles=("{tmp}/nowhere/python",)),
    case("python-version-missing", "list", "-p", "3.99", needles=("3.99",)),
    case("python-not-python", "list", "-p", "{tmp}/fake", files={"fake": "not a program\n"}, needles=("{tmp}/fake",)),
    case("python-directory", "list", "-p", "{tmp}", needles=("{tmp}",)),
    case("venv-python-missing", "venv", "{tmp}/v", "-p", "3.99", needles=("3.99",)),
    # -- options --------------------------------------------------------------------------------
    case("link-mode", *NEW, "--link-mode", "teleport", needles=("--link-mode", "teleport"), outcome=USAGE),
    case("timeout-word", *NEW, "--timeout", "soon", needles=("--timeout", "soon"), outcome=USAGE),
    case("timeout-negative", *NET, "--timeout", "-1", needles=("--timeout", "-1"), outcome=USAGE),
    case("config-settings", *NEW, "--config-settings", "novalue", needles=("--config-settings", "'novalue'")),
    case("upgrade-package-name", *INSTALL, "alpha", "-P", "not a name", needles=("--upgrade-package", "not a name")),
    case("only-binary-name", *NEW, "--only-binary", "a b!", needles=("--only-binary", "a b!")),
    # (name lists: :all:, :none: or project names, each checked on every command that takes them;
    # an empty item between commas is skipped as pip skips it, a value with no item is an error)
    case("all-releases-name", *INSTALL, "alpha", "--all-releases", ":bogus:", needles=("--all-releases", "':bogus:' is not a project name")),
    case("only-final-name", *INSTALL, "alpha", "--only-final", "!!", needles=("--only-final", "'!!' is not a project name")),
    case("no-binary-only-commas", *INSTALL, "alpha", "--no-binary", ",,,", needles=("--no-binary", "',,,'", "no project name")),
    case("only-binary-empty", *INSTALL, "alpha", "--only-binary", "", needles=("--only-binary", "''", "no project name")),
    case("download-only-binary-name", "download", "-d", "{tmp}/dl", "alpha", "--only-binary", "!!", needles=("--only-binary", "'!!'")),
    case("download-all-releases-name", "download", "-d", "{tmp}/dl", "alpha", "--all-releases", ":bogus:", needles=("--all-releases", "':bogus:'")),
    case("download-no-build-isolation-package", "download", "-d", "{tmp}/dl", "alpha", "--no-build-isolation-package", "!!", needles=("--no-build-isolation-package", "'!!'")),
    case("compile-no-binary-commas", "compile", "requirements.in", "--no-binary", ",", files={"requirements.in": "alpha\n"}, needles=("--no-binary", "','", "no project name")),
    case("tree-prune-name", "tree", "-p", "{venv}", "--prune", "a b!", needles=("--prune", "'a b!'")),
    case("tree-package-name", "tree", "-p", "{venv}", "--package", "a b!", needles=("--package", "'a b!'")),
    # (target options: pip's tags and implementation names, uv's --python-platform names; never empty)
    case("download-abi", "download", "-d", "{tmp}/dl", "alpha", "--abi", "!!", "--only-binary", ":all:", needles=("--abi", "'!!'", "ABI tag")),
    case("download-abi-empty", "download", "-d", "{tmp}/dl", "alpha", "--abi", "", "--no-deps", needles=("--abi", "''")),
    case("download-platform-empty", "download", "-d", "{tmp}/dl", "alpha", "--platform", "", "--no-deps", needles=("--platform", "''", "platform tag")),
    case("download-platform-dashes", "download", "-d", "{tmp}/dl", "alpha", "--platform", "macosx-11.0-arm64", "--no-deps", needles=("--platform", "'macosx-11.0-arm64'")),
    case("download-implementation-empty", "download", "-d", "{tmp}/dl", "alpha", "--implementation", "", needles=("--implementation", "''")),
    case("download-implementation-versioned", "download", "-d", "{tmp}/dl", "alpha", "--implementation", "cp312", "--no-deps", needles=("--implementation", "'cp312'")),
    case("download-python-version-empty", "download", "-d", "{tmp}/dl", "alpha", "--python-version", "", needles=("--python-version", "''")),
    case("index-versions-abi", "index", "versions", "alpha", "-p", "{venv}", "--abi", "a.b", needles=("--abi", "'a.b'")),
    case("compile-python-version-empty", "compile", "requirements.in", "--python-version", "", files={"requirements.in": "alpha\n"}, needles=("--python-version", "''")),
    case("compile-python-platform-empty", "compile", "requirements.in", "--python-platform", "", files={"requirements.in": "alpha\n"}, needles=("--python-platform", "''")),
    # (index options of commands that read the index only with another option: checked anyway)
    case("venv-exclude-newer", "venv", "{tmp}/v", "--exclude-newer", "garbage", needles=("--exclude-newer", "'garbage'")),
    case("tree-exclude-newer", "tree", "-p", "{venv}", "--exclude-newer", "garbage", needles=("--exclude-newer", "'garbage'")),
    case("list-exclude-newer", "list", "-p", "{venv}", "--exclude-newer", "garbage", needles=("--exclude-newer", "'garbage'")),
    case("venv-index-url", "venv", "{tmp}/v", "-i", "not a url", needles=("--index-url", "'not a url'")),
    case("list-index-url", "list", "-p", "{venv}", "-i", "not a url", needles=("--index-url", "'not a url'")),
    # (remote cache settings: checked without a remote cache too)
    case("remote-cache-mode", *INSTALL, "alpha", "--remote-cache-mode", "bogus", needles=("--remote-cache-mode", "'bogus'")),
    case("remote-upload-wait-negative", *INSTALL, "alpha", "--remote-upload-wait", "-3", needles=("--remote-upload-wait", "'-3'")),
    case("remote-upload-wait-empty", *INSTALL, "alpha", "--remote-upload-wait", "", needles=("--remote-upload-wait", "''")),
    case("refresh-package-name", *NEW, "--refresh-package", "a b!", needles=("--refresh-package", "a b!")),
    case("editable-missing", *INSTALL, "-e", "{tmp}/nowhere", needles=("{tmp}/nowhere",)),
    case("uninstall-missing", "uninstall", "-p", "{venv}", "nothere", needles=("nothere",)),
    case("show-missing", "show", "-p", "{venv}", "nothere", needles=("nothere",)),
    case("cache-clean-name", "cache", "clean", "a b!", needles=("a b!",)),
    case("cache-max-size", "cache", "prune", "--max-size", "lots", needles=("lots",)),
    case("target-empty", *INSTALL, "alpha", "--target", "", needles=("--target", "empty"), outcome=USAGE),
    case("cache-dir-empty", *INSTALL, "alpha", "--cache-dir", "", needles=("--cache-dir", "empty"), outcome=USAGE),
    case("venv-empty", "venv", "", needles=("path", "empty"), outcome=USAGE),
    case("python-empty", "install", "-p", "", "alpha", needles=("--python", "empty"), outcome=USAGE),
    case("cache-purge-root-is-file", "cache", "purge", "--cache-dir", "{tmp}/file", files={"file": "x"}, needles=("{tmp}/file", "no cache")),
    case("cache-info-under-proc", "cache", "info", "--cache-dir", "/proc/nope", needles=("/proc/nope", "no cache")),
    # -- install -r pyproject.toml, --group [PATH:]NAME, --extra (cwd is {tmp}) -----------------
    case("group-unknown", *INSTALL, "--group", "docs", files={"pyproject.toml": GROUPS}, needles=("pyproject.toml", "no dependency group 'docs'")),
    case("group-no-pyproject", *INSTALL, "--group", "dev", needles=("pyproject.toml: no such file",)),
    case("group-path-missing", *INSTALL, "--group", "{tmp}/sub/pyproject.toml:dev", needles=("{tmp}/sub/pyproject.toml: no such file",)),
    case("group-no-name", *INSTALL, "--group", "{tmp}/pyproject.toml:", needles=("--group {tmp}/pyproject.toml:", "no group name")),
    case("group-path-not-pyproject", *INSTALL, "--group", "{tmp}/requirements.txt:dev", needles=("--group", "{tmp}/requirements.txt", "not a pyproject.toml")),
    case("group-include-cycle", *INSTALL, "--group", "dev", files={"pyproject.toml": GROUPS.replace('"beta"]', '"beta", {{include-group = "dev"}}]')}, needles=("pyproject.toml", "cycle: dev -> dev")),
    case("group-include-unknown", *INSTALL, "--group", "dev", files={"pyproject.toml": GROUPS.replace('"beta"]', '{{include-group = "nope"}}]')}, needles=("pyproject.toml", "no dependency group 'nope'", "included from 'dev'")),
    case("pyproject-missing", *INSTALL, "-r", "{tmp}/pyproject.toml", needles=("{tmp}/pyproject.toml: no such file",)),
    case("pyproject-not-toml", *INSTALL, "-r", "pyproject.toml", files={"pyproject.toml": "[project\n"}, needles=("pyproject.toml: not valid TOML",)),
    case("pyproject-nested-too-deeply", *INSTALL, "-r", "pyproject.toml", files={"pyproject.toml": "x = " + "[" * 5000 + "]" * 5000}, needles=("pyproject.toml: not valid TOML", "nested too deeply")),
    case("group-path-nested-too-deeply", *INSTALL, "--group", "{tmp}/pyproject.toml:dev", files={"pyproject.toml": "x = " + "[" * 5000 + "]" * 5000}, needles=("{tmp}/pyproject.toml: not valid TOML", "nested too deeply")),
    case("pyproject-no-project", *INSTALL, "-r", "pyproject.toml", files={"pyproject.toml": GROUPS}, needles=("pyproject.toml: no [project] table",)),
    case("pyproject-bad-dependency", *INSTALL, "-r", "pyproject.toml", files={"pyproject.toml": '[project]\nname = "p"\ndependencies = ["beta >>> 1"]\n'}, needles=("pyproject.toml", "beta >>> 1")),
    case("pyproject-unknown-extra", *INSTALL, "-r", "pyproject.toml", "--extra", "docs", files={"pyproject.toml": '[project]\nname = "p"\n'}, needles=("pyproject.toml: the project has no extra 'docs'",)),
    case("extra-without-pyproject", *INSTALL, "alpha", "--extra", "docs", needles=("--extra", "pyproject.toml")),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    satchel: Satchel
    venv: Path
    index: str
    port: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bad-input")
    (root / "index").mkdir()
    with IndexServer(root / "index") as server:
        publish(server, WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0"))
        satchel = Satchel(root, root / "cache", index_url=server.index_url)
        venv = satchel.venv()
        satchel.run("install", "-p", venv, "alpha")
        yield World(satchel, venv, server.index_url, free_port())


def run_case(world: World, case: Case, tmp: Path) -> Result:
    def fill(text: str) -> str:
        return text.format(tmp=tmp, venv=world.venv, index=world.index, port=world.port)

    for name, content in case.files.items():
        path = tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(fill(content))
    env = {key: fill(value) for key, value in case.env.items()}
    return world.satchel.run(*(fill(a) for a in case.args), check=False, cwd=tmp, env=env, timeout=120)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(world: World, case: Case, tmp_path: Path) -> None:
    result = run_case(world, case, tmp_path)
    assert not satchel_traceback(result.stderr) and "Traceback (most recent call last)" not in result.stderr, result
    needles = [n.format(tmp=tmp_path, venv=world.venv, index=world.index, port=world.port) for n in case.needles]
    kind = "warning:" if case.outcome == WARNING else "error:"
    lines = [line for line in result.stderr.splitlines() if line.startswith(kind)]
    assert len(lines) == 1, f"expected one {kind} line:\n{result}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in the {kind} line:\n{result}"
    expected = {ERROR: 1, USAGE: 2, WARNING: 0}[case.outcome]
    assert result.returncode == expected, result


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


# -- the crashes of issue 11, one test each --------------------------------------------------------


def test_lock_timeout_that_is_not_a_number(world: World) -> None:
    # crash: `SATCHEL_LOCK_TIMEOUT=abc satchel list` printed a traceback at import (cache/store.py)
    result = world.satchel.run("list", "-p", world.venv, check=False, env={"SATCHEL_LOCK_TIMEOUT": "abc"})
    assert_error(result, "SATCHEL_LOCK_TIMEOUT='abc'", "hint:")
    assert world.satchel.run("list", "-p", world.venv, env={"SATCHEL_LOCK_TIMEOUT": "1.5"}).stdout


def test_git_timeout_that_is_not_a_number(world: World) -> None:
    # crash: build/git.py read SATCHEL_GIT_TIMEOUT with float() at import, as cache/store.py did
    result = world.satchel.run("freeze", "-p", world.venv, check=False, env={"SATCHEL_GIT_TIMEOUT": "abc"})
    assert_error(result, "SATCHEL_GIT_TIMEOUT='abc'")


def test_target_under_proc(world: World, tmp_path: Path) -> None:
    # crash: `satchel install --target /proc/nope six` printed a traceback (a RecursionError)
    result = world.satchel.run("install", "--target", "/proc/nope", "beta", check=False, cwd=tmp_path)
    assert_error(result, "--target /proc/nope")
    assert "Resolved" not in result.stderr  # said before anything is resolved or downloaded
    # A good target still works, and is made when missing.
    world.satchel.run("install", "--target", tmp_path / "new" / "dir", "beta", cwd=tmp_path)
    assert (tmp_path / "new" / "dir" / "beta-1.0.dist-info").is_dir()


def test_index_url_that_is_not_a_url_when_nothing_is_to_do(world: World) -> None:
    # crash: `--index-url 'not a url'` was accepted without a word when nothing needed installing
    result = world.satchel.run("install", "-p", world.venv, "-i", "not a url", "alpha", check=False)
    assert_error(result, "--index-url 'not a url' is not a URL")
    ok = world.satchel.run("install", "-p", world.venv, "-i", world.index, "alpha")
    assert "Nothing to do" in ok.stderr

def test_a_missing_wheel_or_archive_named_like_a_file(world: World, tmp_path: Path) -> None:
    # was: "No package named 'x.whl' on the index", with nothing said of the file it looked like
    for name in ("x.whl", "foo-1.0.tar.gz"):
        result = world.satchel.run("install", "-p", world.venv, name, check=False, cwd=tmp_path)
        assert result.returncode == 1, result
        warnings = result.warnings()
        assert len(warnings) == 1 and f"'{name}' looks like a file name, but there is no such file" in warnings[0], result
        assert str(tmp_path / name) in warnings[0], result
        assert "Traceback" not in result.stderr


def test_the_valid_forms_of_the_checked_options_still_work(world: World, tmp_path: Path) -> None:
    # The values the rows above refuse have valid neighbours that must go on working: name
    # lists (empty items between commas skipped, as pip skips them), target options, index
    # options where the index is not read, and remote settings without a remote cache.
    run = world.satchel.run
    install = ("install", "-p", world.venv, "alpha")
    names = ("--all-releases", ":all:", "--only-final", "alpha,beta", "--no-binary", ":none:", "--only-binary", "alpha,,beta,")
    assert "Nothing to do" in run(*install, *names).stderr
    assert "Nothing to do" in run(*install, "--all-releases", ":none:,alpha", "--remote-cache-mode", "read-write", "--remote-upload-wait", "0").stderr
    assert "Nothing to do" in run(*install, env={"SATCHEL_REMOTE_CONNECT_TIMEOUT": "3", "SATCHEL_REMOTE_READ_TIMEOUT": ""}).stderr
    target = ("--platform", "manylinux2014_x86_64", "--abi", "none", "--implementation", "py", "--python-version", "3.12")
    run("download", "-d", tmp_path / "dl", "alpha", *target, "--only-binary", ":all:", "--no-binary", ":none:", cwd=tmp_path)
    assert (tmp_path / "dl" / "alpha-1.0-py3-none-any.whl").is_file()
    (tmp_path / "requirements.in").write_text("alpha\n")
    lock = run("compile", "requirements.in", "--python-version", "3.12", "--python-platform", "linux", "--only-binary", "alpha,", cwd=tmp_path)
    assert "alpha==1.0" in lock.stdout
    assert "alpha" in run("tree", "-p", world.venv, "--exclude-newer", "7 days", "--prune", "beta").stdout
    assert "alpha" in run("list", "-p", world.venv, "--exclude-newer", "2024-01-01", "-i", world.index).stdout
    run("venv", tmp_path / "v", "--exclude-newer", "2 weeks", "-i", world.index)
    assert (tmp_path / "v" / "pyvenv.cfg").is_file()


def test_a_missing_build_constraints_file_is_an_error_with_nothing_to_do(world: World, tmp_path: Path) -> None:
    # was exit 0 ("Nothing to do") when everything was installed: the -b file was never read
    result = world.satchel.run("install", "-p", world.venv, "alpha", "-b", tmp_path / "missing.txt", check=False)
    assert_error(result, f"build constraints file (-b) '{tmp_path / 'missing.txt'}' does not exist", "hint:")
    (tmp_path / "build.txt").write_text("setuptools<80\n")
    assert "Nothing to do" in world.satchel.run("install", "-p", world.venv, "alpha", "-b", tmp_path / "build.txt").stderr
