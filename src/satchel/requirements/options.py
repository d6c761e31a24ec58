"""The options pip's requirements files allow: on a line of their own, and after a requirement."""

from __future__ import annotations

SUPPORTED_OPTIONS = (
    "-r/--requirement, -c/--constraint, -e/--editable, -i/--index-url, --extra-index-url, "
    "-f/--find-links, --no-index, --pre, --only-binary, --no-binary, --prefer-binary, "
    "--require-hashes, --no-require-hashes, --all-releases, --only-final, --trusted-host, "
    "--use-feature; after a requirement: --hash, "
    "--config-settings"
)


# Option (and files.py's helpers) are plain classes, not dataclasses: making a dataclass costs a
# few hundred microseconds of start-up each, and the no-op install imports these modules.


class Option:
    """An option's canonical long spelling and whether it takes a value."""

    __slots__ = ("name", "takes_value")

    def __init__(self, name: str, takes_value: bool) -> None:
        self.name = name  # canonical long spelling, e.g. "--index-url"
        self.takes_value = takes_value


FILE_OPTIONS: dict[str, Option] = {
    "-r": Option("--requirement", True),
    "--requirement": Option("--requirement", True),
    "-c": Option("--constraint", True),
    "--constraint": Option("--constraint", True),
    "-e": Option("--editable", True),
    "--editable": Option("--editable", True),
    "-i": Option("--index-url", True),
    "--index-url": Option("--index-url", True),
    "--extra-index-url": Option("--extra-index-url", True),
    "-f": Option("--find-links", True),
    "--find-links": Option("--find-links", True),
    "--no-index": Option("--no-index", False),
    "--pre": Option("--pre", False),
    "--only-binary": Option("--only-binary", True),
    "--no-binary": Option("--no-binary", True),
    "--prefer-binary": Option("--prefer-binary", False),
    "--no-require-hashes": Option("--no-require-hashes", False),
    "--all-releases": Option("--all-releases", True),
    "--only-final": Option("--only-final", True),
    "--require-hashes": Option("--require-hashes", False),
    "--trusted-host": Option("--trusted-host", True),
    "--use-feature": Option("--use-feature", True),
}
LINE_OPTIONS: dict[str, Option] = {
    "--hash": Option("--hash", True),
    "--config-settings": Option("--config-settings", True),
    "-C": Option("--config-settings", True),
}


#: A PEP 508 project name, matched ignoring case (a pattern, compiled where first used).
PROJECT_NAME = r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]"


def name_list_problem(value: str) -> str | None:
    """What is wrong with a value of an option that takes comma-separated project names,
    ``:all:`` or ``:none:`` (--only-binary, --no-binary, --all-releases, --only-final), or None.
    Empty items between commas are skipped, as pip skips them; a value with no item at all says
    nothing, and is wrong (as for uv). One rule for command lines and requirements files."""
    import re

    items = [part.strip() for part in value.split(",") if part.strip()]
    if not items:
        return "no project name, :all: or :none:"
    for name in items:
        if name not in (":all:", ":none:") and not re.fullmatch(PROJECT_NAME, name, re.IGNORECASE):
            return f"{name!r} is not a project name"
    return None


def name_list_hint(option: str) -> str:
    """The hint for a value :func:`name_list_problem` finds wrong."""
    return f"give a comma-separated list of project names, :all: or :none: (for example {option} :all:)"
