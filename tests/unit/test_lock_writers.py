"""The lock writers without a resolver: the TOML writer against tomllib, format choice, the
pylock document against packaging.pylock."""

from __future__ import annotations

import datetime

import pytest
import tomllib
from packaging.pylock import Pylock

from satchel.errors import SatchelError
from satchel.lock import toml
from satchel.lock.models import Lock, LockedFile, LockedPackage, lock_format
from satchel.lock.pylock import render as render_pylock
from satchel.lock.requirements_txt import TxtOptions, pin_line, render

UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    "document",
    [
        {"a": "plain", "b": 'quote " and \\ backslash', "c": "tab\tnew\nline\x01", "d": "ünïcode ✓"},
        {"n": 0, "big": 2**40, "t": True, "f": False, "empty": [], "one": ["x"], "many": [1, 2, 3]},
        {"when": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)},
        {"inline": {"k": "v", "n": 1, "nested": {"deep": ["a", "b"]}}, "odd key": {"a.b": 1}},
        {
            "top": 1,
            "packages": [
                {"name": "a", "wheels": [{"url": "u", "hashes": {"sha256": "00"}}, {"path": "p", "hashes": {}}]},
                {"name": "b", "vcs": {"type": "git", "commit-id": "ff"}},
            ],
            "tool": {"satchel": {"x": 1}},
        },
    ],
)
def test_toml_writer_reads_back_with_tomllib(document: dict) -> None:  # type: ignore[type-arg]
    assert tomllib.loads(toml.dumps(document)) == document


def test_toml_writer_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="time zone"):
        toml.dumps({"t": datetime.datetime(2024, 1, 1)})


def test_lock_format() -> None:
    assert lock_format(None, None) == "requirements.txt"
    assert lock_format(None, "requirements.txt") == "requirements.txt"
    assert lock_format(None, "out/pylock.toml") == "pylock.toml"
    assert lock_format(None, "pylock.prod.toml") == "pylock.toml"
    assert lock_format(None, "pylock.a.b.toml") == "requirements.txt"
    assert lock_format("pylock.toml", None) == "pylock.toml"
    with pytest.raises(SatchelError, match="PEP 751"):
        lock_format("pylock.toml", "deps.toml")


def _lock(*packages: LockedPackage) -> Lock:
    env = {"sys_platform": "linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "python_version": "3.12"}  # fmt: skip
    return Lock(packages=packages, command="satchel compile x.in", python="3.12", environment=env)


WHEEL = LockedFile("a-1.0-py3-none-any.whl", "https://i/a-1.0-py3-none-any.whl", {"sha256": "11" * 32},
                   size=10, upload_time="2024-01-02T03:04:05.000000Z")  # fmt: skip
SDIST = LockedFile("a-1.0.tar.gz", "https://i/a-1.0.tar.gz", {"sha256": "22" * 32}, size=20)


def test_requirements_txt_lines() -> None:
    pkg = LockedPackage("a", "1.0", files=(SDIST, WHEEL), extras=("x", "y"), via=("-r x.in", "b"),
                        marker='sys_platform == "linux"')  # fmt: skip
    assert pin_line(pkg) == 'a[x,y]==1.0 ; sys_platform == "linux"'
    assert pin_line(pkg, strip_extras=True) == 'a==1.0 ; sys_platform == "linux"'
    text = render(_lock(pkg), TxtOptions(header=False, hashes=True))
    assert text == (
        'a[x,y]==1.0 ; sys_platform == "linux" \\\n'
        f"    --hash=sha256:{'11' * 32} \\\n"
        f"    --hash=sha256:{'22' * 32}\n"
        "    # via\n    #   -r x.in\n    #   b\n"
    )
    line = render(_lock(pkg), TxtOptions(header=False, hashes=True, annotation_style="line"))
    assert line.endswith(f"--hash=sha256:{'22' * 32}\n    # via -r x.in, b\n")
    editable = LockedPackage("d", "1.0", url="file:///src/d", editable=True)
    assert pin_line(editable) == "-e file:///src/d"


def test_pylock_document_is_valid_and_complete() -> None:
    direct_dir = LockedPackage("d", "0.1", url="file:///work/p/d", direct={"url": "file:///work/p/d", "dir_info": {}})
    vcs = LockedPackage(
        "g", "2.0", url="git+https://h/g@v2",
        direct={"url": "https://h/g", "vcs_info": {"vcs": "git", "commit_id": "ab" * 20, "requested_revision": "v2"}},
    )  # fmt: skip
    pkg = LockedPackage("a", "1.0", files=(WHEEL, SDIST), index="https://i/simple/", marker='python_version < "3.13"')
    text = render_pylock(_lock(pkg, direct_dir, vcs), output_dir=__import__("pathlib").Path("/work/p"))
    lock = Pylock.from_dict(tomllib.loads(text))
    a, d, g = lock.packages
    assert a.wheels and a.wheels[0].upload_time == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert a.sdist is not None and a.sdist.size == 20 and str(a.marker) == 'python_version < "3.13"'
    assert a.index == "https://i/simple/"
    assert d.directory is not None and d.directory.path == "d" and d.version is None
    assert g.vcs is not None and g.vcs.commit_id == "ab" * 20 and g.vcs.requested_revision == "v2"
    assert lock.environments is not None and len(lock.environments) == 1
    assert str(lock.requires_python) == ">=3.12"
