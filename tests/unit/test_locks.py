"""Lock reading: file names and the completeness check, against packaging where it decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.pylock import is_valid_pylock_path

from satchel.cli.main import _may_be_pylock
from satchel.commands.sync import is_pylock_name
from satchel.install.lockcheck import Dist, problems

ENV = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
       "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
       "platform_machine": "x86_64", "platform_python_implementation": "CPython",
       "platform_release": "", "platform_version": "", "implementation_version": "3.11.7"}


@pytest.mark.parametrize(
    "name",
    ["pylock.toml", "pylock.dev.toml", "a/b/pylock.x.toml", "pylock.a.b.toml", "pylock..toml",
     "xpylock.toml", "pylock.toml.txt", "requirements.txt", "Pylock.toml", "pylock-dev.toml", "pylock. .toml"],
)
def test_pylock_name_same_as_packaging(name: str) -> None:
    """The CLI's name check (no packaging import) answers as packaging.pylock does."""
    assert is_pylock_name(name) == is_valid_pylock_path(Path(name))
    if is_pylock_name(name):  # the CLI's pre-check, made without importing commands.sync
        assert _may_be_pylock(name)


def test_completeness_follows_extras_and_markers() -> None:
    dists = {
        "app": Dist("1.0", ("lib[fast]>=1", "winlib; sys_platform == 'win32'", "opt; extra == 'x'")),
        "lib": Dist("1.5", ("speedup; extra == 'fast'", "base<2")),
        "base": Dist("2.0"),
    }
    found = [str(p) for p in problems(dists, ENV)]
    assert found == [
        "lib 1.5 requires base<2, but the lock has base 2.0",
        "lib 1.5 requires speedup; extra == \"fast\", which is not in the lock",
    ]
    # Asking for app's extra x (as a requirements line app[x]==1.0 does) needs opt too.
    dists["app"] = Dist("1.0", dists["app"].requires_dist, frozenset({"x"}))
    assert any(p.dependency == "opt" for p in problems(dists, ENV))


def test_checkable_hash_algorithms_are_hashlibs() -> None:
    import hashlib

    from satchel.requirements.pylock import CHECKABLE, HEX_DIGITS

    assert {a for a in hashlib.algorithms_guaranteed if not a.startswith("shake_")} == CHECKABLE
    for algo in CHECKABLE:
        assert len(hashlib.new(algo, b"x").hexdigest()) == HEX_DIGITS[algo]
