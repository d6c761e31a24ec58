"""Wheel tags computed from probe facts must equal packaging's sys_tags() run in the target."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import packaging
import pytest
from packaging import tags as ptags
from packaging.specifiers import SpecifierSet

from satchel.python.facts import ElfHeader, ProbeFacts
from satchel.python.probe import probe_facts, run_probe
from satchel.python.tags import compute_tags, platform_tags
from tests.support.pythons import SUPPORTED, pyenv_python

SYS_TAGS = "import json; from packaging.tags import sys_tags; print(json.dumps([str(t) for t in sys_tags()]))"


@pytest.fixture(scope="module")
def facts() -> ProbeFacts:
    """Facts of a glibc x86_64 CPython 3.11 (the running one, with the platform bits pinned)."""
    real = probe_facts(Path(sys.executable))
    markers = dict(real.markers, platform_system="Linux", sys_platform="linux", os_name="posix")
    return dataclasses.replace(
        real,
        version_info=(3, 11, 7),
        implementation_name="cpython",
        markers=markers,
        platform="linux-x86_64",
        pointer_size=8,
        py_version_nodot="311",
        py_debug=False,
        py_gil_disabled=None,
        has_gettotalrefcount=False,
        extension_suffixes=(".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"),
        ext_suffix=".cpython-311-x86_64-linux-gnu.so",
        glibc_version="2.36",
        musl_version=None,
        elf=ElfHeader(capacity=2, encoding=1, machine=62, flags=0),
        manylinux_overrides=None,
    )


def test_running_interpreter_matches_sys_tags() -> None:
    """The acceptance check: same tags, same order, as packaging computes in-process."""
    interp = run_probe(Path(sys.executable))
    assert list(interp.tags) == [str(t) for t in ptags.sys_tags()]


@pytest.mark.parametrize("minor", SUPPORTED)
def test_pyenv_interpreter_matches_its_own_sys_tags(minor: str, tmp_path: Path) -> None:
    exe = pyenv_python(minor)
    if exe is None:
        pytest.skip(f"no pyenv Python {minor} installed")
    requires = importlib.metadata.metadata("packaging")["Requires-Python"] or ""
    interp = run_probe(exe)
    if not SpecifierSet(requires).contains(interp.version_str):
        pytest.skip(
            f"packaging {packaging.__version__} needs Python {requires}, not {interp.version_str}"
        )
    # Only packaging itself on the target's path: not the rest of this venv's site-packages.
    (tmp_path / "packaging").symlink_to(Path(packaging.__file__).parent)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run(
        [str(exe), "-c", SYS_TAGS], env=env, capture_output=True, text=True, check=True
    )
    assert list(interp.tags) == json.loads(out.stdout)


def platforms_of(tags: tuple[str, ...], prefix: str) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        if tag.startswith(prefix) and tag.split("-", 2)[2] not in seen:
            seen.append(tag.split("-", 2)[2])
    return seen


def test_glibc_platforms_with_legacy_aliases_in_order(facts: ProbeFacts) -> None:
    plats = platform_tags(facts)
    assert plats[0] == "manylinux_2_36_x86_64"
    assert plats[-1] == "linux_x86_64"
    assert plats[-2] == "manylinux1_x86_64"
    assert plats[-3] == "manylinux_2_5_x86_64"
    i = plats.index("manylinux_2_17_x86_64")
    assert plats[i + 1 : i + 3] == ["manylinux2014_x86_64", "manylinux_2_16_x86_64"]
    i = plats.index("manylinux_2_12_x86_64")
    assert plats[i + 1] == "manylinux2010_x86_64"
    assert "manylinux_2_4_x86_64" not in plats
    assert len([p for p in plats if p.startswith("manylinux_2_")]) == 36 - 5 + 1


def test_aarch64_stops_at_glibc_2_17(facts: ProbeFacts) -> None:
    f = dataclasses.replace(facts, platform="linux-aarch64", glibc_version="2.28")
    plats = platform_tags(f)
    assert plats[0] == "manylinux_2_28_aarch64"
    assert plats[-3:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]


def test_musl(facts: ProbeFacts) -> None:
    f = dataclasses.replace(facts, glibc_version=None, musl_version=(1, 2))
    assert platform_tags(f) == [
        "musllinux_1_2_x86_64",
        "musllinux_1_1_x86_64",
        "musllinux_1_0_x86_64",
        "linux_x86_64",
    ]


def test_32_bit_interpreter_on_64_bit_kernel(facts: ProbeFacts) -> None:
    i686 = ElfHeader(capacity=1, encoding=1, machine=3, flags=0)
    f = dataclasses.replace(facts, pointer_size=4, elf=i686, glibc_version="2.17")
    plats = platform_tags(f)
    assert plats[0] == "manylinux_2_17_i686"
    assert plats[-1] == "linux_i686"
    # An executable whose ELF header is not i386 gets no manylinux tags.
    f = dataclasses.replace(f, elf=None)
    assert platform_tags(f) == ["linux_i686"]


def test_manylinux_module_can_veto(facts: ProbeFacts) -> None:
    f = dataclasses.replace(facts, manylinux_overrides={"2_17_x86_64": False, "2_5_x86_64": False})
    plats = platform_tags(f)
    assert "manylinux_2_17_x86_64" not in plats
    assert "manylinux2014_x86_64" not in plats
    assert "manylinux1_x86_64" not in plats
    assert "manylinux_2_18_x86_64" in plats


def test_cpython_abi3_and_order(facts: ProbeFacts) -> None:
    tags = compute_tags(facts)
    assert tags[0] == "cp311-cp311-manylinux_2_36_x86_64"
    first_abi3 = tags.index("cp311-abi3-manylinux_2_36_x86_64")
    first_none = tags.index("cp311-none-manylinux_2_36_x86_64")
    assert tags.index("cp311-cp311-linux_x86_64") < first_abi3 < first_none
    assert "cp32-abi3-linux_x86_64" in tags
    assert "cp31-abi3-linux_x86_64" not in tags
    assert tags.index("cp311-none-any") < tags.index("py311-none-any") < tags.index("py3-none-any")
    assert tags[-1] == "py30-none-any"


def test_free_threaded_cp313t(facts: ProbeFacts) -> None:
    f = dataclasses.replace(
        facts,
        version_info=(3, 13, 0),
        py_version_nodot="313",
        py_gil_disabled=True,
        ext_suffix=".cpython-313t-x86_64-linux-gnu.so",
    )
    tags = compute_tags(f)
    assert tags[0] == "cp313-cp313t-manylinux_2_36_x86_64"
    assert not any(t.startswith("cp313-cp313-") for t in tags)
    assert not any("-abi3-" in t for t in tags)  # free-threaded builds cannot load abi3 wheels
    assert "cp313-none-linux_x86_64" in tags
    assert tags == tuple(
        str(t)
        for t in (
            *ptags.cpython_tags((3, 13), ["cp313t"], platform_tags(f)),
            *ptags.compatible_tags((3, 13), "cp313", platform_tags(f)),
        )
    )


def test_free_threaded_flag_ignored_before_3_13(facts: ProbeFacts) -> None:
    f = dataclasses.replace(facts, py_gil_disabled=True)
    assert compute_tags(f)[0] == "cp311-cp311-manylinux_2_36_x86_64"


def test_debug_build_also_loads_normal_extensions(facts: ProbeFacts) -> None:
    f = dataclasses.replace(facts, py_debug=True)
    tags = compute_tags(f)
    assert tags[0] == "cp311-cp311d-manylinux_2_36_x86_64"
    assert "cp311-cp311-manylinux_2_36_x86_64" in tags


def test_pypy(facts: ProbeFacts) -> None:
    f = dataclasses.replace(
        facts,
        implementation_name="pypy",
        version_info=(3, 10, 14),
        py_version_nodot="310",
        ext_suffix=".pypy310-pp73-x86_64-linux-gnu.so",
    )
    tags = compute_tags(f)
    assert tags[0] == "pp310-pypy310_pp73-manylinux_2_36_x86_64"
    assert "pp310-none-linux_x86_64" in tags
    assert "pp3-none-any" in tags
    assert not any("abi3" in t for t in tags)


def test_macos(facts: ProbeFacts) -> None:
    markers = dict(facts.markers, platform_system="Darwin", sys_platform="darwin")
    f = dataclasses.replace(
        facts, markers=markers, platform="macosx-11.0-arm64", mac_version="14.2", mac_arch="arm64"
    )
    assert platform_tags(f) == list(ptags.mac_platforms((14, 2), "arm64"))
    assert compute_tags(f)[0] == "cp311-cp311-macosx_14_0_arm64"


def test_macos_without_any_platform_never_uses_the_running_machines(facts: ProbeFacts) -> None:
    markers = dict(facts.markers, platform_system="Darwin", sys_platform="darwin")
    f = dataclasses.replace(facts, markers=markers, mac_version="10.3", mac_arch="ppc64")
    assert platform_tags(f) == []
    tags = compute_tags(f)
    assert tags
    assert all(t.endswith("-any") for t in tags)


def test_windows(facts: ProbeFacts) -> None:
    markers = dict(facts.markers, platform_system="Windows", sys_platform="win32", os_name="nt")
    f = dataclasses.replace(
        facts, markers=markers, platform="win-amd64", glibc_version=None, elf=None
    )
    tags = compute_tags(f)
    assert tags[0] == "cp311-cp311-win_amd64"
    assert "cp311-abi3-win_amd64" in tags
    assert "py3-none-win_amd64" in tags
    assert platforms_of(tags, "cp311-cp311-") == ["win_amd64"]
