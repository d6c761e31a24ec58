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
either way; an N no thread reached is retargeted once from that run's own trace, and each
test requires that most of its runs really were killed.

Also here: kills after seeded random delays without strace; a deterministic kill at each file
linked into the environment; the durability protocol read from the counting trace (what no kill
can show: a killed process's writes survive in the page cache, a power cut's do not); and a check
that the walk of (a) really finds partial entries.

strace's ``--seccomp-bpf`` would make traced runs faster, but strace 6.1 then never injects; the
runs here do without it. Everything skips, saying why, where strace or ptrace is not available.
"""

from __future__ import annotations

import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.cache import atomic, buckets
from tests.support.cache import flip_byte, truncate
from tests.support.cli import Result, Satchel, installed_files_match_record, site_packages
from tests.support.crash import (
    _CALL,
    STRACE_UNUSABLE,
    Call,
    parse_trace,
    strace_satchel,
    under,
    unsound_entries,
)
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

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


needs_strace = pytest.mark.skipif(STRACE_UNUSABLE is not None, reason=str(STRACE_UNUSABLE))


def killed(result: Result) -> bool:
    return result.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL)


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


def retarget(scene: Scene, where: Path, syscall: str, n: int, tried: set[int]) -> int | None:
    """For a run that was not killed (no thread reached its ``n``-th call this time): the
    largest N below ``n``, not yet tried, that this run's own trace says would have landed on
    the cache or the environment, or None."""
    name, _ = scene.candidates[syscall]
    arrivals = first_arrivals(list(parse_trace(where / "trace")), name.split(","))
    found = [m for m in targets(arrivals, [where / "cache", where / "victim"]) if m < n and m not in tried]
    return found[-1] if found else None


def run_crashes(scene: Scene, tmp_path: Path, syscall: str, ns: Sequence[int]) -> None:
    """Kill at each N of ``ns``. Thread timing moves the per-thread counts from run to run (on a
    loaded machine the thread that makes the most calls can make dozens fewer than in the
    counting run), so an N that was not reached is tried once more, retargeted from the trace
    of the run that missed it; most N must then really kill."""
    assert ns, f"the counting run found no {syscall} calls on the cache or the environment"
    tried = set(ns)
    kills = 0
    for n in ns:
        where = tmp_path / f"{syscall}-{n}"
        if crash_at(scene, where, syscall, n):
            kills += 1
            continue
        again = retarget(scene, where, syscall, n, tried)
        if again is not None:
            tried.add(again)
            kills += crash_at(scene, tmp_path / f"{syscall}-{n}-as-{again}", syscall, again)
    assert kills >= (len(ns) + 1) // 2, f"only {kills} of {len(ns)} runs were killed (tried {sorted(tried)})"


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
            # A run that ends before its kill was faster than the timing run (the machine's
            # load moves): the next try aims within that run's own length.
            for attempt in range(2):
                satchel = scene.satchel(tmp_path / f"random-{i}-{attempt}")
                victim = scene.venv(satchel.tmp, "victim")
                delay = rng.uniform(0.2, 1.0) * seconds
                began = time.monotonic()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "satchel", "install", "-p", str(victim), *REQUIREMENTS],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=satchel.tmp,
                    env=satchel.base_env(), stdin=subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    _, err = proc.communicate(timeout=delay)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    _, err = proc.communicate(timeout=60)
                lasted = time.monotonic() - began
                assert "Traceback" not in err, err
                check_after_crash(scene, satchel, victim, f"killed after {delay:.3f}s")
                if proc.returncode == -signal.SIGKILL:
                    kills += 1
                    break
                assert proc.returncode == 0, err
                seconds = min(seconds, lasted)
        assert kills >= RANDOM_KILLS - 2, f"only {kills} of {RANDOM_KILLS} runs were killed"
