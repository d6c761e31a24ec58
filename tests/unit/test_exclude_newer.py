"""--exclude-newer values and PEP 700 upload times (issue 15)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from satchel.commands.timeflags import parse_exclude_newer
from satchel.errors import SatchelError
from satchel.index.models import IndexFile
from satchel.index.pages import parse_upload_time, uploaded_before

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=timezone.utc)),
        ("2024-03-01T12:00:00+02:00", datetime(2024, 3, 1, 10, tzinfo=timezone.utc)),
        ("7 days", NOW - timedelta(days=7)),
        ("2 weeks", NOW - timedelta(weeks=2)),
        ("12h", NOW - timedelta(hours=12)),
        ("1 day ago", NOW - timedelta(days=1)),
        ("P1W", NOW - timedelta(weeks=1)),
        ("P1DT6H", NOW - timedelta(days=1, hours=6)),
        ("PT30M", NOW - timedelta(minutes=30)),
    ],
)
def test_parse_exclude_newer(text: str, expected: datetime) -> None:
    assert parse_exclude_newer(text, now=NOW) == expected


def test_dates_and_naive_times_are_local() -> None:
    local = datetime(2024, 3, 1).astimezone()
    assert parse_exclude_newer("2024-03-01") == local.astimezone(timezone.utc)
    assert parse_exclude_newer("2024-03-01T00:00:00") == local.astimezone(timezone.utc)


@pytest.mark.parametrize("text", ["", "yesterday", "P", "PT", "7 fortnights", "2024-13-01"])
def test_bad_values(text: str) -> None:
    with pytest.raises(SatchelError, match="--exclude-newer"):
        parse_exclude_newer(text, now=NOW)


@pytest.mark.parametrize(
    "text", ["99999999 days", "P99999999D", "9" * 400 + " days", "9999-12-31T23:59:59-05:00", "0001-01-01"]
)
def test_values_out_of_range(text: str) -> None:
    # (were OverflowError and ValueError tracebacks)
    with pytest.raises(SatchelError, match=re.escape(f"--exclude-newer {text!r}")) as info:
        parse_exclude_newer(text, now=NOW)
    assert info.value.hint


def test_the_ends_of_the_range_in_utc() -> None:
    assert parse_exclude_newer("0001-01-01T00:00:00Z") == datetime.min.replace(tzinfo=timezone.utc)
    latest = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert parse_exclude_newer("9999-12-31T23:59:59Z") == latest


def test_upload_times() -> None:
    assert parse_upload_time("2023-06-01T00:00:00.123456789Z") == datetime(
        2023, 6, 1, 0, 0, 0, 123456, tzinfo=timezone.utc
    )
    assert parse_upload_time("2023-06-01T00:00:00") == datetime(2023, 6, 1, tzinfo=timezone.utc)
    assert parse_upload_time("not a time") is None
    files = [
        IndexFile("a-1.whl", "u1", upload_time="2024-01-01T00:00:00Z"),
        IndexFile("a-2.whl", "u2", upload_time="2024-03-01T00:00:00Z"),
        IndexFile("a-3.whl", "u3"),
        IndexFile("a-4.whl", "u4", upload_time="garbage"),
    ]
    kept = uploaded_before("a", files, datetime(2024, 2, 1, tzinfo=timezone.utc))
    assert [f.filename for f in kept] == ["a-1.whl"]
    # At the cut-off exactly: kept.
    kept = uploaded_before("a", files, datetime(2024, 3, 1, tzinfo=timezone.utc))
    assert [f.filename for f in kept] == ["a-1.whl", "a-2.whl"]
