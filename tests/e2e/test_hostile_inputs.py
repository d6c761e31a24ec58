"""Hostile and broken inputs, end to end through the CLI (issue 5, item 4).

tests/unit/test_install_unpack.py, test_index_simple.py and test_index_http.py check each of
these at the function that handles it. Here the whole install meets them, from the local index:
each is a clear error (exit 1, one ``error:`` line, no traceback) or a safe skip; nothing is
written outside the target (a sentinel search of the test's directory and of the absolute paths
the inputs aim at); the target environment is left as it was; and nothing bad stays in the cache
(``unsound_entries`` finds no broken entry, ``cache verify`` exits 0, no unpacked tree of the
hostile wheel exists).

Wheels are served with PEP 658 metadata, so resolution succeeds and the hostile bytes are met
where they would do harm: when the wheel is unpacked into the cache.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from satchel.cache import buckets
from tests.support.cache import full_downloads, page_requests
from tests.support.cli import (
    Satchel,
    assert_error,
    installed_files_match_record,
    site_packages,
)
from tests.support.crash import unsound_entries
from tests.support.fixtures import publish, publish_sdist
from tests.support.index_server import JSON_TYPE, IndexServer
from tests.support.wheels import (
    WheelSpec,
    add_member,
    add_record_lines,
    add_tar_member,
    corrupt_member,
    declare_sizes,
    record_hash,
)

DEMO = WheelSpec("demo", "1.0", files={"demo/__init__.py": "VALUE = 1\n", "demo/data.txt": "data\n"})
WHEEL = DEMO.filename
SENTINEL = "escaped-by-satchel-test"


@pytest.fixture
def server(index_server: IndexServer) -> IndexServer:
    index_server.serve_metadata = True
    return index_server


def listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")} if directory.exists() else set()


def assert_contained(satchel: Satchel, venv: Path, before: set[str], project: str = "demo") -> None:
    """Nothing escaped, the environment is as it was, the cache holds nothing bad (and no
    unpacked tree of ``project``)."""
    escaped = [p for p in satchel.tmp.rglob(f"*{SENTINEL}*")]
    escaped += [p for p in Path("/").glob(f"*{SENTINEL}*")]  # where a deep "../" chain ends
    assert escaped == [], f"written outside the target: {escaped}"
    assert listing(site_packages(venv)) == before, "the failed install left files behind"
    assert unsound_entries(satchel.cache_dir) == []
    archives = satchel.cache_dir / buckets.ARCHIVES.dirname / project
    assert not archives.exists() or [p for p in archives.iterdir() if not p.name.endswith(".lock")] == []
    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 0, verify


def refused(satchel: Satchel, venv: Path, *needles: str, args: tuple[str, ...] = ("demo",)) -> str:
    """Install ``args``: a clear error with ``needles`` in it, and everything contained."""
    before = listing(site_packages(venv))
    result = satchel.run("install", "-p", venv, *args, check=False)
    line = assert_error(result, *needles)
    assert_contained(satchel, venv, before, project=args[0])
    return line


# -- hostile wheels -------------------------------------------------------------------------------


def _outside(relative_to: str) -> Callable[[Path, Path], None]:
    def mutate(wheel: Path, tmp: Path) -> None:
        add_member(wheel, f"{relative_to}{SENTINEL}.py", b"print('pwned')\n")

    return mutate


def _absolute(wheel: Path, tmp: Path) -> None:
    add_member(wheel, f"{tmp}/{SENTINEL}-absolute.py", b"x = 1\n")


def _symlink_out(wheel: Path, tmp: Path) -> None:
    add_member(wheel, "demo/passwd", f"../../../../../../{SENTINEL}-target".encode(), mode=0o120777)


def _symlink_dir_then_file(wheel: Path, tmp: Path) -> None:
    # A link to a directory outside, then a file "through" it.
    add_member(wheel, "demo/out", str(tmp).encode(), mode=0o120777)
    add_member(wheel, f"demo/out/{SENTINEL}.py", b"x = 1\n")


def _record_escape(wheel: Path, tmp: Path) -> None:
    add_record_lines(wheel, f"../../../../{SENTINEL}.py,{record_hash(b'x')},1")


def _duplicate(wheel: Path, tmp: Path) -> None:
    add_member(wheel, "demo/__init__.py", b"import os; os.system('evil')\n", listed=False)


def _bomb(wheel: Path, tmp: Path) -> None:
    declare_sizes(wheel, 0xFFFFFF00)


def _corrupt(wheel: Path, tmp: Path) -> None:
    corrupt_member(wheel, "demo/data.txt")


def _truncated(wheel: Path, tmp: Path) -> None:
    wheel.write_bytes(wheel.read_bytes()[:-40])


HOSTILE_WHEELS: list[tuple[str, WheelSpec, Callable[[Path, Path], None] | None, str]] = [
    # Out of the unpacked tree in the cache into the test's directory; and up to "/".
    ("dotdot", DEMO, _outside("../../../../../"), "'..' component"),
    ("dotdot-deep", DEMO, _outside("../" * 40), "'..' component"),
    ("dotdot-inside", DEMO, _outside("demo/../../../../../"), "'..' component"),
    ("absolute-path", DEMO, _absolute, "absolute path"),
    ("symlink-outside", DEMO, _symlink_out, "symbolic link"),
    ("symlink-dir-then-file", DEMO, _symlink_dir_then_file, "symbolic link"),
    ("record-escapes", DEMO, _record_escape, "RECORD lists"),
    ("duplicate-entries", DEMO, _duplicate, "duplicate"),
    ("zip-bomb", DEMO, _bomb, "zip bomb"),
    ("corrupt-zip", DEMO, _corrupt, "corrupt"),
    ("truncated-zip", DEMO, _truncated, "not a valid"),
]


@pytest.mark.parametrize(
    ("spec", "mutate", "phrase"), [c[1:] for c in HOSTILE_WHEELS], ids=[c[0] for c in HOSTILE_WHEELS]
)
def test_hostile_wheel_is_refused(
    satchel: Satchel,
    server: IndexServer,
    tmp_path: Path,
    spec: WheelSpec,
    mutate: Callable[[Path, Path], None],
    phrase: str,
) -> None:
    (wheel,) = publish(server, spec)
    mutate(wheel, tmp_path)
    venv = satchel.venv()
    refused(satchel, venv, WHEEL, phrase)
    assert not Path(f"{tmp_path}/{SENTINEL}-absolute.py").exists()
    # Twice: the refusal is not cached as anything, and says the same.
    refused(satchel, venv, WHEEL, phrase)


@pytest.mark.parametrize(
    ("field", "phrase"),
    [("metadata_name", "other"), ("metadata_version", "6.6.6")],
    ids=["name", "version"],
)
def test_metadata_that_contradicts_the_file_name(
    satchel: Satchel, server: IndexServer, field: str, phrase: str
) -> None:
    """METADATA naming another project or version than the file: refused, whether the resolver
    (reading the served metadata) or the unpacker (reading the wheel's) sees it first."""
    publish(server, WheelSpec("demo", "1.0", **{field: phrase}))  # type: ignore[arg-type]
    line = refused(satchel, satchel.venv(), phrase)
    assert "demo" in line


def test_record_escaping_the_environment_is_never_followed_on_uninstall(
    satchel: Satchel, server: IndexServer, tmp_path: Path
) -> None:
    """An installed distribution whose RECORD (written by another tool, or edited) lists files
    outside the environment: replacing or uninstalling it removes only what is inside."""
    publish(server, DEMO, WheelSpec("demo", "2.0"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "demo==1.0")
    outside = tmp_path / f"{SENTINEL}-keep.txt"
    outside.write_text("precious\n")
    record = site_packages(venv) / "demo-1.0.dist-info" / "RECORD"
    relative = os.path.relpath(outside, site_packages(venv))
    record.write_text(record.read_text() + f"{relative},,\n{outside},,\n")
    upgraded = satchel.run("install", "-p", venv, "demo==2.0")
    assert " - demo==1.0" in upgraded.stderr and " + demo==2.0" in upgraded.stderr, upgraded
    assert any("outside the environment" in w for w in upgraded.warnings()), upgraded
    assert outside.read_text() == "precious\n"
    installed_files_match_record(venv, "demo")
    record = site_packages(venv) / "demo-2.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + f"{relative},,\n")
    satchel.run("uninstall", "-p", venv, "demo")
    assert outside.read_text() == "precious\n"
    assert not list(site_packages(venv).glob("demo*"))


# -- hostile sdists ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink-outside"])
def test_sdist_with_a_path_traversing_member(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path, how: str
) -> None:
    sdist = publish_sdist(index_server, "demo", "1.0")
    if how == "dotdot":
        add_tar_member(sdist, f"demo-1.0/../../../../../{SENTINEL}.py", b"x = 1\n")
    elif how == "absolute":
        add_tar_member(sdist, f"{tmp_path}/{SENTINEL}-absolute.py", b"x = 1\n")
    else:
        add_tar_member(sdist, "demo-1.0/demo/evil", b"", link_target=f"../../../../{SENTINEL}")
    venv = satchel.venv()
    before = listing(site_packages(venv))
    result = satchel.run("install", "-p", venv, "demo", check=False)
    if "building source distributions is not supported yet" in result.stderr:
        pytest.skip("sdist builds not wired yet")
    assert_error(result, "demo-1.0.tar.gz")
    assert re.search(r"refusing to unpack member", result.stderr), result
    assert_contained(satchel, venv, before)
    assert not Path(f"{tmp_path}/{SENTINEL}-absolute.py").exists()


def test_zip_sdist_with_a_non_utf8_link_target(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """Once a traceback (UnicodeDecodeError): now one error line naming the sdist and member."""
    tar = publish_sdist(index_server, "demo", "1.0")
    archive = index_server.directory / "demo-1.0.zip"
    with tarfile.open(tar) as tf, zipfile.ZipFile(archive, "w") as zf:
        for m in tf.getmembers():
            fh = tf.extractfile(m)
            if fh is not None:
                zf.writestr(m.name, fh.read())
        link = zipfile.ZipInfo("demo-1.0/demo/link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, b"caf\xe9.py")
    tar.unlink()
    venv = satchel.venv()
    before = listing(site_packages(venv))
    result = satchel.run("install", "-p", venv, "demo", check=False)
    line = assert_error(result, "demo-1.0.zip")
    assert "'demo-1.0/demo/link': it is a link whose target is not UTF-8" in line, result
    assert_contained(satchel, venv, before)


# -- hostile and broken index pages ---------------------------------------------------------------


def test_index_page_truncated_mid_html(satchel: Satchel, server: IndexServer) -> None:
    """A page cut off in the middle of an anchor (and served as complete): the cut anchor is not
    taken for a file (a clear error or a skip, never a truncated digest trusted), the rest is."""
    publish(server, DEMO, WheelSpec("demo", "2.0"))
    html = server.project_html("demo").decode()
    cut = html.index("demo-2.0-py3-none-any.whl#sha256=") + len("demo-2.0-py3-none-any.whl#sha256=") + 20
    server.add_page("/simple/demo/", html[:cut])
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "demo", check=False)
    assert "Traceback" not in result.stderr, result
    if result.returncode == 0:  # the cut anchor was skipped: 1.0, verified, is what there is
        assert " + demo==1.0" in result.stderr, result
        installed_files_match_record(venv, "demo")
    else:
        assert_error(result)
    assert unsound_entries(satchel.cache_dir) == []
    assert satchel.run("cache", "verify").returncode == 0


def test_index_page_cut_off_in_transit_is_retried_then_a_clear_error(
    satchel: Satchel, server: IndexServer
) -> None:
    publish(server, DEMO)
    server.truncate("/simple/demo/", 60, times=1)
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "demo")  # once: retried
    installed_files_match_record(venv, "demo")
    assert len(page_requests(server, "demo")) == 2
    server.truncate("/simple/other/", 60)  # always
    publish(server, WheelSpec("other", "1.0"))
    line = refused(satchel, venv, server.project_url("other"), args=("other",))
    assert "cache" not in line


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"\x00\xff\xfe<html><a href=<<<>>>\x80\x81", "text/html"),
        (b"<html><body><p>Service temporarily unavailable</p></body></html>", "text/html"),
        # A body that starts with "<" is HTML whatever the header says (simple.parse_page).
        (b"<html>an error page sent as JSON</html>", JSON_TYPE),
        # A JSON file entry of the wrong shape is skipped, like an HTML anchor without href.
        (
            b'{"meta": {"api-version": "1.1"}, "files": '
            b'[{"filename": "demo-1.0-py3-none-any.whl", "url": 7, "hashes": {}}]}',
            JSON_TYPE,
        ),
    ],
    ids=["garbage", "no-links", "html-sent-as-json", "json-entry-without-url"],
)
def test_page_without_usable_links_is_a_clear_error(
    satchel: Satchel, server: IndexServer, body: bytes, ctype: str
) -> None:
    """No usable link: the project has no files to offer (a clear error naming it)."""
    publish(server, DEMO)
    server.add_page("/simple/demo/", body, ctype)
    refused(satchel, satchel.venv(), "demo")


@pytest.mark.parametrize(
    "body",
    [
        b'{"meta": {"api-version": "1.1"}, "files": [',
        b'["a list"]',
        b'{"meta": {"api-version": "1.1"}, "files": "none"}',
        b'{"meta": {}, "files": []}',
    ],
    ids=["truncated", "not-an-object", "files-not-a-list", "no-api-version"],
)
def test_invalid_json_page_is_a_clear_error_naming_the_url(
    satchel: Satchel, server: IndexServer, body: bytes
) -> None:
    publish(server, DEMO)
    server.add_page("/simple/demo/", body, JSON_TYPE)
    line = refused(satchel, satchel.venv(), server.project_url("demo"))
    assert "JSON" in line, line


@pytest.mark.parametrize("mode", ["html", "json"])
@pytest.mark.parametrize(
    "digest", ["abc", "zz" * 32, "0" * 63, "upper"], ids=["short", "not-hex", "63-digits", "upper"]
)
def test_malformed_sha256_on_the_index(
    satchel: Satchel, server: IndexServer, mode: str, digest: str
) -> None:
    """A ``sha256`` that is not 64 hex digits cannot name the file: a clear error naming the page
    (not a traceback from deep in the cache). Upper case hex is the same digest."""
    (wheel,) = publish(server, DEMO)
    real = hashlib.sha256(wheel.read_bytes()).hexdigest()
    listed = real.upper() if digest == "upper" else digest
    server.mode = mode  # type: ignore[assignment]
    body = (server.project_json if mode == "json" else server.project_html)("demo").decode()
    server.add_page("/simple/demo/", body.replace(real, listed), JSON_TYPE if mode == "json" else "text/html")
    venv = satchel.venv()
    if digest == "upper":
        satchel.run("install", "-p", venv, "demo")
        installed_files_match_record(venv, "demo")
        assert (satchel.cache_dir / buckets.FILES.dirname / "demo" / real / WHEEL).is_file()
    else:
        refused(satchel, venv, server.project_url("demo"), listed, WHEEL)


def test_malformed_sha256_in_a_direct_reference(satchel: Satchel, server: IndexServer) -> None:
    publish(server, DEMO)
    venv = satchel.venv()
    before = listing(site_packages(venv))
    url = f"{server.file_url(WHEEL)}#sha256=abc"
    result = satchel.run("install", "-p", venv, f"demo @ {url}", check=False)
    assert "Traceback" not in result.stderr
    assert_error(result, "abc")
    assert_contained(satchel, venv, before)


def test_500_then_success_is_retried(satchel: Satchel, server: IndexServer) -> None:
    publish(server, DEMO)
    server.fail_next("/simple/demo/", 500)
    server.fail_next(f"/files/{WHEEL}.metadata", 503, exact=True)
    server.fail_next(f"/files/{WHEEL}", 502, exact=True)
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "demo")
    assert " + demo==1.0" in result.stderr, result
    installed_files_match_record(venv, "demo")
    assert len(page_requests(server, "demo")) == 2
    assert full_downloads(server, WHEEL) == 2
    assert satchel.run("cache", "verify").returncode == 0


@pytest.mark.parametrize("where", ["page", "file"])
def test_stalled_server_times_out_naming_the_url(
    satchel: Satchel, server: IndexServer, where: str
) -> None:
    publish(server, DEMO)
    url = server.project_url("demo") if where == "page" else server.file_url(WHEEL)
    server.stall("/simple/demo/" if where == "page" else f"/files/{WHEEL}", 60, exact=True)
    began = time.monotonic()
    line = refused(satchel, satchel.venv(), url, "no response within 0.5s", args=("demo", "--timeout", "0.5"))
    assert time.monotonic() - began < 30, "the timeout was not honoured"
    assert "cache" not in line, line


def test_file_whose_sha256_differs_from_the_index(
    satchel: Satchel, server: IndexServer
) -> None:
    (wheel,) = publish(server, DEMO)
    expected = hashlib.sha256(wheel.read_bytes()).hexdigest()
    server.corrupt(WHEEL)
    data = wheel.read_bytes()
    actual = hashlib.sha256(bytes(b ^ 0xFF for b in data[:64]) + data[64:]).hexdigest()
    line = refused(satchel, satchel.venv(), server.file_url(WHEEL), expected, actual)
    assert "hash mismatch" in line, line
    for bucket in (buckets.FILES, buckets.ARCHIVES):
        held = [
            p
            for p in (satchel.cache_dir / bucket.dirname).rglob("*")
            if (expected in p.name or actual in p.name) and not p.name.endswith(".lock")
        ]
        assert held == [], f"cached under a digest: {held}"


def test_metadata_of_a_file_whose_sha256_differs_is_not_kept(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """Without PEP 658 metadata, satchel reads METADATA from the wheel with Range requests, which
    no digest covers. When the full download then proves the file is not the one the index
    promised, that metadata must not stay cached under the promised digest (metadata is shared
    across indexes by digest: a bad mirror would poison it for every index)."""
    (wheel,) = publish(index_server, DEMO)
    expected = hashlib.sha256(wheel.read_bytes()).hexdigest()
    index_server.corrupt(WHEEL)
    result = satchel.run("install", "-p", satchel.venv(), "demo", check=False)
    assert_error(result, "hash mismatch")
    held = [p for p in (satchel.cache_dir / buckets.METADATA.dirname).rglob("*") if expected in p.name]
    assert held == [], f"metadata of unverified bytes cached under {expected}: {held}"
