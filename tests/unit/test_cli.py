"""The CLI's own behaviour: fast --version, error formatting, closed pipes."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from satchel.cli import main as cli
from satchel.errors import SatchelError


def _fake_command(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    module = types.ModuleType("fake_cmd")

    def run(args: object, settings: object) -> int:
        raise exc

    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_cmd", module)
    monkeypatch.setitem(cli.COMMANDS, "check", "fake_cmd")


def test_closed_stdout_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_command(monkeypatch, BrokenPipeError(32, "Broken pipe"))
    monkeypatch.setattr(sys, "stdout", open("/dev/null", "w"))  # noqa: SIM115
    assert cli.main(["check"]) == 141


def test_user_error_is_one_line_and_a_hint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_command(monkeypatch, SatchelError("reqs.txt:3: invalid requirement 'x>=>2'", hint="fix it"))
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert err == "error: reqs.txt:3: invalid requirement 'x>=>2'\nhint: fix it\n"


def test_version_imports_nothing_heavy() -> None:
    code = (
        "import sys; from satchel.cli.main import main; main(['--version']); "
        "heavy = [m for m in ('urllib3', 'resolvelib', 'rich', 'packaging.specifiers') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["satchel 0.1.0", "[]"]


def test_help_documents_every_flag() -> None:
    """Every option and argument of every command has a help text (issue 15)."""
    import argparse

    from satchel.cli.main import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif action.help is None:
                missing.append(f"{' '.join(path)} {action.option_strings or action.dest}")

    walk(build_parser(), [])
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "helps"),
    [
        (["cache", "prune", "--bogus"], "satchel cache prune --help"),
        (["index", "versions", "six", "--bogus"], "satchel index versions --help"),
        (["install", "--bogus", "six"], "satchel install --help"),
        (["--bogus"], "satchel --help"),
    ],
)
def test_an_unknown_argument_points_at_its_commands_help(
    argv: list[str], helps: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # (the hint named `satchel --help` for every subcommand: argparse reports unknown
    # arguments from the top-level parser)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: unrecognized arguments: --bogus\n" in err
    assert err.endswith(f"hint: see `{helps}`\n")
