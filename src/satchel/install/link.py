"""Putting cached files into an environment: hardlink, copy, symlink or clone (reflink).

Every destination appears atomically: the link or copy is made under a temporary name in the
destination directory and renamed over the final name, so a file that is in use is replaced, never
rewritten. Files from the cache keep the cache's read-only mode, so editing an installed file in
place fails loudly instead of silently changing the cache. Fresh files (RECORD, INSTALLER,
scripts...) are written with ``write_file`` and normal modes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Union

from satchel.cache.atomic import write_new
from satchel.errors import InstallError
from satchel.settings import LINK_MODES  # (one list: the CLI's choices, SATCHEL_LINK_MODE)

StrPath = Union[str, "os.PathLike[str]"]

log = logging.getLogger("satchel.install")

LinkMode = Literal["hardlink", "copy", "symlink", "clone"]

FICLONE = 0x40049409  # _IOW(0x94, 9, int), Linux
# Errors meaning "this kind of link does not work between these two places": copy from now on.
_HARDLINK_UNSUPPORTED = {errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS}
# Too many links to this one file: copy just this one.
_HARDLINK_PER_FILE = {errno.EMLINK}
_CLONE_UNSUPPORTED = {
    errno.EOPNOTSUPP,
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOTTY,
    errno.ENOSYS,
    errno.EBADF,
    errno.EPERM,
}


def temp_sibling(path: StrPath) -> str:
    """A fresh name in ``path``'s directory for building ``path`` before renaming it into place."""
    return os.path.join(os.path.dirname(path), f".satchel-{os.urandom(6).hex()}.tmp")


def _replace(tmp: StrPath, dst: StrPath) -> None:
    try:
        os.replace(tmp, dst)
    finally:
        # rename(2) does nothing when both names are links to the same file: drop the temp name.
        with contextlib.suppress(FileNotFoundError):
            if os.path.lexists(tmp):
                os.unlink(tmp)


def write_file(dst: StrPath, data: bytes, *, mode: int = 0o644) -> None:
    """Write a fresh file atomically (temp name, then rename over ``dst``)."""
    tmp = temp_sibling(dst)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        _replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_new_file(path: StrPath, data: bytes, *, mode: int = 0o644) -> None:
    """Create ``path``, which must not exist (``O_EXCL``: not even as a link), holding ``data``
    with exactly ``mode``: a file of a directory nobody else sees yet (a staged ``.dist-info``,
    published whole by one rename), so it needs no temporary name of its own (``write_file``'s
    temporary name, rename and check are 3 system calls more a file)."""
    write_new(Path(path), data, mode=0o600)
    os.chmod(path, mode)  # (exactly: the umask only ever took bits away from 0o600)


class Linker:
    """Links files from the cache into an environment in one ``mode``.

    A hardlink or clone that cannot work here (other filesystem, no reflink support...) falls back
    to copying, with one warning per Linker (one run) saying why.
    """

    def __init__(self, mode: str = "hardlink") -> None:
        if mode not in LINK_MODES:
            raise InstallError(
                f"unknown link mode {mode!r}", hint=f"use one of: {', '.join(LINK_MODES)}"
            )
        self.mode = mode
        self._copy_only = False  # a fallback decided that linking cannot work for this run
        self.fallback_reason: str | None = None
        self._warn_lock = threading.Lock()  # one Linker serves several installing threads

    @property
    def effective_mode(self) -> str:
        return "copy" if self._copy_only else self.mode

    def link_file(self, src: StrPath, dst: StrPath) -> bool:
        """Make ``dst`` have ``src``'s content and mode, replacing ``dst`` atomically.

        Returns True when ``dst`` did not exist before (this call created it)."""
        mode = self.effective_mode
        if mode == "hardlink":
            try:
                os.link(src, dst)  # the common case: a new file, no temporary name needed
                return True
            except FileExistsError:
                self._via_temp(dst, lambda tmp: os.link(src, tmp))
                return False
            except OSError as exc:
                if exc.errno in _HARDLINK_UNSUPPORTED:
                    self._copy_only = True
                elif exc.errno not in _HARDLINK_PER_FILE:
                    raise
                self._fall_back("hardlink", src, dst, exc)
                mode = "copy"
        existed = os.path.lexists(dst)
        if mode == "symlink":
            self._via_temp(dst, lambda tmp: os.symlink(os.path.abspath(src), tmp))
        elif mode == "clone":
            self._clone(src, dst)
        else:
            self._copy(src, dst)
        return not existed

    # -- modes --------------------------------------------------------------------------------

    def _via_temp(self, dst: StrPath, make: Callable[[str], None]) -> None:
        tmp = temp_sibling(dst)
        try:
            make(tmp)
            _replace(tmp, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _clone(self, src: StrPath, dst: StrPath) -> None:
        if sys.platform != "linux":
            self._copy_only = True
            self._fall_back(
                "clone", src, dst, OSError(errno.EOPNOTSUPP, "reflinks are only supported on Linux")
            )
            self._copy(src, dst)
            return
        import fcntl
        import shutil

        def clone(tmp: str) -> None:
            with open(src, "rb") as fin:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.ioctl(fd, FICLONE, fin.fileno())
                finally:
                    os.close(fd)
            shutil.copymode(src, tmp)

        try:
            self._via_temp(dst, clone)
        except OSError as exc:
            if exc.errno not in _CLONE_UNSUPPORTED:
                raise
            self._copy_only = True
            self._fall_back("clone", src, dst, exc)
            self._copy(src, dst)

    def _copy(self, src: StrPath, dst: StrPath) -> None:
        import shutil  # (only copies need it: hard links do not)

        def copy(tmp: str) -> None:
            shutil.copyfile(src, tmp)
            shutil.copymode(src, tmp)

        self._via_temp(dst, copy)

    def fell_back(self, reason: str, message: str) -> None:
        """Another Linker of this run in this mode (the link worker's) could not link and
        copied, for ``reason``: copy from now on too, and give its warning ``message`` unless
        this Linker gave one already."""
        self._copy_only = True
        with self._warn_lock:
            if self.fallback_reason is not None:
                return
            self.fallback_reason = reason
        log.warning("%s", message)

    def _fall_back(self, kind: str, src: StrPath, dst: StrPath, exc: OSError) -> None:
        with self._warn_lock:
            if self.fallback_reason is not None:
                return
            self.fallback_reason = exc.strerror or str(exc)
        log.warning(
            "cannot %s %s to %s (%s); copying files instead (use --link-mode=copy to silence this)",
            kind,
            os.path.dirname(src),
            os.path.dirname(dst),
            self.fallback_reason,
        )
