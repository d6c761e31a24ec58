"""Edits through hardlinks (issue 3, contract 2): installed files share their inode with the
unpacked wheel in the cache, so an edit made in one environment is an edit of the cache.

uv 0.13.8 installs such an edit into the next environment as it is. satchel stores tree files
read-only (so an edit fails loudly unless the user forces it) and checks every tree cheaply (size and
mtime of every file) before using it: a changed tree is a broken entry, re-unpacked from the
verified wheel. Bytes changed with size *and* mtime preserved slip past the cheap check by design;
`cache verify` re-hashes and catches them (docs/cache.md says so).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from satchel.cache import buckets
from tests.support.cache import ALPHA, BETA, bucket_dir, only, snapshot
from tests.support.cli import Satchel, installed_files_match_record, run_python, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer


def alpha_tree(cache: Path) -> Path:
    return only(list((bucket_dir(cache, buckets.ARCHIVES) / "alpha").glob("*/tree")), "alpha tree")


def test_installed_files_are_read_only_hardlinks_into_the_cache(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha")
    installed = site_packages(venv) / "alpha" / "__init__.py"
    cached = alpha_tree(satchel.cache_dir) / "alpha" / "__init__.py"
    assert os.path.samefile(installed, cached)
    assert not installed.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_edit_in_one_venv_never_reaches_the_next(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    a = satchel.venv("a")
    satchel.run("install", "-p", a, "alpha")
    module = site_packages(a) / "alpha" / "__init__.py"
    original = module.read_bytes()
    # A debugging print appended in place, as an editor that writes in place would.
    os.chmod(module, 0o644)
    with open(module, "a") as fh:
        fh.write("print('debugging!')\n")
    entry = alpha_tree(satchel.cache_dir).parent

    index_server.reset_log()
    b = satchel.venv("b")
    result = satchel.run("install", "-p", b, "alpha")
    assert len(result.warnings()) == 1, result
    assert str(entry) in result.warnings()[0] and "alpha/__init__.py" in result.warnings()[0]
    assert (site_packages(b) / "alpha" / "__init__.py").read_bytes() == original
    installed_files_match_record(b, "alpha")
    assert run_python(b, "import alpha; print(alpha.VALUE)") == "alpha one"
    assert index_server.paths() == [], "re-unpacked from the cached wheel, not downloaded"
    # Healed: a new tree (not the edited inode), sound, and used silently from now on.
    assert not os.path.samefile(site_packages(b) / "alpha" / "__init__.py", module)
    assert satchel.run("cache", "verify").returncode == 0
    again = satchel.run("install", "-p", satchel.venv("c"), "alpha")
    assert again.warnings() == []
    # venv a keeps its own edit: satchel never touches an environment it was not asked to.
    assert module.read_bytes().endswith(b"print('debugging!')\n")


def test_flipped_bytes_with_size_and_mtime_kept_are_caught_by_verify(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    satchel.run("install", "-p", satchel.venv("a"), "alpha")
    tree = alpha_tree(satchel.cache_dir)
    target = tree / "alpha" / "__init__.py"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[5] ^= 0x20
    os.chmod(target, 0o644)
    with open(target, "r+b") as fh:
        fh.write(bytes(data))
    os.chmod(target, st.st_mode)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns

    # The cheap check on use cannot see this (same size, same mtime); verify re-hashes everything.
    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 1
    assert f"corrupt: {tree.parent}: content changed: alpha/__init__.py" in verify.stdout, verify
    repair = satchel.run("cache", "verify", "--repair", check=False)
    assert repair.returncode == 0 and f"removed: {tree.parent}" in repair.stdout, repair
    assert satchel.run("cache", "verify").returncode == 0

    index_server.reset_log()
    fresh = satchel.venv("fresh")
    result = satchel.run("install", "-p", fresh, "alpha")
    assert result.warnings() == [], "repair removed the entry: a clean miss"
    installed_files_match_record(fresh, "alpha")
    assert index_server.paths() == [], "re-unpacked from the cached wheel"


def test_verify_repair_leaves_sound_entries_alone(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    satchel.run("install", "-p", satchel.venv("a"), "alpha")
    before = snapshot(satchel.cache_dir)
    result = satchel.run("cache", "verify", "--repair")
    assert result.returncode == 0 and "0 problems" in result.stdout
    after = snapshot(satchel.cache_dir)
    assert {k: v[:2] for k, v in before.items()} == {k: v[:2] for k, v in after.items()}
