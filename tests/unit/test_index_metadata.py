from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from satchel.index.metadata import (
    CoreMetadata,
    MetadataError,
    check_metadata_matches,
    parse_metadata,
    read_wheel_metadata,
    read_wheel_metadata_bytes,
)
from tests.support.wheels import WheelSpec, build_wheel

METADATA = b"""Metadata-Version: 2.1
Name: Demo_Pkg
Version: 1.0.post1
Summary: a demo
Requires-Python: >=3.8
Requires-Dist: requests>=2
Requires-Dist: rich ;
 extra == "ui"
Provides-Extra: ui
Description-Content-Type: text/markdown

# Demo

Requires-Dist: not-a-header
Name: not-the-name
"""


def test_parse_headers_only() -> None:
    meta = parse_metadata(METADATA, source="demo.whl")
    assert meta == CoreMetadata(
        name="demo-pkg",
        version=Version("1.0.post1"),
        requires_dist=("requests>=2", 'rich ; extra == "ui"'),
        requires_python=">=3.8",
        provides_extra=("ui",),
    )


def test_crlf_and_utf8() -> None:
    data = "Name: démo\r\nVersion: 2\r\n\r\nbody\r\n".encode()
    meta = parse_metadata(data, source="x")
    assert (meta.name, meta.version, meta.requires_python) == ("démo", Version("2"), None)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"Version: 1.0\n", "no Name"),
        (b"Name: demo\n", "no Version"),
        (b"Name: demo\nVersion: one\n", "invalid Version"),
    ],
)
def test_errors_name_the_source(data: bytes, words: str) -> None:
    with pytest.raises(MetadataError) as exc:
        parse_metadata(data, source="https://127.0.0.1/demo.whl.metadata")
    assert exc.value.message.startswith("https://127.0.0.1/demo.whl.metadata: ")
    assert words in exc.value.message
    with pytest.raises(ValueError):
        CoreMetadata.from_email(data)


def test_from_email() -> None:
    assert CoreMetadata.from_email(METADATA.decode()).name == "demo-pkg"


def test_read_wheel_metadata(tmp_path: Path) -> None:
    path = build_wheel(WheelSpec("Demo-Pkg", "1.0", requires=["a"], extras={"x": ["b"]}), tmp_path)
    meta = read_wheel_metadata(path, path.name)
    assert (meta.name, meta.version, meta.provides_extra) == ("demo-pkg", Version("1.0"), ("x",))
    with path.open("rb") as f:
        assert read_wheel_metadata_bytes(f, path.name).startswith(b"Metadata-Version")


def test_dist_info_must_match_the_filename(tmp_path: Path) -> None:
    path = build_wheel(WheelSpec("demo", "1.0"), tmp_path)
    with pytest.raises(MetadataError) as exc:
        read_wheel_metadata(path, "other-1.0-py3-none-any.whl")
    assert "other-1.0-py3-none-any.whl" in exc.value.message


def test_metadata_name_or_version_must_match(tmp_path: Path) -> None:
    path = build_wheel(WheelSpec("demo", "1.0", metadata_name="evil"), tmp_path)
    with pytest.raises(MetadataError) as exc:
        read_wheel_metadata(path, path.name)
    assert "evil" in exc.value.message and path.name in exc.value.message
    path = build_wheel(WheelSpec("demo", "2.0", metadata_version="2.0.1"), tmp_path)
    with pytest.raises(MetadataError):
        read_wheel_metadata(path, path.name)
    meta = parse_metadata(b"Name: demo\nVersion: 1.0.0\n", source="x")
    check_metadata_matches(meta, "demo-1.0-py3-none-any.whl")  # equal versions
    check_metadata_matches(meta, "demo-1.0.tar.gz")


def test_broken_wheels(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("demo/__init__.py", "")
    with pytest.raises(MetadataError, match=r"no \.dist-info"):
        read_wheel_metadata(io.BytesIO(buf.getvalue()), "demo-1.0-py3-none-any.whl")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("demo-1.0.dist-info/WHEEL", "")
        zf.writestr("demo-1.0.dist-info/RECORD", "")
    with pytest.raises(MetadataError, match=r"no demo-1\.0\.dist-info/METADATA"):
        read_wheel_metadata(io.BytesIO(buf.getvalue()), "demo-1.0-py3-none-any.whl")
    with pytest.raises(MetadataError, match="not a valid wheel"):
        read_wheel_metadata(io.BytesIO(b"junk"), "demo-1.0-py3-none-any.whl")
    with pytest.raises(MetadataError, match="not a valid wheel filename"):
        read_wheel_metadata(io.BytesIO(buf.getvalue()), "demo.whl")
