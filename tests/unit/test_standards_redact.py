"""Credentials in URLs (satchel.standards.redact): pip's policy, everywhere satchel shows a URL."""

from __future__ import annotations

import random

import pytest
from pip._internal.utils.misc import redact_auth_from_url  # pip, pinned as a test tool

from satchel.index.http import redact_url
from satchel.requirements.urls import redact as requirements_redact
from satchel.standards.redact import redact

_SCHEMES = ["https", "http", "git+https", "git+ssh", "file", "s3"]
_USERS = ["", "u", "user.name", "__token__", "a-b_c", "x%40y"]
_PASSWORDS = [None, "", "p", "s3cret", "pa:ss", "p%2Fw"]
_HOSTS = ["h.test", "127.0.0.1:8080", "[::1]:3128", "idx"]
_TAILS = ["", "/", "/simple/x/", "/a.whl#sha256=ab", "?q=1", "/p@v1.0", "/o/r.git@main#egg=r"]


def test_single_urls_are_redacted_as_pip_redacts_them() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        user, password = rng.choice(_USERS), rng.choice(_PASSWORDS)
        userinfo = "" if rng.random() < 0.2 else user + ("" if password is None else f":{password}") + "@"
        url = f"{rng.choice(_SCHEMES)}://{userinfo}{rng.choice(_HOSTS)}{rng.choice(_TAILS)}"
        assert redact(url) == redact_auth_from_url(url), url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:s3cret@h.test/x", "https://u:****@h.test/x"),
        ("https://tok@h.test/x", "https://****@h.test/x"),
        ("https://h.test/x@y", "https://h.test/x@y"),  # an "@" in the path is not userinfo
        ("user@example.org", "user@example.org"),  # not a URL
        (
            "cannot fetch https://a:b@one.test/ (via http://p:q@proxy.test:3128)",
            "cannot fetch https://a:****@one.test/ (via http://p:****@proxy.test:3128)",
        ),
        ("git+ssh://git@h.test/o/r.git@v1", "git+ssh://****@h.test/o/r.git@v1"),
    ],
)
def test_texts(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_one_policy_everywhere() -> None:
    url = "https://u:s3cret@h.test/simple/"
    assert redact_url(url) == requirements_redact(url) == redact(url) == "https://u:****@h.test/simple/"
