#!/usr/bin/env python3
"""Benchmark scenario `remote` (issue 14): a fresh machine with a warm remote cache.

    .venv-test/bin/python bench/remote.py [--runs 3] [--out bench/results]

A requirement set that needs sdist builds, with C extensions (``--no-binary`` on markupsafe and
pyyaml, real packages from the default index), installed three ways, interleaved per run:

* ``remote``: a fresh machine: empty local cache, fresh venv, a warm remote (a local SeaweedFS,
  filled once beforehand by a read-write run), read mode;
* ``warm-local``: the same set from a warm local cache into a fresh venv;
* ``uv-cold``: uv (pinned, from the test venv) with an empty cache, which must build.

Targets: remote within 1.5x of warm-local, and at least 5x faster than uv cold. Needs the test
venv (opendal, the `weed` binary, uv) and the network (the default index, like bench/run.py with
pip's configuration isolated). Writes bench/results/remote-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

REQUIREMENTS = ["markupsafe", "pyyaml", "jinja2", "six", "idna"]
NO_BINARY = ["markupsafe", "pyyaml"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "SATCHEL_", "UV_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["PIP_CONFIG_FILE"] = os.devnull  # every tool uses its built-in default index
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return took


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=BENCH / "results")
    args = p.parse_args()

    from tests.support.seaweed import start_seaweed

    bindir = Path(sys.executable).parent
    satchel = [sys.executable, "-m", "satchel"]
    uv = str(bindir / "uv")
    work = Path(tempfile.mkdtemp(prefix="satchel-bench-remote-"))
    server = start_seaweed(work / "seaweed")
    try:
        env = child_env()
        remote_env = {**env, **server.env(), "SATCHEL_REMOTE_CACHE": "s3://satchel/bench",
                      "SATCHEL_REMOTE_UPLOAD_WAIT": "120"}
        nb = [f"--no-binary={n}" for n in NO_BINARY]

        def satchel_install(venv: Path, cache: Path, extra_env: dict[str, str]) -> float:
            e = {**extra_env, "SATCHEL_CACHE_DIR": str(cache)}
            subprocess.run([*satchel, "venv", str(venv)], env=e, cwd=work, check=True,
                           capture_output=True)
            return timed([*satchel, "install", "-q", "-p", str(venv), *nb, *REQUIREMENTS], e, work)

        # Fill the remote once (a CI job on main), and the warm local cache.
        fill = satchel_install(work / "fill-venv", work / "fill-cache",
                               {**remote_env, "SATCHEL_REMOTE_CACHE_MODE": "read-write"})
        print(f"filled the remote (read-write, building): {fill:.2f}s")
        satchel_install(work / "local-venv0", work / "local-cache", env)

        results: dict[str, list[float]] = {"remote": [], "warm-local": [], "uv-cold": []}
        for run in range(args.runs):
            tag = f"{run}"
            results["remote"].append(satchel_install(
                work / f"remote-venv{tag}", work / f"remote-cache{tag}",
                {**remote_env, "SATCHEL_REMOTE_CACHE_MODE": "read"}))
            results["warm-local"].append(satchel_install(
                work / f"local-venv{tag}x", work / "local-cache", env))
            uv_cache = work / f"uv-cache{tag}"
            uv_venv = work / f"uv-venv{tag}"
            subprocess.run([uv, "venv", "-q", str(uv_venv)], env=env, cwd=work, check=True)
            results["uv-cold"].append(timed(
                [uv, "pip", "install", "-q", "--python", str(uv_venv / "bin" / "python"), *nb,
                 *REQUIREMENTS],
                {**env, "UV_CACHE_DIR": str(uv_cache)}, work))
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in results.items()))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    vs_local = med["remote"] / med["warm-local"]
    vs_uv = med["uv-cold"] / med["remote"]
    summary = {
        "requirements": REQUIREMENTS, "no_binary": NO_BINARY, "runs": args.runs,
        "seconds": results, "median": med,
        "remote_vs_warm_local": vs_local, "uv_cold_vs_remote": vs_uv,
        "targets": {"remote_vs_warm_local_max": 1.5, "uv_cold_vs_remote_min": 5.0},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "remote-latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    md = [
        "# Scenario `remote`: a fresh machine with a warm remote cache",
        "",
        f"Set: {' '.join(REQUIREMENTS)} with --no-binary {','.join(NO_BINARY)} "
        f"(C extensions built from sdists); {args.runs} interleaved runs, medians; remote: "
        "SeaweedFS on loopback.",
        "",
        "| scenario | median | runs |",
        "|---|---|---|",
        *(f"| {k} | {med[k]:.2f}s | {', '.join(f'{x:.2f}' for x in v)} |" for k, v in results.items()),
        "",
        f"- remote / warm-local: **{vs_local:.2f}x** (target <= 1.5x)",
        f"- uv cold / remote: **{vs_uv:.1f}x** (target >= 5x)",
        "",
    ]
    (args.out / "remote-latest.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
