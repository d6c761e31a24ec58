"""The probe: run inside a target interpreter, it prints raw facts about it as JSON.

satchel never imports this module: ``satchel.python.probe`` reads this file and runs its text as
``<python> -E -s -c <text>`` in the target (through ``satchel.python.run.run_in_target``). It uses
only the standard library and Python 2.7 syntax (types are in comments), so even a too-old
interpreter answers with its version and satchel can say so in one line. There is no ``-I`` (Python
2 rejects it), so the script drops the current directory from ``sys.path`` itself, before its first
other import: that is what ``-I`` adds on top of ``-E -s``.

The answer is JSON, ASCII only, after ``MARKER`` on stdout (so a noisy ``.pth`` file printing to
stdout cannot break it), written by :func:`to_json` (what ``json.dumps`` writes for these plain
values, without importing ``json``); ``satchel.python.facts.ProbeFacts`` is its decoded form.

The probe runs while satchel waits for it (a new venv's first install), so it imports little:
no ``json`` (its decoder compiles regular expressions at import, and imports ``re``), and no
``platform`` where ``os.uname()`` and ``sys`` give the same answers (CPython on Linux: what
``platform`` itself reads there); ``re`` is then never imported. 24 -> 15 ms a probe here.
``tests/unit/test_python_probe.py`` compares the markers with ``platform``'s in every Python.
"""

import sys

if __name__ == "__main__" and sys.path and sys.path[0] in ("", "."):
    del sys.path[0]

import os
import struct
import sysconfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)

MARKER = "@@satchel-probe@@"
PLACEHOLDER = "/@satchel-venv@"


def full_version(info):
    # type: (Any) -> str
    version = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        version += info[3][0] + str(info[4])
    return version


def config_flag(name):
    # type: (str) -> Optional[bool]
    value = sysconfig.get_config_var(name)
    if value is None:
        return None
    return bool(value)


def config_str(name):
    # type: (str) -> Optional[str]
    value = sysconfig.get_config_var(name)
    if value is None:
        return None
    return str(value)


def leading_version(text):
    # type: (str) -> str
    # platform._sys_version's version: the leading run of word characters, "." and "+" of
    # sys.version, with a missing patch level added.
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "_.+"):
        end += 1
    parts = text[:end].split(".")
    if len(parts) == 2:
        parts.append("0")
    return ".".join(parts)


def markers():
    # type: () -> Dict[str, str]
    if sys.platform.startswith("linux") and sys.implementation.name == "cpython" and hasattr(os, "uname"):
        # What platform answers here: uname()'s fields as they are, the version from sys.version.
        uname = os.uname()
        machine, release, system, version = uname[4], uname[2], uname[0], uname[3]
        full = leading_version(sys.version)
        implementation = "CPython"
    else:
        import platform

        machine, release = platform.machine(), platform.release()
        system, version = platform.system(), platform.version()
        full = platform.python_version()
        implementation = platform.python_implementation()
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": machine,
        "platform_release": release,
        "platform_system": system,
        "platform_version": version,
        "python_full_version": full,
        "platform_python_implementation": implementation,
        "python_version": ".".join(full.split(".")[:2]),
        "sys_platform": sys.platform,
    }


def is_venv():
    # type: () -> bool
    return sys.prefix != sys.base_prefix


def externally_managed():
    # type: () -> Optional[str]
    # PEP 668: an EXTERNALLY-MANAGED file in the standard library's directory marks an
    # interpreter whose packages another tool (the OS) manages; ignored inside a virtual
    # environment. The answer is its [externally-managed] Error text ("" when it has none).
    if is_venv():
        return None
    try:
        marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    except Exception:
        return None
    if not os.path.isfile(marker):
        return None
    try:
        import configparser

        parser = configparser.ConfigParser(interpolation=None)
        parser.read(marker, encoding="utf-8")
        return parser.get("externally-managed", "Error", fallback="")
    except Exception:
        return ""


def scheme_name():
    # type: () -> str
    if hasattr(sysconfig, "get_preferred_scheme"):
        return sysconfig.get_preferred_scheme("prefix")
    if hasattr(sysconfig, "_get_default_scheme"):
        return sysconfig._get_default_scheme()
    if os.name == "nt":
        return "nt"
    return "posix_prefix"


def install_paths(scheme):
    # type: (str) -> Dict[str, str]
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
    # type: () -> Dict[str, str]
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
    # type: () -> Optional[str]
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
    # type: () -> str
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
    # type: () -> Optional[str]
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
    # type: (str) -> Tuple[Optional[Dict[str, int]], Optional[str]]
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
    # type: (Optional[str]) -> Optional[List[int]]
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
    # type: () -> List[str]
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


def version_pair(text):
    # type: (str) -> Optional[Tuple[int, int]]
    # re.match(r"([0-9]+)\.([0-9]+)", text), without importing re.
    digits = "0123456789"
    major, dot, rest = text.partition(".")
    minor = ""
    for char in rest:
        if char not in digits:
            break
        minor += char
    if not (dot and major and minor and all(char in digits for char in major)):
        return None
    return int(major), int(minor)


def manylinux_overrides(glibc):
    # type: (Optional[str]) -> Optional[Dict[str, bool]]
    # What a `_manylinux` module (PEP 600) in this environment says, per glibc version and arch.
    try:
        import _manylinux
    except ImportError:
        return None
    current = version_pair(glibc or "")
    if current is None:
        return None
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
    # type: () -> Optional[str]
    import platform

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


def mac_arch():
    # type: () -> str
    import platform

    return platform.mac_ver()[2]


def mobile():
    # type: () -> Optional[str]
    if sys.platform not in ("ios", "android"):
        return None  # (platform.system() says iOS or Android only there: Python 3.13 and later)
    import platform

    system = platform.system()
    if system == "iOS" and hasattr(platform, "ios_ver"):
        return platform.ios_ver()[1]
    if system == "Android" and hasattr(platform, "android_ver"):
        return str(platform.android_ver().api_level)
    return None


def main():
    # type: () -> Dict[str, Any]
    vi = sys.version_info
    out = {
        "version_info": [vi[0], vi[1], vi[2]], "release_level": vi[3], "serial": vi[4]
    }  # type: Dict[str, Any]
    impl = getattr(sys, "implementation", None)  # type: Any
    if impl:
        out["implementation_name"] = impl.name
    else:
        import platform

        out["implementation_name"] = platform.python_implementation().lower()
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
        "mac_arch": mac_arch() if sys.platform == "darwin" else None,
        "mobile_version": mobile(),
        "multiarch": getattr(impl, "_multiarch", None),
        "externally_managed": externally_managed(),
    })
    return out


def to_json(value):
    # type: (Any) -> str
    """``json.dumps(value)`` (ASCII only) for what an answer holds: dicts with string keys,
    lists and tuples, strings, integers, booleans and None."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, INTEGERS):
        return str(int(value))
    if isinstance(value, STRINGS):
        return json_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join([to_json(item) for item in value]) + "]"
    if isinstance(value, dict):
        items = [json_string(key) + ": " + to_json(item) for key, item in value.items()]
        return "{" + ", ".join(items) + "}"
    raise TypeError("not a plain value: %r" % (value,))


INTEGERS = (int,) if sys.version_info[0] >= 3 else (int, long)  # type: ignore[name-defined]  # noqa: F821 (Python 2)
STRINGS = (str,) if sys.version_info[0] >= 3 else (str, unicode)  # type: ignore[name-defined]  # noqa: F821 (Python 2)


def json_string(text):
    # type: (str) -> str
    if not isinstance(text, STRINGS):
        raise TypeError("not a string: %r" % (text,))
    if sys.version_info >= (3, 7) and text.isascii() and text.isprintable():
        if '"' not in text and "\\" not in text:
            return '"' + text + '"'
    parts = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            parts.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            parts.append(char)
        elif code > 0xFFFF:  # (a pair of surrogates, as json.dumps writes it)
            code -= 0x10000
            parts.append("\\u%04x\\u%04x" % (0xD800 | (code >> 10), 0xDC00 | (code & 0x3FF)))
        else:
            parts.append("\\u%04x" % code)
    return '"' + "".join(parts) + '"'


if __name__ == "__main__":
    sys.stdout.write("\n" + MARKER + to_json(main()) + "\n")
    sys.stdout.flush()
