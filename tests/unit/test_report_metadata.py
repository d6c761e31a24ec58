"""The report's PEP 566 JSON form of core metadata, differentially against pip's own conversion
(``pip._internal.metadata._json.msg_to_json``, from the pinned pip in the test venv)."""

from __future__ import annotations

import email.parser
import email.policy

import pytest

from satchel.commands.report import metadata_json

pip_json = pytest.importorskip("pip._internal.metadata._json")

CASES = [
    b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\n\n",
    b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nKeywords: one, two ,three\n\n",
    b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nKeywords: one two  three\n\n",
    (
        b"Metadata-Version: 2.4\nName: Some.Thing\nVersion: 2.0rc1\nSummary: A summary\n"
        b"Home-page: https://example.invalid\nAuthor: Someone\nAuthor-email: Someone <s@example.invalid>\n"
        b"License-Expression: MIT\nLicense-File: LICENSE\nLicense-File: NOTICE\n"
        b"Classifier: Programming Language :: Python\nClassifier: Typing :: Typed\n"
        b"Requires-Dist: b>=1\nRequires-Dist: c ; extra == 'x'\nRequires-Python: >=3.8\n"
        b"Project-URL: Source, https://example.invalid/src\nProvides-Extra: x\nDynamic: Requires-Dist\n"
        b"X-Unknown: dropped\nDescription-Content-Type: text/markdown\n\n# Title\n\nBody text\n  indented\n"
    ),
    b"Metadata-Version: 1.2\nName: old\nVersion: 0.1\nDescription: one line\n        continued\nPlatform: any\n\n",
    "Metadata-Version: 2.1\nName: unicode\nVersion: 1\nAuthor: Zoë Ünïcødé\n\nBödy ✓\n".encode(),
]


@pytest.mark.parametrize("data", CASES)
def test_same_as_pip(data: bytes) -> None:
    # (pip reads METADATA as UTF-8 text: importlib.metadata's read_text, then the email parser)
    msg = email.parser.Parser(policy=email.policy.compat32).parsestr(data.decode("utf-8"))
    assert metadata_json(data) == pip_json.msg_to_json(msg)
