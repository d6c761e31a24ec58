#!/usr/bin/env python3
"""Benchmark satchel against uv and pip, side by side.

    python3 bench/run.py [--sets django-seed,trio,jupyter,boto3] [--tools satchel,uv,pip]
                         [--runs N] [--scenarios cold,warm,warm-offline,noop,resolve,version]
                         [--out bench/results]

Installs the tools under test into their own venvs under bench/work/ (git-ignored), runs every
scenario for every requirement set with the tools interleaved, and writes bench/results/latest.md,
latest.json, latest.png and a dated copy of the Markdown and JSON. See bench/README.md.

``--profile`` instead runs satchel under pyinstrument (warm and no-op installs by default) and
writes text and HTML profiles to bench/work/profiles/.

Standard library only; the chart is drawn by matplotlib in a separate venv (bench/work/bench-venv)
so this script itself runs on any python3 >= 3.9.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_REQ_DIR = REPO / "bench" / "requirements"
DEFAULT_WORK = BENCH / "work"
DEFAULT_OUT = BENCH / "results"

UV_VERSION = "0.13.8"
PIP_VERSION = "26.3"

ALL_TOOLS = ("satchel", "uv", "pip")
ALL_SETS = ("django-seed", "trio", "jupyter", "boto3")
# compile: a warm --offline compile of the set; sync: syncing an environment that already matches
# the set's lock (compiled once by satchel with hashes); both against uv, pip has neither.
# noop-full, compile-full: the same, with satchel's replays off (SATCHEL_NO_REPLAY=1): the
# no-op check and the compile themselves, not the replay of their last run.
# sync-cold: the same lock synced into a fresh venv with an empty cache (a CI job's first run).
INSTALL_SCENARIOS = ("cold", "warm", "warm-offline", "noop", "noop-full", "resolve", "compile", "compile-full", "sync",
                     "sync-cold")
ALL_SCENARIOS = (*INSTALL_SCENARIOS, "version")
DEFAULT_SCENARIOS = ALL_SCENARIOS
SCENARIO_TITLES = {
    "cold": "Cold install (empty cache, fresh venv)",
    "warm": "Warm install (populated cache, fresh venv, default settings)",
    "warm-offline": "Warm offline install (populated cache, fresh venv, --offline)",
    "noop": "No-op install (everything already installed)",
    "noop-full": "No-op install, satchel's replays off (SATCHEL_NO_REPLAY=1)",
    "resolve": "Warm resolution only (--dry-run, fresh venv)",
    "compile": "Warm compile (populated cache, --offline, lock to standard output)",
    "compile-full": "Warm compile, satchel's replays off (SATCHEL_NO_REPLAY=1)",
    "sync": "Sync of an environment already matching the lock (hashed requirements.txt)",
    "sync-cold": "Sync of the lock into a fresh venv, empty cache",
    "version": "Start-up (`--version`)",
}
# --quick: checking a change in under 3 minutes (the tools' venvs made already)
QUICK = {"sets": "trio", "tools": "satchel,uv", "runs": 3,
         "scenarios": "warm-offline,noop,noop-full,compile,compile-full,resolve,version"}
SETTLE_S = 2.1  # satchel.cache.replays.RACY_NS, and a little
VERSION_MIN_RUNS = 5  # start-up is cheap and noisy: at least this many samples
STDERR_TAIL_LINES = 15


# --------------------------------------------------------------------------------------------
# small helpers

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


_URL_HOST = re.compile(r"(?i)\b(https?://)([^/\s:'\"<>]+)")
_BARE_HOST = re.compile(r"(?i)\b(?:[a-z0-9-]+\.)+(?:org|com|net|io|dev|host)\b")


def redact(text: str) -> str:
    """Remove network host names from text that goes into results (tool output, errors)."""
    text = _URL_HOST.sub(lambda m: m.group(1) + "<host>", text)
    return _BARE_HOST.sub("<host>", text)


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise RuntimeError(f"no site-packages under {venv}")
    return found[0]


def run_quiet(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
              check: bool = True, logfile: Path | None = None) -> subprocess.CompletedProcess:
    """Run a set-up command (untimed); keep its output in ``logfile`` when given."""
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with logfile.open("a") as f:
            f.write(f"$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}\n[exit {proc.returncode}]\n")
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise RuntimeError(f"command failed ({proc.returncode}): {shlex.join(cmd)}\n{tail}")
    return proc


def rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=False)


#: Seconds to wait after deleting an earlier bench's trash where the kernel's caches cannot be
#: dropped (``drop_caches``): on ext4 without a journal, creating files scans the recently freed
#: inodes, most of all in the first half minute.
TRASH_SETTLE_S = 30.0

#: Where Linux drops its clean caches on request (root only).
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def drop_caches(control: Path = DROP_CACHES) -> bool:
    """Write everything back (``sync``), then ask the kernel to drop its clean page, dentry and
    inode caches: True when it did (root, Linux). On ext4 without a journal (this machine's
    disk) every new inode is found by skipping the free inodes that were deleted recently and
    whose inode-table blocks are still cached, each one looked up: after a day of tests and
    benches that deleted many thousands of files, creating a file or a directory cost 100-580 us
    of system time, and 20-60 us once the caches were dropped (docs/performance.md, *Warm
    offline: where the time goes*). Dropping them once before the runs measures the tools, not
    the machine's history of deletions; the set-up and the untimed runs warm the page cache
    again."""
    os.sync()
    try:
        with control.open("w") as f:
            f.write("3\n")
    except OSError:
        return False
    return True


def disk_activity() -> tuple[int, int] | None:
    """(I/Os in flight, sectors written) summed over the whole disks of /proc/diskstats, or
    None where there is no such file."""
    try:
        lines = Path("/proc/diskstats").read_text().splitlines()
    except OSError:
        return None
    in_flight = written = 0
    for line in lines:
        f = line.split()
        # whole disks only (vda, sda, nvme0n1), not their partitions, loops or ram disks
        if len(f) < 14 or f[2].startswith(("loop", "ram")) or not Path(f"/sys/block/{f[2]}").exists():
            continue
        in_flight += int(f[11])
        written += int(f[9])
    return in_flight, written


def settle_disk(quiet_s: float = 0.5, limit_s: float = 30.0) -> float:
    """Write back what earlier runs left dirty (``sync``), then wait until the disk has done no
    writing for ``quiet_s`` (at most ``limit_s``): a cold run then meets a disk at rest rather
    than the write-back of the run before it, whichever tool that was. Returns the seconds
    waited."""
    start = time.monotonic()
    os.sync()
    last = disk_activity()
    if last is None:
        return time.monotonic() - start
    quiet_since = time.monotonic()
    while time.monotonic() - start < limit_s:
        time.sleep(0.1)
        now = disk_activity()
        if now is None or now[0] or now[1] != last[1]:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        last = now
    return time.monotonic() - start


def fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    if x < 10:
        return f"{x:.2f} s"
    return f"{x:.1f} s"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


# --------------------------------------------------------------------------------------------
# timed runs: wall time with perf_counter, peak RSS of the child with os.wait4

def _gnu_time() -> str | None:
    """/usr/bin/time if it is GNU time (supports -f/-o), else None."""
    exe = shutil.which("time", path="/usr/bin:/bin")
    if not exe:
        return None
    try:
        ok = subprocess.run([exe, "-f", "%M", "-o", os.devnull, "true"], capture_output=True).returncode == 0
    except OSError:
        return None
    return exe if ok else None


GNU_TIME = _gnu_time()
RSS_METHOD = (
    "GNU time's %M (wait4 of the tool's process, forked from the small `time` process)"
    if GNU_TIME else
    "os.wait4 of the tool's process (includes this harness's pre-exec fork image, about 20 MB: "
    "install GNU time for exact peaks)"
)


def timed_run(cmd: list[str], *, env: dict[str, str], cwd: Path, stdout_path: Path,
              stderr_path: Path, timeout: float) -> dict:
    """Run ``cmd``; return wall seconds, the tool's peak RSS (KiB) and its exit code.

    Wall time is perf_counter around spawn-to-reap. Peak RSS is the rusage of the tool's main
    process (not of grandchildren such as interpreter probes or build backends). A child forked
    from this Python process would report at least this process's RSS (the pre-exec image counts
    towards ru_maxrss), so the tool is started by GNU time, a small C program, which reports its
    child's ru_maxrss; without GNU time, os.wait4's figure is used.
    """
    stdout_path.parent.mkdir(parents=True, exist_ok=True)
    rss_file = stdout_path.with_suffix(".rss")
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME else cmd
    timed_out = threading.Event()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, env=env, cwd=cwd, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        except BaseException:  # interrupted: take the tool (and its children) down with us
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                os.waitpid(proc.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            proc.returncode = -signal.SIGKILL
            raise
        finally:
            timer.cancel()
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # reaped by wait4; tell Popen so it does not try again
    maxrss = rusage.ru_maxrss
    if GNU_TIME:
        try:
            lines = rss_file.read_text().split()
            # GNU time prefixes "Command exited with non-zero status N" on failure; %M is last
            maxrss = int(lines[-1]) if lines else 0
        except (OSError, ValueError):
            maxrss = 0
    return {"wall_s": wall, "maxrss_kb": maxrss, "rc": rc, "timed_out": timed_out.is_set()}


def tail_of(path: Path, n: int = STDERR_TAIL_LINES) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return redact("\n".join(lines[-n:]))


# --------------------------------------------------------------------------------------------
# the tools under test

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work: Path = args.work.resolve()
        self.tools_dir = self.work / "tools"
        self.cache_root = self.work / "cache"
        self.envs = self.work / "envs"
        # Caches and venvs of finished runs are moved here and deleted at the end of the bench,
        # not between runs: deleting a few thousand files leaves the disk busy for seconds and,
        # on a filesystem without a journal (ext4 here), makes file creations scan the freed
        # inodes for half a minute after (uv's cold trio install took 2.1 s after a set's
        # deletions, 0.9 s without), which the next timed runs would pay for. The price is
        # disk space: a few GB for the four sets.
        self.trash = self.work / "trash"
        self.noop_root = self.work / "noop"
        self.logs = self.work / "logs"
        self.cwd = self.work / "cwd"  # neutral working directory for every tool run
        self.setup_log = self.work / "setup.log"
        self.base_python = args.python
        self.primed: set[tuple[str, str]] = set()
        self.gave_up: dict[tuple[str, str], str] = {}  # (tool, set) -> why
        self.records: list[dict] = []
        self.env = self._child_env()
        self._venv_counter = 0
        self._trash_counter = 0
        self.settled_s: list[float] = []  # seconds waited for the disk before each run that installs
        self.caches_dropped = False  # the kernel's caches were dropped before the runs (setup)

    # ---- environment -------------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Never let a caller's venv or a per-tool cache/config from the shell leak into runs.
        # PYTHONDONTWRITEBYTECODE too: a shell may set it (this machine's does), and then the
        # Python tools would run without the bytecode caches a user's install writes as it runs
        # (satchel's table of compiled dataclass methods; pip's and satchel's own modules are
        # compiled when they are installed).
        for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME", "UV_CACHE_DIR",
                    "SATCHEL_CACHE_DIR", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "UV_NO_CACHE",
                    "UV_OFFLINE", "PIP_REQUIRE_VIRTUALENV", "PIP_USER", "PYTHONDONTWRITEBYTECODE"):
            env.pop(key, None)
        if self.args.pip_config == "isolated":
            # pip and satchel see only pip's built-in default index, like uv does.
            for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX",
                        "SATCHEL_INDEX_URL"):
                env.pop(key, None)
            env["PIP_CONFIG_FILE"] = os.devnull
        return env

    def tool_env(self, tool: str, set_name: str) -> dict[str, str]:
        env = dict(self.env)
        cache = self.cache_dir(tool, set_name)
        if tool == "uv":
            env["UV_CACHE_DIR"] = str(cache)
        elif tool == "satchel":
            env["SATCHEL_CACHE_DIR"] = str(cache)
        return env

    def cache_dir(self, tool: str, set_name: str) -> Path:
        return self.cache_root / tool / set_name

    # ---- set-up --------------------------------------------------------------------------

    def venv_python(self, venv: Path) -> Path:
        return venv / "bin" / "python"

    def make_tool_venv(self, venv: Path) -> None:
        if not self.venv_python(venv).exists():
            rmtree(venv)
            run_quiet([self.base_python, "-m", "venv", str(venv)], logfile=self.setup_log)

    def setup_uv(self) -> None:
        venv = self.tools_dir / "uv"
        exe = venv / "bin" / "uv"
        if exe.exists() and self._version([str(exe), "--version"]).split()[1:2] == [self.args.uv_version]:
            return
        log(f"installing uv=={self.args.uv_version} into {venv}")
        self.make_tool_venv(venv)
        run_quiet([str(self.venv_python(venv)), "-m", "pip", "install", "-q",
                   f"uv=={self.args.uv_version}"], env=self.env, logfile=self.setup_log)

    def setup_pip(self) -> None:
        venv = self.tools_dir / "pip"
        py = str(self.venv_python(venv))
        if self.venv_python(venv).exists():
            out = self._version([py, "-m", "pip", "--version"])
            if out.startswith(f"pip {self.args.pip_version} "):
                return
        log(f"installing pip=={self.args.pip_version} into {venv}")
        self.make_tool_venv(venv)
        run_quiet([py, "-m", "pip", "install", "-q", f"pip=={self.args.pip_version}"],
                  env=self.env, logfile=self.setup_log)

    def satchel_snapshot(self) -> tuple[Path, str]:
        """Copy the checkout's buildable files (working tree, not git HEAD) to the work dir.

        Building from a copy keeps setuptools' build/ and *.egg-info out of the checkout, and
        freezes the code under test even if the tree changes during the benchmark.
        """
        src = self.args.satchel_src.resolve()
        dst = self.work / "satchel-src"
        rmtree(dst)
        dst.mkdir(parents=True)
        h = hashlib.sha256()
        # Only what lies under src/ is copied: no build/ or dist/ to skip (and "build" as a pattern
        # would drop the satchel.build package).
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(src / "src", dst / "src", ignore=ignore)
        for name in ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE", "MANIFEST.in"):
            if (src / name).is_file():
                shutil.copy2(src / name, dst / name)
        if not (dst / "README.md").exists():
            (dst / "README.md").write_text("satchel\n")
        for path in sorted(p for p in dst.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(dst)).encode() + b"\0" + path.read_bytes() + b"\0")
        return dst, h.hexdigest()

    def setup_satchel(self) -> None:
        venv = self.tools_dir / "satchel"
        marker = venv / ".bench-source-hash"
        snapshot, digest = self.satchel_snapshot()
        exe = venv / "bin" / "satchel"
        if exe.exists() and marker.exists() and marker.read_text().strip() == digest:
            return
        self.make_tool_venv(venv)
        py = str(self.venv_python(venv))
        if exe.exists():
            log(f"reinstalling satchel from {self.args.satchel_src} (source changed)")
            run_quiet([py, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(snapshot)],
                      env=self.env, logfile=self.setup_log)
            if run_quiet([py, "-m", "pip", "check"], env=self.env, check=False,
                         logfile=self.setup_log).returncode != 0:
                run_quiet([py, "-m", "pip", "install", "-q", str(snapshot)], env=self.env,
                          logfile=self.setup_log)
        else:
            log(f"installing satchel from {self.args.satchel_src} into {venv} (non-editable)")
            run_quiet([py, "-m", "pip", "install", "-q", str(snapshot)], env=self.env,
                      logfile=self.setup_log)
        marker.write_text(digest + "\n")

    def prepare_machine(self) -> None:
        """Before anything is timed: delete what an interrupted bench left in the trash, then drop
        the kernel's clean caches (:func:`drop_caches`) unless ``--keep-caches``."""
        leftover = self.trash.is_dir() and any(self.trash.iterdir())
        if leftover:
            # an earlier bench stopped before deleting its trash: delete it now, before the
            # caches are dropped and anything is timed
            log(f"deleting what an earlier bench left in {self.trash}")
            self.empty_trash()
            settle_disk()
        self.caches_dropped = not self.args.keep_caches and drop_caches()
        if self.caches_dropped:
            log("dropped the kernel's clean caches (the inode allocator's memory of deleted files)")
        elif leftover:
            log(f"the kernel's caches were not dropped: waiting {TRASH_SETTLE_S:.0f} s")
            time.sleep(TRASH_SETTLE_S)

    def setup(self, tools: list[str]) -> None:
        self.prepare_machine()
        for d in (self.tools_dir, self.cache_root, self.envs, self.noop_root, self.logs, self.cwd, self.trash):
            d.mkdir(parents=True, exist_ok=True)
        for tool in tools:
            getattr(self, f"setup_{tool}")()
        # one untimed start-up of each tool so the first timed run does not pay for cold
        # page cache or bytecode compilation of the tool itself
        for tool in tools:
            run_quiet(self.version_cmd(tool), env=self.env, cwd=self.cwd, check=False)

    def _version(self, cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=120)
        except (OSError, subprocess.SubprocessError):
            return ""
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""

    def tool_versions(self, tools: list[str]) -> dict[str, str]:
        versions = {t: redact(self._version(self.version_cmd(t))) for t in tools}
        if "pip" in versions:
            versions["pip"] = re.sub(r" from \S+", "", versions["pip"])
        return versions

    # ---- commands ------------------------------------------------------------------------

    def version_cmd(self, tool: str) -> list[str]:
        if tool == "python":  # the floor: the interpreter satchel runs on, doing nothing
            return [str(self.venv_python(self.tools_dir / "satchel")), "-c", "pass"]
        if tool == "uv":
            return [str(self.tools_dir / "uv" / "bin" / "uv"), "--version"]
        if tool == "satchel":
            return [str(self.tools_dir / "satchel" / "bin" / "satchel"), "--version"]
        return [str(self.venv_python(self.tools_dir / "pip")), "-m", "pip", "--version"]

    def install_cmd(self, tool: str, venv: Path, req: Path, scenario: str, set_name: str) -> list[str] | None:
        """The timed command, or None where the tool has no such mode."""
        if scenario in ("compile", "sync", "sync-cold"):
            return self.lock_cmd(tool, venv, req, scenario, set_name)
        if tool == "uv":
            cmd = [str(self.tools_dir / "uv" / "bin" / "uv"), "pip", "install",
                   "--python", str(self.venv_python(venv)), "-r", str(req)]
            if scenario == "warm-offline":
                cmd.append("--offline")
            if scenario == "resolve":
                cmd.append("--dry-run")
            return cmd
        if tool == "satchel":
            cmd = [str(self.tools_dir / "satchel" / "bin" / "satchel"), "install",
                   "-p", str(venv), "-r", str(req)]
            if scenario == "warm-offline":
                cmd.append("--offline")
            if scenario == "resolve":
                cmd.append("--dry-run")
            return cmd
        # pip runs inside the target venv; it has no install-from-cache-only mode
        if scenario == "warm-offline":
            return None
        cmd = [str(self.venv_python(venv)), "-m", "pip", "install",
               "--cache-dir", str(self.cache_dir("pip", set_name)), "-r", str(req)]
        if scenario == "resolve":
            cmd.append("--dry-run")
        return cmd

    def lock_cmd(self, tool: str, venv: Path, req: Path, scenario: str, set_name: str) -> list[str] | None:
        """`compile` (warm, offline, to standard output) and `sync`/`sync-cold` (of the set's
        lock)."""
        if tool not in ("satchel", "uv"):
            return None
        if tool == "uv":
            uv = str(self.tools_dir / "uv" / "bin" / "uv")
            py = str(self.venv_python(venv))
            if scenario == "compile":
                return [uv, "pip", "compile", str(req), "--offline", "--python", py]
            return [uv, "pip", "sync", "--python", py, str(self.lock_path(set_name))]
        satchel = str(self.tools_dir / "satchel" / "bin" / "satchel")
        if scenario == "compile":
            return [satchel, "compile", str(req), "--offline", "-p", str(venv)]
        return [satchel, "sync", "-p", str(venv), str(self.lock_path(set_name))]

    def lock_path(self, set_name: str) -> Path:
        return self.work / "locks" / f"{set_name}.txt"

    def ensure_lock(self, set_name: str, req: Path) -> bool:
        """The set's lock (untimed), compiled once by satchel with hashes, from its cache;
        whether it is there."""
        lock = self.lock_path(set_name)
        if not lock.is_file():
            lock.parent.mkdir(parents=True, exist_ok=True)
            satchel = str(self.tools_dir / "satchel" / "bin" / "satchel")
            cmd = [satchel, "compile", str(req), "--generate-hashes", "-o", str(lock)]
            res = timed_run(cmd, env=self.tool_env("satchel", set_name), cwd=self.cwd,
                            stdout_path=self.logs / f"lock-{set_name}.out",
                            stderr_path=self.logs / f"lock-{set_name}.err", timeout=self.args.timeout)
            if res["rc"] != 0:
                return False
        return True

    def synced_venv(self, tool: str, set_name: str, req: Path) -> Path | None:
        """A venv synced to the set's lock (untimed): the lock (:meth:`ensure_lock`), then one
        sync by ``tool``."""
        if not self.ensure_lock(set_name, req):
            return None
        path = self.noop_root / f"sync-{tool}-{set_name}"
        marker = path / ".bench-synced"
        if marker.exists():
            return path
        self.new_venv(tool, path)
        cmd = self.lock_cmd(tool, path, req, "sync", set_name)
        assert cmd is not None
        tag = f"setup-sync-{set_name}-{tool}"
        res = timed_run(cmd, env=self.tool_env(tool, set_name), cwd=self.cwd,
                        stdout_path=self.logs / f"{tag}.out", stderr_path=self.logs / f"{tag}.err",
                        timeout=self.args.timeout)
        if res["rc"] != 0:
            return None
        marker.write_text("")
        return path

    # ---- target venvs (created and removed outside the timed region) ---------------------

    def discard(self, path: Path) -> None:
        """Move ``path`` (if any) into the trash, deleted by :meth:`empty_trash` (untimed)."""
        if path.exists() or path.is_symlink():
            self._trash_counter += 1
            path.rename(self.trash / f"{self._trash_counter}-{path.name}")

    def empty_trash(self) -> None:
        """Delete what :meth:`discard` moved aside (never fails the bench: what cannot be
        deleted is left for the next one)."""
        shutil.rmtree(self.trash, ignore_errors=True)
        self.trash.mkdir(parents=True, exist_ok=True)

    def new_venv(self, tool: str, path: Path | None = None) -> Path:
        if path is None:
            self._venv_counter += 1
            path = self.envs / f"{tool}-{self._venv_counter}"
        self.discard(path)
        run_quiet([self.base_python, "-m", "venv", "--without-pip", str(path)])
        if tool == "pip":
            # the pinned pip, copied from the pip tool venv (no network, no ensurepip)
            src = site_packages(self.tools_dir / "pip")
            dst = site_packages(path)
            for item in src.iterdir():
                if item.name == "pip" or (item.name.startswith("pip-") and item.name.endswith(".dist-info")):
                    shutil.copytree(item, dst / item.name, symlinks=True)
        return path

    # ---- scenarios -----------------------------------------------------------------------

    def record(self, **fields) -> dict:
        self.records.append(fields)
        return fields

    def run_one(self, scenario: str, set_name: str, tool: str, run: int, req: Path | None) -> dict:
        base = {"scenario": scenario, "set": set_name, "tool": tool, "run": run}
        tag = f"{scenario}-{set_name}-{tool}-{run}"
        full = scenario.endswith("-full")
        scenario = scenario.removesuffix("-full")  # (the same commands; satchel's env differs)
        if scenario == "version":
            cmd = self.version_cmd(tool)
            venv = None
        else:
            assert req is not None
            cmd = self.install_cmd(tool, self.envs / "x", req, scenario, set_name)
            if cmd is None:
                return self.record(**base, status="n/a", wall_s=None, maxrss_kb=None, rc=None)
            if (tool, set_name) in self.gave_up:
                log(f"  {base['scenario']:12} {set_name:12} {tool:8} run {run}: skipped ({self.gave_up[(tool, set_name)]})")
                return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                   cmd=None, stderr_tail=f"skipped: {self.gave_up[(tool, set_name)]}")
            try:
                if scenario == "sync-cold" and not self.ensure_lock(set_name, req):
                    # (made before the cache is emptied: compiling it fills satchel's cache)
                    return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                       cmd=None, stderr_tail=f"compiling the lock failed (see {self.logs})")
                if scenario in ("cold", "sync-cold"):
                    self.discard(self.cache_dir(tool, set_name))
                    self.primed.discard((tool, set_name))
                elif (tool, set_name) not in self.primed:
                    self.prime(tool, set_name, req)
                    if (tool, set_name) in self.gave_up:
                        return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                           cmd=None, stderr_tail=f"skipped: {self.gave_up[(tool, set_name)]}")
                if scenario == "sync":
                    venv = self.synced_venv(tool, set_name, req)
                    if venv is None:
                        return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                           cmd=None, stderr_tail=f"set-up of the synced venv failed (see {self.logs})")
                elif scenario in ("noop", "compile"):
                    venv = self.noop_venv(tool, set_name)
                    if venv is None:
                        return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                           cmd=None, stderr_tail="set-up install into the no-op venv failed "
                                                                 f"(see {self.setup_log})")
                else:
                    venv = self.new_venv(tool)
            except Exception as exc:  # set-up trouble is recorded, not fatal
                return self.record(**base, status="failed", wall_s=None, maxrss_kb=None, rc=None,
                                   cmd=None, stderr_tail=redact(f"set-up failed: {exc}")[-2000:])
            cmd = self.install_cmd(tool, venv, req, scenario, set_name)
            assert cmd is not None
        env = self.tool_env(tool, set_name)
        if full and tool == "satchel":
            env["SATCHEL_NO_REPLAY"] = "1"
        out = self.logs / f"{tag}.out"
        err = self.logs / f"{tag}.err"
        if scenario in ("cold", "warm", "warm-offline", "sync-cold"):
            # (the runs that write a new environment: each starts on a disk at rest)
            self.settled_s.append(settle_disk())
        res = timed_run(cmd, env=env, cwd=self.cwd, stdout_path=out, stderr_path=err,
                        timeout=self.args.timeout)
        ok = res["rc"] == 0 and not res["timed_out"]
        rec = self.record(**base, status="ok" if ok else "failed", wall_s=res["wall_s"],
                          maxrss_kb=res["maxrss_kb"], rc=res["rc"], timed_out=res["timed_out"],
                          cmd=self.display_cmd(cmd))
        if not ok:
            rec["stderr_tail"] = tail_of(err) or tail_of(out)
            if res["timed_out"] and req is not None:
                self.gave_up[(tool, set_name)] = (
                    f"{tool} timed out ({self.args.timeout:.0f} s) on {scenario}; "
                    f"the rest of its runs on this set were skipped")
        elif scenario in ("cold", "warm"):
            self.primed.add((tool, set_name))
        if venv is not None and scenario not in ("noop", "compile", "sync"):
            self.discard(venv)
        shown = fmt_s(res["wall_s"]) if ok else f"FAILED rc={res['rc']}" + (" (timeout)" if res["timed_out"] else "")
        log(f"  {base['scenario']:12} {set_name:12} {tool:8} run {run}: {shown}  "
            f"peak {res['maxrss_kb'] / 1024:.0f} MB")
        return rec

    def display_cmd(self, cmd: list[str]) -> str:
        s = shlex.join(cmd)
        return s.replace(str(self.work), "$WORK").replace(str(REPO.parent), "..")

    def prime(self, tool: str, set_name: str, req: Path) -> None:
        """Populate the tool's cache for this set (untimed): an install into the no-op venv."""
        log(f"  priming {tool} cache for {set_name}")
        if self.noop_venv(tool, set_name, force=True, req=req) is not None:
            self.primed.add((tool, set_name))

    def noop_venv(self, tool: str, set_name: str, *, force: bool = False, req: Path | None = None) -> Path | None:
        path = self.noop_root / f"{tool}-{set_name}"
        marker = path / ".bench-installed"
        if marker.exists() and not force:
            return path
        if req is None:
            req = self.req_path(set_name)
        self.new_venv(tool, path)
        cmd = self.install_cmd(tool, path, req, "warm", set_name)
        assert cmd is not None
        env = self.tool_env(tool, set_name)
        tag = f"setup-{set_name}-{tool}"
        res = timed_run(cmd, env=env, cwd=self.cwd, stdout_path=self.logs / f"{tag}.out",
                        stderr_path=self.logs / f"{tag}.err", timeout=self.args.timeout)
        with self.setup_log.open("a") as f:
            f.write(f"$ {self.display_cmd(cmd)}\n[exit {res['rc']}{', timed out' if res['timed_out'] else ''}; "
                    f"output in {self.logs / tag}.out/.err]\n")
        if res["timed_out"]:
            self.gave_up[(tool, set_name)] = (
                f"{tool} timed out ({self.args.timeout:.0f} s) filling its cache; "
                "its runs on this set were skipped")
        if res["rc"] != 0 or res["timed_out"]:
            return None
        marker.write_text("")
        # An environment is re-installed into, compiled for or synced seconds after it was made,
        # not within the same clock tick: let its files settle as they would (satchel stores a
        # replay only from inputs at least 2 s old; noop-full and compile-full time the runs
        # that do the work).
        time.sleep(SETTLE_S)
        return path

    def req_path(self, set_name: str) -> Path:
        for ext in (".txt", ".in"):
            p = self.args.req_dir / f"{set_name}{ext}"
            if p.is_file():
                return p
        p = Path(set_name)
        if p.is_file():
            return p.resolve()
        raise SystemExit(f"no requirement set {set_name!r} in {self.args.req_dir}")

    def run_all(self, sets: list[str], tools: list[str], scenarios: list[str], runs: int) -> None:
        install_scenarios = [s for s in INSTALL_SCENARIOS if s in scenarios]
        if "version" in scenarios:
            n = max(runs, VERSION_MIN_RUNS)
            # `python -c pass` with satchel's interpreter is the floor satchel's start-up is held to
            version_tools = [*tools, "python"] if "satchel" in tools else tools
            log(f"scenario version ({n} runs)")
            for i in range(1, n + 1):
                for tool in version_tools:
                    self.run_one("version", "-", tool, i, None)
            for other in ("uv", "python"):
                rs = round_ratios(self.records, "version", "-", "satchel", other)
                if rs:
                    log(f"  version: satchel/{other} {statistics.median(rs):.2f}x")
        for set_name in sets:
            req = self.req_path(set_name)
            # a cold start for every tool's cache of this set, and fresh no-op venvs
            for tool in tools:
                self.discard(self.noop_root / f"{tool}-{set_name}")
                self.primed.discard((tool, set_name))
            for scenario in install_scenarios:
                log(f"set {set_name}, scenario {scenario} ({runs} runs, tools interleaved)")
                for i in range(1, runs + 1):
                    # the order alternates by round (A B, B A, ...): the tool that runs first
                    # meets whatever the one before it left cold (the proxy's cache, the disk)
                    for tool in (tools if i % 2 else tools[::-1]):
                        self.run_one(scenario, set_name, tool, i, req)
                if "satchel" in tools and "uv" in tools:
                    rs = round_ratios(self.records, scenario, set_name, "satchel", "uv")
                    if rs:
                        log(f"  {scenario} {set_name}: satchel/uv {statistics.median(rs):.2f}x "
                            f"(per round: {', '.join(f'{r:.2f}' for r in rs)})")
            for tool in tools:
                self.discard(self.noop_root / f"{tool}-{set_name}")
        self.discard(self.envs)
        self.empty_trash()


# --------------------------------------------------------------------------------------------
# machine description

def machine_info(base_python: str) -> dict:
    info: dict = {"nproc": os.cpu_count()}
    try:
        info["nproc_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        meminfo = Path("/proc/meminfo").read_text()
        m = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
        if m:
            info["memory_gib"] = round(int(m.group(1)) / 1024 / 1024, 1)
    except OSError:
        pass
    info["kernel"] = platform.release()
    info["os"] = platform.platform()
    out = subprocess.run([base_python, "-c", "import sys, platform; print(platform.python_implementation(), sys.version.split()[0], sys.executable)"],
                         capture_output=True, text=True)
    info["target_python"] = out.stdout.strip()
    info["harness_python"] = sys.version.split()[0]
    try:
        st = os.statvfs(BENCH)
        info["work_fs_free_gib"] = round(st.f_bavail * st.f_frsize / 2**30, 1)
    except OSError:
        pass
    return info


def git_info() -> dict:
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = git("status", "--porcelain", "--", "src", "pyproject.toml")
    return {"commit": git("rev-parse", "--short", "HEAD"), "src_dirty": bool(dirty)}


def pip_config(env: dict[str, str], pip_python: Path) -> str:
    try:
        out = subprocess.run([str(pip_python), "-m", "pip", "config", "list"], capture_output=True,
                             text=True, env=env, timeout=60)
        text = out.stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        text = f"(pip config list failed: {e})"
    pip_env = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("PIP_"))
    return redact(text + ("\n# PIP_* environment:\n" + "\n".join(pip_env) if pip_env else ""))


# --------------------------------------------------------------------------------------------
# summary, Markdown, JSON

def summarize(records: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((r["scenario"], r["set"], r["tool"]), []).append(r)
    rows = []
    for (scenario, set_name, tool), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        times = [r["wall_s"] for r in ok]
        rss = [r["maxrss_kb"] for r in ok if r["maxrss_kb"]]
        na = all(r["status"] == "n/a" for r in rs)
        rows.append({
            "scenario": scenario, "set": set_name, "tool": tool,
            "runs": len(rs), "ok": len(ok), "na": na,
            "median_s": statistics.median(times) if times else None,
            "min_s": min(times) if times else None,
            "max_s": max(times) if times else None,
            "peak_mb": round(max(rss) / 1024, 1) if rss else None,
        })
    return rows


def lookup(summary: list[dict], scenario: str, set_name: str, tool: str) -> dict | None:
    for row in summary:
        if (row["scenario"], row["set"], row["tool"]) == (scenario, set_name, tool):
            return row
    return None


def round_ratios(records: list[dict], scenario: str, set_name: str, a: str, b: str) -> list[float]:
    """a/b within each round where both ran successfully (the tools ran back to back)."""
    def times(tool: str) -> dict[int, float]:
        return {r["run"]: r["wall_s"] for r in records
                if (r["scenario"], r["set"], r["tool"]) == (scenario, set_name, tool)
                and r["status"] == "ok" and r["wall_s"]}
    ta, tb = times(a), times(b)
    return [ta[i] / tb[i] for i in sorted(ta) if i in tb]


def ratio_rows(records: list[dict], sets: list[str], tools: list[str], scenarios: list[str]) -> list[dict]:
    """Per scenario, set and reference tool: the per-round ratios satchel/other and their median.

    The median of the per-round ratios is *the* figure: both tools ran back to back in each round,
    so a slow spell of the machine hits both alike and mostly cancels out of the ratio.
    """
    rows = []
    for scenario in scenarios:
        scen_sets = ["-"] if scenario == "version" else sets
        others = [t for t in ("uv", "pip") if t in tools] + (["python"] if scenario == "version" else [])
        for s in scen_sets:
            for other in others:
                rs = round_ratios(records, scenario, s, "satchel", other)
                if rs:
                    rows.append({"scenario": scenario, "set": s, "other": other, "per_round": rs,
                                 "median": statistics.median(rs), "min": min(rs), "max": max(rs)})
    return rows


def ratio(ratios: list[dict], scenario: str, set_name: str, other: str) -> dict | None:
    for row in ratios:
        if (row["scenario"], row["set"], row["other"]) == (scenario, set_name, other):
            return row
    return None


def fmt_ratio_row(row: dict | None) -> str:
    if row is None:
        return "-"
    if len(row["per_round"]) == 1:
        return fmt_ratio(row["median"])
    return f"{fmt_ratio(row['median'])} ({row['min']:.2f}-{row['max']:.2f})"


# issue 13's targets: (scenario, reference tool, {set: limit}, default limit, label)
TARGETS = (
    ("warm-offline", "uv", {"boto3": 2.0}, 1.5, "warm offline"),
    ("cold", "uv", {"boto3": 1.5}, 1.3, "cold install"),
    ("noop", "uv", {}, 3.0, "no-op install"),
    ("noop-full", "uv", {}, 3.0, "no-op install, replays off"),
    ("compile", "uv", {}, 1.5, "warm compile"),
    ("compile-full", "uv", {}, 1.5, "warm compile, replays off"),
    ("sync", "uv", {}, 3.0, "sync, already synced"),
)
VERSION_TARGET = 2.0  # satchel --version <= 2x python -c pass


def targets(ratios: list[dict], sets: list[str]) -> list[tuple[str, str, str, str]]:
    """(target, measured, met?, note) rows for issue 13's targets, where the data allows."""
    rows = []

    def verdict(ok: bool | None) -> str:
        return "-" if ok is None else ("met" if ok else "**not met**")

    for scenario, other, special, default, label in TARGETS:
        for set_name in sets:
            limit = special.get(set_name, default)
            r = ratio(ratios, scenario, set_name, other)
            if r is not None:
                rows.append((f"{label} <= {limit:g}x {other} ({set_name})", fmt_ratio_row(r),
                             verdict(r["median"] <= limit), ""))
    r = ratio(ratios, "version", "-", "python")
    if r is not None:
        rows.append((f"`satchel --version` <= {VERSION_TARGET:g}x `python -c pass`", fmt_ratio_row(r),
                     verdict(r["median"] <= VERSION_TARGET), ""))
    return rows


def render_markdown(meta: dict, summary: list[dict], records: list[dict], chart: str | None) -> str:
    sets, tools, scenarios = meta["sets"], meta["tools"], meta["scenarios"]
    L: list[str] = []
    L.append(f"# {' vs '.join(tools)}: {meta['date']}")
    L.append("")
    L.append(f"Command: `{meta['command']}`")
    L.append("")
    L.append(f"{meta['runs']} run(s) per tool per scenario and set (start-up: {meta['version_runs']}), "
             "tools interleaved; times are wall-clock medians, min and max; peak MB is the highest "
             "peak RSS of the tool's process over the runs.")
    settled = meta.get("settled_s") or []
    if settled:
        L.append("")
        L.append("Every cold, warm and warm-offline run started on a disk at rest: `sync`, then 0.5 s without writes "
                 f"(waited {statistics.median(settled):.1f} s in the median, {max(settled):.1f} s at most); "
                 "caches and venvs of earlier runs were deleted at the end, not between runs.")
    if "caches_dropped" in meta:
        L.append("")
        L.append("The kernel's clean caches were dropped before the runs (`sync`, `drop_caches`), so that creating "
                 "a file did not pay for the files deleted earlier on this machine (bench/README.md)."
                 if meta["caches_dropped"] else
                 "The kernel's caches could not be dropped before the runs (not root): creating a file may have paid "
                 "for files deleted earlier on this machine (bench/README.md).")
    if meta.get("interrupted"):
        L.append("")
        L.append("> **Interrupted: these are the runs measured before the interruption.**")
    if meta["runs"] < 3:
        L.append("")
        L.append(f"> **{meta['runs']} run(s) only: single samples, indicative, not a measurement.**")
    la = meta.get("loadavg_start"), meta.get("loadavg_end")
    if la[0] and (la[0][0] > 0.5 or (la[1] and la[1][0] > 1.5)):
        L.append("")
        L.append(f"> Load average at start {la[0][0]:.2f}, at end {la[1][0]:.2f}: the machine was busy; "
                 "times are noisy.")
    L.append("")
    L.append("## Machine")
    L.append("")
    m = meta["machine"]
    L.append(f"- CPU: {m.get('cpu')}, {m.get('nproc')} logical cores "
             f"({m.get('nproc_usable', m.get('nproc'))} usable); memory {m.get('memory_gib')} GiB")
    L.append(f"- OS: {m.get('os')}")
    L.append(f"- Target Python: {m.get('target_python')} (venvs made with `-m venv --without-pip`)")
    v = meta["tool_versions"]
    g = meta["git"]
    tv = []
    for t in tools:
        s = v.get(t, "?")
        if t == "satchel":
            s += f" (checkout {g.get('commit')}{', with uncommitted changes in src/' if g.get('src_dirty') else ''}, non-editable install)"
        tv.append(s)
    L.append(f"- Tools: {'; '.join(tv)}")
    L.append(f"- Load average (1/5/15 min): start {' / '.join(f'{x:.2f}' for x in la[0])}"
             + (f", end {' / '.join(f'{x:.2f}' for x in la[1])}" if la[1] else ""))
    if meta.get("env_of_note"):
        L.append("- Environment variables of note (passed to every tool): "
                 + ", ".join(f"`{k}={v}`" for k, v in meta["env_of_note"].items()))
    L.append(f"- pip configuration mode: `{meta['pip_config_mode']}` "
             + ("(pip and satchel read pip's configuration as the machine has it; uv does not read it)"
                if meta["pip_config_mode"] == "inherit" else
                "(PIP_CONFIG_FILE=/dev/null, PIP_INDEX_URL/EXTRA_INDEX_URL/FIND_LINKS unset: every tool uses its built-in default index)"))
    L.append("")
    L.append("<details><summary>pip config list (what pip and satchel see)</summary>")
    L.append("")
    L.append("```")
    L.append(meta["pip_config"] or "(empty)")
    L.append("```")
    L.append("")
    L.append("</details>")
    L.append("")
    if chart:
        L.append(f"![chart]({chart})")
        L.append("")
    ratios = ratio_rows(records, sets, tools, scenarios)
    if ratios:
        L.append("## satchel / uv")
        L.append("")
        L.append("Every figure is the median of the per-round ratios satchel/uv (the tools ran back to "
                 "back in each round; the range over the rounds in parentheses).")
        L.append("")
        scen_cols = [sc for sc in scenarios if sc != "version" and any(ratio(ratios, sc, st, "uv") for st in sets)]
        if scen_cols:
            L.append("| set | " + " | ".join(scen_cols) + " |")
            L.append("|---|" + "---:|" * len(scen_cols))
            for st in sets:
                L.append(f"| {st} | " + " | ".join(fmt_ratio_row(ratio(ratios, sc, st, "uv")) for sc in scen_cols) + " |")
            L.append("")
        for other, label in (("uv", "uv --version"), ("python", "python -c pass")):
            r = ratio(ratios, "version", "-", other)
            if r is not None:
                L.append(f"- `satchel --version` / `{label}`: {fmt_ratio_row(r)}")
        L.append("")
    trows = targets(ratios, sets)
    if trows:
        L.append("## Targets (issue 13)")
        L.append("")
        L.append("| target | satchel/reference, per-round median (range) | |")
        L.append("|---|---|---|")
        for t, measured, ok, note in trows:
            L.append(f"| {t} | {measured}{' (' + note + ')' if note else ''} | {ok} |")
        L.append("")
    for scenario in scenarios:
        scen_sets = ["-"] if scenario == "version" else sets
        scen_tools = [*tools, "python"] if scenario == "version" else tools
        if not any(lookup(summary, scenario, s, t) for s in scen_sets for t in scen_tools):
            continue
        L.append(f"## {SCENARIO_TITLES[scenario]}")
        L.append("")
        L.append("| set | tool | median | min | max | peak MB | ok |")
        L.append("|---|---|---:|---:|---:|---:|---|")
        for s in scen_sets:
            for t in scen_tools:
                row = lookup(summary, scenario, s, t)
                if row is None:
                    continue
                if row["na"]:
                    L.append(f"| {s} | {t} | n/a | | | | |")
                    continue
                peak = f"{row['peak_mb']:.0f}" if row["peak_mb"] is not None else "-"
                okcol = f"{row['ok']}/{row['runs']}" if row["ok"] == row["runs"] else f"**{row['ok']}/{row['runs']}**"
                L.append(f"| {s} | {t} | {fmt_s(row['median_s'])} | {fmt_s(row['min_s'])} | "
                         f"{fmt_s(row['max_s'])} | {peak} | {okcol} |")
        others = [o for o in ("uv", "pip", "python") if any(ratio(ratios, scenario, s, o) for s in scen_sets)]
        if others:
            L.append("")
            L.append("| set | " + " | ".join(f"satchel/{o}, per round" for o in others) + " |")
            L.append("|---|" + "---:|" * len(others))
            for s in scen_sets:
                L.append(f"| {s} | " + " | ".join(fmt_ratio_row(ratio(ratios, scenario, s, o)) for o in others) + " |")
        L.append("")
    failures = [r for r in records if r["status"] == "failed"]
    if failures:
        L.append("## Failures")
        L.append("")
        groups: dict[tuple, list[dict]] = {}
        for r in failures:  # identical failures of several runs are listed once
            key = (r["scenario"], r["set"], r["tool"], r.get("rc"), r.get("timed_out"), r.get("stderr_tail"))
            groups.setdefault(key, []).append(r)
        for (scenario, set_name, tool, rc, timed_out, tail), rs in groups.items():
            runs = ", ".join(str(r["run"]) for r in rs)
            L.append(f"- {scenario} / {set_name} / {tool}, run{'s' if len(rs) > 1 else ''} {runs}: "
                     + (f"exit {rc}" if rc is not None else "not run")
                     + (" (timed out)" if timed_out else "")
                     + (f" — `{rs[0]['cmd']}`" if rs[0].get("cmd") else ""))
            if tail:
                L.append("")
                L.append("  ```")
                L.extend("  " + line for line in tail.splitlines())
                L.append("  ```")
        L.append("")
    L.append("## Notes")
    L.append("")
    L.append("- Each timed command runs in a fresh venv made before the clock starts (pip's venv gets "
             "the pinned pip copied in, untimed); only the install command is timed.")
    L.append("- Caches are per tool and per set under the work dir (uv: UV_CACHE_DIR, satchel: "
             "SATCHEL_CACHE_DIR, pip: --cache-dir). Cold runs empty the cache first.")
    L.append("- pip compiles bytecode by default; uv and satchel do not. pip has no cache-only mode "
             "(warm offline: n/a), and `pip install --dry-run` downloads what it resolves.")
    L.append("- The index proxy sends no freshness headers: uv revalidates every index page on warm "
             "runs; pip's HTTP cache stays empty; satchel treats such pages as fresh for 10 minutes "
             "(SATCHEL_INDEX_TTL).")
    L.append(f"- Peak memory: {meta.get('rss_method', '')}.")
    L.append("- Raw data: `latest.json`. How to run: `bench/README.md`.")
    L.append("")
    return "\n".join(L)


# --------------------------------------------------------------------------------------------
# chart (run in the bench venv, which has matplotlib)

def plot(json_path: Path, png_path: Path, log_scale: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(json_path.read_text())
    meta, summary = data["meta"], data["summary"]
    tools = meta["tools"]
    scenarios = [s for s in meta["scenarios"] if any(r["scenario"] == s for r in summary)]
    colors = {"satchel": "#d95f02", "uv": "#7570b3", "pip": "#1b9e77", "python": "#999999"}
    n = len(scenarios)
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.6 * rows), squeeze=False)
    width = 0.8 / max(1, len(tools) + 1)
    for idx, scenario in enumerate(scenarios):
        ax = axes[idx // cols][idx % cols]
        sets = ["-"] if scenario == "version" else meta["sets"]
        panel_tools = [*tools, "python"] if scenario == "version" else tools
        for ti, tool in enumerate(panel_tools):
            xs, ys, lo, hi, tops, labels = [], [], [], [], [], []
            for si, s in enumerate(sets):
                row = next((r for r in summary if (r["scenario"], r["set"], r["tool"]) == (scenario, s, tool)), None)
                x = si + (ti - (len(panel_tools) - 1) / 2) * width
                if row is None:
                    continue
                if row["median_s"] is None:
                    ax.text(x, 0.02, "n/a" if row["na"] else "failed", ha="center", va="bottom",
                            fontsize=7, rotation=90, color=colors.get(tool, "k"),
                            transform=ax.get_xaxis_transform())
                    continue
                xs.append(x)
                ys.append(row["median_s"])
                lo.append(row["median_s"] - row["min_s"])
                hi.append(row["max_s"] - row["median_s"])
                tops.append(row["max_s"])
                labels.append(fmt_s(row["median_s"]))
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=tool,
                       color=colors.get(tool), error_kw={"elinewidth": 0.8})
                for x, top, lab in zip(xs, tops, labels, strict=False):
                    ax.annotate(lab, (x, top), ha="center", va="bottom", fontsize=6.5, rotation=90,
                                xytext=(0, 3), textcoords="offset points")
        ax.set_xlim(-0.5, len(sets) - 0.5)
        ax.set_xticks(range(len(sets)))
        ax.set_xticklabels(["--version (python: -c pass)"] if scenario == "version" else sets, fontsize=8)
        ax.set_title(SCENARIO_TITLES[scenario], fontsize=9)
        ax.set_ylabel("seconds (median; min-max)", fontsize=8)
        ax.margins(y=0.25)
        if log_scale:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for idx in range(n, rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    from matplotlib.patches import Patch

    handles = [Patch(color=colors.get(t, "k"), label=t) for t in [*tools, "python"]]
    fig.legend(handles=handles, loc="upper right", ncol=len(tools) + 1, fontsize=8)
    fig.suptitle(f"{' vs '.join(tools)}, {meta['date']} ({meta['runs']} run(s); lower is better)",
                 fontsize=10, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(png_path, dpi=110, metadata={"Software": None})


def draw_chart(bench: Bench, json_path: Path, png_path: Path, log_scale: bool) -> str | None:
    """Draw the chart with matplotlib from the bench venv; return None, or why it was skipped."""
    venv = bench.work / "bench-venv"
    py = bench.venv_python(venv)
    try:
        if not py.exists() or subprocess.run([str(py), "-c", "import matplotlib"], capture_output=True).returncode != 0:
            log(f"installing matplotlib into {venv}")
            bench.make_tool_venv(venv)
            run_quiet([str(py), "-m", "pip", "install", "-q", "matplotlib"], env=bench.env,
                      logfile=bench.setup_log)
    except Exception as exc:
        return f"matplotlib could not be installed ({str(exc).splitlines()[0]}); see {bench.setup_log}"
    cmd = [str(py), str(Path(__file__).resolve()), "--plot", str(json_path), str(png_path)]
    if log_scale:
        cmd.append("--log")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return "drawing failed: " + "\n".join(proc.stderr.splitlines()[-5:])
    return None


# --------------------------------------------------------------------------------------------
# profiling satchel

def profile(bench: Bench, sets: list[str], scenarios: list[str]) -> None:
    """Profile satchel (pyinstrument text + HTML, and cProfile) in its own tool venv."""
    py = str(bench.venv_python(bench.tools_dir / "satchel"))
    if subprocess.run([py, "-c", "import pyinstrument"], capture_output=True).returncode != 0:
        log("installing pyinstrument into the satchel tool venv")
        run_quiet([py, "-m", "pip", "install", "-q", "pyinstrument"], env=bench.env, logfile=bench.setup_log)
    outdir = bench.work / "profiles"
    outdir.mkdir(parents=True, exist_ok=True)
    profilers = (
        # satchel is installed in site-packages, which pyinstrument hides as library code
        ("pyinstrument text", ".txt", ["-m", "pyinstrument", "--show", "*/satchel/*", "-r", "text", "-o"]),
        ("pyinstrument html", ".html", ["-m", "pyinstrument", "--show", "*/satchel/*", "-r", "html", "-o"]),
        ("cProfile", ".pstats", ["-m", "cProfile", "-o"]),
    )
    for set_name in sets:
        req = bench.req_path(set_name)
        env = bench.tool_env("satchel", set_name)
        for scenario in scenarios:
            if scenario not in INSTALL_SCENARIOS:
                continue
            stem = outdir / f"satchel-{scenario}-{set_name}"
            if scenario in ("sync", "sync-cold") and not bench.ensure_lock(set_name, req):
                log(f"the lock of {set_name} could not be compiled; see {bench.logs}")
                continue
            for label, suffix, prof_args in profilers:
                if scenario in ("cold", "sync-cold"):
                    rmtree(bench.cache_dir("satchel", set_name))
                    bench.primed.discard(("satchel", set_name))
                elif ("satchel", set_name) not in bench.primed:
                    bench.prime("satchel", set_name, req)
                venv = bench.noop_venv("satchel", set_name) if scenario == "noop" else bench.new_venv("satchel")
                if venv is None:
                    log(f"no-op venv for {set_name} could not be set up; see {bench.setup_log}")
                    break
                cmd = bench.install_cmd("satchel", venv, req, scenario, set_name)
                assert cmd is not None
                full = [py, *prof_args, f"{stem}{suffix}", "-m", "satchel", *cmd[1:]]
                t0 = time.perf_counter()
                proc = subprocess.run(full, env=env, cwd=bench.cwd, capture_output=True, text=True)
                log(f"{label}: satchel {scenario} {set_name}: exit {proc.returncode}, "
                    f"{time.perf_counter() - t0:.2f} s under the profiler -> {stem}{suffix}")
                if proc.returncode != 0:
                    print(redact(proc.stderr[-2000:]))
                if scenario == "cold" and proc.returncode == 0:
                    bench.primed.add(("satchel", set_name))
                if scenario != "noop":
                    rmtree(venv)
            pstats_file = Path(f"{stem}.pstats")
            if pstats_file.exists():
                report = subprocess.run(
                    [py, "-c", "import pstats, sys\n"
                     "p = pstats.Stats(sys.argv[1], stream=sys.stdout)\n"
                     "p.sort_stats('cumulative').print_stats(50)\n"
                     "p.sort_stats('tottime').print_stats(30)", str(pstats_file)],
                    capture_output=True, text=True)
                Path(f"{stem}.cprofile.txt").write_text(report.stdout)
                log(f"cProfile summary -> {stem}.cprofile.txt")


# --------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark satchel against uv and pip (see bench/README.md).")
    p.add_argument("--quick", action="store_true",
                   help=f"a quick check of a change: --sets {QUICK['sets']} --tools {QUICK['tools']} "
                        f"--runs {QUICK['runs']} --scenarios {QUICK['scenarios']} (each can still be "
                        "given); under 3 minutes")
    p.add_argument("--sets", default=None,
                   help=f"comma-separated requirement sets, names in --req-dir (default {','.join(ALL_SETS)})")
    p.add_argument("--tools", default=None, help="comma-separated: satchel,uv,pip")
    p.add_argument("--runs", type=int, default=None, help="runs per tool, scenario and set (default 5)")
    p.add_argument("--scenarios", default=None,
                   help=f"comma-separated, from {','.join(ALL_SCENARIOS)}")
    p.add_argument("--out", type=Path, default=None,
                   help="results directory (default bench/results; with --quick bench/work/quick)")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="work directory (default bench/work)")
    p.add_argument("--req-dir", type=Path, default=DEFAULT_REQ_DIR,
                   help="directory of requirement sets (default bench/requirements)")
    p.add_argument("--python", default=sys.executable, help="base interpreter for every venv (default: this one)")
    p.add_argument("--uv-version", default=UV_VERSION, help=f"default {UV_VERSION}")
    p.add_argument("--pip-version", default=PIP_VERSION, help=f"default {PIP_VERSION}")
    p.add_argument("--satchel-src", type=Path, default=REPO, help="satchel checkout to install (default: this one)")
    p.add_argument("--pip-config", choices=["inherit", "isolated"], default="inherit",
                   help="inherit: pip and satchel read the machine's pip configuration (default); "
                        "isolated: hide it, so every tool uses its built-in default index")
    p.add_argument("--timeout", type=float, default=600,
                   help="seconds per tool command (default 600); a tool that times out on a set is "
                        "skipped for the rest of that set")
    p.add_argument("--keep-caches", action="store_true",
                   help="do not drop the kernel's clean caches before the runs (by default a root bench "
                        "does: `sync`, then 3 into /proc/sys/vm/drop_caches, for the whole machine)")
    p.add_argument("--log-scale", action="store_true", help="draw the chart with a log y axis")
    p.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    p.add_argument("--profile", action="store_true",
                   help="profile satchel (pyinstrument + cProfile) for --sets and --scenarios "
                        "(default warm,noop) instead of benchmarking; output in <work>/profiles")
    p.add_argument("--plot", nargs=2, metavar=("JSON", "PNG"), type=Path, help=argparse.SUPPRESS)
    p.add_argument("--log", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else {"sets": ",".join(ALL_SETS), "tools": ",".join(ALL_TOOLS),
                                         "runs": 5, "scenarios": ",".join(DEFAULT_SCENARIOS)}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None:
        args.out = args.work / "quick" if args.quick else DEFAULT_OUT
    args.req_dir = args.req_dir.resolve()
    return args


def split(value: str, allowed: tuple[str, ...] | None, what: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise SystemExit(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    raw_argv = sys.argv[1:] if argv is None else argv
    args = parse_args(raw_argv)
    if args.plot:
        plot(args.plot[0], args.plot[1], args.log)
        return 0
    sets = split(args.sets, None, "set")
    tools = split(args.tools, ALL_TOOLS, "tool")
    scenarios = split(args.scenarios, ALL_SCENARIOS, "scenario")
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    bench = Bench(args)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    if args.profile:
        if "--scenarios" not in " ".join(raw_argv) and not args.quick:
            scenarios = ["warm", "noop"]
        bench.setup(["satchel"])
        profile(bench, sets, scenarios)
        return 0

    for s in sets:
        bench.req_path(s)  # fail early on a missing set
    started = _dt.datetime.now().astimezone()
    load_start = list(os.getloadavg())
    bench.setup(tools)
    versions = bench.tool_versions(tools)
    log("tools: " + "; ".join(versions.values()))
    t0 = time.perf_counter()
    interrupted = False
    try:
        bench.run_all(sets, tools, scenarios, args.runs)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: writing what was measured so far")
    elapsed = time.perf_counter() - t0

    meta = {
        "date": started.strftime("%Y-%m-%d %H:%M %Z"),
        "command": "python3 bench/run.py " + shlex.join(raw_argv) if raw_argv else "python3 bench/run.py",
        "sets": sets, "tools": tools, "scenarios": scenarios, "runs": args.runs,
        "version_runs": max(args.runs, VERSION_MIN_RUNS),
        "machine": machine_info(args.python),
        "tool_versions": versions,
        "git": git_info(),
        "pip_config_mode": args.pip_config,
        "pip_config": pip_config(bench.env, bench.venv_python(bench.tools_dir / "pip"))
        if (bench.tools_dir / "pip").exists() else "",
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
        "caches_dropped": bench.caches_dropped,
        "elapsed_s": round(elapsed, 1),
        "interrupted": interrupted,
        "settled_s": [round(x, 2) for x in bench.settled_s],
        "rss_method": RSS_METHOD,
        "env_of_note": {k: v for k, v in sorted(bench.env.items())
                        if k.startswith(("UV_", "SATCHEL_", "PYTHON")) and k != "PYTHONUNBUFFERED"},
        "requirement_sets": {s: str(bench.req_path(s)).replace(str(REPO.parent), "..") for s in sets},
    }
    summary = summarize(bench.records)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y-%m-%d-%H%M")
    ratios = ratio_rows(bench.records, sets, tools, scenarios)
    data = {"meta": meta, "summary": summary, "ratios": ratios, "runs": bench.records}
    (out / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
    (out / f"results-{stamp}.json").write_text(json.dumps(data, indent=1) + "\n")

    chart_note = None
    if args.no_chart:
        chart_note = "skipped (--no-chart)"
    else:
        chart_note = draw_chart(bench, out / "latest.json", out / "latest.png", args.log_scale)
    if chart_note:
        log(f"chart not drawn: {chart_note}")
    md_latest = render_markdown(meta, summary, bench.records, None if chart_note else "latest.png")
    md_dated = render_markdown(meta, summary, bench.records, None)
    (out / "latest.md").write_text(md_latest)
    (out / f"results-{stamp}.md").write_text(md_dated)
    log(f"done in {elapsed:.0f} s: {out / 'latest.md'}, {out / f'results-{stamp}.md'}, "
        f"{out / 'latest.json'}" + ("" if chart_note else f", {out / 'latest.png'}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
