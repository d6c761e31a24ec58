"""The target interpreter, as introspected once and cached."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interpreter:
    """Facts about a target Python, gathered by running a probe inside it.

    ``executable`` is the path as the user named it (a venv's bin/python, not resolved).
    ``tags`` are the supported wheel tags, most preferred first, as strings
    ("cp311-cp311-manylinux_2_28_x86_64"). ``markers`` is the full PEP 508 marker environment.
    ``paths`` is the install scheme: purelib, platlib, scripts, data, headers (include; in a venv
    ``<venv>/include/site/pythonX.Y``, like pip: installers append the distribution name).
    ``base_executable`` is the resolved executable of the base interpreter (for a venv, the Python
    it was created from; otherwise the real path of ``executable``), "" if unknown.
    ``externally_managed``: the PEP 668 marker's message when the OS manages this interpreter's
    packages ("" if the marker says nothing), else None.
    """

    executable: str
    version: tuple[int, int, int]
    implementation: str  # "cpython", "pypy"
    markers: dict[str, str]
    tags: tuple[str, ...]
    paths: dict[str, str]
    prefix: str
    base_prefix: str
    is_venv: bool
    base_executable: str = ""
    externally_managed: str | None = None  # PEP 668 (ProbeFacts.externally_managed)

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def is_virtualenv(self) -> bool:
        return self.is_venv
