"""Introspecting a target Python: a self-contained script run inside it, and its parsed answer.

The script (``PROBE_SCRIPT``) uses only the standard library and Python 2.7-compatible syntax, so
even a too-old interpreter answers with its version and satchel can say so in one line. It runs
as ``<python> -E -s -c PROBE_SCRIPT``: no ``-S``, because ``site`` is what makes a venv's
``sys.prefix`` point at the venv on Python < 3.11; no ``-I`` either (Python 2 rejects it), so the
script drops the current directory from ``sys.path`` itself, which is what ``-I`` adds on top of
``-E -s``.

Its answer is JSON after a marker (so a noisy ``.pth`` file printing to stdout cannot break it),
decoded into ``ProbeFacts``: raw facts only. Everything derived (the wheel tags) is computed in
satchel's own process from those facts (``to_interpreter``), so a cached probe never goes stale
when satchel's tag logic changes.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import schema
from satchel.errors import InterpreterError

# ``Interpreter`` and the tag computation are imported by ``to_interpreter``: reading cached
# probe facts (a no-op install) needs neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.python.interpreter import Interpreter

PROBE_TIMEOUT = 30.0
MIN_VERSION = (3, 8)
MARKER = "@@satchel-probe@@"

PROBE_SCRIPT = r"""
import sys
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
import json
import os
import platform
import struct
import sysconfig

MARKER = "@@satchel-probe@@"
PLACEHOLDER = "/@satchel-venv@"


def full_version(info):
    version = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        version += info[3][0] + str(info[4])
    return version


def config_flag(name):
    value = sysconfig.get_config_var(name)
    if value is None:
        return None
    return bool(value)


def config_str(name):
    value = sysconfig.get_config_var(name)
    if value is None:
        return None
    return str(value)


def markers():
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def is_venv():
    return sys.prefix != sys.base_prefix


def scheme_name():
    if hasattr(sysconfig, "get_preferred_scheme"):
        return sysconfig.get_preferred_scheme("prefix")
    if hasattr(sysconfig, "_get_default_scheme"):
        return sysconfig._get_default_scheme()
    if os.name == "nt":
        return "nt"
    return "posix_prefix"


def install_paths(scheme):
    paths = sysconfig.get_paths(scheme)
    result = {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "headers": paths["include"],
    }
    if is_venv():
        # sysconfig's include of a venv is the base interpreter's (read-only) one; installers
        # put a venv's headers under the venv, like pip does.
        result["headers"] = os.path.join(
            sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2]
        )
    return result


def venv_layout():
    # The scheme a fresh venv created by this interpreter gets, relative to the venv's root.
    names = sysconfig.get_scheme_names()
    if "venv" in names:
        scheme = "venv"
    elif os.name == "nt":
        scheme = "nt"
    else:
        scheme = "posix_prefix"
    base = {
        "base": PLACEHOLDER,
        "platbase": PLACEHOLDER,
        "installed_base": PLACEHOLDER,
        "installed_platbase": PLACEHOLDER,
    }
    paths = sysconfig.get_paths(scheme, vars=base)
    result = {}
    for key in ("purelib", "platlib", "scripts"):
        path = paths[key].replace("\\", "/")
        if path.startswith(PLACEHOLDER + "/"):
            result[key] = path[len(PLACEHOLDER) + 1:]
    return result


def read_home():
    try:
        with open(os.path.join(sys.prefix, "pyvenv.cfg")) as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    return value.strip()
    except (OSError, IOError):
        pass
    return None


def base_executable():
    exe = getattr(sys, "_base_executable", None) or sys.executable
    if not exe:
        return ""
    real = os.path.realpath(exe)
    if is_venv():
        root = os.path.realpath(sys.prefix)
        if real == root or real.startswith(root + os.sep):
            # A venv made of copies: its python is no link to the base; ask pyvenv.cfg.
            home = read_home()
            suffix = ".exe" if os.name == "nt" else ""
            if home:
                for name in ("python%d.%d" % sys.version_info[:2], "python%d" % sys.version_info[0],
                             "python"):
                    candidate = os.path.join(home, name + suffix)
                    if os.path.isfile(candidate):
                        return os.path.realpath(candidate)
    return real


def glibc_version():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
        if value:
            return value.rsplit(None, 1)[1]
    except (AttributeError, OSError, ValueError, IndexError):
        pass
    try:
        import ctypes
        handle = ctypes.CDLL(None)
        func = handle.gnu_get_libc_version
    except (ImportError, OSError, AttributeError):
        return None
    func.restype = ctypes.c_char_p
    value = func()
    if not isinstance(value, str):
        value = value.decode("ascii")
    return value


ELF_FORMATS = {
    (1, 1): ("<HHIIIIIHHH", "<IIIIIIII", (0, 1, 4)),
    (1, 2): (">HHIIIIIHHH", ">IIIIIIII", (0, 1, 4)),
    (2, 1): ("<HHIQQQIHHH", "<IIQQQQQQ", (0, 2, 5)),
    (2, 2): (">HHIQQQIHHH", ">IIQQQQQQ", (0, 2, 5)),
}


def read_elf(path):
    # (header facts, PT_INTERP path) of an ELF executable, or (None, None).
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return None, None
            capacity = bytearray(ident)[4]
            encoding = bytearray(ident)[5]
            if (capacity, encoding) not in ELF_FORMATS:
                return None, None
            e_fmt, p_fmt, p_idx = ELF_FORMATS[(capacity, encoding)]
            fields = struct.unpack(e_fmt, f.read(struct.calcsize(e_fmt)))
            header = {"capacity": capacity, "encoding": encoding, "machine": fields[1],
                      "flags": fields[6]}
            phoff, phentsize, phnum = fields[4], fields[8], fields[9]
            interp = None
            for index in range(phnum):
                f.seek(phoff + phentsize * index)
                data = f.read(struct.calcsize(p_fmt))
                if len(data) < struct.calcsize(p_fmt):
                    continue
                entry = struct.unpack(p_fmt, data)
                if entry[p_idx[0]] != 3:
                    continue
                f.seek(entry[p_idx[1]])
                raw = f.read(entry[p_idx[2]])
                interp = raw.decode("utf-8", "replace").strip("\0")
                break
            return header, interp
    except (OSError, IOError, struct.error, ValueError):
        return None, None


def musl_version(interp):
    if not interp or "musl" not in interp:
        return None
    import re
    import subprocess
    try:
        proc = subprocess.Popen([interp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = proc.communicate()
    except OSError:
        return None
    lines = [n.strip() for n in err.decode("utf-8", "replace").splitlines() if n.strip()]
    if len(lines) < 2 or lines[0][:4] != "musl":
        return None
    m = re.match(r"Version (\d+)\.(\d+)", lines[1])
    if not m:
        return None
    return [int(m.group(1)), int(m.group(2))]


def linux_archs():
    linux = sysconfig.get_platform().replace(".", "_").replace("-", "_").replace(" ", "_")
    if not linux.startswith("linux_"):
        return []
    if struct.calcsize("P") == 4:
        if linux == "linux_x86_64":
            linux = "linux_i686"
        elif linux == "linux_aarch64":
            linux = "linux_armv8l"
    arch = linux.split("_", 1)[1]
    return {"armv8l": ["armv8l", "armv7l"]}.get(arch, [arch])


LEGACY_MANYLINUX = {(2, 5): "manylinux1_compatible", (2, 12): "manylinux2010_compatible",
                    (2, 17): "manylinux2014_compatible"}


def manylinux_overrides(glibc):
    # What a `_manylinux` module (PEP 600) in this environment says, per glibc version and arch.
    import re
    try:
        import _manylinux
    except ImportError:
        return None
    m = re.match(r"([0-9]+)\.([0-9]+)", glibc or "")
    if not m:
        return None
    current = (int(m.group(1)), int(m.group(2)))
    result = {}
    try:
        for arch in linux_archs():
            for major in range(2, current[0] + 1):
                top = current[1] if major == current[0] else 50
                for minor in range(0, top + 1):
                    ok = True
                    if hasattr(_manylinux, "manylinux_compatible"):
                        answer = _manylinux.manylinux_compatible(major, minor, arch)
                        if answer is not None:
                            ok = bool(answer)
                    else:
                        legacy = LEGACY_MANYLINUX.get((major, minor))
                        if legacy and hasattr(_manylinux, legacy):
                            ok = bool(getattr(_manylinux, legacy))
                    result["%d_%d_%s" % (major, minor, arch)] = ok
    except Exception:
        return None
    return result


def mac_version():
    version = platform.mac_ver()[0]
    if not version:
        return None
    if version.split(".")[:2] == ["10", "16"]:
        import subprocess
        env = dict(os.environ)
        env["SYSTEM_VERSION_COMPAT"] = "0"
        try:
            out = subprocess.Popen(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                stdout=subprocess.PIPE, env=env,
            ).communicate()[0]
            version = out.decode("ascii", "replace").strip() or version
        except OSError:
            pass
    return version


def mobile():
    system = platform.system()
    if system == "iOS" and hasattr(platform, "ios_ver"):
        return platform.ios_ver()[1]
    if system == "Android" and hasattr(platform, "android_ver"):
        return str(platform.android_ver().api_level)
    return None


def main():
    vi = sys.version_info
    out = {"version_info": [vi[0], vi[1], vi[2]], "release_level": vi[3], "serial": vi[4]}
    impl = getattr(sys, "implementation", None)
    out["implementation_name"] = impl.name if impl else platform.python_implementation().lower()
    if (vi[0], vi[1]) < (3, 8):
        return out
    from importlib.machinery import EXTENSION_SUFFIXES
    scheme = scheme_name()
    glibc = glibc_version() if sys.platform.startswith("linux") else None
    elf, interp = read_elf(sys.executable) if sys.platform.startswith("linux") else (None, None)
    out.update({
        "implementation_version": full_version(impl.version),
        "markers": markers(),
        "executable": sys.executable or "",
        "base_executable": base_executable(),
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "scheme": scheme,
        "paths": install_paths(scheme),
        "venv_layout": venv_layout(),
        "platform": sysconfig.get_platform(),
        "pointer_size": struct.calcsize("P"),
        "maxsize": sys.maxsize,
        "soabi": config_str("SOABI"),
        "ext_suffix": config_str("EXT_SUFFIX"),
        "extension_suffixes": list(EXTENSION_SUFFIXES),
        "py_version_nodot": config_str("py_version_nodot"),
        "py_debug": config_flag("Py_DEBUG"),
        "py_gil_disabled": config_flag("Py_GIL_DISABLED"),
        "has_gettotalrefcount": hasattr(sys, "gettotalrefcount"),
        "emscripten_version": config_str("PYEMSCRIPTEN_PLATFORM_VERSION"),
        "glibc_version": glibc,
        "musl_version": musl_version(interp),
        "elf": elf,
        "manylinux_overrides": manylinux_overrides(glibc) if glibc else None,
        "mac_version": mac_version() if sys.platform == "darwin" else None,
        "mac_arch": platform.mac_ver()[2] if sys.platform == "darwin" else None,
        "mobile_version": mobile(),
        "multiarch": getattr(impl, "_multiarch", None),
    })
    return out


sys.stdout.write("\n" + MARKER + json.dumps(main()) + "\n")
sys.stdout.flush()
"""


@dataclass(frozen=True)
class ElfHeader:
    """The ELF header fields of the target's executable that wheel tags depend on."""

    capacity: int  # 1: 32-bit, 2: 64-bit
    encoding: int  # 1: little-endian, 2: big-endian
    machine: int
    flags: int


@dataclass(frozen=True)
class ProbeFacts:
    """Everything the probe reports about a target interpreter (raw, nothing derived)."""

    version_info: tuple[int, int, int]
    release_level: str
    serial: int
    implementation_name: str
    implementation_version: str
    markers: dict[str, str]
    executable: str  # sys.executable inside the target
    base_executable: str  # the real (resolved) executable of the base interpreter
    prefix: str
    base_prefix: str
    scheme: str
    paths: dict[str, str]  # purelib, platlib, scripts, data, headers
    venv_layout: dict[str, str]  # purelib, platlib, scripts of a new venv, relative to its root
    platform: str  # sysconfig.get_platform()
    pointer_size: int
    maxsize: int
    soabi: str | None
    ext_suffix: str | None
    extension_suffixes: tuple[str, ...]
    py_version_nodot: str | None
    py_debug: bool | None
    py_gil_disabled: bool | None
    has_gettotalrefcount: bool
    emscripten_version: str | None
    glibc_version: str | None
    musl_version: tuple[int, int] | None
    elf: ElfHeader | None
    manylinux_overrides: dict[str, bool] | None  # "2_17_x86_64" -> allowed, from `_manylinux`
    mac_version: str | None
    mac_arch: str | None
    mobile_version: str | None  # iOS release or Android API level
    multiarch: str | None

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.base_prefix

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version_info))


def probe_facts(executable: Path, *, timeout: float = PROBE_TIMEOUT) -> ProbeFacts:
    """Run the probe inside ``executable`` and parse its answer. Raises InterpreterError."""
    exe = os.path.abspath(executable)
    env = dict(os.environ)
    # A macOS venv launcher passes its identity on through this; it must not leak into the target.
    env.pop("__PYVENV_LAUNCHER__", None)
    try:
        proc = subprocess.run(
            [exe, "-E", "-s", "-c", PROBE_SCRIPT],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        if os.path.lexists(exe):  # a script whose #! interpreter is missing, a dangling link
            raise InterpreterError(f"cannot run {exe}: {exc.strerror or exc}") from None
        raise InterpreterError(f"cannot run {exe}: no such file") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(
            f"cannot introspect {exe}: it did not answer within {timeout:g} seconds"
        ) from None
    except OSError as exc:
        raise InterpreterError(f"cannot run {exe}: {exc.strerror or exc}") from None
    stdout = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0 or MARKER not in stdout:
        raise InterpreterError(
            f"cannot introspect {exe}: {_last_line(proc.stderr, proc.returncode)}",
            hint="check that it is a working Python interpreter",
        )
    try:
        data = json.loads(stdout.rsplit(MARKER, 1)[1])
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise InterpreterError(
            f"cannot introspect {exe}: unreadable probe output ({exc})"
        ) from None
    _check_supported(exe, data)
    try:
        facts: ProbeFacts = schema.decode(ProbeFacts, data)
    except (schema.SchemaError, TypeError, ValueError) as exc:
        raise InterpreterError(
            f"cannot introspect {exe}: unexpected probe output ({exc})"
        ) from None
    return facts


def run_probe(executable: Path, *, timeout: float = PROBE_TIMEOUT) -> Interpreter:
    """Introspect ``executable`` (no cache): one subprocess. Raises InterpreterError."""
    return to_interpreter(executable, probe_facts(executable, timeout=timeout))


def to_interpreter(executable: Path | str, facts: ProbeFacts) -> Interpreter:
    """The Interpreter for ``executable`` (kept absolute, not resolved) from its probe facts."""
    from satchel.python.interpreter import Interpreter
    from satchel.python.tags import compute_tags

    return Interpreter(
        executable=os.path.abspath(executable),
        version=facts.version_info,
        implementation=facts.implementation_name,
        markers=dict(facts.markers),
        tags=compute_tags(facts),
        paths=dict(facts.paths),
        prefix=facts.prefix,
        base_prefix=facts.base_prefix,
        is_venv=facts.is_venv,
        base_executable=facts.base_executable,
    )


def _check_supported(exe: str, data: dict[str, object]) -> None:
    version = data.get("version_info")
    if not (
        isinstance(version, list) and len(version) == 3 and all(isinstance(v, int) for v in version)
    ):
        raise InterpreterError(f"cannot introspect {exe}: unexpected probe output (no version)")
    if tuple(version[:2]) < MIN_VERSION:
        found = ".".join(map(str, version))
        raise InterpreterError(
            f"{exe} is Python {found}; satchel supports Python "
            f"{'.'.join(map(str, MIN_VERSION))} and newer",
            hint="pass -p/--python with a newer interpreter",
        )


def _last_line(stderr: bytes, returncode: int) -> str:
    lines = [
        line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()
    ]
    if lines:
        return lines[-1]
    if returncode < 0:
        return f"killed by signal {-returncode}"
    if returncode:
        return f"exit status {returncode}"
    return "no answer from the probe"
