"""`satchel sync`: an environment made to match a lock exactly (CLI in a subprocess, a real
venv, the local index)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.cli import Satchel, assert_error, run_python, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.locks import file_entry, hashed_line, installed, render_pylock, snapshot
from tests.support.wheels import WheelSpec


@pytest.fixture
def tree(index_server: IndexServer) -> dict[str, Path]:
    """alpha 1.0 (needs beta), beta 1.0 and 2.0, gamma 1.0, and a stand-in for pip."""
    files = publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta>=1"]),
        WheelSpec("beta", "1.0"),
        WheelSpec("beta", "2.0"),
        WheelSpec("gamma", "1.0"),
        WheelSpec("pip", "99.0"),
    )
    return {f.name.split("-")[0] + "-" + f.name.split("-")[1]: f for f in files}


def test_sync_installs_the_lock_and_removes_the_rest(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "beta==2.0", "gamma", "pip")
    assert installed(venv) == {"alpha": "1.0", "beta": "2.0", "gamma": "1.0", "pip": "99.0"}
    lock = satchel.tmp / "requirements.txt"
    lock.write_text(
        hashed_line("alpha", "1.0", tree["alpha-1.0"]) + "\n" + hashed_line("beta", "1.0", tree["beta-1.0"]) + "\n"
    )
    result = satchel.run("sync", "-p", venv, lock)
    # gamma is not in the lock: removed; beta goes to the locked version; pip is kept, and said so.
    assert installed(venv) == {"alpha": "1.0", "beta": "1.0", "pip": "99.0"}, result
    assert " - gamma==1.0" in result.stderr and " - beta==2.0" in result.stderr, result
    assert " + beta==1.0" in result.stderr, result
    assert "Kept pip==99.0" in result.stderr, result
    assert run_python(venv, "import alpha, beta; print(beta.__version__)") == "1.0"
    again = satchel.run("sync", "--python-executable", venv / "bin" / "python", lock)  # pip-sync's -p
    assert "Nothing to do: 2 packages" in again.stderr, again
    assert "Kept pip==99.0" in again.stderr, again


def test_sync_dry_run_changes_nothing(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "gamma")
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("alpha==1.0\nbeta==1.0\n")
    before = snapshot(venv)
    result = satchel.run("sync", "-p", venv, lock, "--dry-run")
    assert "Would uninstall 2 and install 1 package (dry run)" in result.stderr, result
    assert " - gamma==1.0" in result.stderr and " + beta==1.0" in result.stderr, result
    assert snapshot(venv) == before


def test_sync_hash_mismatch_changes_nothing(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "beta==2.0", "gamma")
    lock = satchel.tmp / "requirements.txt"
    wrong = hashlib.sha256(b"not beta").hexdigest()
    right = hashlib.sha256(tree["beta-1.0"].read_bytes()).hexdigest()
    lock.write_text(hashed_line("alpha", "1.0", tree["alpha-1.0"]) + f"\nbeta==1.0 --hash=sha256:{wrong}\n")
    before = snapshot(venv)
    result = satchel.run("sync", "-p", venv, lock, check=False)
    line = assert_error(result, "requirements.txt:2", wrong, right, "beta")
    assert "hash" in line, result
    assert snapshot(venv) == before
    assert installed(venv) == {"alpha": "1.0", "beta": "2.0", "gamma": "1.0"}


def test_sync_pylock_hash_mismatch_changes_nothing(
    satchel: Satchel, index_server: IndexServer, tree: dict[str, Path]
) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "gamma")
    wrong = hashlib.sha256(b"not beta").hexdigest()
    right = hashlib.sha256(tree["beta-1.0"].read_bytes()).hexdigest()
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(
        render_pylock(
            [
                {"name": "alpha", "version": "1.0", "wheels": [file_entry(index_server, tree["alpha-1.0"])]},
                {
                    "name": "beta",
                    "version": "1.0",
                    "wheels": [file_entry(index_server, tree["beta-1.0"], hashes={"sha256": wrong})],
                },
            ]
        )
    )
    before = snapshot(venv)
    result = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(result, "pylock.toml", "packages[1]", wrong, right, "beta-1.0-py3-none-any.whl")
    assert snapshot(venv) == before


def test_sync_size_mismatch_changes_nothing(
    satchel: Satchel, index_server: IndexServer, tree: dict[str, Path]
) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "gamma")
    size = tree["beta-1.0"].stat().st_size
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(
        render_pylock(
            [{"name": "beta", "version": "1.0", "wheels": [file_entry(index_server, tree["beta-1.0"], size=size + 1)]}]
        )
    )
    before = snapshot(venv)
    result = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(result, "pylock.toml, packages[0]", "size mismatch", str(size + 1), str(size))
    assert snapshot(venv) == before


def test_sync_missing_dependency_warns_and_strict_fails(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("alpha==1.0\ngamma==1.0\n")
    strict = satchel.run("sync", "-p", venv, lock, "--strict", check=False)
    assert_error(strict, "requirements.txt is incomplete", "alpha 1.0 requires beta>=1", "not in the lock")
    assert installed(venv) == {}, strict
    result = satchel.run("sync", "-p", venv, lock)
    assert "warning: alpha 1.0 requires beta>=1, which is not in the lock" in result.stderr, result
    assert installed(venv) == {"alpha": "1.0", "gamma": "1.0"}
    # Already synced, still incomplete: still said.
    again = satchel.run("sync", "-p", venv, lock)
    assert "warning: alpha 1.0 requires beta>=1" in again.stderr, again
    assert "Nothing to do" in again.stderr, again


def test_sync_wrong_version_of_a_dependency_warns(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("app", "1.0", requires=["lib<2"]), WheelSpec("lib", "2.0"))
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("app==1.0\nlib==2.0\n")
    result = satchel.run("sync", "-p", venv, lock)
    assert "warning: app 1.0 requires lib<2, but the lock has lib 2.0" in result.stderr, result


def test_sync_needs_pinned_requirements(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("alpha==1.0\nbeta>=1\n")
    result = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(result, "requirements.txt:2", "'beta>=1' is not pinned with ==", "hint:")


def test_sync_keeps_satchel_and_what_it_needs(satchel: Satchel, index_server: IndexServer, tree: dict[str, Path]) -> None:
    """satchel installed in the target (here a stand-in wheel) stays, with its dependencies."""
    publish(
        index_server,
        WheelSpec("satchel", "9.9", requires=["helperdep", "winhelper; sys_platform == 'win32'"]),
        WheelSpec("helperdep", "1.0"),
        WheelSpec("winhelper", "1.0"),
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "satchel", "winhelper", "gamma")
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("beta==1.0\n")
    result = satchel.run("sync", "-p", venv, lock)
    assert installed(venv) == {"beta": "1.0", "satchel": "9.9", "helperdep": "1.0"}, result
    assert "Kept helperdep==1.0, satchel==9.9" in result.stderr, result
    assert " - winhelper==1.0" in result.stderr and " - gamma==1.0" in result.stderr, result


def test_sync_looks_up_only_what_it_installs(
    satchel: Satchel, index_server: IndexServer, tree: dict[str, Path]
) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("alpha==1.0\nbeta==1.0\n")
    satchel.run("sync", "-p", venv, lock)
    lock.write_text("alpha==1.0\nbeta==1.0\ngamma==1.0\n")
    index_server.reset_log()
    result = satchel.run("sync", "-p", venv, lock, env={"SATCHEL_INDEX_TTL": "0"})
    assert " + gamma==1.0" in result.stderr, result
    pages = [p for p in index_server.paths() if p.startswith("/simple/")]
    assert pages == ["/simple/gamma/"], index_server.paths()


def test_already_synced_imports_no_resolver_or_index_client(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text(hashed_line("alpha", "1.0", tree["alpha-1.0"]) + "\n" + hashed_line("beta", "1.0", tree["beta-1.0"]) + "\n")
    satchel.run("sync", "-p", venv, lock)
    result = satchel.run("sync", "-p", venv, lock, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert "Nothing to do: 2 packages" in result.stderr, result
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "satchel.requirements.parser" in imported  # (the check sees the imports)
    for heavy in ("satchel.resolve", "resolvelib", "satchel.index.client", "urllib3", "satchel.commands.locked"):
        assert heavy not in imported, heavy


def test_sync_to_an_empty_lock_needs_permission(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "gamma")
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("# nothing\nwinonly==1.0 ; sys_platform == 'win32'\n")
    refused = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(refused, "selects no packages", "--allow-empty-requirements")
    assert installed(venv) == {"gamma": "1.0"}
    satchel.run("sync", "-p", venv, lock, "--allow-empty-requirements")
    assert installed(venv) == {}


def test_sync_target_directory(satchel: Satchel, tree: dict[str, Path]) -> None:
    venv = satchel.venv()
    target = satchel.tmp / "target"
    satchel.run("install", "-p", venv, "--target", target, "gamma")
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("alpha==1.0\nbeta==1.0\n")
    result = satchel.run("sync", "-p", venv, "--target", target, lock)
    names = sorted(d.name for d in target.glob("*.dist-info"))
    assert names == ["alpha-1.0.dist-info", "beta-1.0.dist-info"], result
    assert not (target / "gamma").exists()


def test_sync_replaces_a_direct_install_of_a_locked_version(satchel: Satchel, tree: dict[str, Path]) -> None:
    """gamma 1.0 installed from a file (PEP 610 direct_url.json) is not the index's gamma 1.0
    the lock names: sync replaces it."""
    venv = satchel.venv()
    satchel.run("install", "-p", venv, tree["gamma-1.0"])
    assert (site_packages(venv) / "gamma-1.0.dist-info" / "direct_url.json").exists()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("gamma==1.0\n")
    result = satchel.run("sync", "-p", venv, lock)
    assert " - gamma==1.0" in result.stderr and " + gamma==1.0" in result.stderr, result
    assert not (site_packages(venv) / "gamma-1.0.dist-info" / "direct_url.json").exists()
    assert "Nothing to do" in satchel.run("sync", "-p", venv, lock).stderr


def test_sync_into_a_new_environment_uses_the_link_worker(satchel: Satchel, index_server: IndexServer) -> None:
    """sync starts a link worker once it knows it installs something (satchel.install.link_worker),
    and hands it distributions when there are enough files (~600 here)."""
    names = ["big-a", "big-b", "big-c"]
    files = publish(index_server, *(
        WheelSpec(n, "1.0", files={f"{n.replace('-', '_')}/f{i}.py": f"x = {i}\n" for i in range(200)})
        for n in names
    ))
    venv = satchel.venv()
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("\n".join(hashed_line(n, "1.0", f) for n, f in zip(names, files, strict=True)) + "\n")
    result = satchel.run("sync", "-v", "-p", venv, lock)
    assert "of 3 distributions installed by the link worker" in result.stderr, result.stderr
    assert installed(venv) == {n: "1.0" for n in names}
    assert run_python(venv, "import big_a.f7, big_c.f199; print(big_a.f7.x + big_c.f199.x)") == "206"


def test_sync_warns_of_an_extra_the_locked_release_does_not_provide(
    satchel: Satchel, index_server: IndexServer
) -> None:
    # (install warned, as pip and uv do; sync said nothing)
    publish(
        index_server,
        WheelSpec("beta", "1.0", extras={"fast": ["gamma"]}),
        WheelSpec("gamma", "1.0"),
    )
    lock = satchel.tmp / "requirements.txt"
    lock.write_text("beta[fast,nope]==1.0\ngamma==1.0\n")
    venv = satchel.venv()
    result = satchel.run("sync", "-p", venv, lock)
    assert result.warnings() == ["warning: beta 1.0 does not provide the extra 'nope'"], result
    assert installed(venv) == {"beta": "1.0", "gamma": "1.0"}
    # kept, not installed again: said from the environment's metadata
    again = satchel.run("sync", "-p", venv, lock)
    assert again.warnings() == ["warning: beta 1.0 does not provide the extra 'nope'"], again
    lock.write_text("beta[fast]==1.0\ngamma==1.0\n")
    assert satchel.run("sync", "-p", venv, lock).warnings() == []
