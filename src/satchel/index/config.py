"""Which index to use: explicit options, then SATCHEL_INDEX_URL, then pip's configuration, then
pip's own built-in default (read from the installed pip, never hard-coded here).

pip's configuration is read the way pip reads it: files from lowest to highest priority are the
global ones ($XDG_CONFIG_DIRS/pip/pip.conf, /etc/pip.conf), the user ones (~/.pip/pip.conf,
$XDG_CONFIG_HOME/pip/pip.conf; skipped when PIP_CONFIG_FILE names an existing file), the site one
($VIRTUAL_ENV/pip.conf) and PIP_CONFIG_FILE; PIP_CONFIG_FILE=/dev/null disables all files. The
[install] section beats [global] whatever file each comes from, and PIP_* environment variables
beat both. Each setting (index-url, extra-index-url, find-links) is looked up independently.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satchel.errors import SatchelError

log = logging.getLogger("satchel.index")

# (patterns, compiled when first used through re's cache: the no-op install imports this module)
_PYPI_RE = r"""^PyPI\s*=\s*PackageIndex\(\s*["']([^"']+)["']"""
_SECTIONS = ("global", "install")  # lowest to highest priority
_DELIMITER = r"[=:]"


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """The indexes and find-links locations to use, and where the index URL came from."""
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    source: str = ""  # where index_url came from, e.g. "SATCHEL_INDEX_URL" or "/etc/pip.conf [global]"


class _Setting:
    """A setting's value and where it came from."""

    __slots__ = ("source", "value")

    def __init__(self, value: str, source: str) -> None:
        self.value = value
        self.source = source


def __getattr__(name: str) -> Any:
    # shutil (with the compression modules it loads) costs start-up time, and is needed only
    # when there is no pip to read the default index from: imported then. (Also as an attribute,
    # which tests patch.)
    if name == "shutil":
        return importlib.import_module("shutil")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_index_config(
    index_url: str | None = None,
    *,
    env_index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    find_links: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    config_files: Sequence[Path] | None = None,
) -> IndexConfig:
    """Work out the index URLs and find-links for this run.

    ``extra_index_urls`` / ``find_links`` of None mean "not given": they are then taken from pip's
    configuration (an empty sequence means "none"). ``env_index_url`` is SATCHEL_INDEX_URL's
    value (``Settings.index_url``, parsed there). ``config_files`` replaces pip's file discovery
    (lowest priority first); ``environ`` (pip's variables) defaults to ``os.environ``.

    An index URL that is not a URL is an error naming where it came from.
    """
    env = os.environ if environ is None else environ
    pip: dict[str, _Setting] | None = None

    def pip_setting(key: str) -> _Setting | None:
        nonlocal pip
        if pip is None:
            files = pip_config_files(env) if config_files is None else list(config_files)
            pip = read_pip_config(files, env)
        return pip.get(key)

    if index_url:
        url, source = index_url, "--index-url"
    elif env_index_url:
        url, source = env_index_url, "SATCHEL_INDEX_URL"
    else:
        setting = pip_setting("index-url")
        if setting is not None and setting.value.strip():
            url, source = setting.value.strip(), setting.source
        else:
            url, source = pip_default_index_url()

    _check_url(url, source)
    if extra_index_urls is None:
        s = pip_setting("extra-index-url")
        extra = tuple(s.value.split()) if s else ()
        for item in extra:
            _check_url(item, s.source if s else "")
    else:
        extra = tuple(extra_index_urls)
    if find_links is None:
        s = pip_setting("find-links")
        links = tuple(s.value.split()) if s else ()
    else:
        links = tuple(find_links)
    return IndexConfig(index_url=url, extra_index_urls=extra, find_links=links, source=source)


def _check_url(url: str, source: str) -> None:
    from satchel.settings import url_problem

    problem = url_problem(url)
    if problem:
        raise SatchelError(
            f"index URL {url!r} (from {source}) is not a URL: {problem}",
            hint="an index URL looks like https://host/simple",
        )


def pip_config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files on this system, lowest priority first (existing or not)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d).expanduser() / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    if not (env_file and os.path.exists(env_file)):
        xdg_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        files += [home / ".pip" / "pip.conf", Path(xdg_home) / "pip" / "pip.conf"]
    venv = environ.get("VIRTUAL_ENV")
    if venv:
        files.append(Path(venv) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def config_inputs(environ: Mapping[str, str]) -> list[Path] | None:
    """Every file :func:`load_index_config` may read in ``environ`` (pip's configuration files,
    there or not, and the pip source it takes pip's default index from), for a replay to check
    (:mod:`satchel.cache.replays`); None when the default would come from importing pip or
    asking another interpreter."""
    files = pip_config_files(environ)
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file:
        files.append(Path(env_file))
    source = _pip_default_source()
    if source is None:
        return None
    return [*files, source]


def _pip_locations() -> list[str]:
    """Where the ``pip`` package importable here is (``find_spec``'s search locations); empty
    when there is none.

    The standard path finder is asked first: finders other packages add to ``sys.meta_path``
    are asked only when it finds nothing (setuptools' ``_distutils_hack`` answers a question
    about ``pip`` by walking the stack with :mod:`traceback`, which nothing else of a no-op
    install imports)."""
    import importlib.machinery

    spec = None
    try:
        if "pip" not in sys.modules:
            spec = importlib.machinery.PathFinder.find_spec("pip")
        if spec is None:
            import importlib.util

            spec = importlib.util.find_spec("pip")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return list(spec.submodule_search_locations)


def _pip_default_source() -> Path | None:
    """The pip source file :func:`pip_default_index_url` reads the default index from, if it
    would read one."""
    for location in _pip_locations():
        source = Path(location) / "_internal" / "models" / "index.py"
        try:
            if re.search(_PYPI_RE, source.read_text(encoding="utf-8"), re.MULTILINE):
                return source
        except OSError:
            continue
    return None


def read_pip_config(files: Sequence[Path], environ: Mapping[str, str]) -> dict[str, _Setting]:
    """Merge pip settings (keys normalized to ``index-url`` style) from files and PIP_* vars."""
    per_section: dict[str, dict[str, _Setting]] = {s: {} for s in _SECTIONS}
    for path in files:
        if not path.is_file():
            continue
        sections = read_plain_ini(path)
        if sections is None:
            sections = _read_ini(path)
            if sections is None:
                continue
        for section in _SECTIONS:
            for key, value in sections.get(section, ()):
                per_section[section][_normalize(key)] = _Setting(value, f"{path} [{section}]")
    merged: dict[str, _Setting] = {}
    for section in _SECTIONS:
        merged.update(per_section[section])
    for key in ("index-url", "extra-index-url", "find-links"):
        var = "PIP_" + key.upper().replace("-", "_")
        if environ.get(var, "").strip():
            merged[key] = _Setting(environ[var], var)
    return merged


def _read_ini(path: Path) -> dict[str, list[tuple[str, str]]] | None:
    """Every section's ``items()`` as pip's ``configparser.RawConfigParser`` reads ``path``;
    None (after a warning) if it cannot be read."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as f:
            parser.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        log.warning("ignoring pip configuration %s: %s", path, e)
        return None
    return {section: parser.items(section) for section in parser.sections()}


def read_plain_ini(path: Path) -> dict[str, list[tuple[str, str]]] | None:
    """What ``_read_ini`` returns for ``path``, without importing configparser (a millisecond
    of start-up), when the file is in a narrow form that configparser certainly reads that
    way; None for anything else (then configparser reads it, and warns about it as before).

    The narrow form: UTF-8; only blank lines, comment lines (``#`` or ``;`` after any
    whitespace), section headers ``[name]`` and ``key = value`` / ``key: value`` lines, none
    of the last two indented (no continuation lines); no ``[DEFAULT]``, no section or key twice
    in a section, no key before the first section, no key without a name or a delimiter.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    keys: set[str] = set()
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        value = line.strip()
        if not value or value[0] in "#;":
            continue
        if line[0].isspace():
            return None  # maybe a continuation line
        if value[0] == "[":
            name = value[1:-1]
            if value[-1] != "]" or not name or name == "DEFAULT" or name in sections:
                return None
            current = sections[name] = []
            keys = set()
            continue
        delimiter = re.search(_DELIMITER, value)
        if current is None or delimiter is None:
            return None
        key = value[: delimiter.start()].rstrip().lower()
        if not key or key in keys:
            return None
        keys.add(key)
        current.append((key, value[delimiter.end() :].strip()))
    return sections


def _normalize(key: str) -> str:
    key = key.strip().lower().replace("_", "-")
    return key[2:] if key.startswith("--") else key


def pip_default_index_url() -> tuple[str, str]:
    """(pip's built-in index URL, a description of where it was found).

    Cheapest first: read the constant from pip's source file; else import pip; else ask
    ``python3`` in a subprocess. Raises ``SatchelError`` when there is no pip to ask.
    """
    locations = _pip_locations()
    if locations:
        for location in locations:
            source = Path(location) / "_internal" / "models" / "index.py"
            try:
                m = re.search(_PYPI_RE, source.read_text(encoding="utf-8"), re.MULTILINE)
            except OSError:
                continue
            if m:
                return _simple_url(m.group(1)), f"pip's default ({source})"
        try:
            from pip._internal.models.index import PyPI

            return str(PyPI.simple_url), "pip's default (imported)"
        except Exception:  # a broken or very different pip: try the next way
            pass
    import shutil
    import subprocess  # (here: the no-op install reads the configuration without it)

    python = shutil.which("python3")
    if python:
        try:
            out = subprocess.run(
                [python, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            url = out.stdout.strip()
            if out.returncode == 0 and url:
                return url, f"pip's default ({python})"
        except (OSError, subprocess.SubprocessError):
            pass
    raise SatchelError(
        "no package index configured",
        hint="pass --index-url URL or set SATCHEL_INDEX_URL",
    )


def _simple_url(base: str) -> str:
    """What pip's ``PackageIndex(url).simple_url`` computes: urljoin(url, "simple")."""
    from urllib.parse import urljoin

    return urljoin(base, "simple")
