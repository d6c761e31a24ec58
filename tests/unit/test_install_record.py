from __future__ import annotations

import hashlib

import pytest

from satchel.install.record import (
    RecordEntry,
    RecordError,
    b64_to_hex,
    format_record,
    hash_bytes,
    hex_to_b64,
    parse_record,
)
from tests.support.wheels import record_hash


def test_digest_encoding_matches_the_wheel_spec() -> None:
    data = b"hello"
    hexdigest = hashlib.sha256(data).hexdigest()
    assert "sha256=" + hex_to_b64(hexdigest) == record_hash(data)
    assert "=" not in hex_to_b64(hexdigest)
    assert b64_to_hex(hex_to_b64(hexdigest)) == hexdigest


def test_round_trip_with_awkward_paths() -> None:
    sha, size = hash_bytes(b"x")
    entries = [
        RecordEntry.for_sha256("pkg/a,b.py", sha, size),
        RecordEntry.for_sha256('pkg/quote"d.txt', sha, size),
        RecordEntry.for_sha256("../../../bin/tool", sha, size),
        RecordEntry("pkg-1.0.dist-info/RECORD"),
    ]
    text = format_record(entries)
    assert text.endswith("pkg-1.0.dist-info/RECORD,,\n")
    assert parse_record(text) == entries


def test_parse_tolerates_short_rows_and_blank_lines() -> None:
    entries = parse_record("a.py,sha256=abc,3\n\nb.pyc\nc,,\n")
    assert entries == [
        RecordEntry("a.py", "sha256", "abc", 3),
        RecordEntry("b.pyc"),
        RecordEntry("c"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,sha256=x,1,extra\n", "expected 3 fields"),
        ("a,sha256=x,big\n", "malformed size"),
        ("a,sha256=x,-1\n", "negative size"),
        ("a,nohash,1\n", "malformed hash"),
        (",sha256=x,1\n", "empty path"),
    ],
)
def test_malformed_rows_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(RecordError, match=problem) as info:
        parse_record("ok,sha256=x,1\n" + text)
    assert "line 2" in str(info.value)


def test_sha256_record_is_what_format_record_makes() -> None:
    # format_sha256_record writes RECORD rows without csv: byte for byte the csv module's text.
    import random

    from satchel.install.record import format_sha256_record

    rng = random.Random(1307)
    alphabet = "ab/._-, \"'\r\n\t\\é€=#"
    for _ in range(500):
        rows = []
        for _ in range(rng.randint(0, 6)):
            path = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))
            data = rng.randbytes(rng.randint(0, 40))
            rows.append((path, hashlib.sha256(data).hexdigest(), len(data)))
        record = rng.choice(["pkg-1.0.dist-info/RECORD", "odd,name-1.0.dist-info/RECORD"])
        expected = format_record(
            [RecordEntry.for_sha256(p, sha, size) for p, sha, size in rows] + [RecordEntry(record)]
        )
        assert format_sha256_record(rows, record) == expected, rows
