"""`satchel cache dir|info|list|clean|prune|purge|verify`."""

from __future__ import annotations

import argparse
import json
import sys

from satchel.cache import manage
from satchel.commands.common import cache_exclusive, import_record_types, open_cache
from satchel.errors import SatchelError
from satchel.settings import Settings
from satchel.units import human_size


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.commands.request import project_names

    project_names("cache " + args.cache_command, getattr(args, "names", None) or ())
    if not settings.no_cache:
        # (before opening it: a root that cannot be a directory would make the cache warn that
        # it uses a temporary one instead, which no cache command can mean)
        from satchel.cache.store import default_cache_dir

        wanted = settings.cache_dir or default_cache_dir()
        if args.cache_command != "dir" and (wanted.exists() or wanted.is_symlink()) and not wanted.is_dir():
            raise SatchelError(
                f"there is no cache at {wanted}: it is not a directory",
                hint="pass --cache-dir (or set SATCHEL_CACHE_DIR to) a directory",
            )
    cache = open_cache(settings, remote=False)
    root = cache.root
    out = sys.stdout
    cmd = args.cache_command
    try:
        if cmd == "dir":
            out.write(f"{root}\n")
            return 0
        if not root.is_dir():
            # (made when missing: so under /proc, or below a file; the warning said why)
            raise SatchelError(
                f"there is no cache at {root}: it cannot be a directory",
                hint="pass --cache-dir (or set SATCHEL_CACHE_DIR to) a directory",
            )
        if cmd == "info":
            infos = manage.info(root)
            if args.json:
                data = {"root": str(root), "buckets": [vars(i) for i in infos]}
                out.write(json.dumps(data, indent=2) + "\n")
            else:
                out.write(f"Cache: {root}\n")
                for i in infos:
                    out.write(f"  {i.bucket:<40} {i.entries:>7} entries  {human_size(i.size):>10}\n")
                out.write(f"  {'total':<40} {sum(i.entries for i in infos):>7} entries  "
                          f"{human_size(sum(i.size for i in infos)):>10}\n")
            return 0
        if cmd == "list":
            return _list(root, args.names, out)
        if cmd in ("push", "remote") or (cmd == "verify" and args.remote):
            return _remote(cmd, args, settings, root, out)
        if cmd == "verify":
            import_record_types()
            report = manage.verify(root, repair=args.repair)
            for path, problem in report.problems:
                state = "removed" if path in report.repaired else "corrupt"
                out.write(f"{state}: {path}: {problem}\n")
            out.write(
                f"Checked {report.checked} entries: {len(report.problems)} problems, "
                f"{len(report.repaired)} repaired\n"
            )
            if report.remaining:
                sys.stderr.write("hint: run `satchel cache verify --repair` to remove broken entries\n")
                return 1
            return 0
        with cache_exclusive(cache, settings.force):
            if cmd == "clean":
                if args.names:
                    from packaging.utils import canonicalize_name

                    names = [str(canonicalize_name(n)) for n in args.names]
                    removed = manage.clean(root, names)
                    out.write(f"Removed {len(removed)} entries for {', '.join(names)}\n")
                else:
                    freed = manage.purge(root)
                    out.write(f"Removed everything from {root} ({human_size(freed)})\n")
                return 0
            if cmd == "purge":
                freed = manage.purge(root)
                out.write(f"Removed everything from {root} ({human_size(freed)})\n")
                return 0
            if cmd == "prune":
                try:
                    max_size = manage.parse_size(args.max_size) if args.max_size else None
                    max_age = manage.parse_age(args.max_age) if args.max_age else None
                except ValueError as exc:
                    raise SatchelError(
                        f"cache prune: {exc}", hint="sizes like 500M or 2G; ages like 30d or 12h"
                    ) from None
                result = manage.prune(root, ci=args.ci, max_size=max_size, max_age=max_age)
                out.write(f"Pruned {len(result.removed)} entries ({human_size(result.freed)})\n")
                return 0
    finally:
        cache.close()
    raise SatchelError(f"unknown cache command {cmd!r}")


def _remote(cmd: str, args: argparse.Namespace, settings: Settings, root: object, out: object) -> int:
    from pathlib import Path

    from satchel.cache import remote_manage as remote

    assert isinstance(root, Path)
    write = out.write  # type: ignore[attr-defined]
    config = settings.remote
    if config is None:
        raise SatchelError(
            f"cache {cmd}: no remote cache is configured",
            hint="pass --remote-cache URL or set SATCHEL_REMOTE_CACHE",
        )
    if cmd == "remote":
        info = remote.info(config)
        if args.json:
            write(json.dumps(vars(info), indent=2) + "\n")
            return 0 if info.reachable else 1
        write(f"Remote cache: {info.url}\n")
        write(f"  mode: {info.mode}{', records signed (SATCHEL_REMOTE_CACHE_KEY)' if info.signed else ''}\n")
        if not info.reachable:
            write(f"  unreachable: {info.reason}\n")
            return 1
        write("  reachable\n")
        if info.listed:
            write(f"  blobs: {info.blobs} ({human_size(info.blob_bytes)})\n")
            for kind, count in sorted(info.records.items()):
                write(f"  {kind} records: {count}\n")
        else:
            write(f"  contents: not listed ({info.reason or 'the backend cannot list'})\n")
        return 0
    if cmd == "push":
        if not config.target.writable:
            raise SatchelError(
                f"cache push: {config.target.url} is a read-only HTTP mirror",
                hint="push to an s3:// or webdav+https:// URL",
            )
        from packaging.utils import canonicalize_name

        result = remote.push(root, config, [str(canonicalize_name(n)) for n in args.names])
        write(f"Pushed {result.queued} entries to {config.target.url}: {result.uploaded} objects "
              f"uploaded, {result.already} already there\n")
        return 1 if result.failed else 0
    import_record_types()
    report = remote.verify(config)
    for path, problem in report.problems:
        write(f"corrupt: {path}: {problem}\n")
    if report.unreachable:
        raise SatchelError(f"cache verify --remote: {config.target.url} is unavailable ({report.unreachable})")
    write(f"Checked {report.checked} remote objects: {len(report.problems)} problems\n")
    return 1 if report.problems else 0


def _list(root: object, names: list[str], out: object) -> int:
    from pathlib import Path

    from packaging.utils import canonicalize_name

    assert isinstance(root, Path)
    write = out.write  # type: ignore[attr-defined]
    if names:
        entries = [e for n in names for e in manage.list_package(root, str(canonicalize_name(n)))]
    else:
        from satchel.cache import buckets

        entries = [e for b in buckets.ALL for e in manage.iter_entries(root, b)]
    for e in entries:
        write(f"{e.bucket.dirname:<16} {e.package or '-':<30} {human_size(e.size()):>10}  {e.path.relative_to(root)}\n")
    if not entries:
        write("nothing cached" + (f" for {', '.join(names)}" if names else "") + "\n")
    return 0
