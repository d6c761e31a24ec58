from __future__ import annotations

import os
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from satchel.cache import buckets
from satchel.cache.store import Cache
from satchel.errors import InstallError
from satchel.install.unpack import UnpackLimits, unpack_wheel
from tests.support.installs import rewrite_zip, unpack_into_cache
from tests.support.wheels import WheelSpec, build_wheel, declare_sizes, record_hash, sha256_file

DEMO = {"demo/__init__.py": "VALUE = 1\n", "demo/tool.sh": "#!/bin/sh\necho hi\n"}


def spec(**kw: object) -> WheelSpec:
    base: dict[str, object] = {"name": "demo", "version": "1.0", "files": dict(DEMO)}
    base.update(kw)
    return WheelSpec(**base)  # type: ignore[arg-type]


def build(tmp_path: Path, s: WheelSpec) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        return build_wheel(s, tmp_path / "wheels")


def add_member(wheel: Path, info: zipfile.ZipInfo, data: bytes) -> None:
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr(info, data)


def edit_record(wheel: Path, edit: Callable[[str], str]) -> None:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        text = zf.read(name).decode()
    rewrite_zip(wheel, replace={name: edit(text).encode()})


def test_unpacks_and_reports_hashes(tmp_path: Path) -> None:
    wheel = build(tmp_path, spec())
    info = zipfile.ZipInfo("demo/run.sh", date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    script = b"#!/bin/sh\n"
    add_member(wheel, info, script)  # an executable member, listed in RECORD
    edit_record(wheel, lambda t: t + f"demo/run.sh,{record_hash(script)},{len(script)}\n")
    dest = tmp_path / "out"
    written = unpack_wheel(wheel, dest, expected_name="Demo", expected_version="1.0.0")
    for rel, digest in written.digests().items():
        assert sha256_file(dest / rel) == digest
    assert set(written.digests()) >= {
        "demo/__init__.py",
        "demo-1.0.dist-info/RECORD",
        "demo-1.0.dist-info/METADATA",
    }
    assert os.stat(dest / "demo/run.sh").st_mode & 0o111
    assert not os.stat(dest / "demo/__init__.py").st_mode & 0o111


def test_unpacks_into_the_cache_read_only(tmp_path: Path) -> None:
    wheel = build(tmp_path, spec())
    tree = unpack_into_cache(Cache(tmp_path / "cache"), wheel, "demo", "1.0")
    paths = {f.path for f in tree.manifest.files}
    assert "demo/__init__.py" in paths
    assert not os.stat(tree.path / "demo/__init__.py").st_mode & 0o222


def symlink_member(wheel: Path) -> None:
    info = zipfile.ZipInfo("demo/link", date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o120777 << 16
    add_member(wheel, info, b"/etc/passwd")


def tamper(wheel: Path) -> None:
    rewrite_zip(wheel, replace={"demo/__init__.py": b"import os; os.system('evil')\n"})


def corrupt_bytes(wheel: Path) -> None:
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo("demo/__init__.py")
    start = info.header_offset + 30 + len(info.filename.encode())
    for i in range(start, start + info.compress_size):
        data[i] ^= 0x5A
    wheel.write_bytes(bytes(data))


# (case id, spec overrides, post-build mutation, expected phrase in the message)
HOSTILE: list[tuple[str, dict[str, object], Callable[[Path], object] | None, str]] = [
    ("dotdot", {"extra_members": {"../evil.py": b"x"}}, None, "'..' component"),
    ("nested-dotdot", {"extra_members": {"demo/../../evil.py": b"x"}}, None, "'..' component"),
    ("absolute", {"extra_members": {"/tmp/evil.py": b"x"}}, None, "absolute path"),
    ("backslash", {"extra_members": {"demo\\..\\..\\evil.py": b"x"}}, None, "backslash"),
    ("drive", {"extra_members": {"C:/evil.py": b"x"}}, None, "drive letter"),
    ("symlink", {}, symlink_member, "symbolic link"),
    ("hash-mismatch", {}, tamper, "does not match its RECORD hash"),
    ("not-in-record", {"extra_members": {"demo/extra.py": b"x"}}, None, "not listed in RECORD"),
    (
        "missing-record",
        {},
        lambda w: rewrite_zip(w, drop={"demo-1.0.dist-info/RECORD"}),
        "no RECORD",
    ),
    (
        "record-lists-missing",
        {},
        lambda w: rewrite_zip(w, drop={"demo/tool.sh"}),
        "not in the wheel",
    ),
    (
        "no-hash",
        {},
        lambda w: edit_record(w, lambda t: re.sub(r"(?m)^demo/tool.sh,.*$", "demo/tool.sh,,", t)),
        "no hash",
    ),
    (
        "weak-hash",
        {},
        lambda w: edit_record(w, lambda t: t.replace("demo/tool.sh,sha256=", "demo/tool.sh,md5=")),
        "md5",
    ),
    (
        "malformed-record",
        {},
        lambda w: edit_record(w, lambda t: t + "a,b,c,d\n"),
        "malformed RECORD",
    ),
    ("duplicate", {"extra_members": {"demo/__init__.py": b"evil = True\n"}}, None, "duplicate"),
    (
        "duplicate-unicode",
        {"files": {"demo/caf\u00e9.py": "", "demo/cafe\u0301.py": ""}},
        None,
        "duplicate",
    ),
    (
        "file-and-dir",
        {"files": {"demo/x": "", "demo/x/y.py": ""}},
        None,
        "both as a file and as a directory",
    ),
    ("metadata-name", {"metadata_name": "other"}, None, "METADATA says other 1.0"),
    ("metadata-version", {"metadata_version": "6.6.6"}, None, "METADATA says demo 6.6.6"),
    (
        "other-dist-info",
        {"extra_members": {"pip-99.dist-info/RECORD": b""}},
        None,
        "another distribution",
    ),
    (
        "data-into-dist-info",
        {"data": {"purelib": {"demo-1.0.dist-info/RECORD": ""}}},
        None,
        "metadata directory",
    ),
    ("unknown-scheme", {"data": {"bogus": {"x": ""}}}, None, "known .data scheme"),
    ("corrupt-bytes", {}, corrupt_bytes, "corrupt"),
    ("truncated", {}, lambda w: w.write_bytes(w.read_bytes()[:-40]), "not a valid zip"),
    (
        "not-a-zip",
        {},
        lambda w: w.write_bytes(b"<html>503 Service Unavailable</html>"),
        "not a valid zip",
    ),
    ("declared-size-bomb", {}, lambda w: declare_sizes(w, 0xFFFFFF00), "zip bomb"),
    ("ratio-bomb", {"files": {"demo/zeros.bin": b"\0" * (20 * 1024 * 1024)}}, None, "zip bomb"),
]


@pytest.mark.parametrize(
    ("overrides", "mutate", "phrase"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_wheels_are_rejected_and_leave_nothing(
    tmp_path: Path,
    overrides: dict[str, object],
    mutate: Callable[[Path], object] | None,
    phrase: str,
) -> None:
    wheel = build(tmp_path, spec(**overrides))
    if mutate is not None:
        mutate(wheel)
    cache = Cache(tmp_path / "cache")
    with pytest.raises(InstallError) as info:
        unpack_into_cache(cache, wheel, "demo", "1.0")
    message = str(info.value)
    assert phrase in message
    assert "demo-1.0-py3-none-any.whl" in message
    assert "\n" not in message
    assert cache.get_tree(buckets.ARCHIVES, sha256_file(wheel)) is None
    bucket = cache.bucket_dir(buckets.ARCHIVES)
    leftovers = (
        [p for p in bucket.iterdir() if not p.name.endswith(".lock")] if bucket.exists() else []
    )
    assert leftovers == []
    assert not (tmp_path / "evil.py").exists()


def test_wrong_expected_name_names_both(tmp_path: Path) -> None:
    wheel = build(tmp_path, spec())
    with pytest.raises(
        InstallError,
        match=r"no \.dist-info directory for other 1\.0 \(found: demo-1\.0\.dist-info\)",
    ):
        unpack_wheel(wheel, tmp_path / "out", expected_name="other", expected_version="1.0")


def test_limits_are_adjustable(tmp_path: Path) -> None:
    wheel = build(tmp_path, spec())
    with pytest.raises(InstallError, match="zip bomb"):
        unpack_wheel(
            wheel,
            tmp_path / "out",
            expected_name="demo",
            expected_version="1.0",
            limits=UnpackLimits(max_total_size=10),
        )
    with pytest.raises(InstallError, match="members, more than the limit"):
        unpack_wheel(
            wheel,
            tmp_path / "out",
            expected_name="demo",
            expected_version="1.0",
            limits=UnpackLimits(max_members=2),
        )


def test_missing_wheel_file(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match=r"cannot read wheel demo-1\.0-py3-none-any\.whl"):
        unpack_wheel(
            tmp_path / "demo-1.0-py3-none-any.whl",
            tmp_path / "out",
            expected_name="demo",
            expected_version="1.0",
        )


def test_other_dist_names_spelled_unnormalized(tmp_path: Path) -> None:
    # "Foo.Bar" wheels use foo_bar-1.0.dist-info; any spelling of the name is accepted.
    wheel = build(tmp_path, WheelSpec("Foo.Bar", "1.0"))
    written = unpack_wheel(wheel, tmp_path / "out", expected_name="foo-bar", expected_version="1.0")
    assert "foo_bar-1.0.dist-info/METADATA" in written.digests()
