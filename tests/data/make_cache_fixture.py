"""Write tests/data/cache-fixture-v<N>/: a small cache written by this satchel, committed so that
later versions prove they read it, or treat every entry as a clean miss (issue 3, contract 10).

    .venv-test/bin/python tests/data/make_cache_fixture.py

Run it when a bucket version is bumped (as cache-fixture-v<new>/; keep the old fixtures: they are
what older satchels left behind). It starts the local test index, installs one tiny wheel through
the CLI into a throwaway venv, and keeps the cache minus what is specific to this machine
(interpreter records, which name absolute paths here; lock files). Git does not keep mtimes, and
unpacked trees are checked by mtime, so fixture.json records them for the test to restore, along
with the index URL the records were written for (the test installs --offline: that URL is never
contacted again).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.support.cli import Satchel  # noqa: E402
from tests.support.index_server import IndexServer  # noqa: E402
from tests.support.wheels import WheelSpec, build_wheel  # noqa: E402

from satchel.cache import buckets  # noqa: E402

TINY = WheelSpec("tiny", "1.0", files={"tiny/__init__.py": "ANSWER = 42\n"})
FORMAT = 1  # the fixture's name: bump with the newest bucket version


def main() -> int:
    out = REPO / "tests" / "data" / f"cache-fixture-v{FORMAT}"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with IndexServer(tmp / "index") as server:
            build_wheel(TINY, server.directory)
            satchel = Satchel(tmp, tmp / "cache", index_url=server.index_url)
            satchel.run("install", "-p", satchel.venv(), "tiny")
            index_url = server.index_url
        cache = tmp / "cache"
        shutil.rmtree(cache / buckets.INTERPRETERS.dirname, ignore_errors=True)
        for lock in [*cache.rglob("*.lock"), cache / ".lock"]:
            lock.unlink(missing_ok=True)
        mtimes = {
            str(p.relative_to(cache)): p.stat().st_mtime_ns
            for p in sorted((cache / buckets.ARCHIVES.dirname).rglob("*"))
            if p.is_file() and "/tree/" in p.as_posix()
        }
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        shutil.copytree(cache, out / "cache")
        for p in (out / "cache").rglob("*"):
            if p.is_file():
                os.chmod(p, 0o644)
        meta = {
            "written_by": "tests/data/make_cache_fixture.py",
            "buckets": {b.name: b.version for b in buckets.ALL},
            "index_url": index_url,
            "requirement": TINY.name,
            "wheel": TINY.filename,
            "tree_mtimes_ns": mtimes,
        }
        (out / "fixture.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
