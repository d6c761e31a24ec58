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

