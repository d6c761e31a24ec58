"""Replays (issue 12's warm compile, issue 13's no-op): the same command line, in the same place and
environment, answered with its last outcome while nothing it read has changed.

Each test brings a run to a settled state (the files it read at least two seconds old, the
racy-clean rule: ``satchel.cache.replays``), lets one run store its replay, and checks that the
next run is replayed: the same output, without satchel importing its commands (seen with
``python -X importtime``). Then it changes one thing the outcome depends on and checks that the
next run is *not* replayed and does what the change asks (an install, a new lock, an error).
The last test holds the fault-matrix rows for a damaged replay record (test_cache_faults.py
lists the bucket there).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from satchel.cache import buckets, replays
from tests.support.cache import (
    ALPHA,
    BETA,
    FAULTS,
    bucket_dir,
    flip_payload_bit,
    future_version,
    garbage,
    only,
    overwrite,
    replace_with_dir,
    truncate,
    valid_record_of_another_type,
)
from tests.support.cli import Result, Satchel, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

BETA2 = WheelSpec("beta", "2.0")
GAMMA = WheelSpec("gamma", "1.0")
_TIME = re.compile(r" in \d+(\.\d+)?m?s$", re.MULTILINE)


def settle() -> None:
    """Let everything written so far be at least RACY_NS old (ctimes cannot be set back)."""
    time.sleep(replays.RACY_NS / 1e9 + 0.1)


def run(satchel: Satchel, *args: str | Path, check: bool = True, env: dict[str, str] | None = None) -> tuple[Result, bool]:
    """``satchel ARGS`` as :meth:`Satchel.run` runs it, under ``-X importtime`` (which changes
    nothing a replay is keyed by): the result without the import lines, and whether it was
    replayed (satchel's commands were never imported)."""
    argv = [str(a) for a in args]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "satchel", *argv],
        capture_output=True,
        text=True,
        cwd=satchel.tmp,
        env={**satchel.base_env(), **(env or {})},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    lines = proc.stderr.splitlines(keepends=True)
    imported = {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}
    stderr = "".join(line for line in lines if not line.startswith("import time:"))
    result = Result(argv, proc.returncode, proc.stdout, stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"satchel failed:\n{result}")
    assert "Traceback" not in stderr, result
    return result, "satchel.commands" not in imported and "satchel.cli.main" in imported


def untimed(text: str) -> str:
    return _TIME.sub(" in T", text)


def replay_records(satchel: Satchel) -> list[Path]:
    where = bucket_dir(satchel.cache_dir, buckets.REPLAYS)
    return sorted(where.glob("*.rec")) if where.is_dir() else []


def test_a_noop_install_is_replayed_until_anything_it_read_changes(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA, GAMMA)
    conf = satchel.tmp / "pip.conf"
    conf.write_text("[global]\ntimeout = 30\n")
    satchel.env["PIP_CONFIG_FILE"] = str(conf)
    req = satchel.tmp / "req.txt"
    req.write_text("alpha\n")
    env = satchel.venv("env")
    noop = ("install", "-p", env, "-r", req)
    first, replayed = run(satchel, *noop)
    assert " + alpha==1.0" in first.stderr and not replayed, first
    settle()

    stored, replayed = run(satchel, *noop)  # the no-op check, which stores its replay
    assert not replayed and "Nothing to do: 2 packages" in stored.stderr, stored
    assert len(replay_records(satchel)) == 1
    again, replayed = run(satchel, *noop)
    assert replayed, again
    assert untimed(again.stderr) == untimed(stored.stderr) and again.stdout == stored.stdout == ""
    # The same distributions linked from the cache into another environment: the files they
    # share (hardlinks) get a new ctime, their content and this environment's listing do not.
    satchel.run("install", "-p", satchel.venv("other"), "-r", req)
    assert run(satchel, *noop)[1]
    quiet, replayed = run(satchel, *noop, "-q")
    assert not replayed and quiet.stderr == ""  # another command line: another replay
    assert run(satchel, *noop, "-q")[0].stderr == "" and run(satchel, *noop, "-q")[1]

    # Another environment variable: another question.
    other, replayed = run(satchel, *noop, env={"SOMETHING_ELSE": "1"})
    assert not replayed and "Nothing to do" in other.stderr, other
    # pip's configuration changed (by content: no wait needed before the next one is stored)
    conf.write_text("[global]\ntimeout = 60\n")
    changed, replayed = run(satchel, *noop)
    assert not replayed and "Nothing to do" in changed.stderr, changed
    assert run(satchel, *noop)[1]

    # An installed distribution's metadata edited in place (its directory's times stay): the
    # full check sees alpha now needs gamma, and installs it.
    metadata = only(list(site_packages(env).glob("alpha-1.0.dist-info")), "alpha") / "METADATA"
    head, rest = metadata.read_text().split("\n", 1)
    metadata.write_text(f"{head}\nRequires-Dist: gamma\n{rest}")  # (the same file, rewritten)
    fixed, replayed = run(satchel, *noop)
    assert not replayed and " + gamma==1.0" in fixed.stderr, fixed
    settle()
    run(satchel, *noop)
    assert run(satchel, *noop)[1]

    # A distribution removed behind satchel's back: installed again.
    shutil.rmtree(only(list(site_packages(env).glob("beta-1.0.dist-info")), "beta"))
    healed, replayed = run(satchel, *noop)
    assert not replayed and " + beta==1.0" in healed.stderr, healed
    settle()
    run(satchel, *noop)
    assert run(satchel, *noop)[1]

    # The requirements changed.
    req.write_text("alpha\nbeta>=2\n")
    publish(index_server, BETA2)
    upgraded, replayed = run(satchel, *noop, "--refresh")
    assert not replayed and " + beta==2.0" in upgraded.stderr, upgraded
    settle()
    stored, replayed = run(satchel, *noop)
    assert not replayed and "Nothing to do: 3 packages" in stored.stderr, stored
    assert run(satchel, *noop)[1]

    # The environment made again at the same path.
    shutil.rmtree(env)
    satchel.venv("env")
    remade, replayed = run(satchel, *noop)
    assert not replayed and " + alpha==1.0" in remade.stderr and " + beta==2.0" in remade.stderr, remade

    # Never with the fast paths off, and never from a run that said -v.
    assert not run(satchel, *noop, env={"SATCHEL_NO_FAST_PATH": "1"})[1]
    settle()
    run(satchel, *noop, "-v")
    assert not run(satchel, *noop, "-v")[1]


def test_compile_is_replayed_until_anything_it_read_changes(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    req = satchel.tmp / "req.in"
    req.write_text("alpha\n")
    env = satchel.venv("env")
    out = satchel.tmp / "out.txt"
    lock = ("compile", req, "-p", env, "--generate-hashes", "-o", out)
    to_stdout = ("compile", req, "-p", env, "--offline")
    assert not run(satchel, *lock)[1]
    full = satchel.run(*to_stdout, env={"SATCHEL_NO_FAST_PATH": "1"})
    settle()
    # A remembered resolution is rewritten once with its records' identities (they were written
    # moments before the first run ended): a replay is stored once that is settled too.
    assert not run(satchel, *lock)[1] and not run(satchel, *to_stdout)[1]
    settle()

    stored, replayed = run(satchel, *lock)
    assert not replayed, stored
    written = out.read_bytes()
    again, replayed = run(satchel, *lock)
    assert replayed, again
    assert untimed(again.stderr) == untimed(stored.stderr) and "Wrote 2 pins" in again.stderr
    assert out.read_bytes() == written

    run(satchel, *to_stdout)
    replayed_out, replayed = run(satchel, *to_stdout)
    assert replayed and replayed_out.stdout == full.stdout and "beta==1.0" in full.stdout
    assert untimed(replayed_out.stderr) == untimed(full.stderr)

    # In the same order as the full run, on one stream (a terminal); quiet when the reader of
    # standard output goes away.
    merged = [
        subprocess.run([sys.executable, "-m", "satchel", *map(str, to_stdout)], cwd=satchel.tmp,
                       env={**satchel.base_env(), **extra}, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=True).stdout
        for extra in ({"SATCHEL_NO_REPLAY": "1"}, {})
    ]
    assert untimed(merged[0]) == untimed(merged[1]) and merged[1].startswith("Resolved 2 packages")
    piped = subprocess.run(
        f"{shlex.quote(sys.executable)} -m satchel {shlex.join(map(str, to_stdout))} | head -c 1",
        shell=True, cwd=satchel.tmp, env=satchel.base_env(), capture_output=True, text=True,
    )
    assert piped.stdout == "#" and "Traceback" not in piped.stderr, piped

    # The output file edited by hand: its pins are preferences, so this is another question.
    out.write_text(written.decode().replace("beta==1.0", "beta==0.9"))
    rewritten, replayed = run(satchel, *lock)
    assert not replayed and out.read_bytes() == written, rewritten
    run(satchel, *lock)
    assert run(satchel, *lock)[1]

    # The source changed; and changed back, when the replay of that content holds again.
    req.write_text("alpha\nbeta<1\n")
    failed, replayed = run(satchel, *lock, check=False)
    assert not replayed and failed.returncode == 1 and "beta" in failed.stderr, failed
    req.write_text("alpha\n")
    assert run(satchel, *lock)[1] and out.read_bytes() == written

    # A new release on the index. The pages read are fresh for SATCHEL_INDEX_TTL (600 s here:
    # the test index sends no caching headers), and the full run answers from them as the
    # replay does; the replay of a run that read the index holds only until they expire, and
    # that of an --offline run for as long as the records are unchanged.
    publish(index_server, BETA2)
    assert run(satchel, *lock)[1] and out.read_bytes() == written
    satchel.run(*lock, env={"SATCHEL_NO_FAST_PATH": "1"})
    assert out.read_bytes() == written
    payloads = [replays.decode_json(p.read_bytes()[76:].decode()) for p in replay_records(satchel)]
    now = time.time()
    offline = [p["expires_at"] for p in payloads if p["stdout"]]  # (to_stdout: --offline)
    online = [p["expires_at"] for p in payloads if not p["stdout"]]  # (lock: -o out.txt)
    assert offline and all(e is None for e in offline), payloads
    assert online and all(now + 500 < e <= now + 600 for e in online), online

    # The cached records are gone: an offline compile fails, and says so, replay or not.
    assert satchel.run("cache", "clean", "beta").returncode == 0
    gone, replayed = run(satchel, *to_stdout, check=False)
    assert not replayed and gone.returncode != 0 and "beta" in gone.stderr, gone


_RECORD_FAULTS = {
    "truncated": truncate,
    "zero-length": lambda p: truncate(p, 0),
    "bit-flip": flip_payload_bit,
    "garbage": garbage,
    "wrong-record-type": lambda p: overwrite(p, valid_record_of_another_type("replay")),
    "future-version": future_version,
    "unreadable": replace_with_dir,
}
# A replay record is one file (missing: a plain, silent miss) and refers to no other entry: the
# records it read are inputs, and one gone or changed is a miss (the tests above).
NOT_APPLICABLE = {"missing-file", "dangling"}


def test_replay_fault_rows_every_fault_is_reported_then_healed(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """The fault matrix's rows for replays-v1: each fault of FAULTS, one after the other on the
    same settled environment (one wait for all of them)."""
    assert set(FAULTS) == set(_RECORD_FAULTS) | NOT_APPLICABLE
    publish(index_server, ALPHA, BETA)
    env = satchel.venv("env")
    noop = ("install", "-p", env, "alpha")
    run(satchel, *noop)
    settle()
    run(satchel, *noop)
    entry = only(replay_records(satchel), "replay record")
    for fault, damage in _RECORD_FAULTS.items():
        assert run(satchel, *noop)[1], fault
        damage(entry)
        verify = satchel.run("cache", "verify", check=False)
        corrupt = [line for line in verify.stdout.splitlines() if line.startswith("corrupt:")]
        assert verify.returncode == 1 and len(corrupt) == 1 and str(entry) in corrupt[0], (fault, verify)

        result, replayed = run(satchel, *noop)
        assert not replayed and "Nothing to do: 2 packages" in result.stderr, (fault, result)
        assert len(result.warnings()) == 1 and str(entry) in result.warnings()[0], (fault, result)
        assert "broken cache entry" in result.warnings()[0]
        assert entry.is_file(), f"{fault}: not stored again"
        assert satchel.run("cache", "verify").returncode == 0
