"""Helpers shared by the tests/unit/test_install_*.py modules (no tests here): real venvs, a
cache, and installing a test wheel through the cache the way the install command does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satchel.cache import buckets
from satchel.cache.store import Cache, Tree
from satchel.install.installed import (
    InstalledDist,
)
from satchel.install.link import Linker
from satchel.install.unpack import unpack_wheel
from satchel.install.wheel import install_tree
from tests.support.wheels import WheelSpec, build_wheel, sha256_file

_PATHS = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"


@dataclass
class Env:
    root: Path
    python: Path
    paths: dict[str, str]

    @property
    def site_packages(self) -> Path:
        return Path(self.paths["purelib"])

    @property
    def bin(self) -> Path:
        return Path(self.paths["scripts"])

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], capture_output=True, text=True, check=check, env=clean_env()
        )


def clean_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INDEX"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def base_python() -> str:
    """The interpreter the test venv is based on (venvs are made from it, not from a venv)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def make_venv(path: Path) -> Env:
    subprocess.run(
        [base_python(), "-m", "venv", "--without-pip", str(path)], check=True, env=clean_env()
    )
    python = path / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", _PATHS], capture_output=True, text=True, check=True, env=clean_env()
    )
    raw = json.loads(out.stdout)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    paths = {
        "purelib": raw["purelib"],
        "platlib": raw["platlib"],
        "scripts": raw["scripts"],
        "data": raw["data"],
        "headers": str(path / "include" / "site" / version),
    }
    return Env(path, python, paths)


def fake_scheme(root: Path, *, split_lib: bool = False) -> dict[str, str]:
    """A scheme of plain directories (no interpreter), for tests that never run Python."""
    return {
        "purelib": str(root / "lib" / "site-packages"),
        "platlib": str(root / ("lib64" if split_lib else "lib") / "site-packages"),
        "scripts": str(root / "bin"),
        "data": str(root),
        "headers": str(root / "include" / "site"),
    }


def unpack_into_cache(cache: Cache, wheel: Path, name: str, version: str) -> Tree:
    key = sha256_file(wheel)
    return cache.build_tree(
        buckets.ARCHIVES,
        key,
        lambda d: unpack_wheel(wheel, d, expected_name=name, expected_version=version),
        source=wheel.name,
    )


def install_spec(
    tmp_path: Path,
    spec: WheelSpec,
    paths: dict[str, str],
    *,
    python: str = sys.executable,
    linker: Linker | None = None,
    requested: bool = True,
    direct_url: dict[str, Any] | None = None,
    compile_bytecode: bool = False,
    cache: Cache | None = None,
) -> InstalledDist:
    wheel = build_wheel(spec, tmp_path / "wheels")
    tree = unpack_into_cache(cache or Cache(tmp_path / "cache"), wheel, spec.name, spec.version)
    return install_tree(
        tree,
        paths=paths,
        interpreter_executable=python,
        linker=linker or Linker("hardlink"),
        requested=requested,
        direct_url=direct_url,
        compile_bytecode=compile_bytecode,
        python_version=sys.version_info[:2],
    )


def snapshot(root: Path) -> set[str]:
    """Every file and directory under ``root`` (relative), links not followed."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def rewrite_zip(
    wheel: Path, *, replace: dict[str, bytes] | None = None, drop: set[str] | None = None
) -> None:
    """Change members of a built wheel (keeping its RECORD as it was)."""
    replace = replace or {}
    drop = drop or set()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info, replace.get(info.filename, src.read(info)))
    shutil.move(tmp, wheel)


APP = WheelSpec(
    "Demo-App",
    "2.0",
    files={
        "demo_app/__init__.py": "def main():\n    print('hello from demo')\n",
        "demo_app/data.txt": "payload\n",
    },
    console_scripts={"demo": "demo_app:main"},
    gui_scripts={"demo-gui": "demo_app:main"},
    data={
        "scripts": {
            "raw-tool": "#!python\nimport sys\nprint('raw', sys.prefix)\n",
            "plain.sh": "#!/bin/sh\necho plain\n",
        },
        "headers": {"demo.h": "int demo;\n"},
        "data": {"share/demo/readme.txt": "shared\n"},
    },
)


HEADER_SAMPLES = [
    b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\n\nbody: not a header\n",
    # A continuation line that is only whitespace is still part of the header block (a License
    # text with blank lines): the fields after it are read too.
    b"Name: a\nLicense: Copyright\n        All rights reserved.\n        \n        more\n"
    b"Requires-Dist: b>=1\nRequires-Python: >=3.8\n\nbody",
    b"Name: a\r\nVersion: 1\r\nRequires-Dist: b\r\n\r\nRequires-Dist: not-me\r\n",
    b"Name: a\rVersion: 2\r\rX: 1",
    b":no-name\nName: x\nFrom someone\nA:b\nnot a header line\nB: c",
    b"  leading continuation\nName: x\n",
    b"",
    b"\n\nName: a",
    b"Name:\n  folded\n  more  \nVersion:   1.0  \n",
    b"name: lower\nNAME: upper\nRequires-Dist: a\nrequires-dist: b\n",
]
