"""What `satchel cache remote info`, `cache push` and `cache verify --remote` do."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from satchel.cache import buckets, record
from satchel.cache.manage import iter_entries
from satchel.cache.record import CorruptEntry
from satchel.cache.remote import layout
from satchel.cache.remote.backend import Missing, RemoteDown, Store
from satchel.cache.remote.config import RemoteConfig
from satchel.cache.store import Cache, Tree


@dataclass
class RemoteInfo:
    """The remote tier as `cache remote info` reports it."""
    url: str
    mode: str
    signed: bool
    reachable: bool
    reason: str = ""
    listed: bool = False
    blobs: int = 0
    blob_bytes: int = 0
    records: dict[str, int] = field(default_factory=dict)


def info(config: RemoteConfig) -> RemoteInfo:
    out = RemoteInfo(config.target.url, config.mode, config.key is not None, reachable=False)
    try:
        store = Store(config)
        store.probe()
    except RemoteDown as exc:
        out.reason = exc.reason
        return out
    out.reachable = True
    if not store.can_list:
        return out
    try:
        for path, size in store.list(layout.PREFIX):
            if layout.parse_blob_path(path) is not None:
                out.blobs += 1
                out.blob_bytes += size
            else:
                parsed = layout.parse_action_path(path)
                if parsed is not None:
                    out.records[parsed[0]] = out.records.get(parsed[0], 0) + 1
        out.listed = True
    except RemoteDown as exc:
        out.reason = f"cannot list: {exc.reason}"
    return out


@dataclass
class PushResult:
    """What `cache remote push` queued, uploaded and found there already."""
    queued: int = 0
    uploaded: int = 0
    already: int = 0
    failed: bool = False


def push(root: Path, config: RemoteConfig, names: list[str]) -> PushResult:
    """Upload the local cache's entries that belong on the remote (of ``names``, or all):
    downloaded files, built wheels and prepared metadata, metadata records."""
    config = dataclasses.replace(config, mode="read-write")
    cache = Cache(root, remote=config)
    tier = cache.remote_tier()
    result = PushResult()
    if tier is None or tier.store() is None:
        result.failed = True
        return result
    from satchel.cache.manifest import Manifest

    packages: list[str | None] = list(names) if names else [None]
    for package in packages:
        for entry in iter_entries(root, buckets.FILES, package):
            files = [p for p in entry.path.iterdir() if not p.name.startswith(".")] if entry.path.is_dir() else []
            if entry.kind == "file" and len(files) == 1:
                tier.upload_file(entry.path.name, files[0])
                result.queued += 1
        for entry in iter_entries(root, buckets.BUILT, package):
            key = entry.path.relative_to(root / buckets.BUILT.dirname).as_posix()
            if entry.kind != "tree" or layout.remote_kind(buckets.BUILT, key) is None:
                continue
            try:
                manifest = record.loads((entry.path / "manifest").read_bytes(), Manifest)
            except (OSError, CorruptEntry):
                continue
            tier.upload_tree(buckets.BUILT, key, Tree(entry.path / "tree", manifest))
            result.queued += 1
        for entry in iter_entries(root, buckets.METADATA, package):
            key = entry.path.relative_to(root / buckets.METADATA.dirname).as_posix()
            if layout.remote_kind(buckets.METADATA, key) is None:
                continue
            try:
                data = entry.path.read_bytes()
            except OSError:
                continue
            tier.upload_record(buckets.METADATA, key, data)
            result.queued += 1
    tier.drain()
    result.uploaded = tier.stats["uploaded"]
    result.already = tier.stats["skipped"]
    result.failed = tier.uploads_off or tier.off
    cache.close()
    return result


@dataclass
class RemoteVerifyReport:
    """What `cache remote verify` checked and found wrong."""
    checked: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    unreachable: str = ""


def verify(config: RemoteConfig) -> RemoteVerifyReport:
    """Every blob's digest and size, every record's checksum, signature (with a key) and blobs."""
    report = RemoteVerifyReport()
    try:
        store = Store(config)
        store.probe()
        listing = list(store.list(layout.PREFIX))
    except RemoteDown as exc:
        report.unreachable = exc.reason
        return report
    blobs = {d for p, _ in listing if (d := layout.parse_blob_path(p)) is not None}
    for path, _size in listing:
        digest = layout.parse_blob_path(path)
        parsed = layout.parse_action_path(path)
        if digest is None and parsed is None:
            continue
        report.checked += 1
        try:
            if digest is not None:
                h = hashlib.sha256()
                for chunk in store.stream(path):
                    h.update(chunk)
                if h.hexdigest() != digest:
                    report.problems.append((path, f"content sha256 is {h.hexdigest()}"))
                continue
            assert parsed is not None
            try:
                rec = layout.loads(store.read(path))
            except CorruptEntry as exc:
                report.problems.append((path, exc.reason))
                continue
            if (rec.kind, rec.key) != parsed:
                report.problems.append((path, f"holds the record of {rec.kind}/{rec.key}"))
            elif config.key is not None and not layout.signature_ok(rec, config.key):
                report.problems.append((path, "unsigned or badly signed"))
            else:
                missing = [f.sha256 for f in rec.files if f.sha256 not in blobs]
                if missing:
                    report.problems.append((path, f"blob {missing[0]} is missing"))
        except Missing:
            report.problems.append((path, "vanished while checked"))
        except RemoteDown as exc:
            report.unreachable = exc.reason
            return report
    return report
