"""Pieces of `satchel compile` that need no index: the header's command line."""

from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from satchel.commands.compile import command_line
from satchel.commands.compile_sources import existing_pins, pins_in_text
from satchel.requirements.parser import parse_requirements_file


def test_command_line_leaves_out_what_does_not_change_the_lock() -> None:
    argv = ["compile", "requirements.in", "-v", "--cache-dir", "/tmp/c", "--cache-dir=/x", "--offline",
            "--dry-run", "-o", "requirements.txt", "--timeout", "3", "--generate-hashes"]  # fmt: skip
    assert command_line(argv) == "satchel compile requirements.in -o requirements.txt --generate-hashes"


def test_command_line_hides_credentials() -> None:
    line = command_line(["compile", "-i", "https://user:s3cret@idx.example/simple", "x.in"])
    assert "s3cret" not in line and line.startswith("satchel compile -i https://") and line.endswith(" x.in")


def test_the_pin_scan_agrees_with_the_requirements_parser(tmp_path: Path) -> None:
    text = """\
#
# header
--index-url https://idx/simple
alpha==1.0 \\
    --hash=sha256:00 \\
    --hash=sha256:11
    # via -r requirements.in
Beta_Pkg[x,y] == 2.0.post1 ; python_version < "3.10"
gamma===3.0.dev1  # via alpha
-e {delta}
eps @ https://h/eps-1.0.tar.gz
zeta>=1
eta==1.*
theta==1.0  # trailing comment
"""
    (tmp_path / "delta").mkdir()
    (tmp_path / "delta" / "setup.py").write_text("")
    text = text.replace("{delta}", (tmp_path / "delta").as_uri())
    path = tmp_path / "requirements.txt"
    path.write_text(text.replace("--hash=sha256:00", "--hash=sha256:" + "0" * 64).replace("--hash=sha256:11", "--hash=sha256:" + "1" * 64))
    parsed = parse_requirements_file(path)
    expected = {}
    for spec in parsed.requirements:
        exact = [s for s in spec.specifier if s.operator in ("==", "===")]
        if spec.url is None and spec.name and len(exact) == 1 and "*" not in exact[0].version:
            expected[spec.name] = Version(exact[0].version)
    assert pins_in_text(path.read_text()) == expected
    assert expected == {"alpha": Version("1.0"), "beta-pkg": Version("2.0.post1"),
                        "gamma": Version("3.0.dev1"), "theta": Version("1.0")}  # fmt: skip


def test_existing_pylock_pins_read_with_a_bom_and_skipped_when_nested_too_deeply(tmp_path: Path) -> None:
    output = tmp_path / "pylock.toml"
    lock = 'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "alpha"\nversion = "1.0"\ndirectory = { path = "." }\n'
    output.write_bytes(b"\xef\xbb\xbf" + lock.encode())
    assert existing_pins(output, "pylock.toml") == {"alpha": Version("1.0")}
    output.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert existing_pins(output, "pylock.toml") == {}  # a warning: the compile starts afresh


def test_package_markers_follow_the_paths_that_need_a_package() -> None:
    from satchel.commands.compile_lock import package_markers
    from satchel.index.metadata import CoreMetadata
    from satchel.resolve import Resolution, ResolvedPackage

    def pkg(name: str, requires: tuple[str, ...] = (), extras: tuple[str, ...] = ()) -> ResolvedPackage:
        return ResolvedPackage(name, Version("1"), None, None, False, extras=extras, requires=requires)

    resolution = Resolution(
        packages={
            "app": pkg("app", ("win", "both", "always", "feat"), extras=("x",)),
            "win": pkg("win", ("winchild",)),
            "winchild": pkg("winchild"),
            "both": pkg("both"),
            "always": pkg("always"),
            "feat": pkg("feat"),
            "root2": pkg("root2"),
        },
        roots=("app", "root2"),
    )
    meta = {
        "app": CoreMetadata("app", Version("1"), (
            'win ; sys_platform == "win32"',
            'both ; sys_platform == "win32"',
            'both ; python_version < "3.13"',
            'always ; python_version < "3.13"',
            'feat ; extra == "x"',
            'never ; sys_platform == "darwin"',
        )),
        "win": CoreMetadata("win", Version("1"), ("winchild",)),
        "root2": CoreMetadata("root2", Version("1"), ("always",)),
    }  # fmt: skip
    env = {"sys_platform": "win32", "python_version": "3.12"}
    got = package_markers(resolution, [("app", None), ("root2", 'os_name == "nt"')], meta, env)
    assert got == {
        "app": None,
        "win": 'sys_platform == "win32"',
        "winchild": 'sys_platform == "win32"',  # its parent's condition
        "both": 'sys_platform == "win32" or python_version < "3.13"',
        "always": 'python_version < "3.13" or os_name == "nt"',
        "feat": None,  # an extra's marker counts as none
        "root2": 'os_name == "nt"',
    }
