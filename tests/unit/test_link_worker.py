"""The link worker (satchel.install.link_worker): a second process that installs distributions
exactly as ``install_tree`` does in the command, answers every job, and never outlives its input."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from satchel.cache.store import Cache, Tree
from satchel.install.link import Linker
from satchel.install.link_worker import LinkJob, LinkReply, LinkWorker, UnpackJob, serve
from satchel.install.unpack import unpack_wheel
from satchel.install.wheel import install_tree
from tests.support.installs import fake_scheme, unpack_into_cache
from tests.support.wheels import WheelSpec, build_wheel

SPECS = [
    WheelSpec("plain", "1.0"),
    WheelSpec(
        "tools",
        "2.0",
        files={"tools/__init__.py": "def main():\n    pass\n", "tools/data/table.txt": "x\n"},
        console_scripts={"tool": "tools:main"},
        gui_scripts={"tool-gui": "tools:main"},
        data={"scripts": {"helper": "#!python\nprint('hi')\n"}, "data": {"share/tools/readme": "r\n"}},
    ),
    WheelSpec("nested", "3.0", files={"nested/a/b/c.py": "c = 1\n", "nested/__init__.py": ""}),
]


def _trees(tmp_path: Path) -> dict[str, Tree]:
    cache = Cache(tmp_path / "cache")
    return {
        spec.name: unpack_into_cache(cache, build_wheel(spec, tmp_path / "wheels"), spec.name, spec.version)
        for spec in SPECS
    }


def _job(of: Tree, paths: dict[str, str], **changes: object) -> LinkJob:
    fields: dict[str, object] = {
        "tree": os.fspath(of.path),
        "source": of.manifest.source,
        "files": len(of.manifest.files),
        "paths": paths,
        "interpreter": sys.executable,
        "requested": True,
        "direct_url": None,
        "compile_bytecode": False,
        "python_version": list(sys.version_info[:3]),
        "mode": "hardlink",
    }
    fields.update(changes)
    return LinkJob(**fields)  # type: ignore[arg-type]


def _snapshot(root: Path) -> dict[str, tuple[str, bytes | None]]:
    """Every path below ``root``: its kind and mode, and a file's content."""
    out: dict[str, tuple[str, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        rel = path.relative_to(root).as_posix()
        if stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", None)
        else:
            out[rel] = (f"file {stat.S_IMODE(st.st_mode):o}", path.read_bytes())
    return out


@pytest.fixture
def worker() -> object:
    started = LinkWorker.start()
    if started is None:
        pytest.skip("no link worker on this machine (one core, or no posix_spawn)")
    yield started
    started.close()


def test_the_worker_installs_exactly_what_install_tree_installs_here(tmp_path: Path, worker: LinkWorker) -> None:
    trees = _trees(tmp_path)
    there, here = fake_scheme(tmp_path / "there"), fake_scheme(tmp_path / "here")
    for name, tree in trees.items():
        reply = worker.install(_job(tree, there, requested=name != "plain"))
        assert reply == LinkReply(True)
        install_tree(
            tree,
            paths=here,
            interpreter_executable=sys.executable,
            linker=Linker("hardlink"),
            requested=name != "plain",
            python_version=sys.version_info[:3],
        )
    made_there, made_here = _snapshot(tmp_path / "there"), _snapshot(tmp_path / "here")
    assert made_there.keys() == made_here.keys()
    for rel, (kind, content) in made_here.items():
        other_kind, other = made_there[rel]
        assert other_kind == kind, rel
        # (RECORD and launchers name where they were installed: the two roots differ)
        expected = content.replace(b"/here/", b"/there/") if content is not None else None
        assert other == expected, rel
    assert "bin/tool" in made_there and "lib/site-packages/plain-1.0.dist-info/INSTALLER" in made_there
    assert "lib/site-packages/plain-1.0.dist-info/REQUESTED" not in made_there
    # the worker hard-linked the files of the cache, as the command does
    linked = Path(there["purelib"]) / "nested" / "a" / "b" / "c.py"
    assert linked.stat().st_ino == (trees["nested"].path / "nested" / "a" / "b" / "c.py").stat().st_ino


def test_a_job_for_another_cache_entry_is_refused(tmp_path: Path, worker: LinkWorker) -> None:
    trees = _trees(tmp_path)
    paths = fake_scheme(tmp_path / "env")
    reply = worker.install(_job(trees["plain"], paths, source="other-1.0-py3-none-any.whl"))
    assert reply is not None and not reply.ok and "not the one checked" in (reply.reason or "")
    reply = worker.install(_job(trees["plain"], paths, files=1000))
    assert reply is not None and not reply.ok
    assert not (tmp_path / "env").exists() or not any((tmp_path / "env").rglob("*.py"))
    # the worker still serves
    assert worker.install(_job(trees["plain"], paths)) == LinkReply(True)


def test_a_job_that_fails_there_is_answered_and_rolled_back(tmp_path: Path, worker: LinkWorker) -> None:
    trees = _trees(tmp_path)
    paths = fake_scheme(tmp_path / "env")
    scripts = Path(paths["scripts"])
    scripts.parent.mkdir(parents=True)
    scripts.write_text("a file where the scripts directory should be\n")
    reply = worker.install(_job(trees["tools"], paths))
    assert reply is not None and not reply.ok and "InstallError" in (reply.reason or "")
    site = Path(paths["purelib"])
    assert not (site / "tools").exists() and not (site / "tools-2.0.dist-info").exists()
    assert worker.install(_job(trees["plain"], paths)) == LinkReply(True)


def test_a_worker_that_died_takes_no_more_jobs(tmp_path: Path, worker: LinkWorker) -> None:
    trees = _trees(tmp_path)
    paths = fake_scheme(tmp_path / "env")
    assert worker.install(_job(trees["plain"], paths)) == LinkReply(True)
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.install(_job(trees["nested"], paths)) is None
    assert worker.gone
    assert worker.install(_job(trees["tools"], paths)) is None
    assert not (Path(paths["purelib"]) / "nested").exists()


def test_the_worker_ends_when_its_input_closes() -> None:
    started = LinkWorker.start()
    if started is None:
        pytest.skip("no link worker on this machine")
    pid = started.pid
    started.close()
    # close() collects the exit status on a thread: the process is then gone entirely (no zombie)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.02)
    pytest.fail("the link worker did not end (or was not reaped) after its input closed")


def test_serve_answers_every_line_and_goes_on(tmp_path: Path) -> None:
    """In this process: a line that is no job, and a job that fails, are answered ``ok: false``;
    the next job is done."""
    trees = _trees(tmp_path)
    paths = fake_scheme(tmp_path / "env")
    good = json.dumps({"link": asdict(_job(trees["plain"], paths))}).encode()
    missing = json.dumps({"link": asdict(_job(trees["plain"], paths, tree=str(tmp_path / "nowhere" / "tree")))}).encode()
    out = io.BytesIO()
    serve(io.BytesIO(b"not json\n" + missing + b"\n" + good + b"\n"), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == b"ready"
    replies = [LinkReply(**json.loads(line)) for line in lines[1:]]
    assert [r.ok for r in replies] == [False, False, True]
    assert "FileNotFoundError" in (replies[1].reason or "")
    assert (Path(paths["purelib"]) / "plain-1.0.dist-info" / "RECORD").is_file()


def test_the_worker_reports_a_linker_fallback_with_its_warning(tmp_path: Path, worker: LinkWorker) -> None:
    """A cache on another filesystem than the environment: the worker's Linker copies, and the
    reply carries why and the warning it gave (the command gives it, once)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second filesystem (/dev/shm)")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as other:
        cache = Cache(Path(other) / "cache")
        spec = SPECS[0]
        tree = unpack_into_cache(cache, build_wheel(spec, tmp_path / "wheels"), spec.name, spec.version)
        paths = fake_scheme(tmp_path / "env")
        reply = worker.install(_job(tree, paths))
        assert reply is not None and reply.ok and reply.fallback
        assert reply.warning is not None and reply.warning.startswith("cannot hardlink ")
        installed = Path(paths["purelib"]) / "plain" / "__init__.py"
        assert installed.stat().st_nlink == 1


def test_the_worker_ends_when_the_command_is_killed(tmp_path: Path) -> None:
    """A command killed outright (its pipes closed by the kernel) leaves no worker behind."""
    import subprocess

    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from satchel.install.link_worker import LinkWorker\n"
         "w = LinkWorker.start()\n"
         "print(w.pid if w else 0, flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        if not pid:
            pytest.skip("no link worker on this machine")
        parent.kill()
        parent.wait(timeout=20)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return  # gone (reaped by init)
            if Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return  # ended; a zombie until init reaps it
            time.sleep(0.05)
        pytest.fail("the link worker outlived its command")
    finally:
        parent.kill()


def _unpack_when_ready(worker: LinkWorker, job: UnpackJob) -> object:
    """``worker.unpack(job)``, asked again until the worker has started (it answers None, at
    once and doing nothing, while it starts)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listing = worker.unpack(job)
        if listing is not None or worker.gone:
            return listing
        time.sleep(0.02)
    raise AssertionError("the link worker did not start")


def test_the_worker_unpacks_exactly_what_unpack_wheel_unpacks(tmp_path: Path, worker: LinkWorker) -> None:
    specs = [
        *SPECS,
        WheelSpec("execs", "1.0", files={"execs/__init__.py": "", "execs/big.bin": bytes(range(256)) * 4096},
                  data={"scripts": {"run-me": "#!/bin/sh\necho hi\n"}}),
    ]
    for spec in specs:
        wheel = build_wheel(spec, tmp_path / "wheels")
        there, here = tmp_path / "there" / spec.name, tmp_path / "here" / spec.name
        there.mkdir(parents=True)
        listing = _unpack_when_ready(worker, UnpackJob(str(wheel), str(there), spec.name, spec.version))
        expected = unpack_wheel(wheel, here, expected_name=spec.name, expected_version=spec.version)
        assert listing is not None
        def key(f: object) -> tuple[object, ...]:
            return (f.path, f.size, f.sha256, f.executable)  # type: ignore[attr-defined]
        assert sorted(map(key, listing.files)) == sorted(map(key, expected.files))  # type: ignore[attr-defined]
        for f in listing.files:  # type: ignore[attr-defined]
            st = (there / f.path).lstat()
            assert st.st_mtime_ns == f.mtime_ns and st.st_size == f.size
            assert stat.S_IMODE(st.st_mode) == stat.S_IMODE((here / f.path).lstat().st_mode)
        assert _snapshot(there) == _snapshot(here)


def test_an_unpack_the_worker_cannot_do_is_none(tmp_path: Path, worker: LinkWorker) -> None:
    spec = WheelSpec("plain", "1.0")
    wheel = build_wheel(spec, tmp_path / "wheels")
    dest = tmp_path / "dest"
    dest.mkdir()
    # ready first (a wheel it can unpack), then one named for another project
    assert _unpack_when_ready(worker, UnpackJob(str(wheel), str(tmp_path / "ok"), spec.name, spec.version))
    assert worker.unpack(UnpackJob(str(wheel), str(dest), "other", "1.0")) is None
    assert not worker.gone  # a failed job is no failed worker
    assert worker.unpack(UnpackJob(str(wheel), str(tmp_path / "again"), spec.name, spec.version)) is not None


def test_an_unpack_while_the_worker_is_busy_is_left_to_the_caller(tmp_path: Path, worker: LinkWorker) -> None:
    spec = WheelSpec("plain", "1.0")
    wheel = build_wheel(spec, tmp_path / "wheels")
    with worker._busy:  # (another thread's job under way)
        started = time.monotonic()
        assert worker.unpack(UnpackJob(str(wheel), str(tmp_path / "d"), spec.name, spec.version)) is None
        assert time.monotonic() - started < 1
    assert not (tmp_path / "d").exists()


def test_asking_whether_it_is_ready_from_another_thread_takes_no_reply(tmp_path: Path) -> None:
    """While one thread has the worker start and unpack, another asks ``ready`` over and over
    (a build's install beside prepare): only one of them reads the worker's output, so no
    reply is taken for the line that says it started."""
    import threading

    started = LinkWorker.start()
    if started is None:
        pytest.skip("no link worker on this machine")
    try:
        spec = WheelSpec("plain", "1.0")
        wheel = build_wheel(spec, tmp_path / "wheels")
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                started.ready(0.001)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            for i in range(5):
                listing = _unpack_when_ready(started, UnpackJob(str(wheel), str(tmp_path / f"d{i}"), spec.name, spec.version))
                assert listing is not None and not started.gone
        finally:
            stop.set()
            poller.join(timeout=10)
    finally:
        started.close()
