"""Parse pip-style requirements/constraints files and command-line requirement strings.

Only parsing happens here: markers are not evaluated, nothing is downloaded, and VCS URLs
are stored as written for the VCS layer.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.errors import RequirementsFileError
from satchel.requirements.models import ALL, NONE, ParsedRequirements, RequirementSpec
from satchel.requirements.urls import (
    PROJECT_MARKERS,
    infer_name_from_filename,
    is_archive_name,
    is_url,
    is_vcs_url,
    looks_like_path,
    path_to_url,
    redact,
    url_filename,
    url_fragment,
    url_to_path,
)

COMMAND_LINE = "command line"

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# "name", "name[extras]" followed by "@": a PEP 508 direct reference.
_NAMED_URL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_PATH_EXTRAS_RE = re.compile(r"^(?P<path>.*?)(?P<extras>\[[^\[\]]*\])?$")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")

_SUPPORTED_OPTIONS = (
    "-r/--requirement, -c/--constraint, -e/--editable, -i/--index-url, --extra-index-url, "
    "-f/--find-links, --no-index, --pre, --only-binary, --no-binary, --prefer-binary, "
    "--require-hashes, --no-require-hashes, --all-releases, --only-final, --trusted-host, "
    "--use-feature; after a requirement: --hash, "
    "--config-settings"
)


# The private helper classes below are plain classes, not dataclasses: making a dataclass costs
# a few hundred microseconds of start-up each, and the no-op install imports this module.


class _Option:
    __slots__ = ("name", "takes_value")

    def __init__(self, name: str, takes_value: bool) -> None:
        self.name = name  # canonical long spelling, e.g. "--index-url"
        self.takes_value = takes_value


_FILE_OPTIONS: dict[str, _Option] = {
    "-r": _Option("--requirement", True),
    "--requirement": _Option("--requirement", True),
    "-c": _Option("--constraint", True),
    "--constraint": _Option("--constraint", True),
    "-e": _Option("--editable", True),
    "--editable": _Option("--editable", True),
    "-i": _Option("--index-url", True),
    "--index-url": _Option("--index-url", True),
    "--extra-index-url": _Option("--extra-index-url", True),
    "-f": _Option("--find-links", True),
    "--find-links": _Option("--find-links", True),
    "--no-index": _Option("--no-index", False),
    "--pre": _Option("--pre", False),
    "--only-binary": _Option("--only-binary", True),
    "--no-binary": _Option("--no-binary", True),
    "--prefer-binary": _Option("--prefer-binary", False),
    "--no-require-hashes": _Option("--no-require-hashes", False),
    "--all-releases": _Option("--all-releases", True),
    "--only-final": _Option("--only-final", True),
    "--require-hashes": _Option("--require-hashes", False),
    "--trusted-host": _Option("--trusted-host", True),
    "--use-feature": _Option("--use-feature", True),
}
_LINE_OPTIONS: dict[str, _Option] = {
    "--hash": _Option("--hash", True),
    "--config-settings": _Option("--config-settings", True),
    "-C": _Option("--config-settings", True),
}


# --------------------------------------------------------------------------------------------
# public API


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


def parse_requirement_line(
    text: str,
    *,
    source: str,
    base_dir: Path,
    editable: bool = False,
    constraint: bool = False,
) -> RequirementSpec:
    """Parse one requirement: PEP 508, ``name @ url``, a bare URL or a local path.

    ``source`` prefixes error messages (``"reqs.txt:3"`` or ``"command line"``); relative paths
    are resolved against ``base_dir``. Per-line options (``--hash=...``,
    ``--config-settings=K=V``) may follow the requirement.
    """
    if text.lstrip().startswith("-"):
        raise RequirementsFileError(
            f"{source}: expected a requirement, got option '{redact(text.strip())}'",
            hint="pass editable requirements with editable=True and files with -r/-c",
        )
    req_text, option_tokens = _split_line_options(text, where=source)
    return _build_spec(
        req_text,
        option_tokens,
        where=source,
        base_dir=base_dir,
        editable=editable,
        constraint=constraint,
        line=text.strip(),
    )


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
    text = _decode(data, display)
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
    for lineno, raw, expanded in _logical_lines(text, env):
        _handle_line(expanded, raw, f"{display}:{lineno}", context, state)


def _decode(data: bytes, display: str) -> str:
    encoding = "utf-8"
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            encoding = name
            break
    else:
        for first_lines in data.split(b"\n", 2)[:2]:
            match = _CODING_RE.match(first_lines)
            if match:
                encoding = match.group(1).decode("ascii")
                break
    try:
        return data.decode(encoding)
    except LookupError:
        raise RequirementsFileError(
            f"{display}:1: unknown encoding '{encoding}' in coding declaration",
            hint="save the file as UTF-8 and remove the coding declaration",
        )
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise RequirementsFileError(
            f"{display}:{lineno}: cannot decode byte 0x{bad} as {encoding}",
            hint="save the file as UTF-8 (or declare its encoding with "
            "'# -*- coding: <name> -*-' on the first line)",
        )


def _logical_lines(text: str, env: Mapping[str, str]) -> Iterator[tuple[int, str, str]]:
    """(first physical line number, text as written, text with ${VAR} expanded) of each
    non-blank logical line: comments removed, backslash continuations joined."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    pending: list[str] = []
    start = 0
    for index, line in enumerate(physical, start=1):
        stripped = _COMMENT_RE.sub("", line).rstrip()
        if not pending:
            start = index
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        logical = "".join(pending).strip()
        pending = []
        if logical:
            yield start, logical, _expand_env(logical, env)
    if pending:  # the file ended inside a continuation
        logical = "".join(pending).strip()
        if logical:
            yield start, logical, _expand_env(logical, env)


def _expand_env(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = env.get(match.group(1))
        return match.group(0) if value is None else value

    return _ENV_VAR_RE.sub(replace, text)


def _handle_line(text: str, raw: str, where: str, context: _FileContext, state: _State) -> None:
    if not text.startswith("-"):
        req_text, option_tokens = _split_line_options(text, where=where)
        spec = _build_spec(
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

    tokens = _shlex(text, where)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        option, value, index = _take_option(tokens, index, where)
        name = option.name
        if name == "--editable":
            assert value is not None
            spec = _build_spec(
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
        elif name == "--all-releases":
            state.all_releases.append(value)
        elif name == "--only-final":
            state.only_final.append(value)
        elif name == "--index-url":
            state.index_url = value
        elif name == "--extra-index-url":
            _extend_unique(state.extra_index_urls, [value])
        elif name == "--find-links":
            _extend_unique(state.find_links, [_resolve_location(value, context.base_dir)])
        elif name == "--trusted-host":
            _extend_unique(state.trusted_hosts, [value])
        elif name == "--use-feature":
            _extend_unique(state.use_features, [value])
        elif name in ("--only-binary", "--no-binary"):
            items = [item.strip() for item in value.split(",")]
            if any(not item for item in items):
                raise RequirementsFileError(
                    f"{where}: empty project name in '{name} {value}'",
                    hint="give a comma-separated list of project names, ':all:' or ':none:'",
                )
            if name == "--only-binary":
                _apply_format_control(items, state.only_binary, state.no_binary)
            else:
                _apply_format_control(items, state.no_binary, state.only_binary)


def _take_option(tokens: list[str], index: int, where: str) -> tuple[_Option, str | None, int]:
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
    option = _FILE_OPTIONS.get(spelling)
    if option is None:
        if spelling in _LINE_OPTIONS:
            raise RequirementsFileError(
                f"{where}: option {spelling} must follow a requirement on the same line",
                hint="write e.g. 'name==1.0 --hash=sha256:<digest>'",
            )
        raise RequirementsFileError(
            f"{where}: unknown option '{spelling}'", hint=f"satchel supports {_SUPPORTED_OPTIONS}"
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


def _shlex(text: str, where: str) -> list[str]:
    import shlex  # (only option lines need it)

    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise RequirementsFileError(
            f"{where}: cannot split '{redact(text)}': {exc}",
            hint="check for an unclosed quote",
        )


# --------------------------------------------------------------------------------------------
# requirement lines


def _split_line_options(text: str, *, where: str) -> tuple[str, list[str]]:
    """Split ``req --hash=... --config-settings=...`` into the requirement and option tokens.

    Options start at the first whitespace followed by ``-`` outside quotes (quotes appear in
    markers, e.g. ``; extra == "a-b"``).
    """
    quote: str | None = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char.isspace() and re.match(r"--?[A-Za-z]", text[index + 1 :]):
            return text[:index].strip(), _shlex(text[index + 1 :], where)
    return text.strip(), []


def _parse_line_options(
    tokens: list[str], where: str
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    hashes: list[str] = []
    settings: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--"):
            spelling, eq, attached = token.partition("=")
            has_attached = bool(eq)
        elif token.startswith("-") and len(token) > 1:
            spelling, attached = token[:2], token[2:]
            has_attached = bool(attached)
        else:
            raise RequirementsFileError(
                f"{where}: unexpected text '{redact(token)}' after the requirement",
                hint="put each requirement on its own line",
            )
        option = _LINE_OPTIONS.get(spelling)
        if option is None:
            if spelling in _FILE_OPTIONS:
                raise RequirementsFileError(
                    f"{where}: option {spelling} is not allowed after a requirement",
                    hint="put it on a line of its own",
                )
            raise RequirementsFileError(
                f"{where}: unknown option '{spelling}' after the requirement",
                hint="only --hash and --config-settings may follow a requirement",
            )
        if has_attached:
            value = attached
            index += 1
        elif index + 1 < len(tokens):
            value = tokens[index + 1]
            index += 2
        else:
            raise RequirementsFileError(
                f"{where}: option {spelling} needs a value", hint=f"write '{option.name}=<value>'"
            )
        if option.name == "--hash":
            hashes.append(_parse_hash(value, where))
        else:
            key, eq, setting = value.partition("=")
            if not eq or not key:
                raise RequirementsFileError(
                    f"{where}: malformed --config-settings value '{value}'",
                    hint="write '--config-settings=KEY=VALUE'",
                )
            settings.append((key, setting))
    return tuple(hashes), tuple(settings)


def _parse_hash(value: str, where: str) -> str:
    algorithm, sep, digest = value.partition(":")
    algorithm = algorithm.lower()
    if not sep:
        raise RequirementsFileError(
            f"{where}: malformed --hash value '{value}' (expected algorithm:hexdigest)",
            hint="write '--hash=sha256:<64 hex digits>'",
        )
    length = _HASH_LENGTHS.get(algorithm)
    if length is None:
        raise RequirementsFileError(
            f"{where}: unsupported hash algorithm '{algorithm}' in '--hash={value}'",
            hint="use sha256, sha384 or sha512",
        )
    if len(digest) != length or not _HEX_RE.match(digest):
        raise RequirementsFileError(
            f"{where}: malformed {algorithm} digest '{digest}' (expected {length} hex digits)",
            hint="copy the digest again, e.g. from the output of 'sha256sum <file>'",
        )
    return f"{algorithm}:{digest.lower()}"


def _build_spec(
    text: str,
    option_tokens: list[str],
    *,
    where: str,
    base_dir: Path,
    editable: bool,
    constraint: bool,
    line: str,
) -> RequirementSpec:
    if not text:
        raise RequirementsFileError(
            f"{where}: missing requirement before options", hint="write 'name==1.0 --hash=...'"
        )
    hashes, settings = _parse_line_options(option_tokens, where)
    if _NAMED_URL_RE.match(text) and not is_url(text):
        name, requirement, url, extras, marker = _parse_pep508(text, where, base_dir)
    elif is_url(text):
        name, requirement, url, extras, marker = _parse_url(text, where)
    else:
        local = _parse_path(text, where, base_dir)
        if local is not None:
            name, requirement, url, extras, marker = local
        else:
            name, requirement, url, extras, marker = _parse_pep508(text, where, base_dir)

    if editable:
        _check_editable(text, url, where)
    if constraint:
        _check_constraint(text, name, extras, editable, where)
    return RequirementSpec(
        name=name,
        requirement=requirement,
        url=url,
        source=where,
        line=line,
        editable=editable,
        hashes=hashes,
        extras=extras,
        marker=marker,
        is_constraint=constraint,
        config_settings=settings,
    )


_Parsed = tuple[str | None, Requirement | None, str | None, frozenset[str], Marker | None]


def _parse_pep508(text: str, where: str, base_dir: Path) -> _Parsed:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        raise RequirementsFileError(
            f"{where}: invalid requirement '{redact(text)}': {reason}",
            hint="requirements look like 'name[extra]>=1.0; python_version < \"3.12\"', "
            "'name @ https://...', a URL or a local path",
        )
    url = requirement.url
    if url is not None and not is_url(url):
        # "name @ ./pkg": not strictly PEP 508, but unambiguous; resolve like a bare path.
        url = path_to_url(base_dir / url)
        requirement.url = url
    extras = frozenset(canonicalize_name(extra) for extra in requirement.extras)
    return canonicalize_name(requirement.name), requirement, url, extras, requirement.marker


def _parse_url(text: str, where: str) -> _Parsed:
    url, marker = _split_marker(text, re.compile(r";\s"), where)
    name: str | None = None
    extras: frozenset[str] = frozenset()
    egg = url_fragment(url).get("egg")
    if egg is not None:
        name, extras = _parse_egg(egg, where)
    elif not is_vcs_url(url):
        filename = url_filename(url)
        if is_archive_name(filename):
            name = infer_name_from_filename(filename)
    return name, _make_requirement(name, extras, url, marker), url, extras, marker


def _parse_path(text: str, where: str, base_dir: Path) -> _Parsed | None:
    """A local path requirement, or None when ``text`` does not look like one."""
    path_text, marker_text = text, None
    if ";" in text:
        path_text, _, marker_text = text.partition(";")
        path_text = path_text.strip()
    match = _PATH_EXTRAS_RE.match(path_text)
    assert match is not None  # the pattern matches any string
    bare = match.group("path").strip()
    extras_text = match.group("extras")
    candidate = base_dir / bare
    if not (looks_like_path(bare) or (is_archive_name(bare) and candidate.is_file())):
        return None
    if not candidate.exists():
        raise RequirementsFileError(
            f"{where}: local path '{bare}' does not exist",
            hint=f"looked for {os.path.abspath(candidate)}; a project name must not contain '/'",
        )
    if candidate.is_dir():
        if not any((candidate / marker).is_file() for marker in PROJECT_MARKERS):
            raise RequirementsFileError(
                f"{where}: directory '{bare}' is not a Python project",
                hint="it has neither pyproject.toml nor setup.py",
            )
        name = None
    elif is_archive_name(candidate.name):
        name = infer_name_from_filename(candidate.name)
    else:
        raise RequirementsFileError(
            f"{where}: local file '{bare}' is not a wheel or source archive",
            hint="use -r to include another requirements file",
        )
    marker = _parse_marker(marker_text, text, where) if marker_text is not None else None
    extras: frozenset[str] = frozenset()
    if extras_text:
        extras = _parse_extras(extras_text, text, where)
    url = path_to_url(candidate)
    return name, _make_requirement(name, extras, url, marker), url, extras, marker


def _split_marker(text: str, separator: re.Pattern[str], where: str) -> tuple[str, Marker | None]:
    parts = separator.split(text, maxsplit=1)
    if len(parts) == 1:
        return text.strip(), None
    return parts[0].strip(), _parse_marker(parts[1], text, where)


def _parse_marker(marker_text: str, text: str, where: str) -> Marker:
    try:
        return Marker(marker_text.strip())
    except InvalidMarker as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
        raise RequirementsFileError(
            f"{where}: invalid marker in '{redact(text)}': {reason}",
            hint="markers look like 'python_version < \"3.12\"'",
        )


def _parse_extras(extras_text: str, text: str, where: str) -> frozenset[str]:
    try:
        requirement = Requirement(f"placeholder{extras_text}")
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise RequirementsFileError(
            f"{where}: invalid extras in '{redact(text)}': {reason}",
            hint="extras look like '[socks,security]'",
        )
    return frozenset(canonicalize_name(extra) for extra in requirement.extras)


def _parse_egg(egg: str, where: str) -> tuple[str, frozenset[str]]:
    try:
        requirement = Requirement(egg)
    except InvalidRequirement:
        requirement = None
    if requirement is None or requirement.url or requirement.specifier or requirement.marker:
        raise RequirementsFileError(
            f"{where}: invalid project name in '#egg={egg}'",
            hint="the #egg= fragment must be a project name, e.g. '#egg=mypkg'",
        )
    extras = frozenset(canonicalize_name(extra) for extra in requirement.extras)
    return canonicalize_name(requirement.name), extras


def _make_requirement(
    name: str | None, extras: frozenset[str], url: str, marker: Marker | None
) -> Requirement | None:
    if name is None:
        return None
    text = name
    if extras:
        text += "[" + ",".join(sorted(extras)) + "]"
    text += f" @ {url}"
    if marker is not None:
        text += f" ; {marker}"
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _check_editable(text: str, url: str | None, where: str) -> None:
    if url is not None and is_vcs_url(url):
        return
    local = url_to_path(url) if url is not None else None
    if local is not None and local.is_dir():
        return
    if local is not None and not local.exists():
        raise RequirementsFileError(
            f"{where}: editable path '{redact(text)}' does not exist",
            hint=f"looked for {local}",
        )
    raise RequirementsFileError(
        f"{where}: cannot install '{redact(text)}' as editable",
        hint="-e needs a local project directory or a VCS URL (git+https://...)",
    )


def _check_constraint(
    text: str, name: str | None, extras: frozenset[str], editable: bool, where: str
) -> None:
    if editable:
        raise RequirementsFileError(
            f"{where}: editable requirement '{redact(text)}' cannot be a constraint",
            hint="move it to a requirements file (-r)",
        )
    if name is None:
        raise RequirementsFileError(
            f"{where}: constraint '{redact(text)}' has no project name",
            hint="name it, e.g. 'name @ <url>' or add '#egg=name'",
        )
    if extras:
        raise RequirementsFileError(
            f"{where}: constraint '{redact(text)}' cannot have extras",
            hint="constrain the project without its [extras]",
        )
