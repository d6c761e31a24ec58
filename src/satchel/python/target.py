"""Another target than the running interpreter: a marker environment and wheel tags computed
from a description (a Python version, a platform name), with no interpreter of that kind needed.

Two ways in:

* uv's names (``--python-platform linux|macos|windows|x86_64-manylinux_2_28|aarch64-apple-darwin|
  x86_64-pc-windows-msvc|...``, see :data:`PLATFORM_NAMES`) and ``--python-version X.Y[.Z]``:
  :func:`parse_platform`, :func:`parse_python_version`, then :func:`target_environment`, which
  starts from a base interpreter's facts (what the description does not say stays as the base
  has it) and returns a :class:`TargetEnvironment`; :meth:`TargetEnvironment.interpreter` is an
  :class:`Interpreter` the resolver can use for markers, tags and Requires-Python.
* pip's ``download --platform TAG --python-version --implementation --abi``: :func:`wheel_tags`
  (pip's ``get_supported``: packaging's tag builders over the platform tags given, each expanded
  by :func:`expand_platform_tags` as pip does).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging import tags as ptags

from satchel.errors import SatchelError
from satchel.python.interpreter import Interpreter

#: The macOS version assumed for macOS targets (the oldest one Apple still supports, as uv
#: assumes); ``MACOSX_DEPLOYMENT_TARGET`` overrides it, as for uv.
DEFAULT_MACOS = (13, 0)
DEFAULT_MUSL = (1, 2)
#: glibc of ``linux`` and ``<arch>-unknown-linux-gnu`` (manylinux_2_28, what uv 0.13 assumes).
DEFAULT_GLIBC = (2, 28)
ANDROID_API_LEVEL = 24
IOS_VERSION = (13, 0)
_MANYLINUX_NAMED = (17, *range(28, 41))  # uv's x86_64-manylinux_2_NN / aarch64-...


@dataclass(frozen=True)
class Platform:
    """A target platform: ``os`` is one of linux, musllinux, macos, windows, android, ios,
    pyodide; ``arch`` is the wheel-tag architecture (x86_64, aarch64, i686, arm64, ...);
    ``version`` is the glibc, musl, macOS, iOS or Pyodide version (or the Android API level)."""

    name: str
    os: str
    arch: str
    version: tuple[int, int] = (0, 0)

    def tags(self) -> list[str]:
        """Platform tags, best first."""
        major, minor = self.version
        if self.os == "windows":
            return [{"x86_64": "win_amd64", "i686": "win32", "aarch64": "win_arm64"}[self.arch]]
        if self.os == "linux":
            return list(manylinux_tags(self.arch, self.version))
        if self.os == "musllinux":
            return [f"musllinux_{major}_{m}_{self.arch}" for m in range(minor, -1, -1)]
        if self.os == "macos":
            return list(ptags.mac_platforms(self.version, self.arch))
        if self.os == "android":
            return list(ptags.android_platforms(major, self.arch))
        if self.os == "ios":
            return list(ptags.ios_platforms(self.version, self.arch))
        if self.os == "pyodide":
            return [f"pyodide_{major}_{minor}_wasm32", "emscripten_3_1_58_wasm32"]
        raise AssertionError(self.os)

    def markers(self) -> dict[str, str]:
        """The platform's part of a PEP 508 environment (os_name, sys_platform,
        platform_system, platform_machine, platform_release, platform_version)."""
        machine = self.arch
        if self.os == "windows":
            machine = {"x86_64": "AMD64", "i686": "x86", "aarch64": "ARM64"}[self.arch]
        system, sys_platform = {
            "linux": ("Linux", "linux"),
            "musllinux": ("Linux", "linux"),
            "macos": ("Darwin", "darwin"),
            "windows": ("Windows", "win32"),
            "android": ("Android", "android"),
            "ios": ("iOS", "ios"),
            "pyodide": ("Emscripten", "emscripten"),
        }[self.os]
        return {
            "os_name": "nt" if self.os == "windows" else "posix",
            "sys_platform": sys_platform,
            "platform_system": system,
            "platform_machine": machine,
            "platform_release": "",
            "platform_version": "",
        }


def manylinux_tags(arch: str, glibc: tuple[int, int]) -> Iterator[str]:
    """``manylinux_2_N_arch`` from ``glibc`` down to the oldest glibc of ``arch`` (2.5 on x86,
    2.17 elsewhere), each legacy alias (manylinux2014, 2010, 1) right after its name, as
    ``packaging.tags`` orders them."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    floor = 5 if arch in ("x86_64", "i686") else 17
    for minor in range(glibc[1], floor - 1, -1):
        yield f"manylinux_2_{minor}_{arch}"
        if minor in legacy:
            yield f"{legacy[minor]}_{arch}"


def _macos_version(environ: Mapping[str, str]) -> tuple[int, int]:
    text = environ.get("MACOSX_DEPLOYMENT_TARGET", "")
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", text.strip())
    if not m:
        return DEFAULT_MACOS
    return int(m.group(1)), int(m.group(2) or 0)


def _platform_table(environ: Mapping[str, str]) -> dict[str, Platform]:
    mac = _macos_version(environ)
    table = [
        Platform("x86_64-pc-windows-msvc", "windows", "x86_64"),
        Platform("aarch64-pc-windows-msvc", "windows", "aarch64"),
        Platform("i686-pc-windows-msvc", "windows", "i686"),
        Platform("x86_64-unknown-linux-gnu", "linux", "x86_64", DEFAULT_GLIBC),
        Platform("aarch64-apple-darwin", "macos", "arm64", mac),
        Platform("x86_64-apple-darwin", "macos", "x86_64", mac),
        Platform("aarch64-unknown-linux-gnu", "linux", "aarch64", DEFAULT_GLIBC),
        Platform("aarch64-unknown-linux-musl", "musllinux", "aarch64", DEFAULT_MUSL),
        Platform("x86_64-unknown-linux-musl", "musllinux", "x86_64", DEFAULT_MUSL),
        Platform("riscv64-unknown-linux", "linux", "riscv64", (2, 39)),
        Platform("x86_64-manylinux2014", "linux", "x86_64", (2, 17)),
        Platform("aarch64-manylinux2014", "linux", "aarch64", (2, 17)),
        Platform("aarch64-linux-android", "android", "arm64_v8a", (ANDROID_API_LEVEL, 0)),
        Platform("x86_64-linux-android", "android", "x86_64", (ANDROID_API_LEVEL, 0)),
        Platform("wasm32-pyodide2024", "pyodide", "wasm32", (2024, 0)),
        Platform("wasm32-pyodide2025", "pyodide", "wasm32", (2025, 0)),
        Platform("arm64-apple-ios", "ios", "arm64_iphoneos", IOS_VERSION),
        Platform("arm64-apple-ios-simulator", "ios", "arm64_iphonesimulator", IOS_VERSION),
        Platform("x86_64-apple-ios-simulator", "ios", "x86_64_iphonesimulator", IOS_VERSION),
    ]
    for arch in ("x86_64", "aarch64"):
        for minor in _MANYLINUX_NAMED:
            table.append(Platform(f"{arch}-manylinux_2_{minor}", "linux", arch, (2, minor)))
    out = {p.name: p for p in table}
    out["windows"] = dataclasses.replace(out["x86_64-pc-windows-msvc"], name="windows")
    out["linux"] = dataclasses.replace(out["x86_64-unknown-linux-gnu"], name="linux")
    out["macos"] = dataclasses.replace(out["aarch64-apple-darwin"], name="macos")
    return out


def platform_names() -> list[str]:
    """Every name :func:`parse_platform` accepts (uv's ``--python-platform`` values)."""
    return list(_platform_table({}))


PLATFORM_NAMES = tuple(platform_names())


def parse_platform(name: str, environ: Mapping[str, str] | None = None) -> Platform:
    """The platform uv calls ``name``; a clear error for anything else. ``environ`` (default
    ``os.environ``) may set ``MACOSX_DEPLOYMENT_TARGET`` for the macOS targets."""
    import os

    table = _platform_table(os.environ if environ is None else environ)
    found = table.get(name.strip().lower())
    if found is None:
        raise SatchelError(
            f"unknown --python-platform {name!r}",
            hint="use linux, macos, windows, or a target such as x86_64-manylinux_2_28, "
            "aarch64-apple-darwin, x86_64-pc-windows-msvc (see satchel compile --help)",
        )
    return found


def parse_python_version(text: str) -> tuple[int, ...]:
    """``3.9`` -> (3, 9); ``3.9.7`` -> (3, 9, 7); ``39`` -> (3, 9) (pip's form). A clear error
    for anything else."""
    value = text.strip()
    if re.fullmatch(r"3\d{1,2}", value):
        return 3, int(value[1:])
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", value):
        raise SatchelError(
            f"invalid --python-version {text!r}", hint="give a version like 3.9 or 3.12.4"
        )
    parts = tuple(int(p) for p in value.split("."))
    if parts[0] != 3:
        raise SatchelError(f"unsupported --python-version {text!r}", hint="satchel targets Python 3")
    return parts


@dataclass(frozen=True)
class TargetEnvironment:
    """What a resolution for another environment needs: ``markers`` (a full PEP 508
    environment), ``tags`` (supported wheel tags, best first) and ``version`` (for
    Requires-Python), plus a description for messages and lock files."""

    version: tuple[int, int, int]
    markers: dict[str, str]
    tags: tuple[str, ...]
    platform: Platform | None = None
    description: str = ""

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    def interpreter(self, base: Interpreter) -> Interpreter:
        """``base`` seen as this target: its markers, tags and version replaced (the paths and
        executable stay: builds still run in ``base``)."""
        return dataclasses.replace(
            base,
            version=self.version,
            markers=dict(self.markers),
            tags=self.tags,
        )


def target_environment(
    base: Interpreter,
    *,
    python_version: Sequence[int] | None = None,
    platform: Platform | None = None,
) -> TargetEnvironment:
    """The environment ``base`` would be with another Python version and/or platform.

    Python version: ``X.Y`` means ``X.Y.0`` unless ``base`` is an ``X.Y`` itself (then its
    micro version); the version markers follow, the implementation markers stay ``base``'s.
    Tags: CPython's (``cpXY``, ``abi3``, ``none``) for the target version over the target
    platform's tags, or over ``base``'s platform tags when no platform is given.
    """
    markers = dict(base.markers)
    version = tuple(base.version)
    if python_version is not None:
        wanted = tuple(python_version)
        if len(wanted) >= 3:
            version = wanted[:3]
        elif tuple(base.version[:2]) == wanted[:2]:
            version = tuple(base.version)
        else:
            version = (wanted[0], wanted[1], 0)
        full = ".".join(map(str, version))
        markers["python_version"] = f"{version[0]}.{version[1]}"
        markers["python_full_version"] = full
        if markers.get("implementation_name", "cpython") == "cpython":
            markers["implementation_version"] = full
    if platform is not None:
        markers.update(platform.markers())
        platforms = platform.tags()
    else:
        platforms = platforms_of(base.tags)
    if python_version is None and platform is None:
        tags = base.tags
    else:
        name = ptags.INTERPRETER_SHORT_NAMES.get(markers.get("implementation_name", "cpython"), "cp")
        if name != "cp":
            name = "cp"  # another version of a PyPy cannot be described; CPython's tags
        tags = wheel_tags(version[:2], implementation=name, platforms=platforms, expand=False)
    v3 = (version[0], version[1], version[2] if len(version) > 2 else 0)
    words = []
    if python_version is not None:
        words.append(f"Python {v3[0]}.{v3[1]}")
    if platform is not None:
        words.append(platform.name)
    return TargetEnvironment(
        version=v3,
        markers=markers,
        tags=tuple(tags),
        platform=platform,
        description=" on ".join(words),
    )


def platforms_of(tags: Iterable[str]) -> list[str]:
    """The platform parts of ``tags``, in order of first appearance, without ``any``."""
    seen: dict[str, None] = {}
    for tag in tags:
        plat = tag.rsplit("-", 1)[-1]
        for part in plat.split("."):
            if part != "any":
                seen.setdefault(part, None)
    return list(seen)


def wheel_tags(
    python_version: Sequence[int],
    *,
    implementation: str = "cp",
    abis: Sequence[str] | None = None,
    platforms: Sequence[str],
    expand: bool = True,
) -> tuple[str, ...]:
    """Supported tags for a described interpreter, best first, as pip's ``get_supported``
    computes them for ``--python-version/--implementation/--abi/--platform``: CPython's tags
    (``implementation="cp"``) or generic ones, then the compatible ``pyXY``/``none`` tags.
    With ``expand``, each platform tag is widened as pip widens it
    (:func:`expand_platform_tags`)."""
    version = (int(python_version[0]), int(python_version[1]))
    plats = expand_platform_tags(platforms) if expand else list(platforms)
    impl = implementation.lower()
    nodot = f"{version[0]}{version[1]}"
    abi_list = list(abis) if abis is not None else None
    out: list[ptags.Tag] = []
    if impl == "cp":
        out.extend(ptags.cpython_tags(version, abis=abi_list, platforms=plats))
    else:
        interpreter = f"{impl}{nodot}"
        out.extend(ptags.generic_tags(interpreter, abis=abi_list or ["none"], platforms=plats))
    out.extend(ptags.compatible_tags(version, f"{impl}{nodot}", plats))
    seen: dict[str, None] = {}
    for tag in out:
        seen.setdefault(str(tag), None)
    return tuple(seen)


_APPLE = re.compile(r"(.+?)_(\d+)_(\d+)_(.+)")


def expand_platform_tags(platforms: Iterable[str]) -> list[str]:
    """pip's widening of ``--platform`` values: a ``macosx_X_Y_arch`` also means the older
    macOS versions and universal builds; ``manylinux2014`` also manylinux2010 and manylinux1
    (on x86), ``manylinux2010`` also manylinux1. Order kept, duplicates dropped."""
    out: dict[str, None] = {}
    for plat in platforms:
        prefix, _, arch = plat.partition("_")
        if plat.startswith("macosx"):
            m = _APPLE.fullmatch(plat)
            if m:
                name, major, minor, actual = m.groups()
                for p in ptags.mac_platforms((int(major), int(minor)), actual):
                    out.setdefault(f"{name}_{p[len('macosx_'):]}", None)
                continue
        elif prefix == "manylinux2014" and arch in ("i686", "x86_64"):
            for p in (plat, f"manylinux2010_{arch}", f"manylinux1_{arch}"):
                out.setdefault(p, None)
            continue
        elif prefix == "manylinux2010":
            for p in (plat, f"manylinux1_{arch}"):
                out.setdefault(p, None)
            continue
        out.setdefault(plat, None)
    return list(out)
