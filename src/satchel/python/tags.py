"""The wheel tags a target interpreter supports, computed in satchel's process from probe facts.

This follows ``packaging.tags.sys_tags()`` step for step, but every fact it would read from the
running process (sysconfig, glibc, the ELF header of ``sys.executable``, ``_manylinux``, macOS
version) comes from the target's probe instead. packaging's public building blocks
(``cpython_tags``, ``generic_tags``, ``compatible_tags``, ``mac_platforms``, ...) do the rest, given
the ABIs and the platform list computed here. For the running interpreter the result equals
``[str(t) for t in packaging.tags.sys_tags()]``, order included (tests/unit/test_python_tags.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from packaging import tags as ptags

if TYPE_CHECKING:
    from satchel.python.facts import ElfHeader, ProbeFacts

# ELF constants (see packaging/_manylinux.py).
_EF_ARM_ABIMASK = 0xFF000000
_EF_ARM_ABI_VER5 = 0x05000000
_EF_ARM_ABI_FLOAT_HARD = 0x00000400
_EM_386 = 3
_EM_ARM = 40
_ELF_32 = 1
_ELF_LSB = 1
_MANYLINUX_ANY_ABI = {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"}
# The legacy manylinux names of glibc versions (PEP 513, 571, 599).
LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
# If glibc ever has a major version 3, assume 2.x ended at 2.50 (as packaging does).
_LAST_GLIBC_MINOR = 50


def compute_tags(facts: ProbeFacts) -> tuple[str, ...]:
    """All tags the target supports, most preferred first, as strings."""
    platforms = platform_tags(facts)
    version = facts.version_info[:2]
    name = interpreter_name(facts)
    if name == "cp":
        specific: Iterable[ptags.Tag] = _with_platforms(
            platforms, lambda plats: ptags.cpython_tags(version, cpython_abis(facts), plats)
        )
    else:
        interpreter = name + interpreter_version(facts)
        specific = _with_platforms(
            platforms, lambda plats: ptags.generic_tags(interpreter, generic_abis(facts), plats)
        )
    if name == "pp":
        compat_interpreter: str | None = "pp3"
    elif name == "cp":
        compat_interpreter = "cp" + interpreter_version(facts)
    else:
        compat_interpreter = None
    compatible = _with_platforms(
        platforms, lambda plats: ptags.compatible_tags(version, compat_interpreter, plats)
    )
    return tuple(str(tag) for tag in (*specific, *compatible))


def _with_platforms(
    platforms: list[str], make: Callable[[list[str]], Iterable[ptags.Tag]]
) -> list[ptags.Tag]:
    """Call packaging with ``platforms``; an empty list must not fall back to the *running*
    machine's platforms (packaging's default), so use a placeholder and drop its tags."""
    if platforms:
        return list(make(platforms))
    placeholder = "satchel_no_platform"
    return [tag for tag in make([placeholder]) if tag.platform != placeholder]


def interpreter_name(facts: ProbeFacts) -> str:
    name = facts.implementation_name
    return ptags.INTERPRETER_SHORT_NAMES.get(name) or name


def interpreter_version(facts: ProbeFacts) -> str:
    return facts.py_version_nodot or _nodot(facts.version_info[:2])


def cpython_abis(facts: ProbeFacts) -> list[str]:
    """The CPython ABI tags, best first: ``cp312``, ``cp313t``, or ``cp312d`` + ``cp312``."""
    version = tuple(facts.version_info[:2])
    nodot = _nodot(version)
    debug = ""
    if facts.py_debug or (
        facts.py_debug is None
        and (facts.has_gettotalrefcount or "_d.pyd" in facts.extension_suffixes)
    ):
        debug = "d"
    threading = "t" if version >= (3, 13) and facts.py_gil_disabled else ""
    abis = [f"cp{nodot}{threading}{debug}"]
    if debug:
        # Debug builds can also load "normal" extension modules.
        abis.append(f"cp{nodot}{threading}")
    return abis


def generic_abis(facts: ProbeFacts) -> list[str]:
    """The ABI of a non-CPython interpreter, from its EXT_SUFFIX (``pypy310_pp73``)."""
    ext_suffix = facts.ext_suffix
    if not ext_suffix or ext_suffix[0] != ".":
        return []
    parts = ext_suffix.split(".")
    if len(parts) < 3:
        return cpython_abis(facts)
    soabi = parts[1]
    if soabi.startswith("cpython"):
        abi = "cp" + soabi.split("-")[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    elif soabi:
        abi = soabi
    else:
        return []
    return [_normalize(abi)]


def platform_tags(facts: ProbeFacts) -> list[str]:
    """The target's platform tags, best first."""
    system = facts.markers.get("platform_system", "")
    if system == "Darwin":
        return _mac_platforms(facts)
    if system == "iOS" and facts.mobile_version and facts.multiarch:
        return list(ptags.ios_platforms(_two_ints(facts.mobile_version), facts.multiarch))
    if system == "Android" and facts.mobile_version:
        abi = facts.platform.split("-")[-1]
        return list(ptags.android_platforms(int(facts.mobile_version), abi))
    if system == "Linux":
        return list(_linux_platforms(facts))
    if system == "Emscripten" and facts.emscripten_version:
        return [f"pyemscripten_{facts.emscripten_version}_wasm32", _normalize(facts.platform)]
    return [_normalize(facts.platform)]


def _mac_platforms(facts: ProbeFacts) -> list[str]:
    if not facts.mac_version:
        return [_normalize(facts.platform)]
    try:
        version = _two_ints(facts.mac_version)
    except ValueError:
        return [_normalize(facts.platform)]
    arch = facts.mac_arch or facts.markers.get("platform_machine", "")
    if facts.pointer_size == 4:
        arch = "ppc" if arch.startswith("ppc") else "i386"
    return list(ptags.mac_platforms(version, arch))


def _linux_platforms(facts: ProbeFacts) -> Iterator[str]:
    linux = _normalize(facts.platform)
    if not linux.startswith("linux_"):
        yield linux
        return
    if facts.pointer_size == 4:
        if linux == "linux_x86_64":
            linux = "linux_i686"
        elif linux == "linux_aarch64":
            linux = "linux_armv8l"
    _, arch = linux.split("_", 1)
    archs = {"armv8l": ["armv8l", "armv7l"]}.get(arch, [arch])
    yield from manylinux_platforms(facts, archs)
    yield from musllinux_platforms(facts, archs)
    for arch in archs:
        yield f"linux_{arch}"


def manylinux_platforms(facts: ProbeFacts, archs: list[str]) -> Iterator[str]:
    """``manylinux_2_X_arch`` from the target's glibc down to 2.5 (x86) or 2.17, each legacy alias
    (manylinux2014, manylinux2010, manylinux1) right after its ``manylinux_2_X`` name."""
    glibc = _parse_glibc(facts.glibc_version)
    if glibc is None or not _have_compatible_abi(facts.elf, archs):
        return
    too_old = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
    maxima = [glibc] + [(major, _LAST_GLIBC_MINOR) for major in range(glibc[0] - 1, 1, -1)]
    for arch in archs:
        for major, top in maxima:
            floor = too_old[1] if major == too_old[0] else -1
            for minor in range(top, floor, -1):
                if not _glibc_compatible(facts, glibc, arch, (major, minor)):
                    continue
                yield f"manylinux_{major}_{minor}_{arch}"
                legacy = LEGACY_MANYLINUX.get((major, minor))
                if legacy:
                    yield f"{legacy}_{arch}"


def musllinux_platforms(facts: ProbeFacts, archs: list[str]) -> Iterator[str]:
    if facts.musl_version is None:
        return
    major, current = facts.musl_version
    for arch in archs:
        for minor in range(current, -1, -1):
            yield f"musllinux_{major}_{minor}_{arch}"


def _glibc_compatible(
    facts: ProbeFacts, glibc: tuple[int, int], arch: str, version: tuple[int, int]
) -> bool:
    if glibc < version:
        return False
    if facts.manylinux_overrides is None:
        return True
    return facts.manylinux_overrides.get(f"{version[0]}_{version[1]}_{arch}", True)


def _have_compatible_abi(elf: ElfHeader | None, archs: list[str]) -> bool:
    if "armv7l" in archs:
        return (
            elf is not None
            and elf.capacity == _ELF_32
            and elf.encoding == _ELF_LSB
            and elf.machine == _EM_ARM
            and elf.flags & _EF_ARM_ABIMASK == _EF_ARM_ABI_VER5
            and elf.flags & _EF_ARM_ABI_FLOAT_HARD == _EF_ARM_ABI_FLOAT_HARD
        )
    if "i686" in archs:
        return (
            elf is not None
            and elf.capacity == _ELF_32
            and elf.encoding == _ELF_LSB
            and elf.machine == _EM_386
        )
    return any(arch in _MANYLINUX_ANY_ABI for arch in archs)


def _parse_glibc(text: str | None) -> tuple[int, int] | None:
    m = re.match(r"([0-9]+)\.([0-9]+)", text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2))


def _two_ints(text: str) -> tuple[int, int]:
    parts = [int(p) for p in text.split(".")[:2]]
    if len(parts) == 1:
        parts.append(0)
    return parts[0], parts[1]


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def _nodot(version: Iterable[int]) -> str:
    return "".join(map(str, version))
