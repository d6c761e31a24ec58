"""What the probe reports about a target interpreter: raw facts, nothing derived.

``satchel.python.probe_script`` gathers them inside the target; ``probe.probe_facts`` decodes its
JSON answer into ``ProbeFacts``. The wheel tags (``tags.compute_tags``) and the ``Interpreter``
(``probe.to_interpreter``) are derived from them in satchel's own process, so a cached probe
(``cached.py`` stores these records) never goes stale when satchel's tag logic changes.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    # PEP 668: the Error text of the EXTERNALLY-MANAGED marker ("" if it has none); None when
    # there is no marker, and always in a virtual environment
    externally_managed: str | None = None

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.base_prefix

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version_info))
