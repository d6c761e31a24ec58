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
