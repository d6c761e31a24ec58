"""satchel.archives: one member checker for sdists and wheels, typed entries, extraction."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from satchel import zipdata
from satchel.archives import (
    SDIST_RULES,
    WHEEL_RULES,
    Archive,
    ArchiveError,
    ArchiveReadError,
    Entry,
    name_problem,
)


def _zip(path: Path, members: dict[str, bytes], *, modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.external_attr = (modes or {}).get(name, 0o100644) << 16
            zf.writestr(info, data)
    return path


def _tar(path: Path, members: list[tuple[str, bytes, str]]) -> Path:
    """``members``: (name, data, symlink target or "")."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data, target in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1577836800
            if target:
                info.type = tarfile.SYMTYPE
                info.linkname = target
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


# Names refused whatever the archive: the one list both sdists and wheels are checked against.
ALWAYS_REFUSED = [
    ("", "empty name"),
    ("/etc/passwd", "absolute path"),
    ("C:/evil.py", "drive letter"),
    ("pkg\\..\\evil.py", "backslash"),
    ("pkg/../../evil.py", "'..' component"),
    ("../evil.py", "'..' component"),
    ("pkg/evil\x00.py", "control character"),
    ("pkg/new\nline.py", "control character"),
]


@pytest.mark.parametrize(("name", "phrase"), ALWAYS_REFUSED)
@pytest.mark.parametrize("lenient", [False, True], ids=["wheel", "sdist"])
def test_unsafe_names_are_refused_by_both_rule_sets(name: str, phrase: str, lenient: bool) -> None:
    problem = name_problem(name, lenient=lenient)
    assert problem is not None and phrase in problem


@pytest.mark.parametrize("name", ["./pkg/setup.py", "pkg//setup.py", "pkg/./setup.py"])
def test_dot_and_empty_components_only_in_lenient_archives(name: str) -> None:
    assert name_problem(name, lenient=True) is None
    assert "empty or '.'" in (name_problem(name, lenient=False) or "")


def test_entries_are_typed_and_normalized(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "pkg-1.0.tar.gz",
        [("./", b"", ""), ("./pkg-1.0/setup.py", b"x", ""), ("pkg-1.0/alias.py", b"", "setup.py")],
    )
    with Archive.open(archive, "pkg-1.0.tar.gz", SDIST_RULES) as opened:
        entries = opened.entries
    assert [(e.member, e.path, e.kind, e.link) for e in entries] == [
        ("./pkg-1.0/setup.py", "pkg-1.0/setup.py", "file", ""),
        ("pkg-1.0/alias.py", "pkg-1.0/alias.py", "symlink", "setup.py"),
    ]
    assert all(isinstance(e, Entry) for e in entries)


def test_members_are_checked_once_before_anything_is_written(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "pkg-1.0.zip", {"pkg-1.0/ok.py": b"x", "../evil.py": b"x"})
    with Archive.open(archive, "pkg-1.0.zip", SDIST_RULES) as opened, pytest.raises(ArchiveError):
        opened.extract(opened.entries, tmp_path / "out")
    assert not (tmp_path / "out" / "pkg-1.0").exists()
    assert not (tmp_path / "evil.py").exists()


def test_links_only_where_the_rules_allow_them(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "a.zip",
        {"pkg/setup.py": b"", "pkg/alias.py": b"setup.py"},
        modes={"pkg/alias.py": 0o120777},
    )
    with Archive.open(archive, "a.zip", SDIST_RULES) as opened:
        assert [e.kind for e in opened.entries] == ["file", "symlink"]
    with Archive.open(archive, "wheel a.zip", WHEEL_RULES) as opened, pytest.raises(
        ArchiveError, match=r"^wheel a\.zip: refusing to unpack member 'pkg/alias\.py': it is a symbolic link; a wheel may not contain links$"
    ):
        _ = opened.entries


def test_duplicates_only_refused_under_unique_rules(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "d.tar.gz", [("pkg/a.py", b"1", ""), ("pkg/a.py", b"2", "")])
    with Archive.open(archive, "d.tar.gz", SDIST_RULES) as opened:
        opened.extract(opened.entries, tmp_path / "out")
    assert (tmp_path / "out" / "pkg" / "a.py").read_bytes() == b"2"  # the later member wins
    strict = dataclasses.replace(SDIST_RULES, unique=True, lenient_names=False)
    with Archive.open(archive, "d.tar.gz", strict) as opened, pytest.raises(
        ArchiveError, match=r"duplicates member 'pkg/a\.py'"
    ):
        _ = opened.entries


@pytest.mark.parametrize(
    "names",
    [
        ["a/b/c/x.py", "a/b"],  # a file where a file's directory's parent is
        ["a/b", "a/b/c/x.py"],  # the same, the other way round
        ["a/b/c/", "a/b"],  # a file where an explicit directory's parent is
        ["a/b/c/", "a/b/c/d.py", "a"],  # ... its grandparent, known through a later file
        ["a/b", "a/b/"],  # a file and an explicit directory of the same name
    ],
)
def test_a_path_that_is_both_a_file_and_a_directory_is_refused(tmp_path: Path, names: list[str]) -> None:
    archive = _zip(tmp_path / "w.zip", {name: b"" for name in names})
    with Archive.open(archive, "w.zip", WHEEL_RULES, tar=False) as opened, pytest.raises(
        ArchiveError, match="both as a file and as a directory"
    ):
        _ = opened.entries


def test_extract_hashes_and_keeps_modes_and_mtimes(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "a.zip",
        {"pkg/run.sh": b"#!/bin/sh\n", "pkg/data.txt": b"data"},
        modes={"pkg/run.sh": 0o100755},
    )
    seen: list[str] = []
    with Archive.open(archive, "a.zip", WHEEL_RULES, tar=False) as opened:
        written = opened.extract(
            opened.entries,
            tmp_path / "out",
            algorithms=lambda e: ("sha256", "sha512"),
            check=lambda e, w: seen.append(e.path),
        )
    assert seen == ["pkg/run.sh", "pkg/data.txt"]
    assert written["pkg/data.txt"].digests["sha512"] == hashlib.sha512(b"data").digest()
    assert written["pkg/data.txt"].size == 4
    assert os.stat(tmp_path / "out/pkg/run.sh").st_mode & 0o111
    assert not os.stat(tmp_path / "out/pkg/data.txt").st_mode & 0o111
    assert os.stat(tmp_path / "out/pkg/data.txt").st_mtime == 1577934246  # 2020-01-02 03:04:06


@pytest.mark.parametrize("read_only", [True, False])
def test_small_members_are_read_in_one_go_and_big_ones_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: bool
) -> None:
    """Members of at most a megabyte are read whole (``zipdata.member_bytes``), bigger ones in
    pieces; either way every file holds its bytes and its digests are of those bytes."""
    big = os.urandom(1 << 20) + b"tail"  # does not compress: over the limit packed too
    members = {"pkg/empty.py": b"", "pkg/small.py": b"x = 1\n" * 100, "pkg/big.bin": big,
               "pkg/zeros.bin": bytes(3 << 20)}  # fmt: skip
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("pkg/stored.txt", b"plain", compress_type=zipfile.ZIP_STORED)
    members["pkg/stored.txt"] = b"plain"
    whole: list[str] = []
    real = zipdata.member_bytes

    def counted(fd: int, info: zipfile.ZipInfo, *, encoding: str = "cp437") -> bytes:
        whole.append(info.filename)
        return real(fd, info, encoding=encoding)

    monkeypatch.setattr(zipdata, "member_bytes", counted)
    with Archive.open(path, "a.zip", WHEEL_RULES, tar=False) as opened:
        written = opened.extract(
            opened.entries, tmp_path / "out", algorithms=lambda e: ("sha256",), read_only=read_only
        )
    assert sorted(whole) == ["pkg/empty.py", "pkg/small.py", "pkg/stored.txt"]
    for name, data in members.items():
        assert (tmp_path / "out" / name).read_bytes() == data
        assert written[name].size == len(data)
        assert written[name].digests["sha256"] == hashlib.sha256(data).digest()


def test_a_failing_read_of_a_small_member_is_a_read_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error reading the archive is the source's fault (ArchiveReadError), on the one-go
    path as on the piecewise one."""
    path = _zip(tmp_path / "a.zip", {"pkg/a.py": b"a = 1\n"})

    def failing(fd: int, n: int, offset: int) -> bytes:
        raise OSError(5, "Input/output error")

    with Archive.open(path, "a.zip", WHEEL_RULES, tar=False) as opened:
        entries = opened.entries
        monkeypatch.setattr(zipdata.os, "pread", failing)
        with pytest.raises(ArchiveReadError, match="Input/output error"):
            opened.extract(entries, tmp_path / "out", read_only=True)


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(b"plain text")
    with pytest.raises(ArchiveError, match=r"^x\.tar\.gz: not a tar or zip archive$"):
        Archive.open(path, "x.tar.gz", SDIST_RULES)
