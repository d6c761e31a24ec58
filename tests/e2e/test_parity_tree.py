"""`satchel tree` on an environment with known versions, drawn exactly as `uv pip tree` (the
pinned uv in the test venv) draws the same environment (issue 15)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Satchel
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

UV = shutil.which("uv", path=str(Path(sys.executable).parent))


def _env(satchel: Satchel, index_server: IndexServer, *, mixed: bool = False) -> Path:
    publish(
        index_server,
        WheelSpec("app", "1.0", requires=["lib>=1", "util[fast]", "shared", "Windows-Only; sys_platform == 'win32'"]),
        WheelSpec("lib", "1.0", requires=["shared<2"]),
        WheelSpec("lib", "2.0", requires=["shared"]),
        WheelSpec("shared", "1.0", requires=["leaf"]),
        WheelSpec("shared", "3.0"),
        WheelSpec("leaf", "1.0"),
        WheelSpec("util", "1.0", extras={"fast": ["leaf"]}),
        WheelSpec("other", "0.1"),
        WheelSpec("other", "0.2rc1"),
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "app", "lib==1.0", "shared==1.0", "other")
    if mixed:
        # A name shown normalized, and a requirement the installed version does not satisfy
        # (no edge, as uv draws it).
        publish(index_server, WheelSpec("Mixed_Case", "1.0", requires=["leaf>=5", "other"]))
        satchel.run("install", "-p", venv, "--no-deps", "Mixed_Case")
    return venv


EXPECTED = """\
app v1.0
├── lib v1.0 (latest: v2.0)
│   └── shared v1.0 (latest: v3.0)
│       └── leaf v1.0
├── shared v1.0 (*)
└── util v1.0
other v0.1
(*) Package tree already displayed
"""


def test_tree_known_environment(satchel: Satchel, index_server: IndexServer) -> None:
    venv = _env(satchel, index_server)
    assert satchel.run("tree", "-p", venv, "--outdated").stdout == EXPECTED
    inverted = satchel.run("tree", "-p", venv, "--invert").stdout
    assert inverted.splitlines()[:5] == [
        "leaf v1.0",
        "└── shared v1.0",
        "    ├── app v1.0",
        "    └── lib v1.0",
        "        └── app v1.0",
    ]
    assert satchel.run("tree", "-p", venv, "lib", "--depth", "1").stdout == "lib v1.0\n└── shared v1.0\n"
    # A name that is not installed: said (uv says nothing), and the tree of the rest, exit 0
    partly = satchel.run("tree", "-p", venv, "--package", "lib", "--package", "Not_There")
    assert partly.warnings() == ["warning: package not installed: not-there"], partly
    assert partly.stdout.startswith("lib v1.0\n")
    assert satchel.run("tree", "-p", venv, "--package", "lib", "--prune", "lib").warnings() == []


@pytest.mark.skipif(UV is None, reason="the pinned uv is not installed in the test venv")
@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--depth", "1"],
        ["--invert"],
        ["--outdated"],
        ["--no-dedupe"],
        ["--package", "lib"],
        ["--prune", "leaf"],
        ["--show-version-specifiers"],
        ["--invert", "--show-version-specifiers", "--depth", "2"],
        ["--package", "lib", "--package", "shared"],
        ["--invert", "--no-dedupe"],
        ["--depth", "0"],
    ],
)
def test_tree_same_as_uv(satchel: Satchel, index_server: IndexServer, tmp_path: Path, flags: list[str]) -> None:
    venv = _env(satchel, index_server, mixed=True)
    assert UV is not None
    uv = subprocess.run(
        [UV, "pip", "tree", "--python", str(venv), "--index-url", index_server.index_url,
         "--cache-dir", str(tmp_path / "uv-cache"), *flags],
        capture_output=True, text=True, check=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "UV_NO_CONFIG": "1"},
    )  # fmt: skip
    ours = satchel.run("tree", "-p", venv, *flags)
    assert ours.stdout == uv.stdout
