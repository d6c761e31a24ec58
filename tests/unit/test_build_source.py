"""Sources: safe sdist unpacking, local directory fingerprints, names, keys, URLs."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from satchel.build.git import parse_git_url
from satchel.build.source import (
    Source,
    fingerprint_directory,
    source_from_url,
    static_project_name,
    unpack_sdist,
)
from satchel.cache.store import Cache
from satchel.errors import BuildError
from tests.support.wheels import build_sdist, sha256_file

# -- unpacking -----------------------------------------------------------------------------------


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> Path:
    data = data or {}
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            payload = data.get(info.name)
            if payload is not None:
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
            else:
                tf.addfile(info)
    return path


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_unpacks_an_sdist_to_its_top_level_directory(tmp_path: Path) -> None:
    sdist = build_sdist("demo", "1.0", tmp_path)
    root = unpack_sdist(sdist, tmp_path / "out")
    assert root == tmp_path / "out" / "demo-1.0"
    assert (root / "pyproject.toml").is_file()
    assert (root / "demo" / "__init__.py").read_text() == '__version__ = "1.0"\n'


@pytest.mark.parametrize(
    ("member", "problem"),
    [
        (_file("../evil.py"), "'..'"),
        (_file("pkg-1.0/../../evil.py"), "'..'"),
        (_file("/etc/evil.py"), "absolute"),
        (_link("pkg-1.0/link", "/etc/passwd"), "absolute"),
        (_link("pkg-1.0/link", "../../outside"), "outside"),
        (_link("pkg-1.0/hard", "../outside", tarfile.LNKTYPE), "outside"),
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink-absolute",
        "symlink-outside",
        "hardlink-outside",
    ],
)
def test_hostile_tar_members_are_refused(
    tmp_path: Path, member: tarfile.TarInfo, problem: str
) -> None:
    ok = _file("pkg-1.0/setup.py")
    archive = _tar(tmp_path / "pkg-1.0.tar.gz", [ok, member], {ok.name: b"", member.name: b"x"})
    with pytest.raises(BuildError) as err:
        unpack_sdist(archive, tmp_path / "out")
    assert "refusing to unpack member" in err.value.message
    assert problem in err.value.message
    assert repr(member.name) in err.value.message
    # Nothing escaped the target directory.
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "outside").exists()


def test_device_members_are_refused(tmp_path: Path) -> None:
    dev = tarfile.TarInfo("pkg-1.0/dev")
    dev.type = tarfile.CHRTYPE
    archive = _tar(tmp_path / "pkg-1.0.tar.gz", [dev])
    with pytest.raises(BuildError, match="special file"):
        unpack_sdist(archive, tmp_path / "out")


def test_a_symlink_chain_escaping_through_another_link_is_refused(tmp_path: Path) -> None:
    # "b" -> "." looks harmless and "a" -> "b/.." normalizes to ".", but really points outside.
    members = [_file("setup.py"), _link("b", "."), _link("a", "b/..")]
    archive = _tar(tmp_path / "flat.tar.gz", members, {"setup.py": b""})
    with pytest.raises(BuildError, match="outside"):
        unpack_sdist(archive, tmp_path / "out")


def test_links_inside_the_archive_are_fine(tmp_path: Path) -> None:
    members = [
        _file("pkg-1.0/setup.py"),
        _link("pkg-1.0/alias.py", "setup.py"),
        _link("pkg-1.0/copy.py", "pkg-1.0/setup.py", tarfile.LNKTYPE),
    ]
    archive = _tar(tmp_path / "pkg-1.0.tar.gz", members, {"pkg-1.0/setup.py": b"# setup\n"})
    root = unpack_sdist(archive, tmp_path / "out")
    assert (root / "alias.py").read_text() == "# setup\n"
    assert (root / "copy.py").read_text() == "# setup\n"


def test_hostile_zip_members_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "")
        zf.writestr("pkg-1.0/../../evil.py", "x")
    with pytest.raises(BuildError, match=r"'\.\.'"):
        unpack_sdist(archive, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def _zip_symlink(zf: zipfile.ZipFile, name: str, target: bytes) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    zf.writestr(info, target)


def test_zip_symlink_with_a_non_utf8_target_is_a_clear_error(tmp_path: Path) -> None:
    # The check pass and the extract pass once decoded the target differently: a traceback.
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "")
        _zip_symlink(zf, "pkg-1.0/link", b"caf\xe9.py")
    with pytest.raises(BuildError) as err:
        unpack_sdist(archive, tmp_path / "out")
    assert err.value.message == (
        "pkg-1.0.zip: refusing to unpack member 'pkg-1.0/link': it is a link whose target is "
        "not UTF-8"
    )


def test_zip_symlinks_inside_the_archive_are_made(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "# hi\n")
        _zip_symlink(zf, "pkg-1.0/alias.py", b"setup.py")
    root = unpack_sdist(archive, tmp_path / "out")
    assert os.readlink(root / "alias.py") == "setup.py"
    assert (root / "alias.py").read_text() == "# hi\n"


def _encrypt_flag(archive: Path, name: str) -> None:
    """Set the 'encrypted' flag of ``name`` in the central directory."""
    data = bytearray(archive.read_bytes())
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + length] == name.encode():
            data[at + 8] |= 0x1
            break
        at += 46
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "phrase"),
    [("pkg-1.0/evil\x01.py", "control character"), ("C:/evil.py", "drive letter")],
)
def test_sdists_get_the_wheel_name_checks(tmp_path: Path, name: str, phrase: str) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "")
        zf.writestr(name, "x")
    with pytest.raises(BuildError, match=phrase):
        unpack_sdist(archive, tmp_path / "out")


def test_an_encrypted_zip_member_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "")
    _encrypt_flag(archive, "pkg-1.0/setup.py")
    with pytest.raises(BuildError, match=r"^pkg-1\.0\.zip: refusing .*'pkg-1\.0/setup\.py': it is encrypted$"):
        unpack_sdist(archive, tmp_path / "out")


def test_zip_sdists_unpack(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg-1.0/setup.py", "# hi\n")
    root = unpack_sdist(archive, tmp_path / "out")
    assert (root / "setup.py").read_text() == "# hi\n"


def test_a_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "pkg-1.0.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(BuildError, match=r"pkg-1\.0\.tar\.gz"):
        unpack_sdist(archive, tmp_path / "out")


# -- local directories ---------------------------------------------------------------------------


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "setup.py").write_text("from setuptools import setup\nsetup(name='pkg', version='1')\n")
    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    return root


def test_fingerprint_changes_when_a_source_file_changes(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    first = fingerprint_directory(root)
    assert fingerprint_directory(root) == first
    mod = root / "pkg" / "__init__.py"
    mod.write_text("X = 2\n")
    st = mod.stat()
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    second = fingerprint_directory(root)
    assert second != first
    (root / "pkg" / "new.py").write_text("")
    assert fingerprint_directory(root) != second


def test_fingerprint_changes_with_the_defining_files_even_at_the_same_mtime(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    setup = root / "setup.py"
    st = setup.stat()
    first = fingerprint_directory(root)
    setup.write_text(setup.read_text().replace("version='1'", "version='2'"))
    os.utime(setup, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint_directory(root) != first


def test_fingerprint_ignores_build_outputs_vcs_caches_and_venvs(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    first = fingerprint_directory(root)
    for rel in (
        ".git/objects/ab",
        "build/lib/pkg/__init__.py",
        "dist/pkg-1.tar.gz",
        "pkg.egg-info/PKG-INFO",
        "src/pkg.egg-info/PKG-INFO",
        "pkg/__pycache__/__init__.cpython-311.pyc",
        ".venv/bin/python",
        ".venv-3.12/pyvenv.cfg",
    ):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("noise")
    assert fingerprint_directory(root) == first


def test_directory_source_key_and_static_names(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    source = Source.directory(root)
    assert source.name is None  # setup.py only: the name is known only to the backend
    assert source.key() == f"dir-{fingerprint_directory(root)}"
    (root / "setup.cfg").write_text("[metadata]\nname = My_Package\n")
    assert static_project_name(root) == "my-package"
    (root / "pyproject.toml").write_text('[project]\nname = "Other.Name"\nversion = "1"\n')
    assert static_project_name(root) == "other-name"
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndynamic = ["name"]\n')
    assert static_project_name(root) == "my-package"


def test_a_directory_that_is_no_project_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="not a Python project"):
        Source.directory(tmp_path / "empty")


# -- sdists and URLs -----------------------------------------------------------------------------


def test_sdist_source_key_is_its_sha256(tmp_path: Path) -> None:
    sdist = build_sdist("Demo_Pkg", "2.0", tmp_path)
    source = Source.sdist(sdist)
    assert source.name == "demo-pkg"
    assert source.key() == f"sha256-{sha256_file(sdist)}"
    assert Source.sdist(sdist, sha256="AB" * 32).key() == "sha256-" + "ab" * 32


def test_source_from_url_for_paths_and_file_urls(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    sdist = build_sdist("demo", "1.0", tmp_path / "dist")
    project = _project(tmp_path / "proj")
    assert source_from_url(sdist.as_uri(), cache=cache).kind == "sdist"
    assert source_from_url(str(sdist), cache=cache, name="demo").name == "demo"
    src = source_from_url(project.as_uri(), cache=cache, name="pkg")
    assert (src.kind, src.location, src.name) == ("directory", project, "pkg")
    (project / "sub").mkdir()
    (project / "sub" / "setup.py").write_text("")
    assert (
        source_from_url(project.as_uri() + "#subdirectory=sub", cache=cache).location
        == project / "sub"
    )
    with pytest.raises(BuildError, match="outside"):
        source_from_url(project.as_uri() + "#subdirectory=../..", cache=cache)
    with pytest.raises(BuildError, match="no such file"):
        source_from_url((tmp_path / "missing").as_uri(), cache=cache)
    with pytest.raises(BuildError, match="downloaded"):
        source_from_url("http://127.0.0.1:1/demo-1.0.tar.gz", cache=cache)
    with pytest.raises(BuildError, match="only git"):
        source_from_url("hg+https://127.0.0.1/repo", cache=cache)


@pytest.mark.parametrize(
    ("url", "repo", "ref", "sub"),
    [
        ("git+https://127.0.0.1/org/repo.git", "https://127.0.0.1/org/repo.git", None, None),
        ("git+https://127.0.0.1/org/repo.git@v1.0", "https://127.0.0.1/org/repo.git", "v1.0", None),
        (
            "git+https://127.0.0.1/org/repo.git@feature/x#egg=foo&subdirectory=py",
            "https://127.0.0.1/org/repo.git",
            "feature/x",
            "py",
        ),
        (
            "git+ssh://git@127.0.0.1/org/repo.git@abc1234",
            "ssh://git@127.0.0.1/org/repo.git",
            "abc1234",
            None,
        ),
        ("git+file:///srv/repos/demo@main", "file:///srv/repos/demo", "main", None),
    ],
)
def test_parse_git_url(url: str, repo: str, ref: str | None, sub: str | None) -> None:
    parsed = parse_git_url(url)
    assert (parsed.repo, parsed.ref, parsed.subdirectory) == (repo, ref, sub)


@pytest.mark.parametrize(
    "url",
    [
        "git+ext::sh -c evil",
        "git+https://127.0.0.1/repo@",
        "git+https:///repo",
        "git+file:///repo#subdirectory=../x",
    ],
)
def test_bad_git_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(BuildError):
        parse_git_url(url)


def test_fingerprint_of_a_large_tree_is_quick(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    for i in range(2000):
        (root / "pkg" / f"m{i}.py").write_text("")
    started = time.perf_counter()
    fingerprint_directory(root)
    assert time.perf_counter() - started < 2.0
