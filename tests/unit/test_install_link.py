from __future__ import annotations

import errno
import fcntl
import logging
import os
from pathlib import Path

import pytest

from satchel.errors import InstallError
from satchel.install.link import Linker, write_file, write_new_file


@pytest.fixture
def cached(tmp_path: Path) -> list[Path]:
    """Three read-only files, as the cache stores them."""
    src = tmp_path / "cache"
    src.mkdir()
    files = []
    for i in range(3):
        f = src / f"m{i}.py"
        f.write_text(f"x = {i}\n")
        os.chmod(f, 0o444)
        files.append(f)
    return files


def leftovers(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if n.startswith(".satchel-")]


def test_hardlink_shares_the_inode_and_stays_read_only(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "env" / "m0.py"
    dst.parent.mkdir()
    Linker("hardlink").link_file(cached[0], dst)
    assert os.stat(dst).st_ino == os.stat(cached[0]).st_ino
    assert os.stat(dst).st_nlink == 2
    assert not os.stat(dst).st_mode & 0o222


def test_existing_file_is_replaced_atomically(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "m.py"
    dst.write_text("old\n")
    with open(dst) as in_use:
        for mode in ("hardlink", "copy", "symlink", "clone"):
            Linker(mode).link_file(cached[1], dst)
            assert dst.read_text() == "x = 1\n"
        assert in_use.read() == "old\n"  # the open file was replaced, not rewritten
    assert leftovers(tmp_path) == []


def test_relinking_the_same_file_leaves_no_temp_name(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "m.py"
    linker = Linker("hardlink")
    linker.link_file(cached[0], dst)
    linker.link_file(cached[0], dst)
    assert leftovers(tmp_path) == []
    assert os.stat(cached[0]).st_nlink == 2


def test_copy_is_a_new_file_with_the_same_mode(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "m.py"
    Linker("copy").link_file(cached[2], dst)
    assert dst.read_text() == "x = 2\n"
    assert os.stat(dst).st_nlink == 1
    assert os.stat(dst).st_mode & 0o777 == 0o444


def test_symlink_points_at_the_cache(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "m.py"
    Linker("symlink").link_file(cached[0], dst)
    assert dst.is_symlink()
    assert os.readlink(dst) == str(cached[0])


def test_hardlink_across_devices_copies_and_warns_once(
    tmp_path: Path,
    cached: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def no_link(src: object, dst: object) -> None:
        calls.append(dst)
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", no_link)
    linker = Linker("hardlink")
    with caplog.at_level(logging.WARNING, logger="satchel.install"):
        for f in cached:
            linker.link_file(f, tmp_path / f.name)
    assert [(tmp_path / f.name).read_text() for f in cached] == ["x = 0\n", "x = 1\n", "x = 2\n"]
    assert len(calls) == 1  # after EXDEV the run copies without trying again
    warnings = [r for r in caplog.records if r.name == "satchel.install"]
    assert len(warnings) == 1
    assert "cross-device" in warnings[0].getMessage()
    assert "copying files instead" in warnings[0].getMessage()
    assert linker.effective_mode == "copy"


def test_too_many_links_copies_that_file_only(
    tmp_path: Path,
    cached: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real_link = os.link

    def link(src: str, dst: str) -> None:
        if str(src).endswith("m0.py"):
            raise OSError(errno.EMLINK, os.strerror(errno.EMLINK))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    linker = Linker("hardlink")
    with caplog.at_level(logging.WARNING, logger="satchel.install"):
        for f in cached:
            linker.link_file(f, tmp_path / f.name)
    assert os.stat(tmp_path / "m0.py").st_nlink == 1
    assert os.stat(tmp_path / "m1.py").st_nlink == 2
    assert len(caplog.records) == 1
    assert linker.effective_mode == "hardlink"


def test_clone_falls_back_to_copy(
    tmp_path: Path,
    cached: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_reflink(*args: object) -> None:
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(fcntl, "ioctl", no_reflink)
    linker = Linker("clone")
    with caplog.at_level(logging.WARNING, logger="satchel.install"):
        for f in cached:
            linker.link_file(f, tmp_path / f.name)
    assert (tmp_path / "m2.py").read_text() == "x = 2\n"
    assert os.stat(tmp_path / "m2.py").st_nlink == 1
    assert len(caplog.records) == 1
    assert leftovers(tmp_path) == []


def test_unknown_mode() -> None:
    with pytest.raises(InstallError, match="unknown link mode 'reflink'"):
        Linker("reflink")


def test_a_directory_in_the_way_is_an_error(tmp_path: Path, cached: list[Path]) -> None:
    (tmp_path / "m0.py").mkdir()
    with pytest.raises(OSError):
        Linker("hardlink").link_file(cached[0], tmp_path / "m0.py")
    assert leftovers(tmp_path) == []


def test_write_file_replaces_with_a_fresh_file(tmp_path: Path, cached: list[Path]) -> None:
    dst = tmp_path / "RECORD"
    Linker("hardlink").link_file(cached[0], dst)
    write_file(dst, b"new", mode=0o644)
    assert dst.read_bytes() == b"new"
    assert os.stat(dst).st_nlink == 1
    assert os.stat(dst).st_mode & 0o777 == 0o644
    assert cached[0].read_text() == "x = 0\n"  # the cache file is untouched


def test_write_new_file_creates_with_the_exact_mode_and_never_replaces(tmp_path: Path) -> None:
    """The staged .dist-info's own files: created once, exactly 0o644 even under a umask that
    takes group and other bits away, and a name already taken is an error (nothing replaced)."""
    old = os.umask(0o077)
    try:
        write_new_file(tmp_path / "INSTALLER", b"satchel\n", mode=0o644)
    finally:
        os.umask(old)
    assert (tmp_path / "INSTALLER").read_bytes() == b"satchel\n"
    assert os.stat(tmp_path / "INSTALLER").st_mode & 0o777 == 0o644
    with pytest.raises(FileExistsError):
        write_new_file(tmp_path / "INSTALLER", b"other\n")
    assert (tmp_path / "INSTALLER").read_bytes() == b"satchel\n"
    assert leftovers(tmp_path) == []
