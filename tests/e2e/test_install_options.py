"""Resolver-facing install options end to end: extras, --no-deps, --pre, yanked releases,
upgrade strategies, --reinstall and --dry-run; replaced versions leave no files behind."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import (
    Satchel,
    assert_error,
    installed_files_match_record,
    run_python,
    site_packages,
)
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def versions(venv: Path) -> dict[str, str]:
    out = {}
    for info in site_packages(venv).glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        out[name] = version
    return out


def test_extras_and_no_deps(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta"], extras={"fast": ["gamma>=2"], "never": ["delta"]}),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
        WheelSpec("gamma", "2.0"),
        WheelSpec("delta", "1.0"),
    )
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "--no-deps", "alpha")
    assert "Resolved 1 package" in result.stderr
    assert versions(venv) == {"alpha": "1.0"}

    # Now with the extra: the dependency and the extra's dependency come in, `never` does not.
    result = satchel.run("install", "-p", venv, "alpha[fast]")
    assert " + beta==1.0" in result.stderr and " + gamma==2.0" in result.stderr
    assert "alpha==" not in result.stderr  # already installed, kept
    assert versions(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "2.0"}

    check = satchel.run("check", "-p", venv)
    assert "No broken requirements" in check.stdout


def test_prereleases(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "2.0rc1"),
        WheelSpec("onlypre", "1.0a1"),
        WheelSpec("user", "1.0", requires=["alpha"]),
    )
    venv = satchel.venv()
    # Without --pre, stable releases win.
    result = satchel.run("install", "-p", venv, "--dry-run", "alpha")
    assert " + alpha==1.0" in result.stderr
    # A specifier that names a prerelease allows it.
    result = satchel.run("install", "-p", venv, "--dry-run", "alpha>=2.0rc1")
    assert " + alpha==2.0rc1" in result.stderr
    # --pre allows prereleases everywhere, also for dependencies.
    result = satchel.run("install", "-p", venv, "--dry-run", "--pre", "user")
    assert " + alpha==2.0rc1" in result.stderr
    # Only prereleases exist: with --pre that is installed.
    result = satchel.run("install", "-p", venv, "--pre", "onlypre")
    assert " + onlypre==1.0a1" in result.stderr
    assert versions(venv) == {"onlypre": "1.0a1"}


def test_yanked_only_for_exact_pins(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("alpha", "1.1"), WheelSpec("alpha", "2.0"))
    index_server.yank("alpha-2.0-py3-none-any.whl", "broken build")
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "--dry-run", "alpha")
    assert " + alpha==1.1" in result.stderr
    result = satchel.run("install", "-p", venv, "--dry-run", "alpha>=2", check=False)
    assert_error(result, "alpha", "yanked")
    result = satchel.run("install", "-p", venv, "alpha==2.0")
    assert " + alpha==2.0" in result.stderr
    assert any("yanked" in w and "broken build" in w for w in result.warnings()), result
    assert versions(venv) == {"alpha": "2.0"}


def test_upgrade_strategies(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta"]),
        WheelSpec("beta", "1.0"),
        WheelSpec("other", "1.0"),
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "other")
    assert versions(venv) == {"alpha": "1.0", "beta": "1.0", "other": "1.0"}
    publish(
        index_server,
        WheelSpec("alpha", "2.0", requires=["beta"], files={"alpha/__init__.py": "V = 2\n", "alpha/new.py": ""}),
        WheelSpec("beta", "2.0"),
        WheelSpec("other", "2.0"),
    )
    old_alpha_file = site_packages(venv) / "alpha" / "__init__.py"
    assert old_alpha_file.exists()

    # Default: only if needed; installed versions that satisfy are kept (even though the
    # refreshed index pages list newer ones).
    result = satchel.run("install", "-p", venv, "--refresh", "alpha", "other")
    assert "Nothing to do" in result.stderr, result
    assert versions(venv) == {"alpha": "1.0", "beta": "1.0", "other": "1.0"}
    # ... but a requirement the installed version no longer meets replaces it.
    result = satchel.run("install", "-p", venv, "--refresh", "beta>=2")
    assert " - beta==1.0" in result.stderr and " + beta==2.0" in result.stderr
    assert versions(venv)["beta"] == "2.0"

    # -P upgrades just that one package.
    result = satchel.run("install", "-p", venv, "-P", "other", "alpha", "other")
    assert " - other==1.0" in result.stderr and " + other==2.0" in result.stderr
    assert "alpha==" not in result.stderr
    assert versions(venv) == {"alpha": "1.0", "beta": "2.0", "other": "2.0"}

    # -U upgrades the roots to the newest versions; the old files of alpha 1.0 are gone.
    result = satchel.run("install", "-p", venv, "-U", "alpha")
    assert " - alpha==1.0" in result.stderr and " + alpha==2.0" in result.stderr
    assert versions(venv) == {"alpha": "2.0", "beta": "2.0", "other": "2.0"}
    assert not (site_packages(venv) / "alpha-1.0.dist-info").exists()
    assert (site_packages(venv) / "alpha" / "new.py").exists()
    assert old_alpha_file.read_text() == "V = 2\n"
    installed_files_match_record(venv, "alpha")
    assert run_python(venv, "import alpha; print(alpha.V)") == "2"


def test_replaced_version_files_are_removed(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", files={"alpha/__init__.py": "", "alpha/old_only.py": "X = 1\n"},
                  console_scripts={"alpha-old": "alpha:main"}),
        WheelSpec("alpha", "2.0", files={"alpha/__init__.py": "def main():\n    pass\n"}),
    )  # fmt: skip
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha==1.0", "--compile-bytecode")
    sp = site_packages(venv)
    assert (sp / "alpha" / "old_only.py").exists() and (venv / "bin" / "alpha-old").exists()
    assert list((sp / "alpha" / "__pycache__").glob("old_only.*.pyc"))
    result = satchel.run("install", "-p", venv, "alpha==2.0")
    assert " - alpha==1.0" in result.stderr and " + alpha==2.0" in result.stderr
    assert not (sp / "alpha" / "old_only.py").exists()
    assert not list((sp / "alpha").glob("__pycache__/old_only.*"))
    assert not (venv / "bin" / "alpha-old").exists()
    assert not (sp / "alpha-1.0.dist-info").exists()
    installed_files_match_record(venv, "alpha")


def test_reinstall_and_dry_run(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0", requires=["beta"]), WheelSpec("beta", "1.0"))
    venv = satchel.venv()
    sp = site_packages(venv)

    before = sorted(p.name for p in sp.iterdir())
    result = satchel.run("install", "-p", venv, "--dry-run", "alpha")
    assert "Would install 2 packages" in result.stderr
    assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr
    assert "Installed" not in result.stderr
    assert sorted(p.name for p in sp.iterdir()) == before

    satchel.run("install", "-p", venv, "alpha")
    module = sp / "alpha" / "__init__.py"
    module.write_text("tampered = True\n")

    publish(index_server, WheelSpec("alpha", "2.0", requires=["beta"]))
    result = satchel.run("install", "-p", venv, "--dry-run", "-U", "alpha")
    assert " - alpha==1.0" in result.stderr and " + alpha==2.0" in result.stderr
    assert versions(venv)["alpha"] == "1.0"
    assert module.read_text() == "tampered = True\n"

    result = satchel.run("install", "-p", venv, "--reinstall", "alpha==1.0")
    assert " - alpha==1.0" in result.stderr and " + alpha==1.0" in result.stderr
    assert " + beta==1.0" in result.stderr  # --reinstall covers every resolved package
    assert "tampered" not in module.read_text()
    installed_files_match_record(venv, "alpha")
    assert versions(venv) == {"alpha": "1.0", "beta": "1.0"}
    for pips_name in ("--force-reinstall", "-I", "--ignore-installed"):
        module.write_text("tampered = True\n")
        result = satchel.run("install", "-p", venv, pips_name, "alpha==1.0")
        assert " - alpha==1.0" in result.stderr and " + alpha==1.0" in result.stderr, pips_name
        assert "tampered" not in module.read_text(), pips_name


def test_upgrade_all_reaches_dependencies_but_not_unrelated_packages(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(
        index_server,
        WheelSpec("top", "1.0", requires=["dep"]),
        WheelSpec("dep", "1.0"),
        WheelSpec("dep", "2.0"),
        WheelSpec("unrelated", "1.0"),
        WheelSpec("unrelated", "2.0"),
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "top", "dep==1.0", "unrelated==1.0")
    # Without -U the installed dep satisfies "dep": kept.
    assert "Nothing to do" in satchel.run("install", "-p", venv, "--refresh", "top").stderr
    result = satchel.run("install", "-p", venv, "-U", "top")
    assert " - dep==1.0" in result.stderr and " + dep==2.0" in result.stderr, result
    assert "unrelated" not in result.stderr, result


def test_upgrade_strategy_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """``--upgrade-strategy only-if-needed`` (pip's default) moves the named requirements and
    only the dependencies their new versions need moved; ``eager`` everything: the same
    versions pip 26.3 installs from the same state."""
    import subprocess
    import sys

    publish(
        index_server,
        WheelSpec("top", "1.0", requires=["dep"]),
        WheelSpec("side", "1.0", requires=["dep"]),
        WheelSpec("dep", "1.0"),
        WheelSpec("low", "1.0"),
    )
    before = ["top==1.0", "side==1.0", "dep==1.0", "low==1.0"]
    publish(
        index_server,
        WheelSpec("top", "2.0", requires=["dep", "low>=2"]),
        WheelSpec("side", "2.0", requires=["dep"]),
        WheelSpec("dep", "2.0"),
        WheelSpec("low", "2.0"),
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}
    for strategy, expected in (
        ("only-if-needed", {"top": "2.0", "side": "1.0", "dep": "1.0", "low": "2.0"}),
        ("eager", {"top": "2.0", "side": "1.0", "dep": "2.0", "low": "2.0"}),
    ):
        ours, theirs = satchel.venv(f"ours-{strategy}"), satchel.venv(f"pip-{strategy}")
        for venv in (ours, theirs):
            satchel.run("install", "-p", venv, *before)
        satchel.run("install", "-p", ours, "-U", "--upgrade-strategy", strategy, "top")
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", f"{theirs}/bin/python", "install", "-U",
             "--upgrade-strategy", strategy, "top", "--index-url", index_server.index_url,
             "--no-cache-dir", "--disable-pip-version-check"],
            check=True, capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert versions(ours) == versions(theirs) == expected, strategy
