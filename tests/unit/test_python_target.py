"""Targets described rather than probed: markers and tags for another Python or platform,
checked against packaging (the running interpreter) and pip (``--platform`` and friends)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging import tags as ptags
from packaging.markers import Marker, default_environment

from satchel.errors import SatchelError
from satchel.python.interpreter import Interpreter
from satchel.python.probe import run_probe
from satchel.python.target import (
    PLATFORM_NAMES,
    expand_platform_tags,
    parse_platform,
    parse_python_version,
    target_environment,
    wheel_tags,
)


@pytest.fixture(scope="module")
def running() -> Interpreter:
    return run_probe(Path(sys.executable))


def test_the_running_interpreter_described_as_itself_has_its_own_tags(running: Interpreter) -> None:
    target = target_environment(running, python_version=sys.version_info[:2])
    assert list(target.tags) == [str(t) for t in ptags.sys_tags()]
    assert target.markers == running.markers
    assert target.version == tuple(sys.version_info[:3])


def test_another_python_version_changes_the_version_markers_and_tags(running: Interpreter) -> None:
    target = target_environment(running, python_version=(3, 9))
    assert target.version == (3, 9, 0)
    assert target.markers["python_version"] == "3.9"
    assert target.markers["python_full_version"] == "3.9.0"
    assert target.markers["sys_platform"] == running.markers["sys_platform"]
    assert Marker('python_version < "3.10"').evaluate(target.markers)
    assert target.tags[0].startswith("cp39-cp39-")
    assert "cp39-abi3-" + target.tags[0].split("-")[2] in target.tags
    assert not any(t.startswith("cp311") for t in target.tags)
    # what packaging computes for the same version over the running machine's platforms
    plats = list(ptags.platform_tags())
    expected = [*ptags.cpython_tags((3, 9), platforms=plats), *ptags.compatible_tags((3, 9), "cp39", plats)]
    assert list(target.tags) == list(dict.fromkeys(str(t) for t in expected))
    assert target.interpreter(running).version_str == "3.9.0"
    assert target.interpreter(running).executable == running.executable


def test_windows_target(running: Interpreter) -> None:
    target = target_environment(running, python_version=(3, 12), platform=parse_platform("windows"))
    m = target.markers
    assert (m["sys_platform"], m["os_name"], m["platform_system"], m["platform_machine"]) == (
        "win32", "nt", "Windows", "AMD64",
    )  # fmt: skip
    assert Marker('sys_platform == "win32" and python_version >= "3.12"').evaluate(m)
    assert target.tags[:3] == ("cp312-cp312-win_amd64", "cp312-abi3-win_amd64", "cp312-none-win_amd64")
    assert "py3-none-any" in target.tags
    assert not any("linux" in t for t in target.tags)
    assert target.description == "Python 3.12 on windows"


def test_linux_targets_follow_uv_glibc(running: Interpreter) -> None:
    linux = target_environment(running, platform=parse_platform("linux"))
    plats = {t.rsplit("-", 1)[1] for t in linux.tags}
    assert "manylinux_2_28_x86_64" in plats and "manylinux2014_x86_64" in plats
    assert "manylinux_2_29_x86_64" not in plats and "linux_x86_64" not in plats
    new = target_environment(running, platform=parse_platform("x86_64-manylinux_2_34"))
    assert any(t.endswith("manylinux_2_34_x86_64") for t in new.tags)
    arm = target_environment(running, platform=parse_platform("aarch64-manylinux2014"))
    arm_plats = [t.rsplit("-", 1)[1] for t in arm.tags if t.rsplit("-", 1)[1] != "any"]
    assert set(arm_plats) == {"manylinux_2_17_aarch64", "manylinux2014_aarch64"}
    assert arm.markers["platform_machine"] == "aarch64"
    musl = target_environment(running, platform=parse_platform("x86_64-unknown-linux-musl"))
    assert any(t.endswith("musllinux_1_2_x86_64") for t in musl.tags)
    assert not any("manylinux" in t for t in musl.tags)


def test_macos_target_defaults_to_13_and_honours_the_deployment_target(running: Interpreter) -> None:
    mac = parse_platform("macos", environ={})
    assert (mac.arch, mac.version) == ("arm64", (13, 0))
    tags = target_environment(running, platform=mac).tags
    assert any(t.endswith("macosx_13_0_arm64") for t in tags)
    assert not any(t.endswith("macosx_14_0_arm64") for t in tags)
    assert any(t.endswith("macosx_11_0_arm64") for t in tags)
    old = parse_platform("x86_64-apple-darwin", environ={"MACOSX_DEPLOYMENT_TARGET": "10.15"})
    assert old.version == (10, 15)
    assert target_environment(running, platform=old).markers["sys_platform"] == "darwin"


def test_every_listed_name_parses_and_has_tags(running: Interpreter) -> None:
    for name in PLATFORM_NAMES:
        platform = parse_platform(name, environ={})
        assert platform.tags(), name
        env = target_environment(running, python_version=(3, 12), platform=platform)
        assert env.markers["platform_system"], name
        # a full marker environment: every variable packaging knows is there
        assert set(default_environment()) <= set(env.markers), name


def test_bad_descriptions_are_clear_errors() -> None:
    with pytest.raises(SatchelError, match="unknown --python-platform 'solaris'") as e:
        parse_platform("solaris")
    assert e.value.hint and "x86_64-manylinux_2_28" in e.value.hint
    for bad in ("three", "2.7", "3.x"):
        with pytest.raises(SatchelError, match="--python-version"):
            parse_python_version(bad)
    assert parse_python_version("3.9") == (3, 9)
    assert parse_python_version("39") == (3, 9)
    assert parse_python_version("3.10.4") == (3, 10, 4)


@pytest.mark.parametrize(
    ("version", "impl", "abis", "platforms"),
    [
        ("39", "cp", None, ["win_amd64"]),
        ("3.11", "cp", ["cp311"], ["manylinux2014_x86_64"]),
        ("310", "cp", ["abi3", "none"], ["macosx_11_0_arm64"]),
        ("3.8", "cp", None, ["manylinux_2_28_aarch64", "manylinux2010_x86_64"]),
        ("310", "pp", ["pypy310_pp73"], ["manylinux_2_17_x86_64"]),
        ("3.12", "py", ["none"], ["any"]),
    ],
)
def test_wheel_tags_match_pips_get_supported(
    version: str, impl: str, abis: list[str] | None, platforms: list[str]
) -> None:
    compatibility_tags = pytest.importorskip("pip._internal.utils.compatibility_tags")
    expected = [
        str(t)
        for t in compatibility_tags.get_supported(
            version=version.replace(".", ""), platforms=platforms, impl=impl, abis=abis
        )
    ]
    ours = wheel_tags(parse_python_version(version), implementation=impl, abis=abis, platforms=platforms)
    assert list(ours) == list(dict.fromkeys(expected))


def test_expand_platform_tags_like_pip() -> None:
    assert expand_platform_tags(["manylinux2014_x86_64"]) == [
        "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
    ]  # fmt: skip
    assert expand_platform_tags(["manylinux2014_aarch64"]) == ["manylinux2014_aarch64"]
    mac = expand_platform_tags(["macosx_11_0_arm64"])
    assert mac[0] == "macosx_11_0_arm64" and "macosx_11_0_universal2" in mac
