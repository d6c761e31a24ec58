"""The interpreter cache: a hit runs nothing; a changed identity or a corrupt record re-probes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satchel.cache.buckets import INTERPRETERS
from satchel.cache.record import dumps
from satchel.cache.store import Cache
from satchel.errors import InterpreterError
from satchel.python import probe
from satchel.python.cached import (
    InterpreterRecord,
    cache_key,
    get_facts,
    get_interpreter,
    identity_of,
)
from satchel.python.facts import ProbeFacts
from satchel.python.venv import create_venv


class Counter:
    """Wraps probe.probe_facts, counting calls; ``fake`` answers without running anything."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fake: ProbeFacts | None = None) -> None:
        self.calls: list[Path] = []
        real = probe.probe_facts

        def counting(executable: Path, **kwargs: Any) -> ProbeFacts:
            self.calls.append(executable)
            return fake if fake is not None else real(executable, **kwargs)

        monkeypatch.setattr(probe, "probe_facts", counting)


@pytest.fixture(scope="module")
def real_facts() -> ProbeFacts:
    return probe.probe_facts(Path(sys.executable))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.fixture
def fake_exe(tmp_path: Path) -> Path:
    """A file standing for an interpreter binary (the probe is faked, it never runs)."""
    exe = tmp_path / "fakepy" / "bin" / "python"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"\x7fELF fake interpreter")
    exe.chmod(0o755)
    return exe


def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"unexpected subprocess: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


def test_hit_spawns_no_subprocess(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = Path(sys.executable)
    first = get_interpreter(exe, cache)
    no_subprocess(monkeypatch)
    second = get_interpreter(exe, cache)
    assert second == first
    assert second.tags and second.executable == os.path.abspath(exe)


def test_hit_in_a_new_cache_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    get_interpreter(Path(sys.executable), Cache(tmp_path / "c"))
    counter = Counter(monkeypatch)
    get_interpreter(Path(sys.executable), Cache(tmp_path / "c"))
    assert counter.calls == []


def test_upgraded_interpreter_is_probed_again(
    cache: Cache, fake_exe: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    get_facts(fake_exe, cache)
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 1
    fake_exe.write_bytes(b"\x7fELF a newer, bigger fake interpreter")  # size changes
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 2
    st = fake_exe.stat()
    os.utime(fake_exe, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # only mtime
    get_facts(fake_exe, cache)
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 3


def test_symlink_target_change_is_probed_again(
    cache: Cache, tmp_path: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    a, b = tmp_path / "python-a", tmp_path / "python-b"
    a.write_bytes(b"\x7fELF a")
    b.write_bytes(b"\x7fELF b")
    link = tmp_path / "python"
    link.symlink_to(a)
    get_facts(link, cache)
    link.unlink()
    link.symlink_to(b)
    get_facts(link, cache)
    assert len(counter.calls) == 2


def test_changed_venv_configuration_is_probed_again(
    cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_python = create_venv(tmp_path / "venv", Path(sys.executable), cache=cache)
    counter = Counter(monkeypatch)
    first = get_interpreter(venv_python, cache)
    assert get_interpreter(venv_python, cache) == first
    assert len(counter.calls) == 1
    cfg = tmp_path / "venv" / "pyvenv.cfg"
    st = cfg.stat()
    os.utime(cfg, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert get_interpreter(venv_python, cache) == first
    assert len(counter.calls) == 1  # touched, not changed
    text = cfg.read_text()
    assert "include-system-site-packages = false" in text
    cfg.write_text(text.replace("include-system-site-packages = false", "include-system-site-packages = true"))
    again = get_interpreter(venv_python, cache)
    assert len(counter.calls) == 2
    assert first.is_venv and again.prefix == first.prefix == str(tmp_path / "venv")


@pytest.mark.parametrize("tool", ["satchel", "venv"])
def test_venv_recreated_alike_keeps_its_record_whose_facts_match_a_fresh_probe(
    cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    """A CI job that deletes and recreates its venv at the same path does not probe it again,
    and what the record says is exactly what probing the new venv says."""
    venv = tmp_path / "venv"

    def make() -> Path:
        if tool == "satchel":
            return create_venv(venv, Path(sys.executable))
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        return venv / "bin" / "python"

    venv_python = make()
    counter = Counter(monkeypatch)
    get_facts(venv_python, cache)
    assert counter.calls.count(venv_python) == 1
    import shutil

    shutil.rmtree(venv)
    venv_python = make()
    kept = get_facts(venv_python, cache)
    assert counter.calls.count(venv_python) == 1
    assert kept == probe.probe_facts(venv_python)


def test_key_is_the_path_as_given(
    cache: Cache,
    fake_exe: Path,
    tmp_path: Path,
    real_facts: ProbeFacts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    link = tmp_path / "link-to-python"
    link.symlink_to(fake_exe)
    get_facts(fake_exe, cache)
    get_facts(link, cache)
    assert len(counter.calls) == 2
    assert cache_key(link) != cache_key(fake_exe)
    assert identity_of(link).real_executable == str(fake_exe)


def test_corrupt_record_is_probed_again_and_healed(
    cache: Cache, fake_exe: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    get_facts(fake_exe, cache)
    entry = cache.bucket_dir(INTERPRETERS) / cache_key(fake_exe)
    assert entry.is_file()
    data = bytearray(entry.read_bytes())
    data[-5] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert get_facts(fake_exe, cache) == real_facts
    assert len(counter.calls) == 2
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 2  # the rewrite healed it


def test_truncated_record_is_a_miss(
    cache: Cache, fake_exe: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    get_facts(fake_exe, cache)
    entry = cache.bucket_dir(INTERPRETERS) / cache_key(fake_exe)
    entry.write_bytes(entry.read_bytes()[:20])
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 2


def test_record_for_another_path_under_the_same_key_is_a_miss(
    cache: Cache, fake_exe: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    entry = cache.bucket_dir(INTERPRETERS) / cache_key(fake_exe)
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(
        dumps(InterpreterRecord("/elsewhere/python", identity_of(fake_exe), real_facts))
    )
    get_facts(fake_exe, cache)
    assert len(counter.calls) == 1


def test_wrapper_scripts_are_never_cached(
    cache: Cache, tmp_path: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    shim = tmp_path / "python3"
    shim.write_text('#!/bin/sh\nexec python3 "$@"\n')
    get_facts(shim, cache)
    get_facts(shim, cache)
    assert len(counter.calls) == 2


def test_no_cache_always_probes(
    fake_exe: Path, real_facts: ProbeFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch, fake=real_facts)
    get_facts(fake_exe, None)
    get_facts(fake_exe, None)
    assert len(counter.calls) == 2


def test_missing_executable(cache: Cache, tmp_path: Path) -> None:
    with pytest.raises(InterpreterError, match="nothere"):
        get_interpreter(tmp_path / "nothere", cache)


def test_record_round_trips(cache: Cache, fake_exe: Path, real_facts: ProbeFacts) -> None:
    rec = InterpreterRecord(str(fake_exe), identity_of(fake_exe), real_facts)
    cache.write("k", rec)
    assert cache.read(InterpreterRecord, "k") == rec


def test_meanwhile_is_called_while_probing_and_only_then(tmp_path: Path) -> None:
    calls = []
    cache = Cache(tmp_path / "c")
    facts = get_facts(Path(sys.executable), cache, meanwhile=lambda: calls.append("probing"))
    assert calls == ["probing"]
    again = get_facts(Path(sys.executable), cache, meanwhile=lambda: calls.append("again"))
    assert again == facts and calls == ["probing"]  # a cached record runs nothing, calls nothing
