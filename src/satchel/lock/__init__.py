"""Lock files out: a resolution, described as :class:`LockedPackage` records, written as a
pip-tools style requirements.txt (:mod:`satchel.lock.requirements_txt`) or a PEP 751
pylock.toml (:mod:`satchel.lock.pylock`). Knows nothing of the resolver or the index."""

from __future__ import annotations

from satchel.lock.models import Lock, LockedFile, LockedPackage, lock_format

__all__ = ["Lock", "LockedFile", "LockedPackage", "lock_format"]
