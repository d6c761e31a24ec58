from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from satchel.errors import InstallError
from satchel.install.installed import InstalledDist, find_installed
from satchel.install.uninstall import uninstall
from tests.support.installs import APP, fake_scheme, install_spec, make_venv, snapshot
from tests.support.wheels import WheelSpec


def test_uninstall_removes_everything_it_installed(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "venv")
    before = snapshot(env.root)
    dist = install_spec(tmp_path, APP, env.paths, python=str(env.python), compile_bytecode=True)
    # Bytecode written later by Python itself, not in RECORD, goes too.
    env.run("-c", "import demo_app")
    env.run("-m", "py_compile", str(env.site_packages / "demo_app" / "__init__.py"))
    result = uninstall(dist, env.paths)
    assert snapshot(env.root) == before
    assert result.name == "demo-app" and result.version == "2.0"
    assert env.bin / "demo" in result.removed
    assert result.missing == [] and result.skipped == []
    assert find_installed(env.paths, "demo-app") is None
    assert env.bin.is_dir() and env.site_packages.is_dir()


def test_shared_directories_stay(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    a = install_spec(
        tmp_path, WheelSpec("ns-a", "1.0", files={"ns/a.py": "", "ns/sub/x.py": ""}), paths
    )
    install_spec(tmp_path, WheelSpec("ns-b", "1.0", files={"ns/b.py": ""}), paths)
    result = uninstall(a, paths)
    sp = Path(paths["purelib"])
    assert (sp / "ns" / "b.py").is_file()
    assert not (sp / "ns" / "sub").exists()
    assert sp / "ns" / "sub" in result.removed_dirs
    assert sorted(os.listdir(sp)) == ["ns", "ns_b-1.0.dist-info"]


def test_missing_files_are_reported_not_fatal(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    dist = install_spec(tmp_path, APP, paths)
    os.unlink(Path(paths["purelib"]) / "demo_app" / "data.txt")
    result = uninstall(dist, paths)
    assert result.missing == ["demo_app/data.txt"]
    assert not dist.dist_info.exists()


def test_no_record(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    dist = install_spec(tmp_path, WheelSpec("Foo", "1.0"), paths)
    (dist.dist_info / "RECORD").unlink()
    (dist.dist_info / "INSTALLER").write_text("conda\n")
    with pytest.raises(InstallError) as info:
        uninstall(dist, paths)
    assert str(info.value) == "cannot uninstall Foo 1.0: no RECORD file (installed by conda)"
    assert info.value.hint == "remove it by hand or with the tool that installed it"
    (dist.dist_info / "INSTALLER").unlink()
    with pytest.raises(InstallError, match=r"\(installed by another tool\)"):
        uninstall(InstalledDist("foo", "1.0", dist.dist_info), paths)
    assert (Path(paths["purelib"]) / "foo" / "__init__.py").exists()


def test_egg_info_cannot_be_uninstalled(tmp_path: Path) -> None:
    paths = fake_scheme(tmp_path / "env")
    egg = Path(paths["purelib"]) / "old-1.0-py3.11.egg-info"
    egg.mkdir(parents=True)
    (egg / "PKG-INFO").write_text("Name: old\nVersion: 1.0\n")
    dist = find_installed(paths, "old")
    assert dist is not None
    with pytest.raises(InstallError, match=r"cannot uninstall old 1\.0: no RECORD file"):
        uninstall(dist, paths)
    assert egg.exists()


def test_refuses_to_remove_files_outside_the_environment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = fake_scheme(tmp_path / "env")
    dist = install_spec(tmp_path, WheelSpec("evil", "1.0"), paths)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    record = dist.dist_info / "RECORD"
    record.write_text(record.read_text() + "../../../victim.txt,,\n" + f"{victim},,\n")
    with caplog.at_level(logging.WARNING, logger="satchel.install"):
        result = uninstall(dist, paths)
    assert victim.read_text() == "keep me"
    assert result.skipped == ["../../../victim.txt", str(victim)]
    assert "outside the environment" in caplog.text
    assert not dist.dist_info.exists()
