"""Requirements and constraints files, and everything given on a command line.

A file is decoded (BOM or coding declaration, else UTF-8), split into logical lines (comments
removed, backslash continuations joined, ``${VAR}`` expanded), and each line is an option line
(``-r``/``-c`` includes, index and format options: ``options.FILE_OPTIONS``) or a requirement
(``line.py``, with its ``--hash``/``--config-settings``). Everything accumulates into one
``ParsedRequirements``. Decoding and logical lines are ``logical.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from satchel.cache.record import sha256
from satchel.errors import RequirementsFileError
from satchel.requirements.line import (
    build_spec,
    parse_requirement_line,
    split_line_options,
    split_tokens,
)
from satchel.requirements.logical import decode, logical_lines
from satchel.requirements.models import ALL, NONE, ParsedRequirements, RequirementSpec
from satchel.requirements.options import (
    FILE_OPTIONS,
    LINE_OPTIONS,
    SUPPORTED_OPTIONS,
    Option,
    name_list_hint,
    name_list_problem,
)
from satchel.requirements.urls import is_url, redact, url_to_path

COMMAND_LINE = "command line"


def parse_requirements_file(
    path: str | Path, *, constraint: bool = False, env: Mapping[str, str] | None = None
) -> ParsedRequirements:
    """Read a requirements file (or, with ``constraint=True``, a constraints file).

    Nested ``-r``/``-c`` files are read relative to the including file. ``${VAR}`` is
    expanded from ``env`` (default: ``os.environ``); unset variables are left as written.
    Raises RequirementsFileError naming ``file:line`` for anything malformed.
    """
    text = os.fspath(path)
    if is_url(text):
        raise _remote_file_error(text, where=None)
    state = _State()
    _read_file(
        Path(text),
        display=text,
        constraint=constraint,
        env=os.environ if env is None else env,
        state=state,
        chain=(),
        where=None,
    )
    return state.freeze()


def merge_requirements(parts: Iterable[ParsedRequirements]) -> ParsedRequirements:
    """Combine several parse results in order (later ``--index-url`` wins, lists concatenate,
    flags OR, ``--only-binary``/``--no-binary`` applied as if given in this order)."""
    state = _State()
    for part in parts:
        state.absorb(part)
    return state.freeze()


def parse_command_line(
    requirements: Iterable[str] = (),
    *,
    editables: Iterable[str] = (),
    requirement_files: Iterable[str | Path] = (),
    constraint_files: Iterable[str | Path] = (),
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ParsedRequirements:
    """Everything given on a command line: requirement strings, ``-e`` values, ``-r`` and
    ``-c`` files. Relative paths are resolved against ``base_dir`` (default: the CWD)."""
    cwd = Path.cwd() if base_dir is None else base_dir
    parts = [
        ParsedRequirements(
            requirements=[
                *(
                    parse_requirement_line(item, source=COMMAND_LINE, base_dir=cwd)
                    for item in requirements
                ),
                *(
                    parse_requirement_line(item, source=COMMAND_LINE, base_dir=cwd, editable=True)
                    for item in editables
                ),
            ]
        )
    ]
    for files, constraint in ((requirement_files, False), (constraint_files, True)):
        for name in files:
            text = os.fspath(name)
            if is_url(text):
                raise _remote_file_error(text, where=None)
            state = _State()
            _read_file(
                cwd / text,
                display=text,
                constraint=constraint,
                env=os.environ if env is None else env,
                state=state,
                chain=(),
                where=None,
            )
            parts.append(state.freeze())
    return merge_requirements(parts)


# --------------------------------------------------------------------------------------------
# accumulated state


class _State:
    def __init__(self) -> None:
        self.requirements: list[RequirementSpec] = []
        self.constraints: list[RequirementSpec] = []
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self.find_links: list[str] = []
        self.no_index = False
        self.pre = False
        self.only_binary: set[str] = set()
        self.no_binary: set[str] = set()
        self.require_hashes = False
        self.prefer_binary = False
        self.no_require_hashes = False
        self.all_releases: list[str] = []
        self.only_final: list[str] = []
        self.trusted_hosts: list[str] = []
        self.use_features: list[str] = []
        self.files: list[str] = []
        self.read: list[tuple[str, str]] = []

    def freeze(self) -> ParsedRequirements:
        return ParsedRequirements(
            requirements=list(self.requirements),
            constraints=list(self.constraints),
            index_url=self.index_url,
            extra_index_urls=list(self.extra_index_urls),
            find_links=list(self.find_links),
            no_index=self.no_index,
            pre=self.pre,
            only_binary=set(self.only_binary),
            no_binary=set(self.no_binary),
            require_hashes=self.require_hashes,
            prefer_binary=self.prefer_binary,
            no_require_hashes=self.no_require_hashes,
            all_releases=list(self.all_releases),
            only_final=list(self.only_final),
            trusted_hosts=list(self.trusted_hosts),
            use_features=list(self.use_features),
            files=list(self.files),
            read=list(self.read),
        )

    def absorb(self, part: ParsedRequirements) -> None:
        self.requirements.extend(part.requirements)
        self.constraints.extend(part.constraints)
        if part.index_url is not None:
            self.index_url = part.index_url
        for mine, theirs in (
            (self.extra_index_urls, part.extra_index_urls),
            (self.find_links, part.find_links),
            (self.trusted_hosts, part.trusted_hosts),
            (self.use_features, part.use_features),
            (self.files, part.files),
        ):
            _extend_unique(mine, theirs)
        self.read.extend(r for r in part.read if r not in self.read)
        self.no_index |= part.no_index
        self.pre |= part.pre
        self.require_hashes |= part.require_hashes
        self.prefer_binary |= part.prefer_binary
        self.no_require_hashes |= part.no_require_hashes
        self.all_releases.extend(part.all_releases)
        self.only_final.extend(part.only_final)
        # ":all:" first: applying it clears the other set, which must not undo the names.
        if ALL in part.only_binary:
            _apply_format_control([ALL], self.only_binary, self.no_binary)
        if ALL in part.no_binary:
            _apply_format_control([ALL], self.no_binary, self.only_binary)
        _apply_format_control(sorted(part.only_binary - {ALL}), self.only_binary, self.no_binary)
        _apply_format_control(sorted(part.no_binary - {ALL}), self.no_binary, self.only_binary)


def _extend_unique(target: list[str], items: Iterable[str]) -> None:
    for item in items:
        if item not in target:
            target.append(item)


def _apply_format_control(items: Iterable[str], target: set[str], other: set[str]) -> None:
    """pip semantics: ``:all:`` replaces ``target`` and empties ``other``; ``:none:`` empties
    ``target``; a name joins ``target`` and leaves ``other``."""
    for item in items:
        if item == ALL:
            other.clear()
            target.clear()
            target.add(ALL)
        elif item == NONE:
            target.clear()
        else:
            name = canonicalize_name(item)
            other.discard(name)
            target.add(name)


# --------------------------------------------------------------------------------------------
# files


class _FileContext:
    __slots__ = ("base_dir", "chain", "constraint", "display", "env")

    def __init__(
        self,
        *,
        display: str,
        base_dir: Path,
        constraint: bool,
        env: Mapping[str, str],
        chain: tuple[tuple[Path, str], ...],
    ) -> None:
        self.display = display  # the file as the user would name it (messages, ``source``)
        self.base_dir = base_dir  # absolute directory of the file
        self.constraint = constraint
        self.env = env
        self.chain = chain  # (resolved path, display) of this file and its includers


def _read_file(
    path: Path,
    *,
    display: str,
    constraint: bool,
    env: Mapping[str, str],
    state: _State,
    chain: tuple[tuple[Path, str], ...],
    where: str | None,
) -> None:
    kind = "constraints file" if constraint else "requirements file"
    prefix = f"{where}: " if where else ""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RequirementsFileError(
            f"{prefix}{kind} '{display}' does not exist",
            hint=f"check the path (looked for {os.path.abspath(path)})",
        )
    except OSError as exc:
        raise RequirementsFileError(
            f"{prefix}cannot read {kind} '{display}': {exc.strerror or exc}",
            hint="check that the path names a readable file",
        )
    text = decode(data, display)
    resolved = path.resolve()
    context = _FileContext(
        display=display,
        base_dir=Path(os.path.abspath(path)).parent,
        constraint=constraint,
        env=env,
        chain=(*chain, (resolved, display)),
    )
    if display not in state.files:
        state.files.append(display)
    read = (os.path.abspath(path), sha256(data).hex())
    if read not in state.read:
        state.read.append(read)
    for lineno, raw, expanded in logical_lines(text, env):
        _handle_line(expanded, raw, f"{display}:{lineno}", context, state)


def _handle_line(text: str, raw: str, where: str, context: _FileContext, state: _State) -> None:
    if not text.startswith("-"):
        req_text, option_tokens = split_line_options(text, where=where)
        spec = build_spec(
            req_text,
            option_tokens,
            where=where,
            base_dir=context.base_dir,
            editable=False,
            constraint=context.constraint,
            line=raw,
        )
        (state.constraints if context.constraint else state.requirements).append(spec)
        return

    tokens = split_tokens(text, where)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        option, value, index = _take_option(tokens, index, where)
        name = option.name
        if name == "--editable":
            assert value is not None
            spec = build_spec(
                value,
                tokens[index:],
                where=where,
                base_dir=context.base_dir,
                editable=True,
                constraint=context.constraint,
                line=raw,
            )
            (state.constraints if context.constraint else state.requirements).append(spec)
            return
        if value is None:
            if name == "--no-index":
                state.no_index = True
            elif name == "--pre":
                state.pre = True
            elif name == "--prefer-binary":
                state.prefer_binary = True
            elif name == "--require-hashes":
                state.require_hashes = True
            elif name == "--no-require-hashes":
                state.no_require_hashes = True
            continue
        if not value.strip():
            raise RequirementsFileError(
                f"{where}: option {token} needs a non-empty value",
                hint=f"write '{name} <value>'",
            )
        if name in ("--requirement", "--constraint"):
            _include(value, name == "--constraint", where, context, state)
        elif name in ("--all-releases", "--only-final", "--only-binary", "--no-binary"):
            problem = name_list_problem(value)
            if problem is not None:
                raise RequirementsFileError(f"{where}: {name} {value!r}: {problem}", hint=name_list_hint(name))
            items = [item.strip() for item in value.split(",") if item.strip()]
            if name == "--all-releases":
                state.all_releases.append(value)
            elif name == "--only-final":
                state.only_final.append(value)
            elif name == "--only-binary":
                _apply_format_control(items, state.only_binary, state.no_binary)
            else:
                _apply_format_control(items, state.no_binary, state.only_binary)
        elif name == "--index-url":
            _check_url(name, value, where)
            state.index_url = value
        elif name == "--extra-index-url":
            _check_url(name, value, where)
            _extend_unique(state.extra_index_urls, [value])
        elif name == "--find-links":
            if "://" in value or value.lower().startswith("file:"):
                _check_url(name, value, where)
            _extend_unique(state.find_links, [_resolve_location(value, context.base_dir)])
        elif name == "--trusted-host":
            _extend_unique(state.trusted_hosts, [value])
        elif name == "--use-feature":
            _extend_unique(state.use_features, [value])


def _check_url(option: str, url: str, where: str) -> None:
    """A clear error (file:line) for an index or find-links URL that is not one."""
    from satchel.settings import url_problem

    problem = url_problem(url)
    if problem:
        raise RequirementsFileError(
            f"{where}: {option} {url!r} is not a URL: {problem}",
            hint="an index URL looks like https://host/simple",
        )


def _take_option(tokens: list[str], index: int, where: str) -> tuple[Option, str | None, int]:
    """The option at ``tokens[index]``, its value (None for flags) and the next index."""
    token = tokens[index]
    attached: str | None = None
    if token.startswith("--"):
        spelling, eq, rest = token.partition("=")
        if eq:
            attached = rest
    elif token.startswith("-") and len(token) > 1:
        spelling = token[:2]
        if len(token) > 2:
            attached = token[2:]
    else:
        raise RequirementsFileError(
            f"{where}: unexpected text '{redact(token)}' on an option line",
            hint="put each requirement on its own line; options take one value "
            "(--only-binary/--no-binary take a comma-separated list)",
        )
    option = FILE_OPTIONS.get(spelling)
    if option is None:
        if spelling in LINE_OPTIONS:
            raise RequirementsFileError(
                f"{where}: option {spelling} must follow a requirement on the same line",
                hint="write e.g. 'name==1.0 --hash=sha256:<digest>'",
            )
        raise RequirementsFileError(
            f"{where}: unknown option '{spelling}'", hint=f"satchel supports {SUPPORTED_OPTIONS}"
        )
    if not option.takes_value:
        if attached is not None:
            raise RequirementsFileError(
                f"{where}: option {option.name} takes no value (got '{redact(token)}')",
                hint=f"write just '{option.name}'",
            )
        return option, None, index + 1
    if attached is not None:
        return option, attached, index + 1
    if index + 1 >= len(tokens):
        raise RequirementsFileError(
            f"{where}: option {spelling} needs a value", hint=f"write '{option.name} <value>'"
        )
    return option, tokens[index + 1], index + 2


def _include(
    value: str, constraint: bool, where: str, context: _FileContext, state: _State
) -> None:
    file_path = url_to_path(value)
    if file_path is not None:
        value = os.fspath(file_path)
    elif is_url(value):
        raise _remote_file_error(value, where=where)
    nested = Path(value)
    path = nested if nested.is_absolute() else context.base_dir / nested
    if nested.is_absolute():
        display = value
    else:
        display = os.path.normpath(os.path.join(os.path.dirname(context.display), value))
    resolved = path.resolve()
    if any(seen == resolved for seen, _ in context.chain):
        names = " -> ".join([*(shown for _, shown in context.chain), display])
        raise RequirementsFileError(
            f"{where}: include cycle: {names}",
            hint="remove one of the -r/-c lines that form the cycle",
        )
    _read_file(
        path,
        display=display,
        constraint=constraint,
        env=context.env,
        state=state,
        chain=context.chain,
        where=where,
    )


def _resolve_location(value: str, base_dir: Path) -> str:
    """A find-links value as a URL or an absolute path."""
    if is_url(value) or os.path.isabs(value):
        return value
    return os.path.normpath(base_dir / value)


def _remote_file_error(url: str, *, where: str | None) -> RequirementsFileError:
    prefix = f"{where}: " if where else ""
    return RequirementsFileError(
        f"{prefix}remote requirements file '{redact(url)}' is not supported",
        hint="download the file and pass its local path instead",
    )
