"""One requirement: PEP 508, ``name @ url``, a bare URL or a local path, with its per-line options
(``--hash``, ``--config-settings``).

Only parsing happens here: markers are not evaluated, nothing is downloaded, and VCS URLs are
stored as written for the VCS layer. Files (includes, option lines, continuations) are
``files.py``'s.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.errors import RequirementsFileError
from satchel.requirements.models import RequirementSpec
from satchel.requirements.options import FILE_OPTIONS, LINE_OPTIONS
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

# "name", "name[extras]" followed by "@": a PEP 508 direct reference.
_NAMED_URL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_PATH_EXTRAS_RE = re.compile(r"^(?P<path>.*?)(?P<extras>\[[^\[\]]*\])?$")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX_RE = r"^[0-9a-fA-F]+$"  # (compiled when first used: hashes are rare)

log = logging.getLogger("satchel")


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
    req_text, option_tokens = split_line_options(text, where=source)
    return build_spec(
        req_text,
        option_tokens,
        where=source,
        base_dir=base_dir,
        editable=editable,
        constraint=constraint,
        line=text.strip(),
    )


def split_line_options(text: str, *, where: str) -> tuple[str, list[str]]:
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
            return text[:index].strip(), split_tokens(text[index + 1 :], where)
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
        option = LINE_OPTIONS.get(spelling)
        if option is None:
            if spelling in FILE_OPTIONS:
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
    if len(digest) != length or not re.match(_HEX_RE, digest):
        raise RequirementsFileError(
            f"{where}: malformed {algorithm} digest '{digest}' (expected {length} hex digits)",
            hint="copy the digest again, e.g. from the output of 'sha256sum <file>'",
        )
    return f"{algorithm}:{digest.lower()}"


def build_spec(
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

    if url is not None:
        _check_url(url, where, editable=editable)
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
        if is_archive_name(bare) and not candidate.exists():
            # (as pip: a project may have such a name, so it is still asked for; but the error
            # that follows would only say no such project exists)
            log.warning(
                "%s: '%s' looks like a file name, but there is no such file (%s): looking it up "
                "as a project name",
                where,
                bare,
                os.path.abspath(candidate),
            )
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


def _check_url(url: str, where: str, *, editable: bool) -> None:
    """What can be told of a direct reference's URL before anything is fetched, said with the
    line it is on: an http(s) URL must be one, a VCS URL must name a host (but git+file:), and
    a local file must exist (an editable one is checked by :func:`_check_editable`)."""
    lower = url.lower()
    if lower.startswith(("http://", "https://")):
        from satchel.settings import url_problem

        problem = url_problem(url, schemes=("http", "https"))
        if problem:
            raise RequirementsFileError(
                f"{where}: {redact(url)!r} is not a URL: {problem}",
                hint="a direct reference looks like 'name @ https://host/path/name-1.0.tar.gz'",
            )
    elif is_vcs_url(url):
        from urllib.parse import urlsplit

        inner = urlsplit(url.split("+", 1)[1])
        if inner.scheme.lower() != "file" and not inner.netloc:
            raise RequirementsFileError(
                f"{where}: {redact(url)!r} names no host",
                hint="a VCS URL looks like 'git+https://host/owner/repo.git@ref'",
            )
    elif not editable:
        local = url_to_path(url)
        if local is not None and not local.exists():
            raise RequirementsFileError(
                f"{where}: local file '{redact(url)}' does not exist", hint=f"looked for {local}"
            )


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


def split_tokens(text: str, where: str) -> list[str]:
    import shlex  # (only option lines need it)

    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise RequirementsFileError(
            f"{where}: cannot split '{redact(text)}': {exc}",
            hint="check for an unclosed quote",
        )
