"""The records of a sync (:class:`SyncRequest`, :class:`Lock`, :class:`Place`) and its messages,
shared by ``sync.py`` (reading a lock, the already-synced check) and ``locked.py`` (installing it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from satchel.commands.say import say

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from satchel.python.interpreter import Interpreter
    from satchel.python.probe import ProbeFacts
    from satchel.requirements.locked import LockedPackage
    from satchel.requirements.models import ParsedRequirements


class Place:
    """Where a lock is installed: the interpreter's probe facts (its ``Interpreter``, with the
    wheel tags, only made when asked for: a requirements lock that is already synced needs no
    tags), its install scheme, a label for messages."""

    def __init__(self, exe: Path, facts: ProbeFacts, paths: dict[str, str], label: str, *, is_directory: bool = False):
        self.exe = exe
        self.facts = facts
        self.paths = paths
        self.label = label
        self.is_directory = is_directory  # --target DIR
        self.markers: dict[str, str] = facts.markers
        self.version_str = facts.version_str
        self._interpreter: Interpreter | None = None

    @property
    def interpreter(self) -> Interpreter:
        if self._interpreter is None:
            from satchel.python.probe import to_interpreter

            self._interpreter = to_interpreter(self.exe, self.facts)
        return self._interpreter


@dataclass
class Lock:
    """The lock files of a run, read for one target: the packages they select, and what a
    requirements file says about indexes (pylock files name their files' URLs)."""

    files: list[str]
    packages: list[LockedPackage]
    parsed: ParsedRequirements


@dataclass(frozen=True)
class SyncRequest:
    """What `satchel sync` (``exact``) or `satchel install -r pylock.toml` was asked to do,
    built once from the command line."""

    files: tuple[str, ...]
    exact: bool = True  # remove what the lock does not list
    # where
    python: str | None = None
    system: bool = False
    break_system_packages: bool = False  # --break-system-packages (PEP 668)
    target: Path | None = None
    # which part of a pylock
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    default_groups: bool = True
    # checks
    strict: bool = False
    require_hashes: bool = False
    allow_empty: bool = False
    reinstall: bool = False
    dry_run: bool = False
    # how
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    link_mode: str | None = None
    compile_bytecode: bool = False
    config_settings: tuple[str, ...] = ()  # KEY=VALUE, checked by the full path
    build_isolation: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, exact: bool, files: Sequence[str]) -> SyncRequest:
        """From `sync`'s arguments, or `install`'s (which has no --strict and the like); the index
        URLs are checked up front, as for install."""
        from satchel.commands.request import IndexChoice

        IndexChoice.from_args(args)
        return cls(
            files=tuple(files),
            exact=exact,
            python=args.python,
            system=args.system,
            break_system_packages=getattr(args, "break_system_packages", False),
            target=args.target,
            extras=tuple(getattr(args, "extra", None) or ()),
            all_extras=getattr(args, "all_extras", False),
            groups=tuple(getattr(args, "group", None) or ()),
            default_groups=not getattr(args, "no_default_groups", False),
            strict=getattr(args, "strict", False),
            require_hashes=args.require_hashes,
            allow_empty=getattr(args, "allow_empty_requirements", False),
            reinstall=args.reinstall,
            dry_run=args.dry_run,
            index_url=args.index_url,
            extra_index_urls=tuple(args.extra_index_url),
            find_links=tuple(args.find_links),
            no_index=args.no_index,
            link_mode=args.link_mode,
            compile_bytecode=args.compile_bytecode,
            config_settings=tuple(args.config_settings),
            build_isolation=not args.no_build_isolation,
        )


def say_kept(kept: Mapping[str, str], packages: Sequence[LockedPackage]) -> None:
    locked = {p.name for p in packages}
    extra = sorted(n for n in kept if n not in locked)
    if extra:
        listed = ", ".join(f"{n}=={kept[n]}" for n in extra)
        say(
            f"Kept {listed}: not in the lock, but sync never removes pip, setuptools, wheel, "
            "or satchel and what it needs to run"
        )
