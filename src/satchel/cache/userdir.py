"""The user cache directory, as ``platformdirs.user_cache_dir("satchel", appauthor=False)``
answers it, without importing platformdirs on Linux in the usual environments.

A shortcut around a library (platformdirs imports tempfile, shutil and random, a few ms of
the no-op install's start-up): ``narrow_user_cache_dir`` answers only where platformdirs'
answer is certain -- Linux (not Android), ``XDG_CACHE_HOME`` unset, empty or absolute, else
an absolute ``HOME`` -- and None everywhere else, where platformdirs is asked.
``tests/unit/test_startup.py`` compares the two over many environments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

APP = "satchel"


def narrow_user_cache_dir(environ: Mapping[str, str] = os.environ) -> str | None:
    """platformdirs' user cache directory for satchel where it is certain, else None."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    if "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ:
        return None  # platformdirs may take it for an Android app
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg:
        # platformdirs uses an absolute XDG_CACHE_HOME as it is, and ignores a relative one
        # (older releases used it anyway): only the absolute one is certain.
        return os.path.join(xdg, APP) if xdg.startswith("/") else None
    home = environ.get("HOME")
    if not home or not home.startswith("/"):
        return None  # no HOME, or a relative one: platformdirs asks the password database
    # os.path.expanduser("~/.cache") with an absolute HOME
    return os.path.join(home.rstrip("/") + "/.cache", APP)


def user_cache_dir() -> str:
    """satchel's user cache directory (``platformdirs.user_cache_dir``)."""
    found = narrow_user_cache_dir()
    if found is not None:
        return found
    import platformdirs

    return str(platformdirs.user_cache_dir(APP, appauthor=False))
