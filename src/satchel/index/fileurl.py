"""The local path of a ``file:`` URL's path part, without importing ``urllib.request``.

``urllib.request`` imports ``http.client``, ``ssl``, ``socket`` and much of the email package
(about 15 ms of start-up) for ``url2pathname`` alone; a warm install that reads a local
``file:`` index needs only this. A path with no ``%`` escapes and no leading ``//`` (the
plain form of every local index path) is its own pathname on POSIX, in every Python version
(``url2pathname`` only unquotes there); anything else goes to ``url2pathname`` itself.
``tests/unit/test_startup.py`` compares the two.
"""

from __future__ import annotations

import os


def url2pathname(path: str) -> str:
    """``urllib.request.url2pathname(path)``."""
    if os.name == "posix" and "%" not in path and not path.startswith("//"):
        return path
    from urllib.request import url2pathname as library

    return library(path)
