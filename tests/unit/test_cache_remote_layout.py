"""The remote tier's layout and configuration, without a server: which local entries go to the
remote, action records and their signatures, URL parsing."""

from __future__ import annotations

import dataclasses

import pytest

from satchel.cache import buckets, record
from satchel.cache.remote import layout
from satchel.cache.remote.config import parse_mode, parse_seconds, parse_target
from satchel.errors import SatchelError

SHA = "ab" * 32


@pytest.mark.parametrize(
    ("bucket", "key", "kind"),
    [
        (buckets.BUILT, f"pkg/sha256-{SHA}/0123456789abcdef/cpython-3.11-cp311-linux_x86_64/wheel", "built"),
        (buckets.BUILT, f"pkg/sha256-{SHA}/0123456789abcdef/cpython-3.11-cp311-linux_x86_64/metadata", "built"),
        (buckets.BUILT, f"pkg/git-{'1' * 40}/0123456789abcdef/cpython-3.11-none-any/wheel", "built"),
        (buckets.BUILT, "pkg/dir-0123/0123456789abcdef/cpython-3.11-none-any/wheel", None),
        (buckets.BUILT, f"pkg/sha256-{SHA}/0123456789abcdef/cpython-3.11-none-any/editable", None),
        (buckets.BUILT, "_envs/abc", None),
        (buckets.METADATA, f"pkg/pkg-1.0-py3-none-any.whl.{SHA}.rec", "metadata"),
        (buckets.METADATA, "pkg/url-0123456789abcdef.rec", None),
        (buckets.METADATA, "pkg/by-url/0123.rec", None),
        (buckets.INDEX, "pkg/0123.rec", None),
        (buckets.ARCHIVES, f"pkg/{SHA}", None),
    ],
)
def test_what_goes_to_the_remote(bucket: buckets.Bucket, key: str, kind: str | None) -> None:
    assert layout.remote_kind(bucket, key) == kind


def test_paths_round_trip() -> None:
    assert layout.blob_path(SHA) == f"v1/cas/sha256/ab/{SHA}"
    assert layout.parse_blob_path(layout.blob_path(SHA)) == SHA
    assert layout.parse_blob_path(f"v1/cas/sha256/cd/{SHA}") is None
    assert layout.parse_action_path("v1/ac/built/a/b/c") == ("built", "a/b/c")
    assert layout.parse_action_path("v1/ac/other/a") is None
    with pytest.raises(ValueError):
        layout.blob_path("../etc")


def _rec() -> layout.ActionRecord:
    return layout.ActionRecord("built", "pkg/k/wheel", [layout.ActionFile("pkg-1.0-py3-none-any.whl", 3, SHA)], "")


def test_signatures_bind_fields_and_key() -> None:
    key = b"secret"
    signed = layout.sign(_rec(), key)
    assert layout.signature_ok(signed, key)
    assert not layout.signature_ok(signed, b"other")
    assert not layout.signature_ok(_rec(), key)  # unsigned
    moved = dataclasses.replace(signed, key="pkg/other/wheel")
    assert not layout.signature_ok(moved, key)
    swapped = dataclasses.replace(signed, files=[layout.ActionFile("evil.whl", 3, "cd" * 32)])
    assert not layout.signature_ok(swapped, key)
    assert layout.loads(layout.dumps(signed)) == signed


def test_records_with_unsafe_paths_or_bad_digests_are_corrupt() -> None:
    for f in (layout.ActionFile("../x.whl", 1, SHA), layout.ActionFile("a.whl", 1, "nothex")):
        with pytest.raises(record.CorruptEntry):
            layout.loads(layout.dumps(dataclasses.replace(_rec(), files=[f])))


def test_urls() -> None:
    t = parse_target("s3://bucket/some/prefix")
    assert (t.scheme, t.bucket, t.root, t.writable) == ("s3", "bucket", "/some/prefix/", True)
    t = parse_target("webdav+https://host:8443/dav")
    assert (t.scheme, t.endpoint, t.root) == ("webdav", "https://host:8443", "/dav/")
    t = parse_target("https://mirror.example/cache/")
    assert (t.scheme, t.endpoint, t.root, t.writable) == ("http", "https://mirror.example", "/cache/", False)
    for bad in ("ftp://x/y", "s3://", "https://u:p@h/x", "https://h:99999/x", "bucket"):
        with pytest.raises(SatchelError):
            parse_target(bad)
    assert parse_mode("read-write") == "read-write" and parse_mode("READ") == "read"
    with pytest.raises(SatchelError):
        parse_mode("write")
    assert parse_seconds("0.5", where="x") == 0.5
    for bad in ("-1", "nan", "soon", "0"):
        with pytest.raises(SatchelError):
            parse_seconds(bad, where="x")
