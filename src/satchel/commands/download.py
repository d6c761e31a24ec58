"""`satchel download` and `satchel wheel`: resolve like an install, then save files instead of
installing them, all through the cache.

``download -d DIR`` saves the resolved files as they are (wheels and sdists, from the index or
direct URLs; local directories and git checkouts are not archives and are skipped, as pip skips
them). ``wheel -w DIR`` saves a wheel for everything: index wheels as they are, everything else
built (from the built-wheel cache when built already). Both resolve from scratch (what the
target environment has installed does not matter), as pip's commands do.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
from pathlib import Path

from satchel.cache.store import Cache, sha256_of
from satchel.commands.common import cache_in_use, open_cache
from satchel.commands.pipeline import Installer
from satchel.commands.say import say
from satchel.commands.sources import SourceFinder
from satchel.errors import SatchelError
from satchel.python.interpreter import Interpreter
from satchel.requirements.models import ParsedRequirements
from satchel.resolve import ResolvedPackage
from satchel.settings import Settings

log = logging.getLogger("satchel")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.commands.request import check_name_lists, project_names
    from satchel.requirements.parser import parse_command_line

    # (checked before any work, as install checks them; the target options are checked
    # where they are read, described_interpreter)
    check_name_lists(args)
    project_names("--no-build-isolation-package", args.no_build_isolation_package)
    parsed = parse_command_line(
        args.requirements,
        editables=getattr(args, "editable", ()),
        requirement_files=args.requirement,
        constraint_files=args.constraint,
        base_dir=Path.cwd(),
    )
    if args.command == "wheel" and parsed.editables:
        # As pip wheel: an editable requirement (-e, here or in a file) is built as a regular
        # wheel. An editable wheel only points back at the source tree: nothing to keep.
        import dataclasses

        parsed = dataclasses.replace(
            parsed, requirements=[dataclasses.replace(s, editable=False) for s in parsed.requirements]
        )
    if not parsed.requirements:
        raise SatchelError("no requirements given", hint="name packages, or pass -r requirements.txt")
    dest: Path = (args.dest if args.command == "download" else args.wheel_dir).absolute()
    cache = open_cache(settings)
    try:
        with cache_in_use(cache):
            return _run(args, settings, cache, parsed, dest)
    finally:
        cache.close()


def _interpreter(args: argparse.Namespace, cache: Cache) -> Interpreter:
    """The environment satchel would install into, else the python3 on PATH (pip downloads for
    the interpreter it runs in); with --platform/--python-version/--implementation/--abi, a
    described interpreter (see :mod:`satchel.commands.targets`)."""
    from satchel.commands.index import _interpreter as found_interpreter
    from satchel.commands.targets import described_interpreter

    return described_interpreter(args, found_interpreter(args, cache))


def _run(
    args: argparse.Namespace, settings: Settings, cache: Cache, parsed: ParsedRequirements, dest: Path
) -> int:
    from satchel.commands.buildflags import build_options
    from satchel.commands.indexes import index_options
    from satchel.commands.install import _names, _roots
    from satchel.commands.pipeline import _allowed
    from satchel.commands.releases import release_control
    from satchel.commands.request import IndexChoice, config_pairs
    from satchel.commands.timeflags import exclude_newer_of
    from satchel.index.client import IndexClient
    from satchel.resolve import ResolveOptions, resolve

    interp = _interpreter(args, cache)
    options = index_options(
        IndexChoice.from_args(args), settings, parsed, exclude_newer=exclude_newer_of(args)
    )
    client = IndexClient(cache, options)
    try:
        build = build_options(
            parsed,
            config_settings=config_pairs(args.config_settings, "--config-settings"),
            isolation=not args.no_build_isolation,
            build_constraint_files=args.build_constraint,
            no_isolation=args.no_build_isolation_package,
        )
        installer = Installer(cache, client, build)
        finder = installer.finder(interp)
        resolution = resolve(
            _roots(parsed.requirements, finder),
            finder=finder,
            interpreter=interp,
            constraints=_roots(parsed.constraints, finder),
            options=ResolveOptions(
                pre=args.pre or parsed.pre,
                no_deps=args.no_deps,
                only_binary=_names(args.only_binary, set(parsed.only_binary)),
                no_binary=_names(args.no_binary, set(parsed.no_binary)),
                prefer_binary=args.prefer_binary or parsed.prefer_binary,
            all_releases=release_control(args, parsed)[0],
            only_final=release_control(args, parsed)[1],
            ),
        )
        for warning in resolution.warnings:
            log.warning("%s", warning)
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SatchelError(f"cannot create {dest}: {exc.strerror or exc}") from None
        saved: list[str] = []
        for pkg in resolution.values():
            path, filename = _file_for(args.command, installer, finder, pkg)
            if path is None:
                log.info("%s: %s is not an archive; not saved", pkg.name, pkg.url)
                continue
            if pkg.hashes and (args.command == "download" or filename == _archive_name(pkg)):
                _allowed(pkg, sha256_of(path))  # --hash values: checked like an install checks them
            _save(path, dest / filename)
            saved.append(pkg.name)
        what = "downloaded" if args.command == "download" else "built"
        say(f"Successfully {what} {' '.join(saved)}" if saved else "Nothing saved")
        return 0
    finally:
        client.close()


def _file_for(
    command: str, installer: Installer, finder: SourceFinder, pkg: ResolvedPackage
) -> tuple[Path | None, str]:
    """The file to save for ``pkg`` (None: nothing to save) and its name."""
    from satchel.commands.sources import is_wheel_url, url_file

    client = installer.client
    if pkg.file is not None:
        if command == "download" or pkg.file.is_wheel:
            return client.download(pkg.name, pkg.file), pkg.file.filename
        built = finder.build(pkg.name, pkg.file, None)
        return built.path, built.filename
    assert pkg.url is not None
    if is_wheel_url(pkg.url):
        file = url_file(pkg.url)
        return client.download(pkg.name, file), file.filename
    if command == "wheel":
        built = finder.build(pkg.name, None, pkg.url)
        return built.path, built.filename
    source = finder.source_of(pkg.name, None, pkg.url)
    if source.kind != "sdist" or source.location is None:
        return None, ""
    location = Path(source.location)
    name = location.name
    if pkg.url.lower().startswith(("http://", "https://")):
        name = url_file(pkg.url).filename
    return location, name


def _archive_name(pkg: ResolvedPackage) -> str:
    from satchel.commands.pipeline import file_of

    return file_of(pkg).filename


def _save(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` unless an identical file is there already (pip: "File was
    already downloaded"); atomically, so an interrupted run leaves no partial file."""
    same_size = target.is_file() and target.stat().st_size == source.stat().st_size
    if same_size and sha256_of(target) == sha256_of(source):
        say(f"File was already downloaded {_shown(target)}")
        return
    tmp = target.with_name(f".{target.name}.satchel-tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # (not there: below a file, or a name too long)
            tmp.unlink()
        raise SatchelError(f"cannot save {target}: {exc.strerror or exc}") from None
    say(f"Saved {_shown(target)}")


def _shown(path: Path) -> str:
    try:
        return "./" + str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
