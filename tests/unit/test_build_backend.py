"""Builds with a tiny in-tree backend (no build requirements to install): the build system,
hook failures, the sanitised environment, cycles, concurrent builds, settings, isolation."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from satchel.build import BackendError, BuildRequest, Source, build_wheel, prepare_metadata
from satchel.build.backend import LEGACY_BACKEND, read_build_system, sanitized_environ
from satchel.build.cache import interpreter_key, settings_key
from satchel.cache.store import Cache
from satchel.errors import BuildError
from satchel.python.interpreter import Interpreter
from tests.support.builds import (
    RecursiveInstaller,
    backend_wheels_fixture,  # noqa: F401
    built_entries,
    cache_fixture,  # noqa: F401
    events,
    interpreter_fixture,  # noqa: F401
    intree_project,
    temp_litter,
)

# -- the build system ----------------------------------------------------------------------------


def test_no_build_system_means_setuptools_legacy_backend(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("")
    system = read_build_system(tmp_path, label="demo")
    assert (system.backend, system.requires, system.declared) == (
        LEGACY_BACKEND,
        ("setuptools>=40.8.0",),
        False,
    )
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 80\n")
    assert read_build_system(tmp_path, label="demo").backend == LEGACY_BACKEND
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools", "cython"]\n'
    )
    system = read_build_system(tmp_path, label="demo")
    assert (system.backend, system.requires) == (LEGACY_BACKEND, ("setuptools", "cython"))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[build-system]\nbuild-backend = "x"\n', "no 'requires'"),
        ('[build-system]\nrequires = "setuptools"\n', "list of strings"),
        ('[build-system]\nrequires = ["set tools !"]\n', "invalid requirement"),
        ("[build-system\n", "not valid TOML"),
        ("x = " + "[" * 5000 + "]" * 5000, "not valid TOML: arrays or inline tables nested too deeply"),
    ],
)
def test_bad_build_systems_are_clear_errors(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(BuildError, match=error):
        read_build_system(tmp_path, label="demo")


def test_sanitized_environ_drops_what_steers_python_and_pip(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "PYTHONPATH": "/evil",
        "PYTHONHOME": "/evil",
        "PYTHONUSERBASE": "/evil",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_NO_BINARY": ":all:",
        "HOME": "/root",
        "CC": "gcc",
    }
    env = sanitized_environ(tmp_path / "bin", tmp_path, base)
    assert env["PYTHONNOUSERSITE"] == "1"
    assert env["PATH"] == f"{tmp_path / 'bin'}{os.pathsep}/usr/bin"
    assert env["VIRTUAL_ENV"] == str(tmp_path)
    assert {"HOME", "CC"} <= env.keys()
    assert not [
        k for k in env if k.startswith(("PIP_", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE"))
    ]


# -- building ------------------------------------------------------------------------------------


def test_builds_and_caches_a_wheel(tmp_path: Path, cache: Cache, interpreter: Interpreter) -> None:
    log_file = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "proj", "demo", events=str(log_file))
    source = Source.sdist(_sdist_of(project, tmp_path / "dist", "demo-1.0"))
    first = build_wheel(BuildRequest(source, interpreter, cache=cache, log_dir=tmp_path / "logs"))
    assert not first.cached and first.filename == "demo-1.0-py3-none-any.whl"
    assert first.path.is_file() and first.path.stat().st_mode & 0o222 == 0  # read-only
    expected = f"demo/{source.key()}/{settings_key(None, isolated=True)}/{interpreter_key(interpreter)}/wheel"
    assert first.path.parent.parent == cache.root / "built-v1" / expected
    again = build_wheel(BuildRequest(source, interpreter, cache=Cache(cache.root), log_dir=tmp_path / "logs"))
    assert again.cached and again.sha256 == first.sha256
    assert len(events(log_file, "build_wheel")) == 1
    assert not list((tmp_path / "logs").glob("*.log"))  # successful builds leave no logs


def _sdist_of(project: Path, dest: Path, base: str) -> Path:
    import tarfile

    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for path in sorted(project.rglob("*")):
            tf.add(path, f"{base}/{path.relative_to(project)}", recursive=False)
    return out


def test_prepare_metadata_uses_the_hook_then_the_built_wheel(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    log_file = tmp_path / "events.jsonl"
    project = intree_project(
        tmp_path / "proj", "meta-demo", events=str(log_file), requires_dist=["six>=1"]
    )
    source = Source.directory(project, name="meta-demo")
    meta = prepare_metadata(BuildRequest(source, interpreter, cache=cache))
    assert (meta.name, str(meta.version), meta.requires_dist) == ("meta-demo", "1.0", ("six>=1",))
    assert [e["event"] for e in events(log_file)] == ["prepare_metadata"]
    assert prepare_metadata(BuildRequest(source, interpreter, cache=cache)) == meta  # cached: no new hook call
    assert len(events(log_file)) == 1
    build_wheel(BuildRequest(source, interpreter, cache=cache))
    assert prepare_metadata(BuildRequest(source, interpreter, cache=cache)) == meta
    assert [e["event"] for e in events(log_file)] == ["prepare_metadata", "build_wheel"]


def test_prepare_metadata_without_the_hook_builds_the_wheel(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    log_file = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "proj", "nohook", events=str(log_file), metadata_hook=False)
    meta = prepare_metadata(BuildRequest(Source.directory(project), interpreter, cache=cache))
    assert meta.name == "nohook"
    assert [e["event"] for e in events(log_file)] == ["build_wheel"]
    wheel = build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache))
    assert wheel.cached  # the fallback's wheel was stored


def test_unnamed_projects_learn_their_name_once(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    """setup.py-style projects (no static name): the metadata is cached by source key alone."""
    log_file = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "proj", "dyn-name", events=str(log_file))
    source = Source.directory(project)
    assert source.name is None
    assert prepare_metadata(BuildRequest(source, interpreter, cache=cache)).name == "dyn-name"
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache))
    assert wheel.name == "dyn-name"
    assert build_wheel(BuildRequest(source, interpreter, cache=cache)).cached
    assert [e["event"] for e in events(log_file)] == ["prepare_metadata", "build_wheel"]


def test_a_name_mismatch_is_a_clear_error(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "actual-name")
    with pytest.raises(BuildError, match=r"expected project 'wanted'.*'actual-name'"):
        prepare_metadata(BuildRequest(Source.directory(project, name="wanted"), interpreter, cache=cache))
    with pytest.raises(BuildError, match="not a wheel of wanted"):
        build_wheel(BuildRequest(Source.directory(project, name="wanted"), interpreter, cache=cache))
    assert built_entries(cache, "wanted") == []


def test_an_sdist_building_another_version_is_refused(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "liar", "2.0")
    sdist = _sdist_of(project, tmp_path / "dist", "liar-1.0")
    with pytest.raises(
        BuildError, match=r"liar-1\.0\.tar\.gz: its metadata has version 2\.0, not 1\.0"
    ):
        prepare_metadata(BuildRequest(Source.sdist(sdist), interpreter, cache=cache))
    with pytest.raises(BuildError, match=r"liar-2\.0-py3-none-any\.whl has version 2\.0, not 1\.0"):
        build_wheel(BuildRequest(Source.sdist(sdist), interpreter, cache=cache))
    assert built_entries(cache, "liar") == []


def test_a_wheel_that_does_not_fit_the_interpreter_is_refused(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "alien", tag="cp27-cp27m-win32")
    with pytest.raises(BuildError, match="does not support"):
        build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache))
    assert built_entries(cache, "alien") == []


# -- failures ------------------------------------------------------------------------------------


def test_a_failing_build_wheel_names_package_backend_hook_and_output(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "broken-pkg", fail=True)
    with pytest.raises(BackendError) as err:
        build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, log_dir=tmp_path / "logs"))
    exc = err.value
    first_line = exc.message.splitlines()[0]
    assert (
        "broken-pkg" in first_line
        and "intree_backend" in first_line
        and "build_wheel" in first_line
    )
    assert (exc.package, exc.backend, exc.hook) == ("broken-pkg", "intree_backend", "build_wheel")
    assert "RuntimeError: the build went boom" in exc.message
    assert 10 <= len(exc.tail) <= 20
    assert "compiling step 0" not in exc.message  # only the tail is shown...
    assert exc.log_path is not None and exc.log_path.parent == tmp_path / "logs"
    assert f"full build log: {exc.log_path}" in exc.message
    full = exc.log_path.read_text()
    assert "compiling step 0" in full and "compiling step 39" in full  # ...the log has it all
    # Nothing partial in the cache; a second attempt fails the same way (nothing cached).
    assert built_entries(cache, "broken-pkg") == []
    assert temp_litter(cache) == []
    with pytest.raises(BackendError):
        build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, log_dir=tmp_path / "logs"))


def test_a_missing_backend_is_a_clear_error(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "nobackend")
    text = (project / "pyproject.toml").read_text().replace("intree_backend", "no_such_backend")
    (project / "pyproject.toml").write_text(text)
    with pytest.raises(BackendError, match="no_such_backend") as err:
        build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, log_dir=tmp_path / "logs"))
    assert "cannot be imported" in err.value.message
    assert err.value.hook == "get_requires_for_build_wheel"


def test_editable_needs_the_pep660_hook(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "old-style")
    with pytest.raises(
        BuildError, match=r"does not support editable installs.*build_editable.*PEP 660"
    ):
        build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, editable=True))
    assert built_entries(cache, "old-style") == []


def test_editable_only_for_directories(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "ed", editable=True)
    sdist = _sdist_of(project, tmp_path / "dist", "ed-1.0")
    with pytest.raises(BuildError, match="local project directory"):
        build_wheel(BuildRequest(Source.sdist(sdist), interpreter, cache=cache, editable=True))


def test_editable_wheels_are_cached_apart_from_regular_ones(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    project = intree_project(tmp_path / "proj", "ed", editable=True)
    editable = build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, editable=True))
    with zipfile.ZipFile(editable.path) as zf:
        assert zf.read("_ed.pth").decode().strip() == str(project)
    regular = build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache))
    assert regular.sha256 != editable.sha256
    assert build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, editable=True)).cached


# -- environment and isolation -------------------------------------------------------------------


def test_hooks_run_isolated_with_a_sanitised_environment(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "env.json"
    project = intree_project(tmp_path / "proj", "envcheck", record_env=str(record))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "leaked-path"))
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "leaked-home"))
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "leaked-userbase"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/nowhere")
    monkeypatch.delenv("PYTHONNOUSERSITE", raising=False)
    build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache))
    seen = json.loads(record.read_text())
    environ = seen["environ"]
    assert not [k for k in environ if k.startswith("PIP_")]
    assert (
        "PYTHONPATH" not in environ
        and "PYTHONHOME" not in environ
        and "PYTHONUSERBASE" not in environ
    )
    assert environ["PYTHONNOUSERSITE"] == "1" and seen["no_user_site"] == 1
    assert not any("leaked" in p for p in seen["path"])
    env_root = Path(seen["prefix"])
    assert env_root.parent == cache.root / "built-v1" / "_envs"
    assert environ["VIRTUAL_ENV"] == str(env_root)
    assert environ["PATH"].split(os.pathsep)[0] == str(env_root / "bin")
    assert seen["prefix"] != interpreter.prefix  # not the target environment


def test_no_build_isolation_builds_in_the_target_interpreter(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    record = tmp_path / "env.json"
    project = intree_project(tmp_path / "proj", "noiso", record_env=str(record))
    wheel = build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache, build_isolation=False))
    assert json.loads(record.read_text())["prefix"] == interpreter.prefix
    assert not (cache.root / "built-v1" / "_envs").exists()
    # Isolated and non-isolated builds are different entries.
    isolated = build_wheel(BuildRequest(Source.directory(project), interpreter, cache=cache))
    assert not isolated.cached and isolated.path != wheel.path


def test_config_settings_reach_the_backend_and_key_the_cache(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    log_file = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "proj", "settings", events=str(log_file))
    source = Source.directory(project)
    a = build_wheel(BuildRequest(
        source, interpreter, cache=cache, config_settings={"mode": "fast", "flags": ["-a", "-b"]}
    ))
    b = build_wheel(BuildRequest(source, interpreter, cache=cache, config_settings={"mode": "slow"}))
    assert a.path != b.path
    assert build_wheel(BuildRequest(
        source, interpreter, cache=cache, config_settings={"flags": ["-a", "-b"], "mode": "fast"}
    )).cached
    seen = [e["config_settings"] for e in events(log_file, "build_wheel")]
    assert seen == [{"mode": "fast", "flags": ["-a", "-b"]}, {"mode": "slow"}]
    with pytest.raises(BuildError, match="string or a list of strings"):
        build_wheel(BuildRequest(source, interpreter, cache=cache, config_settings={"n": 1}))  # type: ignore[dict-item]


def test_a_broken_build_environment_is_reported_and_rebuilt(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, caplog: pytest.LogCaptureFixture
) -> None:
    p1 = intree_project(tmp_path / "one", "one")
    p2 = intree_project(tmp_path / "two", "two")
    caplog.set_level(logging.INFO)
    build_wheel(BuildRequest(Source.directory(p1), interpreter, cache=cache))
    build_wheel(BuildRequest(Source.directory(p2), interpreter, cache=cache))
    created = [r for r in caplog.records if "creating a build environment" in r.getMessage()]
    assert len(created) == 1  # shared: same (empty) requirements, same interpreter
    (env,) = [p for p in (cache.root / "built-v1" / "_envs").iterdir() if p.is_dir()]
    (env / "bin" / "python").unlink()
    (p2 / "two.py").write_text("")  # a new fingerprint: build again
    caplog.clear()
    build_wheel(BuildRequest(Source.directory(p2), interpreter, cache=Cache(cache.root)))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(env) in warnings[0]
    assert (env / "bin" / "python").exists()


# -- cycles --------------------------------------------------------------------------------------


def test_a_build_dependency_cycle_is_a_clear_error(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, backend_wheels: Path
) -> None:
    a = intree_project(tmp_path / "a", "cyc-a", requires=["cyc-b"])
    b = intree_project(tmp_path / "b", "cyc-b", requires=["cyc-a>=1"])
    sources = {
        "cyc-a": Source.directory(a, name="cyc-a"),
        "cyc-b": Source.directory(b, name="cyc-b"),
    }
    installer = RecursiveInstaller(backend_wheels, cache, interpreter, sources, tmp_path / "logs")
    with pytest.raises(BuildError) as err:
        build_wheel(BuildRequest(sources["cyc-a"], interpreter, cache=cache, install_requirements=installer))
    assert "build dependency cycle: cyc-a -> cyc-b -> cyc-a" in err.value.message
    assert [c[0] for c in installer.calls] == [["cyc-b"], ["cyc-a>=1"]]
    # Nothing left behind: no wheels, no environments.
    assert built_entries(cache, "cyc-a") == [] and built_entries(cache, "cyc-b") == []
    assert list((cache.root / "built-v1" / "_envs").glob("*/satchel-build-env.json")) == []


def test_a_cycle_among_sources_of_unknown_name_is_detected_too(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, backend_wheels: Path
) -> None:
    """setup.py-style projects only learn their name from the backend, inside the build: the
    chain also carries each source's identity, so the cycle is found before any lock is waited on."""
    a = intree_project(tmp_path / "a", "cyc-c", requires=["cyc-d"])
    b = intree_project(tmp_path / "b", "cyc-d", requires=["cyc-c"])
    sources = {"cyc-c": Source.directory(a), "cyc-d": Source.directory(b)}
    installer = RecursiveInstaller(backend_wheels, cache, interpreter, sources, tmp_path / "logs")
    with pytest.raises(BuildError) as err:
        build_wheel(BuildRequest(sources["cyc-c"], interpreter, cache=cache, install_requirements=installer))
    assert f"build dependency cycle: {a} -> {b} -> {a}" in err.value.message


def test_a_package_needing_itself_to_build_is_a_cycle(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, backend_wheels: Path
) -> None:
    a = intree_project(tmp_path / "a", "selfish", requires=["selfish"])
    sources = {"selfish": Source.directory(a, name="selfish")}
    installer = RecursiveInstaller(backend_wheels, cache, interpreter, sources, tmp_path / "logs")
    with pytest.raises(BuildError, match="build dependency cycle: selfish -> selfish"):
        build_wheel(BuildRequest(sources["selfish"], interpreter, cache=cache, install_requirements=installer))


def test_build_requirements_built_recursively(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, backend_wheels: Path
) -> None:
    """app's build needs helper, which is itself only a source: built first, installed into
    app's build environment, and the chain passed down names the build in progress."""
    helper = intree_project(tmp_path / "helper", "helper")
    app = intree_project(tmp_path / "app", "app", requires=["helper"])
    sources = {"helper": Source.directory(helper, name="helper")}
    installer = RecursiveInstaller(backend_wheels, cache, interpreter, sources, tmp_path / "logs")
    wheel = build_wheel(BuildRequest(
        Source.directory(app, name="app"), interpreter, cache=cache, install_requirements=installer
    ))
    assert wheel.name == "app"
    ((reqs, _python, building),) = installer.calls
    assert reqs == ["helper"] and building[0] == "app" and building[-1].startswith("env:")
    assert built_entries(cache, "helper")


def test_missing_installer_is_a_clear_error(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    app = intree_project(tmp_path / "app", "needs-stuff", requires=["helper"])
    with pytest.raises(BuildError, match="no installer"):
        build_wheel(BuildRequest(Source.directory(app), interpreter, cache=cache))


def test_installer_errors_are_wrapped_with_the_package(
    tmp_path: Path, cache: Cache, interpreter: Interpreter
) -> None:
    from satchel.errors import ResolutionImpossible

    def failing(requirements: list[str], env_python: Path, *, building: tuple[str, ...]) -> None:
        raise ResolutionImpossible("no version of helper matches")

    app = intree_project(tmp_path / "app", "wrapped", requires=["helper"])
    with pytest.raises(
        BuildError, match=r"wrapped: cannot install the build requirements helper: no version"
    ):
        build_wheel(BuildRequest(
            Source.directory(app, name="wrapped"),
            interpreter,
            cache=cache,
            install_requirements=failing,
        ))
    assert [p for p in (cache.root / "built-v1" / "_envs").iterdir() if p.is_dir()] == []


# -- concurrency ---------------------------------------------------------------------------------

_BUILD_SCRIPT = """
import json, sys
from pathlib import Path
from satchel.build import BuildRequest, Source, build_wheel
from satchel.cache.store import Cache
from satchel.python.cached import get_interpreter
cache = Cache(Path(sys.argv[1]))
interp = get_interpreter(Path(sys.executable), cache)
w = build_wheel(BuildRequest(Source.directory(Path(sys.argv[2])), interp, cache=cache))
print(json.dumps({"sha256": w.sha256, "cached": w.cached}))
"""


def test_two_processes_build_the_same_source_once(tmp_path: Path, interpreter: Interpreter) -> None:
    log_file = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "proj", "slowpoke", events=str(log_file), sleep=1.5)
    cache_root = tmp_path / "shared-cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BUILD_SCRIPT, str(cache_root), str(project)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert len(events(log_file, "build_wheel")) == 1
    assert results[0]["sha256"] == results[1]["sha256"]
    assert sorted(r["cached"] for r in results) == [False, True]
