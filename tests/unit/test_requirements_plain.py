"""Requirement files in the narrow form (``satchel.requirements.plain``) against the full parser
(``parse_command_line``, packaging underneath): whatever the narrow reader reads, the full parser
reads the same way (names, extras, specifiers, markers), without an error, option, URL, path,
hash or editable; everything else the narrow reader declines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.version import Version

from satchel.errors import SatchelError
from satchel.requirements.parser import parse_command_line
from satchel.requirements.plain import ARCHIVE_HINTS, plain_file_lines, read_plain
from satchel.requirements.urls import ARCHIVE_SUFFIXES
from satchel.standards.versions import contains_all, parse_version

_LINES = [
    "foo", "Foo_Bar>=1.0", "a.b-c[x, Y]>=1,<2", "bar ~= 1.4.5", "baz==1.*", "q (>=1.0)", "q!=1.5 ; os_name == 'nt'",
    "r; python_version < '3.8'", "s >= 2024.05.06", "t===1.0", "u @ https://x.invalid/u.whl", "./local",
    "pkg.whl", "archive.tar.gz", "-r other.txt", "--index-url https://x.invalid/simple", "v --hash=sha256:" + "0" * 64,
    "w>=1.0 \\", "x>=${VERSION}", "y#frag", "-e .", "z; extra == 'a'", "t1>=1.0; python_full_version >= '3.11.4'",
    "caf\u00e9", "m>=1.0+local", "n[]", "o; platform_release >= '6'", "p (>=1,", "k>=1.0 -x",
]


def _file(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 5)):
        line = rng.choice(_LINES)
        if rng.random() < 0.15:
            line += rng.choice(["  # note", " #", "\t# x", "# glued"])
        if rng.random() < 0.1:
            line = rng.choice(["", "   ", "# comment", "\t"]) + ("\n" + line)
        lines.append(line)
    return rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n"])


_VERSIONS = ["0.5", "1.0", "1.4.6", "1.5", "2.0", "2.0rc1", "2024.5.6", "1.0.post1"]
_ENV = {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.7", "os_name": "posix"}


def test_plain_files_read_as_the_full_parser_reads_them(tmp_path: Path) -> None:
    rng = random.Random(2)
    answered = 0
    for n in range(3000):
        reqs, cons = tmp_path / f"r{n}.txt", tmp_path / f"c{n}.txt"
        reqs.write_bytes(_file(rng).encode("utf-8"))
        cons.write_bytes(_file(rng).encode("utf-8"))
        plain = read_plain([], [reqs.name], [cons.name], str(tmp_path))
        if plain is None:
            continue
        try:
            full = parse_command_line(requirement_files=[reqs.name], constraint_files=[cons.name], base_dir=tmp_path)
        except SatchelError as e:  # pragma: no cover - what this test is for
            pytest.fail(f"plain, but the full parser fails: {e.message}")
        answered += 1
        assert not (full.index_url or full.extra_index_urls or full.find_links or full.no_index or full.files[2:])
        for mine, theirs in ((plain[0], full.requirements), (plain[1], full.constraints)):
            assert len(mine) == len(theirs)
            for m, t in zip(mine, theirs, strict=True):
                assert not (t.url or t.hashes or t.editable) and t.requirement is not None
                assert (m.name, m.extras) == (t.name, t.extras), (m, t)
                for v in _VERSIONS:
                    nv = parse_version(v)
                    assert nv is not None
                    assert contains_all(m.specifiers, nv) == t.specifier.contains(Version(v), prereleases=True)
                marker = t.requirement.marker
                assert (m.marker is None) == (marker is None)
                if marker is not None:
                    assert m.holds(_ENV, "") == marker.evaluate({**_ENV, "extra": ""})
    assert answered > 150


def test_command_line_requirements() -> None:
    assert read_plain(["foo>=1", " Bar "], [], [], "/") is not None
    for item in ["foo @ https://x.invalid/f.whl", "./foo", "-e .", "foo.zip", "foo===1"]:
        assert read_plain([item], [], [], "/") is None, item


def test_what_the_narrow_reader_declines(tmp_path: Path) -> None:
    assert plain_file_lines("\ufefffoo\n".encode()) is None  # a BOM
    assert plain_file_lines(b"# -*- coding: latin-1 -*-\nfoo\n") is None
    assert plain_file_lines(b"foo \\\n>=1\n") is None
    assert plain_file_lines(b"foo#bar\n") is None
    assert plain_file_lines(b"foo  # bar\n\n#x\n") == ["foo"]
    assert read_plain([], ["missing.txt"], [], str(tmp_path)) is None
    assert read_plain([], ["pyproject.toml"], [], str(tmp_path)) is None
    (tmp_path / "c.txt").write_text("foo[x]>=1\n")
    assert read_plain(["foo"], [], ["c.txt"], str(tmp_path)) is None  # extras in a constraint: an error


def test_archive_hints_cover_every_archive_suffix() -> None:
    assert all(any(hint in suffix for hint in ARCHIVE_HINTS) for suffix in ARCHIVE_SUFFIXES)
