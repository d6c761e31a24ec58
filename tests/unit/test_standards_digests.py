"""Digests (satchel.standards.digests): hashlib's answers, one place for every layer."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.standards.digests import (
    DIGEST_LENGTHS,
    data_digest,
    file_digest,
    hash_allowed,
    is_hex_digest,
    normalize_hash,
)


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7])
@pytest.mark.parametrize("algorithm", sorted(DIGEST_LENGTHS))
def test_file_and_data_digests_are_hashlibs(tmp_path: Path, size: int, algorithm: str) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    want = hashlib.new(algorithm, data).hexdigest()
    assert file_digest(path, algorithm) == (want, size)
    assert file_digest(str(path), algorithm) == (want, size)
    assert data_digest(data, algorithm) == want
    assert is_hex_digest(algorithm, want) and len(want) == DIGEST_LENGTHS[algorithm]


def test_hex_digests() -> None:
    good = "ab" * 32
    assert is_hex_digest("sha256", good)
    assert not is_hex_digest("sha256", good.upper())  # digests are lower-cased when read
    assert not is_hex_digest("sha256", good[:-1])
    assert not is_hex_digest("sha256", good[:-1] + "g")
    assert not is_hex_digest("sha384", good)
    assert not is_hex_digest("md5", "ab" * 16)  # not an algorithm satchel accepts
    # anywhere in the digest, not only at its ends
    assert not is_hex_digest("sha256", "ab" * 16 + "g" + "b" + "ab" * 15)
    assert not is_hex_digest("sha256", "ab" * 16 + " " + "b" + "ab" * 15)
    assert not is_hex_digest("sha256", "ab" * 16 + "\u0663" + "b" + "ab" * 15)  # an Arabic-Indic 3


def test_hex_digests_agree_with_checking_each_character() -> None:
    rng = random.Random(7)
    alphabet = "0123456789abcdefABCDEFgxz -\u0663\u00e9"
    for _ in range(20_000):
        length = rng.choice((63, 64, 64, 64, 65))
        value = "".join(
            rng.choice("0123456789abcdef") if rng.random() < 0.97 else rng.choice(alphabet)
            for _ in range(length)
        )
        want = len(value) == 64 and all(c in "0123456789abcdef" for c in value)
        assert is_hex_digest("sha256", value) is want, value


def test_hash_options() -> None:
    assert normalize_hash(" SHA256 : ABcd ") == "sha256:abcd"
    digest = "ab" * 32
    allowed = frozenset({f"sha256:{digest}"})
    assert hash_allowed({"sha256": digest.upper()}, allowed)
    assert not hash_allowed({"sha256": "cd" * 32}, allowed)
    assert not hash_allowed({"sha256": "cd" * 32, "md5": "x"}, allowed)
    assert hash_allowed({"md5": "x"}, allowed)  # nothing comparable: the download is checked
    assert hash_allowed({}, allowed)


def test_importing_it_does_not_import_hashlib() -> None:
    code = (
        "import sys; from satchel.standards import digests; from satchel.cache import store; "
        "print('hashlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
