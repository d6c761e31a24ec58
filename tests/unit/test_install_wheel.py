from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.cache.store import Cache
from satchel.errors import InstallError
from satchel.install.link import Linker
from satchel.install.record import b64_to_hex, hash_file, read_record
from satchel.install.scripts import rewrite_shebang, shebang
from satchel.install.wheel import install_tree
from tests.support.installs import (
    APP,
    Env,
    clean_env,
    fake_scheme,
    install_spec,
    make_venv,
    snapshot,
    unpack_into_cache,
)
from tests.support.wheels import WheelSpec, build_wheel


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_venv(tmp_path / "venv")


def run(path: Path) -> str:
    return subprocess.run(
        [str(path)], capture_output=True, text=True, check=True, env=clean_env()
    ).stdout


def test_installed_package_imports_and_scripts_run(tmp_path: Path, env: Env) -> None:
    dist = install_spec(tmp_path, APP, env.paths, python=str(env.python))
    assert dist.name == "demo-app"
    assert dist.version == "2.0"
    assert dist.dist_info == env.site_packages / "demo_app-2.0.dist-info"
    out = env.run("-c", "import demo_app, sys; print(demo_app.__file__.startswith(sys.prefix))")
    assert out.stdout.strip() == "True"
    assert run(env.bin / "demo") == "hello from demo\n"
    assert run(env.bin / "demo-gui") == "hello from demo\n"
    assert run(env.bin / "raw-tool") == f"raw {env.root}\n"
    assert run(env.bin / "plain.sh") == "plain\n"
    assert (env.bin / "raw-tool").read_text().startswith(f"#!{env.python}\n")
    assert (env.root / "share/demo/readme.txt").read_text() == "shared\n"
    assert (Path(env.paths["headers"]) / "Demo-App" / "demo.h").read_text() == "int demo;\n"


def test_record_is_complete_and_correct(tmp_path: Path, env: Env) -> None:
    before = snapshot(env.root)
    dist = install_spec(tmp_path, APP, env.paths, python=str(env.python), compile_bytecode=True)
    entries = read_record(dist.dist_info / "RECORD")
    listed = set()
    for e in entries:
        path = os.path.normpath(env.site_packages / e.path)
        listed.add(path)
        assert os.path.isfile(path), e.path
        if e.path.endswith("/RECORD"):
            assert e.algorithm is None and e.size is None
            continue
        assert e.algorithm == "sha256"
        assert e.digest is not None
        assert hash_file(Path(path)) == (b64_to_hex(e.digest), e.size)
    new_files = {os.path.join(env.root, p) for p in snapshot(env.root) - before}
    assert {p for p in new_files if os.path.isfile(p)} == listed
    paths = {e.path for e in entries}
    assert "../../../bin/demo" in paths
    major, minor = sys.version_info[:2]
    assert f"demo_app/__pycache__/__init__.cpython-{major}{minor}.pyc" in paths
    assert f"../../../include/site/python{major}.{minor}/Demo-App/demo.h" in paths


def test_links_and_fresh_files(tmp_path: Path, env: Env) -> None:
    dist = install_spec(tmp_path, APP, env.paths, python=str(env.python), requested=True)
    module = env.site_packages / "demo_app" / "__init__.py"
    assert os.stat(module).st_nlink >= 2
    assert not os.stat(module).st_mode & 0o222  # read-only, like the cache copy
    assert os.stat(dist.dist_info / "METADATA").st_nlink >= 2
    for fresh in ("RECORD", "INSTALLER", "REQUESTED"):
        st = os.stat(dist.dist_info / fresh)
        assert st.st_nlink == 1
        assert st.st_mode & 0o777 == 0o644
    for script in ("demo", "raw-tool", "plain.sh"):
        st = os.stat(env.bin / script)
        assert st.st_nlink == 1
        assert st.st_mode & 0o777 == 0o755
    assert (dist.dist_info / "INSTALLER").read_text() == "satchel\n"
    assert dist.installer == "satchel"
    assert dist.requested
    assert dist.direct_url is None


def test_direct_url_and_not_requested(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    url = {"url": "file:///src/demo", "dir_info": {"editable": False}}
    dist = install_spec(tmp_path, APP, paths, requested=False, direct_url=url)
    assert json.loads((dist.dist_info / "direct_url.json").read_text()) == url
    assert not (dist.dist_info / "REQUESTED").exists()
    assert dist.direct_url == url
    assert not dist.requested


def test_reinstall_replaces_files_and_drops_stale_markers(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    cache = Cache(tmp_path / "cache")
    first = install_spec(
        tmp_path,
        APP,
        paths,
        requested=True,
        direct_url={"url": "file:///x", "dir_info": {}},
        cache=cache,
    )
    again = install_spec(tmp_path, APP, paths, requested=False, cache=cache)
    assert again == first
    assert not (again.dist_info / "REQUESTED").exists()
    assert not (again.dist_info / "direct_url.json").exists()
    assert not [p for p in snapshot(tmp_path / "env") if ".satchel-" in p]


def test_copy_mode(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    install_spec(tmp_path, APP, paths, linker=Linker("copy"))
    assert os.stat(Path(paths["purelib"]) / "demo_app" / "__init__.py").st_nlink == 1


def test_root_is_platlib(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env", split_lib=True)
    spec = WheelSpec(
        "native",
        "1.0",
        tag="cp311-cp311-linux_x86_64",
        root_is_purelib=False,
        data={"purelib": {"native_pure/__init__.py": ""}},
    )
    dist = install_spec(tmp_path, spec, paths)
    assert dist.dist_info.parent == Path(paths["platlib"])
    assert (Path(paths["platlib"]) / "native" / "__init__.py").is_file()
    assert (Path(paths["purelib"]) / "native_pure" / "__init__.py").is_file()
    assert "../../lib/site-packages/native_pure/__init__.py" in {
        e.path for e in read_record(dist.dist_info / "RECORD")
    }


def test_interpreter_path_with_spaces_uses_the_sh_trick(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "my env")
    install_spec(tmp_path, APP, env.paths, python=str(env.python))
    launcher = (env.bin / "demo").read_text()
    assert launcher.startswith("#!/bin/sh\n'''exec' ")
    assert run(env.bin / "demo") == "hello from demo\n"
    assert run(env.bin / "raw-tool") == f"raw {env.root}\n"


def test_shebangs() -> None:
    assert shebang("/usr/bin/python3") == b"#!/usr/bin/python3\n"
    assert shebang("/usr/bin/python3", "-E") == b"#!/usr/bin/python3 -E\n"
    long = "/" + "x" * 130 + "/python"
    assert shebang(long).startswith(b"#!/bin/sh\n'''exec' " + long.encode() + b' "$0" "$@"\n')
    assert rewrite_shebang(b"#!python\nprint(1)\n", "/p") == b"#!/p\nprint(1)\n"
    assert rewrite_shebang(b"#!pythonw -u\r\nx\r\n", "/p") == b"#!/p -u\nx\r\n"
    assert rewrite_shebang(b"#!/usr/bin/env python\n", "/p") is None


@pytest.mark.parametrize(
    ("scripts", "phrase"),
    [
        ({"../../evil": "demo_app:main"}, "invalid script name"),
        ({"ok": "os; import evil:main"}, "invalid entry point"),
        ({"ok": "demo_app"}, "invalid entry point"),
    ],
)
def test_bad_entry_points_are_rejected_before_writing(
    tmp_path: Path, scripts: dict[str, str], phrase: str
) -> None:
    paths = fake_scheme(tmp_path / "env")
    spec = WheelSpec("demo", "1.0", console_scripts=scripts)
    with pytest.raises(InstallError, match=phrase):
        install_spec(tmp_path, spec, paths)
    assert not (tmp_path / "env").exists()


def test_unwritable_destination_is_a_clean_error_and_rolls_back(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    blocker = Path(paths["purelib"]) / "demo_app" / "data.txt"
    blocker.mkdir(parents=True)  # a directory where a file must go
    before = snapshot(tmp_path / "env")
    with pytest.raises(InstallError) as info:
        install_spec(tmp_path, APP, paths)
    assert str(info.value).startswith("cannot install Demo-App 2.0: ")
    assert "data.txt" in str(info.value)
    assert snapshot(tmp_path / "env") == before


def test_vanished_cache_file_raises_file_not_found_and_rolls_back(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    wheel = build_wheel(APP, tmp_path / "wheels")
    tree = unpack_into_cache(Cache(tmp_path / "cache"), wheel, APP.name, APP.version)
    (tree.path / "demo_app" / "data.txt").unlink()  # e.g. a concurrent `cache clean`
    with pytest.raises(FileNotFoundError):
        install_tree(
            tree,
            paths=paths,
            interpreter_executable=sys.executable,
            linker=Linker("hardlink"),
            requested=True,
        )
    assert snapshot(tmp_path / "env") == set()



@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, "cannot compile bytecode for Demo-App 2.0: cannot run {exe} (no such file)"),
        (
            "echo first >&2\necho 'the reason' >&2\nexit 2\n",
            "compiling bytecode for Demo-App 2.0 failed: the reason",
        ),
    ],
    ids=["missing", "failing"],
)
def test_bytecode_compile_failure_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: str | None, expected: str
) -> None:
    # A missing or failing target interpreter costs the .pyc files only.
    exe = tmp_path / "bin" / "python"
    exe.parent.mkdir()
    if body is not None:
        exe.write_text("#!/bin/sh\n" + body)
        exe.chmod(0o755)
    dist = install_spec(
        tmp_path, APP, fake_scheme(tmp_path / "env"), python=str(exe), compile_bytecode=True
    )
    assert not [e for e in read_record(dist.dist_info / "RECORD") if e.path.endswith(".pyc")]
    assert expected.format(exe=exe) in caplog.text


def test_bytecode_compile_runs_without_the_venv_launcher_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A macOS venv launcher's __PYVENV_LAUNCHER__ must not reach the target (run_in_target).
    monkeypatch.setenv("__PYVENV_LAUNCHER__", "/elsewhere/python")
    exe = tmp_path / "bin" / "python"
    exe.parent.mkdir()
    exe.write_text(
        f'#!/bin/sh\n[ -n "$__PYVENV_LAUNCHER__" ] && exit 9\nexec "{sys.executable}" "$@"\n'
    )
    exe.chmod(0o755)
    dist = install_spec(
        tmp_path, APP, fake_scheme(tmp_path / "env"), python=str(exe), compile_bytecode=True
    )
    assert [e for e in read_record(dist.dist_info / "RECORD") if e.path.endswith(".pyc")]
    assert "bytecode" not in caplog.text


def test_a_directory_that_cannot_be_made_is_an_os_error() -> None:
    # (issue 11: under /proc, where the parent exists and mkdir still says ENOENT, making the
    # directory recursed until a RecursionError)
    from satchel.install.wheel import _Transaction

    with pytest.raises(FileNotFoundError):
        _Transaction().ensure_dir("/proc/satchel-nope/sub/dir")


def test_each_directory_is_made_once_parent_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Directories holding only directories (sphinx's locale/<lang>/LC_MESSAGES) used to cost a
    # failed mkdir(2) of the child, then the parent, then the child again.
    spec = WheelSpec(
        "deep",
        "1.0",
        files={
            "deep/__init__.py": "",
            **{f"deep/locale/{lang}/LC_MESSAGES/deep.mo": lang for lang in ("de", "fr", "pt_BR")},
            "deep/a/b/c/d/leaf.txt": "leaf",
        },
        data={"data": {"share/deep/x/y/z.txt": "z"}, "headers": {"deep.h": "int d;"}},
    )
    paths = fake_scheme(tmp_path / "env")
    Path(paths["purelib"]).mkdir(parents=True)  # an environment's library exists; the rest not
    made: list[str] = []
    real_mkdir = os.mkdir

    def mkdir(path: str, *args: object, **kwargs: object) -> None:
        made.append(os.fspath(path))
        real_mkdir(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "mkdir", mkdir)
    install_spec(tmp_path, spec, paths)
    lib = [d for d in made if d.startswith(paths["purelib"])]
    assert len(lib) == len(set(lib))  # none twice: never a failed attempt first
    assert all(os.path.isdir(os.path.dirname(d)) for d in lib)
    assert (Path(paths["purelib"]) / "deep/locale/pt_BR/LC_MESSAGES/deep.mo").read_text() == "pt_BR"
    assert (Path(paths["purelib"]) / "deep/a/b/c/d/leaf.txt").read_text() == "leaf"
    # Roots that did not exist yet (data, headers) are still made, parents included.
    assert (tmp_path / "env/share/deep/x/y/z.txt").read_text() == "z"
    assert (Path(paths["headers"]) / "deep" / "deep.h").read_text() == "int d;"
