"""Entry-point launchers: satchel writes installer's POSIX launchers itself (importing installer
costs a tenth of a warm install); they must stay byte for byte what installer makes."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from installer.scripts import Script

from satchel.install.scripts import EntryPoint, launcher

EXECUTABLES = [
    "/usr/bin/python3",
    "/tmp/venv/bin/python",
    "/opt/with space/bin/python",
    "/opt/tab\there/bin/python",  # a tab is not a space to installer
    "/opt/quote'd/bin/python",
    "/opt/ünïcode/bin/python3.11",
    "/" + "x" * 120 + "/python",  # shebang line too long: the /bin/sh trampoline
    "/" + "y" * 121,  # 122 characters + 3: exactly 125, still simple
    "/" + "y" * 123,  # 124 + 3 = 127: the longest simple one
    "/" + "y" * 124,  # 128: too long
    "/opt/ü" + "z" * 118,  # 124 characters, 125 bytes in UTF-8: bytes count
]
ENTRIES = [
    ("demo", "demo_app", "main", "console_scripts"),
    ("demo-gui", "demo_app.gui", "run", "gui_scripts"),
    ("tool", "pkg.sub.mod", "Cls.method.inner", "console_scripts"),
    ("x", "m", "f", "gui_scripts"),
]


@pytest.mark.parametrize("executable", EXECUTABLES)
@pytest.mark.parametrize(("name", "module", "attr", "group"), ENTRIES)
def test_launcher_matches_installer(executable: str, name: str, module: str, attr: str, group: str) -> None:
    section = "gui" if group == "gui_scripts" else "console"
    expected = Script(name, module, attr, section=section).generate(executable, "posix")[1]
    assert launcher(EntryPoint(name, module, attr, group), executable) == expected


def test_launcher_matches_installer_on_random_paths() -> None:
    rng = random.Random(1306)
    alphabet = "ab/ _-.'\"$\\é€\t"
    for _ in range(2000):
        executable = "/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 140)))
        entry = EntryPoint("n", "mod.sub", "obj.attr", rng.choice(["console_scripts", "gui_scripts"]))
        section = "gui" if entry.group == "gui_scripts" else "console"
        expected = Script("n", "mod.sub", "obj.attr", section=section).generate(executable, "posix")[1]
        assert launcher(entry, executable) == expected, executable


def test_installing_from_the_cache_imports_neither_installer_nor_the_unpacker() -> None:
    code = (
        "import sys\n"
        "import satchel.commands.pipeline, satchel.install.wheel, satchel.install.scripts\n"
        "print(sorted(m for m in sys.modules if m == 'installer' or m.startswith('installer.')"
        " or m == 'satchel.install.unpack' or m == 'satchel.archives'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_cached_wheel_is_prepared_without_importing_the_unpacker(tmp_path: Path) -> None:
    from satchel.cache import buckets
    from satchel.cache.store import Cache, sha256_of
    from satchel.install.unpack import unpack_wheel
    from tests.support.wheels import WheelSpec, build_wheel

    wheel = build_wheel(WheelSpec("cached", "1.0", files={"cached/__init__.py": ""}), tmp_path)
    sha = sha256_of(wheel)
    Cache(tmp_path / "cache").build_tree(
        buckets.ARCHIVES,
        f"cached/{sha}",
        lambda d: unpack_wheel(wheel, d, expected_name="cached", expected_version="1.0"),
        source=wheel.name,
    )
    code = f"""
import sys
from pathlib import Path
from packaging.version import Version
from satchel.cache.store import Cache
from satchel.commands.pipeline import Installer
from satchel.commands.sources import BuildOptions
from satchel.index.models import IndexFile
from satchel.resolve import ResolvedPackage

file = IndexFile({wheel.name!r}, "https://files.invalid/x.whl", {{"sha256": {sha!r}}})
inst = Installer(Cache(Path({str(tmp_path / "cache")!r})), None, BuildOptions())
tree = inst.tree_for(None, ResolvedPackage("cached", Version("1.0"), file, None, True))
assert tree.path.is_dir(), tree
print("satchel.install.unpack" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
