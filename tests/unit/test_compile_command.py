"""Pieces of `satchel compile` that need no index: the header's command line."""

from __future__ import annotations

from satchel.commands.compile import command_line


def test_command_line_leaves_out_what_does_not_change_the_lock() -> None:
    argv = ["compile", "requirements.in", "-v", "--cache-dir", "/tmp/c", "--cache-dir=/x", "--offline",
            "--dry-run", "-o", "requirements.txt", "--timeout", "3", "--generate-hashes"]  # fmt: skip
    assert command_line(argv) == "satchel compile requirements.in -o requirements.txt --generate-hashes"


def test_command_line_hides_credentials() -> None:
    line = command_line(["compile", "-i", "https://user:s3cret@idx.example/simple", "x.in"])
    assert "s3cret" not in line and line.startswith("satchel compile -i https://") and line.endswith(" x.in")
