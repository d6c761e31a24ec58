"""Parse pip-style requirements/constraints files and command-line requirement strings.

The public entry points, from ``files.py`` (files, includes, option lines, the command line) and
``line.py`` (one requirement and its per-line options); ``options.py`` lists the options.
"""

from satchel.requirements.files import (
    COMMAND_LINE,
    merge_requirements,
    parse_command_line,
    parse_requirements_file,
)
from satchel.requirements.line import parse_requirement_line

__all__ = [
    "COMMAND_LINE",
    "merge_requirements",
    "parse_command_line",
    "parse_requirement_line",
    "parse_requirements_file",
]
