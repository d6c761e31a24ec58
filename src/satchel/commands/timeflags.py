"""``--exclude-newer DATE|DURATION`` (uv's name; pip's ``--uploaded-prior-to`` is an alias):
parsed once into an aware UTC datetime."""

from __future__ import annotations

import re

from satchel.errors import SatchelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from datetime import datetime

    from satchel.commands.request import InstallRequest

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
# (patterns compiled by ``re`` when first used: an install without --exclude-newer never does)
_FRIENDLY = r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*(?:ago)?\s*$"
_ISO_DURATION = r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"


def parse_exclude_newer(text: str, *, now: datetime | None = None) -> datetime:
    """A cut-off time from an RFC 3339 / ISO 8601 timestamp (``2024-03-01T12:00:00Z``; without
    an offset: local time), a date (``2024-03-01``: midnight local time, so that day's uploads
    are excluded), or a duration back from now (``7 days``, ``2 weeks``, ``12h``, ``P1W``).
    Raises :class:`SatchelError` for anything else, and for a time at the ends of the calendar
    (a duration reaching back before the year 1, ``9999-12-31T23:00:00-05:00``, ``0001-01-01``)."""
    from datetime import datetime, timedelta, timezone

    value = text.strip()
    current = now or datetime.now(timezone.utc)
    seconds = _duration(value)
    if seconds is not None:
        try:
            return current - timedelta(seconds=seconds)
        except OverflowError:
            raise SatchelError(
                f"--exclude-newer {text!r}: a duration reaching back before the year 1",
                hint="give a shorter duration, or a date such as 2024-03-01",
            ) from None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SatchelError(
            f"--exclude-newer {text!r}: not a date, a timestamp or a duration",
            hint="for example 2024-03-01, 2024-03-01T12:00:00Z or '7 days'",
        ) from None
    try:
        if when.tzinfo is None:
            when = when.astimezone()  # naive: local time, like pip and uv
        return when.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # (past the year 9999 or before 1, here or in UTC)
        raise SatchelError(
            f"--exclude-newer {text!r}: out of the range of dates satchel can use",
            hint="give a time between 0001-01-02 and 9999-12-30, for example 2024-03-01",
        ) from None


def _duration(value: str) -> float | None:
    match = re.match(_FRIENDLY, value, re.IGNORECASE)
    if match is not None and match.group(2).lower() in _UNITS:
        return float(match.group(1)) * _UNITS[match.group(2).lower()]
    match = re.match(_ISO_DURATION, value, re.IGNORECASE)
    if match is not None and value.upper() not in ("P", "PT"):
        weeks, days, hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        return weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + secs
    return None


def exclude_newer_of(args: argparse.Namespace | InstallRequest) -> datetime | None:
    """--exclude-newer of a command's options (an install request or another command's arguments)."""
    text = getattr(args, "exclude_newer", None)
    return None if text is None else parse_exclude_newer(text)
