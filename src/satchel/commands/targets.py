"""pip's ``--platform``, ``--python-version``, ``--implementation`` and ``--abi`` (download,
wheel): the interpreter to resolve for, described rather than run.

As pip does: wheel tags are pip's ``get_supported`` for the description; the version decides
Requires-Python; dependency markers are still evaluated for the interpreter found (pip's own
limitation, kept so both choose the same files). Either --no-deps or --only-binary=:all: is
required, as pip requires it.
"""

from __future__ import annotations

import argparse
import dataclasses

from satchel.errors import SatchelError
from satchel.python.interpreter import Interpreter


def described(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "platform", None)
        or getattr(args, "python_version", None) is not None
        or getattr(args, "implementation", None) is not None
        or getattr(args, "abi", None)
    )


#: What a wheel tag's platform or ABI part is made of (they are joined by '-' in a file name,
#: and '.' separates compressed tags): letters, digits and '_'.
_TAG = r"[A-Za-z0-9_]+"


def check_target_options(args: argparse.Namespace) -> None:
    """The target options' values, checked whenever given (an empty one too): pip passes them
    on as they are, and a value no wheel tag can hold would match nothing without a word.
    --implementation is a short name like pip's (cp, pp, py, ...), --platform and --abi tags."""
    import re

    for option, what, examples in (
        ("--platform", "a platform tag", "manylinux2014_x86_64, macosx_11_0_arm64 or win_amd64"),
        ("--abi", "an ABI tag", "cp312, abi3 or none"),
    ):
        for value in getattr(args, option[2:], None) or ():
            if not re.fullmatch(_TAG, value):
                raise SatchelError(
                    f"{option} {value!r}: not {what} (letters, digits and _)",
                    hint=f"give one tag per {option}, for example {examples}",
                )
    implementation = getattr(args, "implementation", None)
    if implementation is not None and not re.fullmatch(r"[A-Za-z]+", implementation):
        raise SatchelError(
            f"--implementation {implementation!r}: not a Python implementation name",
            hint="use cp (CPython), pp (PyPy), py (any implementation), ip or jy, as pip does; "
            "the version comes from --python-version",
        )
    python_version = getattr(args, "python_version", None)
    if python_version is not None:
        _python_version(python_version)


def described_interpreter(args: argparse.Namespace, base: Interpreter, *, resolving: bool = True) -> Interpreter:
    """``base``, or what the target options describe on top of it. ``resolving``: dependencies
    will be resolved for it (download, wheel), so pip's condition applies."""
    check_target_options(args)
    if not described(args):
        return base
    only_binary = {part.strip() for value in args.only_binary for part in value.split(",")}
    no_binary = {part.strip() for value in args.no_binary for part in value.split(",")} - {":none:", ""}
    if resolving and not args.no_deps and (":all:" not in only_binary or no_binary):
        raise SatchelError(
            "--platform, --python-version, --implementation and --abi need --no-deps, or "
            "--only-binary=:all: (and no --no-binary)",
            hint="as pip: dependencies that must be built could not be built for another platform",
        )
    from packaging import tags as ptags

    version = _python_version(args.python_version) if args.python_version is not None else base.version[:2]
    implementation = (args.implementation or "cp").lower()
    platforms = _expand(args.platform) if args.platform else _platforms_of(base.tags)
    abis = list(args.abi) or None
    nodot = f"{version[0]}{version[1]}"
    found: list[ptags.Tag] = []
    if implementation == "cp":
        found.extend(ptags.cpython_tags(version, abis=abis, platforms=platforms))
    else:
        found.extend(ptags.generic_tags(f"{implementation}{nodot}", abis=abis or ["none"], platforms=platforms))
    found.extend(ptags.compatible_tags(version, f"{implementation}{nodot}", platforms))
    tags = tuple(dict.fromkeys(str(t) for t in found))
    full = (*version, 0) if len(version) == 2 else version
    return dataclasses.replace(base, tags=tags, version=(full[0], full[1], full[2]))


def _expand(platforms: list[str]) -> list[str]:
    """pip's widening of --platform values (``_expand_allowed_platforms``): macosx_X_Y_ARCH also
    means older macOS versions and universal builds; manylinux2014 also manylinux2010 and
    manylinux1 (x86_64, i686); manylinux2010 also manylinux1."""
    import re

    from packaging.tags import mac_platforms

    out: dict[str, None] = {}
    for plat in platforms:
        prefix, sep, suffix = plat.partition("_")
        more = [plat]
        match = re.match(r"(.+)_(\d+)_(\d+)_(.+)$", plat)
        if plat.startswith("macosx") and match:
            name, major, minor, arch = match.groups()
            more = [f"{name}_{p[len('macosx_'):]}" for p in mac_platforms((int(major), int(minor)), arch)]
        elif prefix == "manylinux2014" and suffix in ("i686", "x86_64"):
            more += [f"manylinux2010{sep}{suffix}", f"manylinux1{sep}{suffix}"]
        elif prefix == "manylinux2010":
            more.append(f"manylinux1{sep}{suffix}")
        for p in more:
            out.setdefault(p, None)
    return list(out)


def _python_version(text: str) -> tuple[int, ...]:
    """pip's forms: ``3.12``, ``312``, ``3.12.1``."""
    value = text.strip()
    try:
        if "." in value:
            parts = tuple(int(p) for p in value.split("."))
        elif len(value) >= 2:
            parts = (int(value[0]), int(value[1:]))
        else:
            parts = ()
    except ValueError:
        parts = ()
    if len(parts) < 2 or len(parts) > 3:
        raise SatchelError(f"--python-version {text!r}: expected X.Y, XY or X.Y.Z", hint="for example 3.12")
    return parts


def _platforms_of(tags: tuple[str, ...]) -> list[str]:
    out: dict[str, None] = {}
    for tag in tags:
        platform = tag.rsplit("-", 1)[-1]
        out.setdefault(platform, None)
    return list(out)
