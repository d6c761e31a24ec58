"""Which root requirements an install or compile fetches the index pages of before the
resolver starts (commands.install.looked_up): only those it will surely look up."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from satchel.commands.install import looked_up
from satchel.commands.request import InstallRequest
from satchel.install.installed import InstalledDist
from satchel.requirements.files import parse_command_line


def _request(tmp_path: Path, *lines: str, constraints: str = "", **options: Any) -> InstallRequest:
    files = []
    if constraints:
        path = tmp_path / "constraints.txt"
        path.write_text(constraints)
        files.append(path)
    parsed = parse_command_line(list(lines), constraint_files=files)
    return dataclasses.replace(InstallRequest(requirements=parsed), **options)


def _installed(*names: str) -> dict[str, InstalledDist]:
    # (looked_up asks only whether a name is installed)
    return dict.fromkeys(names)  # type: ignore[arg-type]


def test_named_roots_without_url_or_marker_are_looked_up(tmp_path: Path) -> None:
    wheel = tmp_path / "local-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")  # (a path must exist to be read; it is not opened)
    request = _request(
        tmp_path,
        "Requests[socks]>=2",
        "attrs",
        "win-only ; sys_platform == 'win32'",
        f"direct @ {wheel.as_uri()}",
        str(wheel),
        "pinned",
        constraints=f"pinned @ {wheel.as_uri()}\n",
    )
    assert looked_up(request, request.requirements, {}) == ["requests", "attrs"]


def test_installed_roots_only_when_asked_again(tmp_path: Path) -> None:
    request = _request(tmp_path, "attrs", "idna")
    installed = _installed("attrs")
    assert looked_up(request, request.requirements, installed) == ["idna"]
    for again in ({"upgrade": True}, {"reinstall": True}, {"upgrade_packages": ["Attrs"]}):
        asked = dataclasses.replace(request, **again)
        assert looked_up(asked, asked.requirements, installed) == ["attrs", "idna"], again
