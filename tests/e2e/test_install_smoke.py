"""The install path end to end: CLI in a subprocess, a real venv, the local index."""

from __future__ import annotations

from tests.support.cli import Satchel, installed_files_match_record, run_python, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def test_install_a_tree_then_nothing_to_do(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta>=2"], console_scripts={"alpha-cli": "alpha:main"},
                  files={"alpha/__init__.py": "def main():\n    print('alpha says hi')\n"}),
        WheelSpec("beta", "1.0"),
        WheelSpec("beta", "2.0"),
    )
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "alpha")
    assert "Resolved 2 packages" in result.stderr
    assert " + alpha==1.0" in result.stderr and " + beta==2.0" in result.stderr
    assert run_python(venv, "import alpha, beta; print(beta.__version__)") == "2.0"
    installed_files_match_record(venv, "alpha")
    sp = site_packages(venv)
    assert (sp / "alpha-1.0.dist-info" / "INSTALLER").read_text().strip() == "satchel"
    assert (sp / "alpha-1.0.dist-info" / "REQUESTED").exists()
    assert not (sp / "beta-2.0.dist-info" / "REQUESTED").exists()
    import subprocess

    out = subprocess.run([str(venv / "bin" / "alpha-cli")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "alpha says hi"
    again = satchel.run("install", "-p", venv, "alpha")
    assert "Nothing to do" in again.stderr



def test_an_install_of_several_distributions_uses_the_link_worker(satchel: Satchel, index_server: IndexServer) -> None:
    """The command starts a link worker (satchel.install.link_worker) once it knows it has work,
    and linking hands it distributions (~600 files: over LINK_WORKER_MIN_FILES): whichever
    process installed one, it is whole."""
    names = ["delta", "epsilon", "zeta", "eta"]
    publish(
        index_server,
        WheelSpec("gamma", "1.0", requires=names, console_scripts={"gamma-cli": "gamma:main"},
                  files={"gamma/__init__.py": "def main():\n    print('gamma')\n"}),
        *(WheelSpec(n, "1.0", console_scripts={f"{n}-cli": f"{n}:main"},
                    files={f"{n}/__init__.py": "def main():\n    print('hi')\n", f"{n}/sub/mod.py": "x = 1\n",
                           **{f"{n}/data/d{i // 20}/f{i}.txt": f"{i}\n" for i in range(150)}})
          for n in names),
    )
    venv = satchel.venv()
    result = satchel.run("install", "-v", "-p", venv, "gamma")
    assert "of 5 distributions installed by the link worker" in result.stderr, result.stderr
    for name in ["gamma", *names]:
        installed_files_match_record(venv, name)
        assert (venv / "bin" / f"{name}-cli").is_file()
    assert run_python(venv, "import gamma, delta.sub.mod, eta; print(delta.sub.mod.x)") == "1"
    assert not list(site_packages(venv).glob(".satchel-*"))
    assert "Nothing to do" in satchel.run("install", "-p", venv, "gamma").stderr
    # SATCHEL_NO_LINK_WORKER=1: all in this process, and the same install
    alone = satchel.venv("alone")
    result = satchel.run("install", "-v", "-p", alone, "gamma", env={"SATCHEL_NO_LINK_WORKER": "1"})
    assert "link worker" not in result.stderr, result.stderr
    for name in ["gamma", *names]:
        installed_files_match_record(alone, name)
