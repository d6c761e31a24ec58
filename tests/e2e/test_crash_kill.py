"""Kill at every step (issue 5, item 1): a cold install SIGKILLed anywhere leaves a usable cache.

A cold install of three wheels (alpha needs beta; gamma) runs under
``strace -f -e inject=SYSCALL:signal=SIGKILL:when=N``, which kills the process when one of its
threads makes its N-th call of SYSCALL, for SYSCALL in write, fsync (with fdatasync and syncfs:
unpacked trees are made durable with one syncfs), rename, mkdir, link, openat. Then:

(a) nothing under a final name in the cache is partial: ``unsound_entries`` walks the cache by
    itself (not through ``cache verify``): every record has the header of docs/cache.md with a
    matching length and checksum and decodes, every downloaded file hashes to its key, every
    unpacked tree holds exactly its manifest's files with their hashes; everything else is a
    temp name, a lock or an empty directory (an empty ``<sha256>/`` is what a kill between its
    mkdir and the rename of the file into it leaves: a plain miss, which verify reports and
    ``--repair`` removes);
(b) an install of the same requirements into a fresh environment with that cache succeeds and
    installs the bytes the wheels' RECORDs promise;
(c) ``cache verify`` exits 0, or ``cache verify --repair`` removes everything it reports;
(d) running the same install again into the killed environment completes it: every distribution
    ends up with a RECORD whose hashes its files match (a kill while linking must not leave a
    ``.dist-info`` that passes for a complete install).

Which N are worth a run: strace counts calls per thread (every thread of every traced process
has its own counter; the kill comes in whichever thread gets to its N-th call first). A counting
run under ``strace -f -y`` replays those counters over the trace and keeps the N whose first
arrival is a call on a path in the cache or the target environment; the CI default runs a
deterministic sample of those (``SAMPLES`` per syscall, spread over the range, first and last
included), ``@pytest.mark.slow`` runs every one. Thread timing varies from run to run, so a kill
can land elsewhere than the counting run predicts, or not at all (N not reached): the checks hold
either way, and each test requires that most of its runs really were killed.

Also here: kills after seeded random delays without strace; a deterministic kill at each file
linked into the environment; the durability protocol read from the counting trace (what no kill
can show: a killed process's writes survive in the page cache, a power cut's do not); and a check
that the walk of (a) really finds partial entries.

strace's ``--seccomp-bpf`` would make traced runs faster, but strace 6.1 then never injects; the
runs here do without it. Everything skips, saying why, where strace or ptrace is not available.
"""

from __future__ import annotations

import collections
import hashlib
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.cache import atomic, buckets, manage, record
from satchel.cache.manifest import Manifest, verify_tree
from satchel.cache.record import CorruptEntry, Record
from satchel.cache.store import CACHEDIR_TAG
from satchel.commands.common import import_record_types
from tests.e2e.test_cache_support import flip_byte, truncate
from tests.support.cli import Result, Satchel, installed_files_match_record, site_packages
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

STRACE = shutil.which("strace")

# The syscalls of the issue, and the names the C library may use for each on this machine.
SYSCALLS: dict[str, tuple[str, ...]] = {
    "write": ("write",),
    "fsync": ("fsync", "fdatasync", "syncfs"),
    "rename": ("rename", "renameat", "renameat2"),
    "mkdir": ("mkdir", "mkdirat"),
    "link": ("link", "linkat"),
    "openat": ("openat",),
}
SAMPLES = 8  # kills per syscall in the CI default
RANDOM_KILLS = 5
FD_SYSCALLS = ("write", "fsync", "fdatasync", "syncfs", "read", "pread64", "pwrite64")

WHEELS = [
    WheelSpec(
        "alpha",
        "1.0",
        requires=["beta"],
        files={
            "alpha/__init__.py": "import beta\n\nVALUE = 'alpha'\n",
            "alpha/data/table.txt": "row\n" * 2000,
        },
        console_scripts={"alpha-cli": "alpha:main"},
    ),
    WheelSpec("beta", "1.0"),
    WheelSpec("gamma", "1.0", files={"gamma/__init__.py": "", "gamma/sub/mod.py": "X = 1\n"}),
]
REQUIREMENTS = ["alpha", "gamma"]
INSTALLED = ["alpha", "beta", "gamma"]


# -- strace ---------------------------------------------------------------------------------------


def strace_unusable() -> str | None:
    """Why strace cannot trace and inject here, or None."""
    if STRACE is None:
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run(
        [STRACE, "-f", "-qq", "-o", os.devnull, "-e", "trace=write",
         "-e", "inject=write:signal=SIGKILL:when=1", "sh", "-c", "echo x"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if probe.returncode != -signal.SIGKILL and probe.returncode != 128 + signal.SIGKILL:
        return f"strace cannot trace or inject here (ptrace not permitted?): {probe.stderr.strip()[-200:]}"
    return None


STRACE_UNUSABLE = strace_unusable()
needs_strace = pytest.mark.skipif(STRACE_UNUSABLE is not None, reason=str(STRACE_UNUSABLE))


def strace_satchel(
    satchel: Satchel, args: Sequence[str | Path], strace_args: Sequence[str], log: Path,
    *, timeout: float = 120,
) -> Result:
    """Run the satchel CLI under ``strace -f -qq -o log`` with ``strace_args``."""
    assert STRACE is not None
    argv = [str(a) for a in args]
    proc = subprocess.run(
        [STRACE, "-f", "-qq", "-o", str(log), *strace_args, sys.executable, "-m", "satchel", *argv],
        capture_output=True, text=True, cwd=satchel.tmp, env=satchel.base_env(), timeout=timeout,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return Result(argv, proc.returncode, proc.stdout, proc.stderr)


def killed(result: Result) -> bool:
    return result.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL)


_CALL = re.compile(r"^(\d+)\s+(\w+)\((.*)$")


@dataclass(frozen=True)
class Call:
    tid: int
    name: str
    paths: tuple[str, ...]  # the paths it acts on (decoded by strace -y)


def parse_trace(log: Path) -> Iterator[Call]:
    """The calls of an ``strace -f -y`` log, in the order they were entered."""
    for line in log.read_text(errors="replace").splitlines():
        m = _CALL.match(line)
        if m is None:
            continue  # "<... resumed>", signals, exits
        tid, name, rest = int(m[1]), m[2], m[3]
        if name in FD_SYSCALLS:
            fd = re.match(r"-?\d+<([^>]*)>", rest)
            paths: tuple[str, ...] = (fd[1],) if fd else ()
        else:
            paths = tuple(a or b for a, b in re.findall(r'<(/[^>]*)>|"(/[^"]*)"', rest))
        yield Call(tid, name, paths)


def under(path: str, roots: Sequence[Path]) -> bool:
    return any(path == str(r) or path.startswith(f"{r}/") for r in roots)


def first_arrivals(calls: Sequence[Call], names: Sequence[str]) -> dict[int, Call]:
    """For each N, the call with which some thread first made its N-th call of ``names``:
    where ``inject=...:when=N`` strikes, with strace's per-thread counters."""
    counters: collections.Counter[tuple[int, str]] = collections.Counter()
    out: dict[int, Call] = {}
    for call in calls:
        if call.name in names:
            counters[(call.tid, call.name)] += 1
            out.setdefault(counters[(call.tid, call.name)], call)
    return out


def targets(arrivals: dict[int, Call], roots: Sequence[Path]) -> list[int]:
    """The N whose kill lands on a call on a path under ``roots``."""
    return sorted(n for n, call in arrivals.items() if any(under(p, roots) for p in call.paths))


def spread(values: Sequence[int], k: int) -> list[int]:
    """``k`` values spread evenly over ``values``, first and last included (all if fewer)."""
    if len(values) <= k:
        return list(values)
    return sorted({values[round(i * (len(values) - 1) / (k - 1))] for i in range(k)})


# -- the cache, walked independently of `cache verify` ----------------------------------------------


_HEADER = struct.Struct(">8s24sIQ32s")


def _is_litter(name: str) -> bool:
    return name.startswith(atomic.TEMP_PREFIX) or name.endswith(".lock")


def _record_problem(path: Path, bucket: buckets.Bucket) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    if len(data) < record.HEADER_SIZE:
        return f"{len(data)} bytes, shorter than a record header"
    # The layout of docs/cache.md, checked here without satchel's code...
    magic, raw_type, _version, length, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if magic != b"SATCHEL\x01":
        return "bad magic"
    if len(payload) != length:
        return f"payload is {len(payload)} bytes, the header says {length}"
    if hashlib.sha256(payload).digest() != digest:
        return "checksum mismatch"
    # ...then with it: the type belongs here, and the payload decodes to its fields.
    rtype = raw_type.rstrip(b"\0").decode("ascii", "replace")
    cls = Record.registry.get(rtype)
    if cls is None or cls.bucket != bucket:
        return f"record type {rtype!r} does not belong in {bucket.dirname}"
    try:
        record.loads(data, cls)
    except CorruptEntry as exc:
        return exc.reason
    return None


def _tree_problem(entry: Path) -> str | None:
    manifest_path = entry / "manifest"
    if not manifest_path.is_file():
        return "an unpacked tree without a manifest"
    problem = _record_problem(manifest_path, buckets.ARCHIVES)
    if problem is not None:
        return f"manifest: {problem}"
    try:
        manifest = record.loads(manifest_path.read_bytes(), Manifest)
    except CorruptEntry as exc:
        return f"manifest: {exc.reason}"
    extra = {p.name for p in entry.iterdir()} - {"manifest", "tree"}
    if extra:
        return f"unexpected files beside the tree: {sorted(extra)}"
    tree = entry / "tree"
    present = {
        os.path.relpath(os.path.join(d, n), tree).replace(os.sep, "/")
        for d, _dirs, names in os.walk(tree)
        for n in names
    }
    listed = {f.path for f in manifest.files}
    if present != listed:
        return f"tree and manifest differ: {sorted(present ^ listed)[:5]}"
    for f in manifest.files:
        data = (tree / f.path).read_bytes()
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.sha256:
            return f"{f.path} is not what the manifest says"
    return verify_tree(tree, manifest)  # and satchel's own check (sizes, mtimes, hashes)


def unsound_entries(root: Path) -> list[str]:
    """Every entry under a final name that is not whole and sound, as "path: reason"."""
    import_record_types()
    problems: list[str] = []

    def bad(path: Path, reason: str) -> None:
        problems.append(f"{path}: {reason}")

    if not root.exists():
        return problems
    by_dir = {b.dirname: b for b in buckets.ALL}
    for child in sorted(root.iterdir()):
        if child.name == "CACHEDIR.TAG":
            if child.read_text() != CACHEDIR_TAG:
                bad(child, "partial CACHEDIR.TAG")
            continue
        if child.name == ".lock" or _is_litter(child.name):
            continue
        bucket = by_dir.get(child.name)
        if bucket is None:
            bad(child, "not a bucket of this satchel")
        elif bucket is buckets.FILES:
            for project in sorted(child.iterdir()):
                for entry in sorted(project.iterdir()) if project.is_dir() else []:
                    if _is_litter(entry.name):
                        continue
                    files = [p for p in entry.iterdir() if not _is_litter(p.name)]
                    # An empty <sha256>/ is what a kill between its mkdir and the rename of the
                    # file into it leaves: no content under a final name, and a plain miss.
                    if len(files) > 1:
                        bad(entry, f"{len(files)} files in one content-addressed entry")
                    for f in files:
                        if hashlib.sha256(f.read_bytes()).hexdigest() != entry.name:
                            bad(f, "content does not hash to its key")
        elif bucket is buckets.ARCHIVES:
            for project in sorted(child.iterdir()):
                for entry in sorted(project.iterdir()) if project.is_dir() else []:
                    if not _is_litter(entry.name):
                        problem = _tree_problem(entry)
                        if problem is not None:
                            bad(entry, problem)
        elif bucket in (buckets.INDEX, buckets.METADATA, buckets.INTERPRETERS):
            for dirpath, dirs, names in os.walk(child):
                dirs[:] = [d for d in dirs if not _is_litter(d)]
                for name in names:
                    if not _is_litter(name):
                        path = Path(dirpath, name)
                        problem = _record_problem(path, bucket)
                        if problem is not None:
                            bad(path, problem)
        else:  # a bucket these installs never write (built wheels): satchel's own check
            for entry in manage.iter_entries(root, bucket):
                problem = manage.check_entry(entry)
                if problem is not None:
                    bad(entry.path, problem)
    return problems


def verify_or_repair(satchel: Satchel) -> str:
    """``cache verify`` exits 0, or ``--repair`` removes everything it reports. Returns what was
    reported (for messages)."""
    verify = satchel.run("cache", "verify", check=False)
    if verify.returncode == 0:
        return ""
    assert verify.returncode == 1, verify
    repair = satchel.run("cache", "verify", "--repair", check=False)
    reported = [line for line in repair.stdout.splitlines() if line.startswith(("corrupt:", "removed:"))]
    assert reported and all(line.startswith("removed:") for line in reported), repair
    assert repair.returncode == 0, repair
    again = satchel.run("cache", "verify", check=False)
    assert again.returncode == 0, again
    return verify.stdout


# -- the scene ----------------------------------------------------------------------------------------


@dataclass
class Scene:
    server: IndexServer
    base: Path
    template_venv: Path
    clean_seconds: float  # a cold install without strace
    candidates: dict[str, tuple[str, list[int]]]  # syscall -> (names used here, N worth a kill)

    def satchel(self, where: Path) -> Satchel:
        where.mkdir(parents=True, exist_ok=True)
        return Satchel(where, where / "cache", index_url=self.server.index_url)

    def venv(self, where: Path, name: str) -> Path:
        """A fresh environment: a copy of one made by `satchel venv` (copies are instant)."""
        dest = where / name
        shutil.copytree(self.template_venv, dest, symlinks=True)
        return dest


def count_calls(scene_base: Path, server: IndexServer, template: Path) -> dict[str, tuple[str, list[int]]]:
    where = scene_base / "count"
    where.mkdir()
    satchel = Satchel(where, where / "cache", index_url=server.index_url)
    venv = where / "venv"
    shutil.copytree(template, venv, symlinks=True)
    log = where / "trace"
    every = sorted({n for names in SYSCALLS.values() for n in names})
    result = strace_satchel(
        satchel, ["install", "-p", venv, *REQUIREMENTS], ["-y", "-e", f"trace={','.join(every)}"], log
    )
    assert result.returncode == 0, result
    calls = list(parse_trace(log))
    roots = [satchel.cache_dir, venv]
    out = {}
    for syscall, names in SYSCALLS.items():
        # The spellings this C library and satchel use (strace counts each one separately).
        used = ",".join(n for n in names if any(c.name == n for c in calls)) or names[0]
        out[syscall] = (used, targets(first_arrivals(calls, used.split(",")), roots))
    return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    if STRACE_UNUSABLE is not None:
        pytest.skip(STRACE_UNUSABLE)
    base = tmp_path_factory.mktemp("crash")
    with IndexServer(base / "index") as server:
        for spec in WHEELS:
            build_wheel(spec, server.directory)
        maker = Satchel(base, base / "unused-cache", index_url=server.index_url)
        template = maker.venv("template")
        # A cold install without strace, to time the random kills by.
        warm = Satchel(base / "timing", base / "timing" / "cache", index_url=server.index_url)
        (base / "timing").mkdir()
        shutil.copytree(template, base / "timing" / "venv", symlinks=True)
        began = time.monotonic()
        warm.run("install", "-p", base / "timing" / "venv", *REQUIREMENTS)
        clean_seconds = time.monotonic() - began
        candidates = count_calls(base, server, template)
        yield Scene(server, base, template, clean_seconds, candidates)


# -- the checks -------------------------------------------------------------------------------------


def check_after_crash(scene: Scene, satchel: Satchel, victim: Path, what: str) -> None:
    """(a), (b), (c) and (d) of the module docstring, for the cache of ``satchel`` and the
    environment ``victim`` the killed install was writing."""
    unsound = unsound_entries(satchel.cache_dir)
    assert unsound == [], f"{what}: partial entries under final names:\n" + "\n".join(unsound)
    fresh = scene.venv(satchel.tmp, "fresh")
    second = satchel.run("install", "-p", fresh, *REQUIREMENTS, check=False)
    assert second.returncode == 0, f"{what}: the install after the crash failed:\n{second}"
    for name in INSTALLED:
        installed_files_match_record(fresh, name)
    verify_or_repair(satchel)
    # (d) The killed environment: the same install run again completes it. A distribution the
    # kill left half-linked must not pass for installed.
    again = satchel.run("install", "-p", victim, *REQUIREMENTS, check=False)
    assert again.returncode == 0, f"{what}: the install into the killed environment failed:\n{again}"
    for name in INSTALLED:
        try:
            installed_files_match_record(victim, name)
        except (AssertionError, OSError) as exc:
            raise AssertionError(f"{what}: {name} is half-installed after a re-run: {exc}") from exc


def crash_at(scene: Scene, where: Path, syscall: str, n: int) -> bool:
    """Kill a cold install at the ``n``-th ``syscall`` of some thread, check what is left.
    Returns whether the process really was killed."""
    name, _ = scene.candidates[syscall]
    satchel = scene.satchel(where)
    victim = scene.venv(where, "victim")
    log = where / "trace"
    result = strace_satchel(
        satchel,
        ["install", "-p", victim, *REQUIREMENTS],
        ["-y", "-e", f"trace={name}", "-e", f"inject={name}:signal=SIGKILL:when={n}"],
        log,
    )
    calls = [line for line in log.read_text(errors="replace").splitlines() if _CALL.match(line)]
    what = f"{name} #{n} (last call: {calls[-1][:300] if calls else 'none'})"
    assert "Traceback" not in result.stderr, f"{what}\n{result}"
    if not killed(result):
        assert result.returncode == 0, f"{what}\n{result}"
    check_after_crash(scene, satchel, victim, what)
    return killed(result)


def run_crashes(scene: Scene, tmp_path: Path, syscall: str, ns: Sequence[int]) -> None:
    assert ns, f"the counting run found no {syscall} calls on the cache or the environment"
    kills = sum(crash_at(scene, tmp_path / f"{syscall}-{n}", syscall, n) for n in ns)
    # Timing moves some kills (threads race to their N-th call), but most must happen.
    assert kills >= (len(ns) + 1) // 2, f"only {kills} of {len(ns)} runs were killed"


@needs_strace
@pytest.mark.parametrize("syscall", list(SYSCALLS))
def test_killed_at_a_sample_of_steps(scene: Scene, tmp_path: Path, syscall: str) -> None:
    _, ns = scene.candidates[syscall]
    run_crashes(scene, tmp_path, syscall, spread(ns, SAMPLES))


@needs_strace
@pytest.mark.slow
@pytest.mark.parametrize("syscall", list(SYSCALLS))
def test_killed_at_every_step(scene: Scene, tmp_path: Path, syscall: str) -> None:
    _, ns = scene.candidates[syscall]
    run_crashes(scene, tmp_path, syscall, ns)


@needs_strace
def test_the_walk_finds_partial_entries(scene: Scene, tmp_path: Path) -> None:
    """``unsound_entries`` is not vacuous: litter passes, every partial entry is found."""
    cache = tmp_path / "cache"
    shutil.copytree(scene.base / "count" / "cache", cache)
    assert unsound_entries(cache) == []
    page = next((cache / buckets.INDEX.dirname / "alpha").glob("*.rec"))
    (page.parent / f"{atomic.TEMP_PREFIX}0123-half.rec").write_bytes(page.read_bytes()[:30])
    (cache / buckets.FILES.dirname / "beta" / ("0" * 64)).mkdir()  # an empty <sha256>/
    assert unsound_entries(cache) == [], "temp litter and empty directories are not entries"
    wheel = next((cache / buckets.FILES.dirname / "alpha").glob("*/*.whl"))
    tree = next(p for p in (cache / buckets.ARCHIVES.dirname / "gamma").iterdir() if p.is_dir())
    broken = {
        page: lambda: truncate(page),
        wheel: lambda: flip_byte(wheel),
        tree: lambda: (tree / "manifest").unlink(),
    }
    for breaking in broken.values():
        breaking()
    found = unsound_entries(cache)
    for path in broken:
        assert any(line.startswith(f"{path}:") for line in found), (path, found)
    assert len(found) == len(broken), found


@needs_strace
def test_every_entry_is_durable_before_it_gets_its_final_name(scene: Scene) -> None:
    """What no kill can show (a killed process's writes survive in the page cache; a power cut's
    do not), read from the counting run's trace: every rename of a temp name into a final name
    in the cache comes after an fsync of what was written under the temp name (or a syncfs of the
    filesystem, for trees) and is followed by an fsync of the directory it went into."""
    cache = scene.base / "count" / "cache"
    calls = list(parse_trace(scene.base / "count" / "trace"))
    renames = 0
    for i, call in enumerate(calls):
        if call.name not in SYSCALLS["rename"] or len(call.paths) < 2:
            continue
        src, dst = call.paths[-2], call.paths[-1]
        if not under(dst, [cache]) or not os.path.basename(src).startswith(atomic.TEMP_PREFIX):
            continue
        renames += 1
        before = calls[:i]
        written = [j for j, c in enumerate(before) if c.name == "write" and any(under(p, [Path(src)]) for p in c.paths)]
        assert written, f"nothing was written under {src} before it was renamed"
        synced = [
            c for c in before[written[-1] :]
            if (c.name in ("fsync", "fdatasync") and any(under(p, [Path(src)]) for p in c.paths))
            or (c.name == "syncfs" and any(under(p, [Path(src)]) for p in c.paths))
        ]  # fmt: skip
        assert synced, f"{dst} got its final name before {src} was made durable"
        parent = str(Path(dst).parent)
        assert any(
            c.name == "fsync" and parent in c.paths for c in calls[i + 1 :]
        ), f"the directory of {dst} was not fsynced after the rename"
    assert renames >= 10, f"only {renames} renames into the cache were traced"


@needs_strace
def test_rerun_completes_an_install_killed_while_linking(scene: Scene, tmp_path: Path) -> None:
    """Deterministic (d): with a warm cache, only the main thread links, so the N-th ``link``
    is the N-th file linked into the environment. Killed at each, the environment never holds a
    ``.dist-info`` that passes for installed while files are missing, and a re-run completes it.
    (Before the .dist-info was staged, a kill after METADATA was linked left beta "installed"
    without its RECORD or its module, and the re-run kept it that way.)"""
    warm = scene.satchel(tmp_path)
    warm.run("install", "-p", scene.venv(tmp_path, "warm"), "beta")
    n = 0
    while True:
        n += 1
        victim = scene.venv(tmp_path, f"victim-{n}")
        result = strace_satchel(
            warm, ["install", "-p", victim, "beta"],
            ["-e", "trace=link,linkat", "-e", f"inject=link,linkat:signal=SIGKILL:when={n}"],
            tmp_path / f"trace-{n}",
        )  # fmt: skip
        if not killed(result):
            assert result.returncode == 0, result
            break
        dist_infos = list((site_packages(victim)).glob("beta-*.dist-info"))
        assert dist_infos == [] or (dist_infos[0] / "RECORD").is_file(), (n, dist_infos)
        again = warm.run("install", "-p", victim, "beta")
        assert " + beta==1.0" in again.stderr, (n, again)
        installed_files_match_record(victim, "beta")
    assert n > 3, "beta's three files were linked without a kill"


def test_killed_at_random_times(tmp_path: Path) -> None:
    """SIGKILL after a seeded random delay, no strace: the same checks."""
    rng = random.Random(20240505)
    with IndexServer(tmp_path / "index") as server:
        for spec in WHEELS:
            build_wheel(spec, server.directory)
        template = Satchel(tmp_path, tmp_path / "unused", index_url=server.index_url).venv("template")
        scene = Scene(server, tmp_path, template, 0.0, {})
        # Downloads take a little while, so that a run lasts long enough for a random kill to
        # land in it on a fast machine too; the kills are spread over the whole of a cold run.
        server.stall("/files/", 0.1)
        timing = scene.satchel(tmp_path / "timing")
        began = time.monotonic()
        timing.run("install", "-p", scene.venv(timing.tmp, "v"), *REQUIREMENTS)
        seconds = time.monotonic() - began
        kills = 0
        for i in range(RANDOM_KILLS):
            satchel = scene.satchel(tmp_path / f"random-{i}")
            victim = scene.venv(satchel.tmp, "victim")
            delay = rng.uniform(0.2, 1.0) * seconds
            proc = subprocess.Popen(
                [sys.executable, "-m", "satchel", "install", "-p", str(victim), *REQUIREMENTS],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=satchel.tmp,
                env=satchel.base_env(), stdin=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=60)
            kills += proc.returncode == -signal.SIGKILL
            assert "Traceback" not in err, err
            check_after_crash(scene, satchel, victim, f"killed after {delay:.3f}s")
        assert kills >= RANDOM_KILLS - 2, f"only {kills} of {RANDOM_KILLS} runs were killed"
