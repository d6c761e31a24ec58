"""The remote layout (docs/remote-cache.md): content-addressed blobs plus small action records.

    v1/cas/sha256/<ab>/<digest>      the bytes of a file (a wheel, an sdist, a METADATA file)
    v1/ac/built/<built-v1 key>       a built wheel or prepared metadata: its files' digests
    v1/ac/metadata/<metadata-v1 key> core metadata of a distribution file (by its sha256):
                                     the local record itself, inside the action record

Downloaded files need no action record: the caller knows their sha256, which is the blob's
name. Action records are satchel records (header, checksum); with a key they carry an
HMAC-SHA256 over their fields and the key they are stored at, so a record cannot be forged nor
moved to another key by someone who can write to the bucket but does not hold the key.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from dataclasses import dataclass, replace

from satchel.cache import buckets, record, schema
from satchel.cache.buckets import Bucket
from satchel.cache.record import Record

PREFIX = "v1/"
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What of the local cache goes to the remote, by bucket: (kind, local key pattern).
# Built entries: only exact, machine-independent sources (an sdist's digest, a git commit);
# never a local directory's fingerprint or an editable wheel (it points at a local path).
_BUILT = re.compile(r"[^/]+/(?:sha256-[0-9a-f]{64}|git-[0-9a-f]{40,64}(?:-[0-9a-f]+)?)/[^/]+/[^/]+/(?:wheel|metadata)")
_METADATA = re.compile(r"[^/]+/[^/]+\.[0-9a-f]{64}\.rec")


@dataclass(frozen=True)
class ActionFile:
    """One file of a tree stored on the remote tier, by its blob's digest."""
    path: str  # relative to the entry's tree
    size: int
    sha256: str
    executable: bool = False


@dataclass(frozen=True)
class ActionRecord(Record, record_type="remote-action", bucket=buckets.REMOTE):
    """A local cache entry as the remote tier stores it: the files or the record, and its
    signature."""
    kind: str  # "built" | "metadata"
    key: str  # the local key, in its bucket
    files: list[ActionFile]  # blobs, for trees
    entry: str  # base64 of the local record's bytes, for records ("" for trees)
    source: str = ""
    signature: str = ""  # hex HMAC-SHA256 (empty: unsigned)

    def entry_bytes(self) -> bytes:
        return base64.b64decode(self.entry.encode("ascii"), validate=True)


def blob_path(digest: str) -> str:
    if not _HEX64.fullmatch(digest):
        raise ValueError(f"not a sha256 hex digest: {digest!r}")
    return f"{PREFIX}cas/sha256/{digest[:2]}/{digest}"


def action_path(kind: str, key: str) -> str:
    return f"{PREFIX}ac/{kind}/{key}"


def remote_kind(bucket: Bucket, key: str) -> str | None:
    """The action kind for a local entry that belongs on the remote, or None (stays local)."""
    if bucket is buckets.BUILT and _BUILT.fullmatch(key):
        return "built"
    if bucket is buckets.METADATA and _METADATA.fullmatch(key):
        return "metadata"
    return None


def local_bucket(kind: str) -> Bucket:
    return buckets.BUILT if kind == "built" else buckets.METADATA


def _signed_payload(rec: ActionRecord) -> bytes:
    fields = schema.encode(replace(rec, signature=""))
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(rec: ActionRecord, key: bytes | None) -> ActionRecord:
    if key is None:
        return rec
    mac = hmac.new(key, _signed_payload(rec), "sha256").hexdigest()
    return replace(rec, signature=mac)


def signature_ok(rec: ActionRecord, key: bytes) -> bool:
    if not rec.signature:
        return False
    expected = hmac.new(key, _signed_payload(rec), "sha256").hexdigest()
    return hmac.compare_digest(expected, rec.signature)


def dumps(rec: ActionRecord) -> bytes:
    return record.dumps(rec)


def loads(data: bytes) -> ActionRecord:
    """Decode an action record (CorruptEntry on anything wrong, like any record)."""
    rec = record.loads(data, ActionRecord)
    for f in rec.files:
        if not _HEX64.fullmatch(f.sha256) or f.size < 0 or _unsafe(f.path):
            raise record.CorruptEntry(f"bad file entry {f.path!r}")
    return rec


def _unsafe(path: str) -> bool:
    parts = path.split("/")
    return not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path


def parse_action_path(path: str) -> tuple[str, str] | None:
    """(kind, key) of an ``ac/`` path (relative to the remote root), or None."""
    if not path.startswith(f"{PREFIX}ac/"):
        return None
    rest = path[len(PREFIX) + 3 :]
    kind, _, key = rest.partition("/")
    if kind not in ("built", "metadata") or not key:
        return None
    return kind, key


def parse_blob_path(path: str) -> str | None:
    """The digest of a ``cas/`` path, or None."""
    m = re.fullmatch(re.escape(PREFIX) + r"cas/sha256/([0-9a-f]{2})/([0-9a-f]{64})", path)
    if m is None or not m[2].startswith(m[1]):
        return None
    return m[2]
