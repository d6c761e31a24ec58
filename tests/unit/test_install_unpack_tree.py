"""An unpacked wheel's tree is listed by the extraction itself: the listing is exactly what
walking, hashing and stat-ing the tree finds, every file is read-only from its creation, and
neither the walk nor zipfile's per-member reads are used."""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from satchel.cache import manifest
from satchel.cache.store import Cache, Tree
from tests.support.installs import unpack_into_cache
from tests.support.wheels import WheelSpec, add_member, build_wheel

FILES: dict[str, bytes | str] = {
    "demo/__init__.py": "VALUE = 1\n",
    "demo/a-b.py": "",
    "demo/a/b.py": "x = 2\n",
    "demo/a/c/d.txt": b"\0" * 70_000,
    "demo/z.py": "z\n" * 5000,
    "demo/Ünï/日本.py": "u = 1\n",
    "demo.py": "top\n",
    "zzz/empty.txt": "",
}


def wheel_with_tool(tmp_path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wheel = build_wheel(WheelSpec("demo", "1.0", files=dict(FILES)), tmp_path / "wheels")
    add_member(wheel, "demo/bin/tool", b"#!/bin/sh\necho hi\n", mode=0o100755)
    return wheel


def walked(tree: Tree) -> list[manifest.ManifestFile]:
    return manifest.hash_tree(tree.path, {}, read_only=False)


def test_the_listing_is_what_walking_the_tree_finds(tmp_path: Path) -> None:
    tree = unpack_into_cache(Cache(tmp_path / "cache"), wheel_with_tool(tmp_path), "demo", "1.0")
    assert tree.manifest.files == walked(tree)  # paths, order, sizes, digests, mtimes, x bits
    modes = {f.path: stat.S_IMODE(os.stat(tree.path / f.path).st_mode) for f in tree.manifest.files}
    assert modes.pop("demo/bin/tool") == 0o555
    assert set(modes.values()) == {0o444}
    assert {f.path for f in tree.manifest.files if f.executable} == {"demo/bin/tool"}
    assert manifest.verify_tree(tree.path, tree.manifest) is None


def test_a_restrictive_umask_still_gives_the_read_only_modes(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        tree = unpack_into_cache(
            Cache(tmp_path / "cache"), wheel_with_tool(tmp_path), "demo", "1.0"
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tree.path / "demo/bin/tool").st_mode) == 0o555
    assert stat.S_IMODE(os.stat(tree.path / "demo/__init__.py").st_mode) == 0o444
    assert tree.manifest.files == walked(tree)


def test_unpacking_needs_no_second_pass(tmp_path: Path) -> None:
    wheel = wheel_with_tool(tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        for target, name in ((manifest, "hash_tree"), (os, "chmod"), (zipfile.ZipFile, "open")):

            def refuse(*args: object, _name: str = name, **kwargs: object) -> object:
                raise AssertionError(f"{_name} called while unpacking")

            mp.setattr(target, name, refuse)
        tree = unpack_into_cache(Cache(tmp_path / "cache"), wheel, "demo", "1.0")
    assert tree.manifest.files == walked(tree)


def test_other_trees_are_still_walked(tmp_path: Path) -> None:
    """A populate that returns digests (or nothing) gets the walk: hashed, listed, read-only."""
    from satchel.cache import buckets

    def populate(dest: Path) -> dict[str, str]:
        (dest / "sub").mkdir()
        (dest / "sub" / "f.txt").write_text("hi")
        (dest / "g.txt").write_text("g")
        return {}

    tree = Cache(tmp_path / "cache").build_tree(buckets.ARCHIVES, "x/" + "a" * 64, populate)
    assert [f.path for f in tree.manifest.files] == ["g.txt", "sub/f.txt"]
    assert not os.stat(tree.path / "g.txt").st_mode & 0o222
