"""The repository stands on its own: nothing in it reads a directory beside the clone."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# "../shared", 'parent / "shared"', "parents[2] / 'shared'" and the like: a path leaving the clone.
OUTSIDE = re.compile(r"""\.\./shared|parents?(\[\d+\])?\s*/\s*["']shared["']""")


#: Directories of the checkout that are no part of the repository (git ignores them): the
#: bench's scratch directory holds tool venvs and caches, some 100,000 files after a run.
SCRATCH = (REPO / "bench" / "work",)


def _sources() -> list[Path]:
    files: list[Path] = []
    for top in ("src", "tests", "bench", "scripts", ".ci"):
        for dirpath, dirnames, filenames in os.walk(REPO / top):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if here / d not in SCRATCH]
            for name in filenames:
                path = here / name
                if path.suffix in {".py", ".sh", ".toml", ".cfg", ""} and "results" not in path.parts:
                    files.append(path)
    files.append(REPO / "README.md")
    return files


def test_nothing_reads_a_directory_beside_the_clone() -> None:
    hits = []
    for path in _sources():
        if path == Path(__file__).resolve():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_data_the_suite_and_bench_need_is_shipped() -> None:
    packse = REPO / "tests" / "data" / "packse"
    assert (packse / "LICENSE-MIT").is_file() and (packse / "LICENSE-APACHE").is_file()
    assert (packse / "SOURCE_COMMIT").read_text().strip()
    assert len(list(packse.rglob("*.toml"))) >= 100
    sets = REPO / "bench" / "requirements"
    for name in ("django-seed.txt", "trio.in", "jupyter.in", "boto3.in", "LICENSE-MIT", "LICENSE-APACHE"):
        assert (sets / name).is_file(), name
    readme = (REPO / "README.md").read_text()
    assert "-r bench/requirements/django-seed.txt" in readme
