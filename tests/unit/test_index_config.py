from __future__ import annotations

import os
from pathlib import Path

import pytest

from satchel.errors import SatchelError
from satchel.index import config as config_mod
from satchel.index.config import (
    IndexConfig,
    load_index_config,
    pip_config_files,
    pip_default_index_url,
)

A = "http://127.0.0.1:1/a/simple/"
B = "http://127.0.0.1:1/b/simple/"
C = "http://127.0.0.1:1/c/simple/"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose pip configuration lives only under tmp_path (no files yet)."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-dirs"),
    }


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def only(files: list[Path]) -> list[Path]:
    """pip's file list minus the real /etc/pip.conf, which tests cannot control."""
    return [f for f in files if f != Path("/etc/pip.conf")]


def test_explicit_argument_wins(env: dict[str, str], tmp_path: Path) -> None:
    env["PIP_INDEX_URL"] = C
    cfg = load_index_config(A, env_index_url=B, environ=env)
    assert (cfg.index_url, cfg.source) == (A, "--index-url")


def test_satchel_env_beats_pip(env: dict[str, str]) -> None:
    env["PIP_INDEX_URL"] = C
    cfg = load_index_config(env_index_url=B, environ=env)
    assert (cfg.index_url, cfg.source) == (B, "SATCHEL_INDEX_URL")


def test_pip_env_beats_pip_files(env: dict[str, str], tmp_path: Path) -> None:
    conf = write(tmp_path / "pip.conf", f"[global]\nindex-url = {A}\n")
    env["PIP_CONFIG_FILE"] = str(conf)
    env["PIP_INDEX_URL"] = C
    cfg = load_index_config(environ=env)
    assert (cfg.index_url, cfg.source) == (C, "PIP_INDEX_URL")


def test_pip_config_file_env(env: dict[str, str], tmp_path: Path) -> None:
    conf = write(
        tmp_path / "pip.conf",
        f"[global]\nindex-url = {A}\nextra-index-url =\n    {B}\n    {C}\nfind-links = /srv/wheels /srv/more\n",
    )
    env["PIP_CONFIG_FILE"] = str(conf)
    cfg = load_index_config(environ=env)
    assert cfg == IndexConfig(
        index_url=A,
        extra_index_urls=(B, C),
        find_links=("/srv/wheels", "/srv/more"),
        source=f"{conf} [global]",
    )


def test_install_section_beats_global_across_files(env: dict[str, str], tmp_path: Path) -> None:
    user = write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", f"[install]\nindex_url = {B}\n")
    site = write(tmp_path / "venv" / "pip.conf", f"[global]\nindex-url = {A}\n")
    env["VIRTUAL_ENV"] = str(tmp_path / "venv")
    cfg = load_index_config(environ=env, config_files=only(pip_config_files(env)))
    assert (cfg.index_url, cfg.source) == (B, f"{user} [install]")
    assert site.exists()


def test_file_priority_order(env: dict[str, str], tmp_path: Path) -> None:
    xdg_dir = write(Path(env["XDG_CONFIG_DIRS"]) / "pip" / "pip.conf", f"[global]\nindex-url = {A}\n")
    files = only(pip_config_files(env))
    assert load_index_config(environ=env, config_files=files).index_url == A
    legacy = write(Path(env["HOME"]) / ".pip" / "pip.conf", f"[global]\nindex-url = {B}\n")
    assert load_index_config(environ=env, config_files=files).index_url == B
    write(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf", f"[global]\nindex-url = {C}\n")
    assert load_index_config(environ=env, config_files=files).index_url == C
    env["VIRTUAL_ENV"] = str(tmp_path / "venv")
    write(tmp_path / "venv" / "pip.conf", f"[global]\nindex-url = {A}\n")
    files = only(pip_config_files(env))
    assert load_index_config(environ=env, config_files=files).index_url == A
    # PIP_CONFIG_FILE comes last and, when it exists, turns the user files off
    env["PIP_CONFIG_FILE"] = str(write(tmp_path / "env.conf", f"[global]\nindex-url = {B}\n"))
    files = only(pip_config_files(env))
    assert legacy not in files and xdg_dir in files
    assert files[-1] == Path(env["PIP_CONFIG_FILE"])
    assert load_index_config(environ=env, config_files=files).index_url == B


def test_extras_and_find_links_given_by_the_user_are_kept(env: dict[str, str], tmp_path: Path) -> None:
    conf = write(tmp_path / "pip.conf", f"[global]\nextra-index-url = {B}\nfind-links = /srv\n")
    env["PIP_CONFIG_FILE"] = str(conf)
    cfg = load_index_config(A, extra_index_urls=[C], find_links=[], environ=env)
    assert (cfg.extra_index_urls, cfg.find_links) == ((C,), ())
    cfg = load_index_config(A, environ=env)
    assert (cfg.extra_index_urls, cfg.find_links) == ((B,), ("/srv",))
    env["PIP_FIND_LINKS"] = "/x /y"
    assert load_index_config(A, environ=env).find_links == ("/x", "/y")


def test_broken_pip_conf_is_ignored(env: dict[str, str], tmp_path: Path) -> None:
    env["PIP_CONFIG_FILE"] = str(write(tmp_path / "pip.conf", "index-url = no section\n"))
    assert load_index_config(env_index_url=A, environ=env).index_url == A


def test_builtin_default_comes_from_pip(env: dict[str, str]) -> None:
    pytest.importorskip("pip")
    from pip._internal.models.index import PyPI

    env["PIP_CONFIG_FILE"] = os.devnull  # pip's own switch: no configuration files at all
    cfg = load_index_config(environ=env)
    assert cfg.index_url == PyPI.simple_url
    assert cfg.source.startswith("pip's default")
    assert pip_default_index_url()[0] == PyPI.simple_url
    assert pip_config_files(env) == []


class _AskedAboutPip(Exception):
    pass


class _Finder:
    """A meta path finder of another package, asked about every import it sees."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name == "pip":
            self.asked.append(name)
            if self.answer is None:
                raise _AskedAboutPip
            return self.answer
        return None


def test_pip_is_found_on_the_path_without_asking_other_finders(monkeypatch: pytest.MonkeyPatch) -> None:
    """setuptools' _distutils_hack, first in sys.meta_path of most venvs, answers a question
    about pip by walking the stack with traceback: the path finder is asked first."""
    pytest.importorskip("pip")
    import sys

    from pip._internal.models.index import PyPI

    finder = _Finder()
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    monkeypatch.delitem(sys.modules, "pip", raising=False)
    assert pip_default_index_url()[0] == PyPI.simple_url
    assert finder.asked == []


def test_a_pip_only_another_finder_knows_is_still_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.machinery
    import sys

    models = tmp_path / "pip" / "_internal" / "models"
    models.mkdir(parents=True)
    (models / "index.py").write_text('PyPI = PackageIndex("https://index.invalid/", file_storage_domain="x")\n')
    spec = importlib.machinery.ModuleSpec("pip", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path / "pip")]
    finder = _Finder(spec)
    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", classmethod(lambda cls, *a: None))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    monkeypatch.delitem(sys.modules, "pip", raising=False)
    url, source = pip_default_index_url()
    assert finder.asked == ["pip"] and url == "https://index.invalid/simple" and str(models) in source


def test_no_pip_no_index(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    import importlib.machinery

    monkeypatch.setattr(config_mod.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", classmethod(lambda cls, *a: None))
    monkeypatch.setattr(config_mod.shutil, "which", lambda name: None)
    env["PIP_CONFIG_FILE"] = os.devnull
    with pytest.raises(SatchelError) as exc:
        load_index_config(environ=env)
    assert exc.value.message == "no package index configured"
    assert exc.value.hint and "--index-url" in exc.value.hint
