"""PEP 668: an interpreter whose packages the operating system manages is not changed without
``--break-system-packages``, as pip and uv refuse.

The probe reports the ``EXTERNALLY-MANAGED`` marker (``ProbeFacts.externally_managed``; never
in a virtual environment). As pip: only changes to the interpreter's own environment are
refused (``--target``, ``--prefix`` and ``--root`` write elsewhere), and a ``--dry-run`` with
``--report`` (asking what would be installed) is allowed.
"""

from __future__ import annotations

from satchel.errors import SatchelError


def check_not_externally_managed(executable: str, marker_text: str | None, *, allowed: bool) -> None:
    """Raise SatchelError when ``marker_text`` (the marker's Error text, None without a marker)
    says the OS manages ``executable``'s packages and ``allowed`` (--break-system-packages) is
    not given."""
    if marker_text is None or allowed:
        return
    said = " ".join(marker_text.split())  # one line
    raise SatchelError(
        f"{executable} is externally managed (PEP 668): "
        + (said or "its packages belong to the operating system's package manager"),
        hint="create a virtual environment (satchel venv .venv) and install there, or pass "
        "--break-system-packages to change this interpreter's packages anyway",
    )
