"""Replays (satchel.cache.replays, satchel.commands.replaying): the key, the record as the light
reader checks it, every kind of input, and the JSON shortcut against the library."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import struct
import sys
import time
from pathlib import Path

import pytest

from satchel.cache import buckets, journal, record, replays
from satchel.cache.replay_record import ReplayRecord
from satchel.cache.store import Cache
from satchel.commands.replaying import Replaying, replayable
from satchel.index.config import config_inputs, pip_config_files
from satchel.python.discover import target_inputs
from satchel.settings import Settings

# -- the layout: one place names and versions the bucket; the reader repeats it ----------------


def test_the_reader_agrees_with_the_bucket_and_the_record_layout() -> None:
    assert buckets.REPLAYS.dirname == replays.DIRNAME
    assert buckets.REPLAYS.version == replays.FORMAT
    assert ReplayRecord.record_type == replays.RECORD_TYPE
    assert replays._HEADER_SIZE == record.HEADER_SIZE
    assert replays._MAGIC == record.MAGIC
    assert replays.RACY_NS == journal.RACY_NS
    assert buckets.REPLAYS in buckets.ALL


# -- the key ------------------------------------------------------------------------------------


def text(argv: list[str] | None = None, cwd: str = "/w", env: dict[str, str] | None = None,
         out: bool = False, err: bool = False) -> str:
    return replays.invocation(
        ["install", "-r", "r.txt"] if argv is None else argv,
        cwd,
        {"HOME": "/root", "SATCHEL_CACHE_DIR": "/c"} if env is None else env,
        stdout_tty=out,
        stderr_tty=err,
    )


def test_the_invocation_holds_everything_but_the_shells_bookkeeping() -> None:
    base = text()
    assert text() == base
    for shell_var in ("_", "OLDPWD", "SHLVL"):
        assert text(env={"HOME": "/root", "SATCHEL_CACHE_DIR": "/c", shell_var: "x"}) == base
    others = [
        text(argv=["install", "-r", "r.txt", "-q"]),
        text(argv=["compile", "-r", "r.txt"]),
        text(cwd="/elsewhere"),
        text(env={"HOME": "/root", "SATCHEL_CACHE_DIR": "/c", "PIP_INDEX_URL": "https://x/simple"}),
        text(env={"HOME": "/root", "SATCHEL_CACHE_DIR": "/c", "ANYTHING": ""}),
        text(env={"HOME": "/other", "SATCHEL_CACHE_DIR": "/c"}),
        text(out=True),
        text(err=True),
    ]
    assert len({base, *others}) == len(others) + 1
    assert sys.executable in base and sys.version in base and "/w" in base
    secret = text(argv=["install", "-i", "https://me:hunter2@host/simple"],
                  env={"HOME": "/root", "TOKEN": "hunter2"})
    assert "hunter2" not in secret  # the record is a file in the cache: no credential in it
    assert replays.key_of(base) != replays.key_of(others[0])
    assert len(replays.key_of(base)) == len("0" * 32 + ".rec")


@pytest.mark.parametrize(
    "value", ["/abs/cache", "/abs//cache/", "/", "/a b/ü", "relative", "", "~/cache", "./c"]
)
def test_the_cache_root_is_the_one_settings_give_or_none(value: str) -> None:
    """The reader's one look at a variable before settings parse them, against settings."""
    env = {"SATCHEL_CACHE_DIR": value, "HOME": "/home/u"}
    found = replays.cache_root(env)
    if found is not None:
        assert Path(found) == Settings.from_environ(env).cache_dir
    else:
        assert not value.startswith("/")


def test_without_the_variable_the_cache_root_is_the_user_cache_dir() -> None:
    if sys.platform == "linux":
        assert replays.cache_root({"HOME": "/home/u"}) == "/home/u/.cache/satchel"
    assert replays.cache_root({}) is None or sys.platform != "linux"


# -- the record as the light reader checks it -----------------------------------------------------


def stored(tmp_path: Path, invocation: str = "the text", **fields: object) -> Path:
    rec = ReplayRecord(
        invocation=invocation,
        inputs=list(fields.get("inputs", [])),  # type: ignore[call-overload]
        stdout=str(fields.get("stdout", "out\n")),
        stderr=list(fields.get("stderr", ["Resolved 1 package in \0"])),  # type: ignore[call-overload]
        stdout_after=1,
        exit=int(fields.get("exit", 0)),  # type: ignore[call-overload]
        expires_at=fields.get("expires_at"),  # type: ignore[arg-type]
    )
    cache = Cache(tmp_path / "cache")
    cache.write(replays.key_of(invocation), rec)
    path = Path(replays.path_of(str(cache.root), invocation))
    assert path.is_file()
    return path


def test_a_record_written_by_the_cache_is_read_by_the_light_reader(tmp_path: Path) -> None:
    path = stored(tmp_path, inputs=[["absent", "/nowhere/at/all", None]], expires_at=None)
    payload = replays.load(str(path), "the text")
    assert isinstance(payload, dict)
    assert payload == json.loads(path.read_bytes()[record.HEADER_SIZE:])
    assert payload["stderr"] == ["Resolved 1 package in \0"] and payload["exit"] == 0
    assert replays.holds(payload, time.time())
    # and the full reader agrees
    assert record.loads(path.read_bytes(), ReplayRecord).invocation == "the text"


def test_another_runs_record_under_the_same_name_is_a_plain_miss(tmp_path: Path) -> None:
    path = stored(tmp_path)
    assert replays.load(str(path), "another text") is None
    assert replays.load(str(tmp_path / "missing.rec"), "the text") is None


def _rewrite(path: Path, change: object) -> None:
    data = bytearray(path.read_bytes())
    change(data)  # type: ignore[operator]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("empty", "empty file"),
        ("short", "truncated header"),
        ("magic", "bad magic"),
        ("type", "wrong record type"),
        ("format", "format version 2"),
        ("length", "header says"),
        ("bit-flip", "checksum mismatch"),
        ("undecodable", "undecodable payload"),
        ("not-an-object", "undecodable payload"),
        ("unreadable", ""),
    ],
)
def test_every_damage_is_broken_with_its_reason(tmp_path: Path, fault: str, reason: str) -> None:
    path = stored(tmp_path)
    data = path.read_bytes()

    def payload(new: bytes) -> bytes:
        return data[:36] + struct.pack(">Q", len(new)) + replays._sha256(new) + new

    if fault == "empty":
        path.write_bytes(b"")
    elif fault == "short":
        path.write_bytes(data[:40])
    elif fault == "magic":
        path.write_bytes(b"SATCHEL\x02" + data[8:])
    elif fault == "type":
        path.write_bytes(data[:8] + b"index-page".ljust(24, b"\0") + data[32:])
    elif fault == "format":
        path.write_bytes(data[:32] + struct.pack(">I", 2) + data[36:])
    elif fault == "length":
        path.write_bytes(data[:-3])
    elif fault == "bit-flip":
        _rewrite(path, lambda d: d.__setitem__(len(d) - 5, d[len(d) - 5] ^ 1))
    elif fault == "undecodable":
        path.write_bytes(payload(b'{"invocation": '))
    elif fault == "not-an-object":
        path.write_bytes(payload(b'["the text"]'))
    elif fault == "unreadable":
        path.unlink()
        path.mkdir()
    found = replays.load(str(path), "the text")
    assert isinstance(found, replays.Broken), fault
    assert reason in found.reason and found.path == str(path)
    if fault != "unreadable":
        # the full reader finds the same damage
        with pytest.raises(record.CorruptEntry):
            record.loads(path.read_bytes(), ReplayRecord)


# -- the inputs -------------------------------------------------------------------------------


def old(path: Path) -> None:
    """Make ``path`` settled: its ctime cannot be moved back, so the test waits instead."""
    age = time.time_ns() - path.stat().st_ctime_ns
    if age < replays.RACY_NS:
        time.sleep((replays.RACY_NS - age) / 1e9 + 0.05)


def test_each_kind_of_input_holds_only_while_unchanged(tmp_path: Path) -> None:
    content = tmp_path / "requirements.txt"
    content.write_text("alpha\n")
    ident = tmp_path / "site-packages"
    ident.mkdir()
    gone = tmp_path / "nothing-here"
    old(ident)
    inputs = [
        ["content", str(content), replays.content_digest(str(content))],
        ["stat", str(ident), replays.identity(ident.stat())],
        ["absent", str(gone), None],
    ]
    payload = {"inputs": inputs, "expires_at": None}
    assert replays.holds(payload, time.time())

    content.write_text("alpha\n")  # rewritten, same bytes: still holds
    assert replays.holds(payload, time.time())
    content.write_text("alpha\nbeta\n")
    assert not replays.holds(payload, time.time())
    content.write_text("alpha\n")
    assert replays.holds(payload, time.time())

    (ident / "beta-1.0.dist-info").mkdir()  # an entry added moves the directory's times
    assert not replays.holds(payload, time.time())
    inputs[1][2] = replays.identity(ident.stat())
    assert replays.holds(payload, time.time())

    gone.write_text("")
    assert not replays.holds(payload, time.time())
    gone.unlink()
    assert replays.holds(payload, time.time())

    content.unlink()
    assert not replays.holds(payload, time.time())


def test_a_replay_stored_in_the_future_has_expired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The clock was set back after a replay that expires was stored: it does not hold (as an
    index page fetched "in the future" is not fresh); one that never expires still does."""
    argv = ["compile", "r.in"]
    environ = {"SATCHEL_CACHE_DIR": str(tmp_path / "cache")}
    text = replays.invocation(
        argv, os.getcwd(), environ, stdout_tty=sys.stdout.isatty(), stderr_tty=sys.stderr.isatty()
    )
    now = time.time()
    for expires_at, later_holds in ((now + 7200, False), (None, True)):
        path = stored(tmp_path, text, stdout="alpha==1\n", expires_at=expires_at)
        assert replays.replay(argv, environ) == 0
        assert capsys.readouterr().out == "alpha==1\n"
        os.utime(path, (now + 3600, now + 3600))  # stored an hour "from now"
        assert (replays.replay(argv, environ) == 0) is later_holds
        os.utime(path, (now + 30, now + 30))  # within the slack: a clock a little off
        assert replays.replay(argv, environ) == 0
        capsys.readouterr()
    assert not replays.holds({"inputs": [], "expires_at": now + 7200}, now, now + 61)
    assert replays.holds({"inputs": [], "expires_at": now + 7200}, now, now + 59)


def test_expiry_and_anything_malformed_do_not_hold(tmp_path: Path) -> None:
    now = time.time()
    assert replays.holds({"inputs": [], "expires_at": now + 60}, now)
    assert not replays.holds({"inputs": [], "expires_at": now - 1}, now)
    assert not replays.holds({"inputs": [], "expires_at": "soon"}, now)
    for bad in (
        {"expires_at": None},
        {"inputs": "x", "expires_at": None},
        {"inputs": [["mtime", "/", 1]], "expires_at": None},
        {"inputs": [["stat", "/"]], "expires_at": None},
        {"inputs": [["content", 3, "x"]], "expires_at": None},
        {"inputs": [["content", str(tmp_path), "x"]], "expires_at": None},  # a directory
    ):
        assert not replays.holds(bad, now), bad


def settings_for(tmp_path: Path, **kw: object) -> Settings:
    return Settings.from_environ({"SATCHEL_CACHE_DIR": str(tmp_path / "cache")}, **kw)


def test_the_writer_notes_files_by_content_and_declines_what_changed_moments_ago(tmp_path: Path) -> None:
    replaying = Replaying(["install", "-r", "r.txt"], settings_for(tmp_path))
    try:
        req = tmp_path / "r.txt"
        req.write_text("alpha\n")
        replaying.file(req)
        replaying.file(tmp_path / "missing.txt")
        assert replaying.inputs == [
            ["content", str(req), replays.content_digest(str(req))],
            ["absent", str(tmp_path / "missing.txt"), None],
        ]
        assert replaying.declined is None
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        replaying.stat(fresh)
        assert replaying.declined is not None and "moments ago" in replaying.declined
    finally:
        replaying.abandon()


def test_the_writer_notes_satchels_own_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replays, "settled", lambda st, now: True)  # (a checkout edited just now)
    replaying = Replaying(["compile", "r.in"], settings_for(tmp_path))
    replaying.abandon()
    replaying.code()
    noted = {path for kind, path, _ in replaying.inputs if kind == "stat"}
    assert replays.__file__ in noted
    import packaging

    assert packaging.__file__ in noted
    assert json.__file__ not in noted  # the standard library comes with the interpreter (keyed)


def test_what_the_run_logs_is_kept_and_a_warning_declines(tmp_path: Path) -> None:
    from satchel.commands.say import say, say_timed

    log = logging.getLogger("satchel")
    level = log.level
    log.setLevel(logging.INFO)
    replaying = Replaying(["compile", "r.in"], settings_for(tmp_path))
    try:
        say_timed("Resolved 2 packages in ", time.perf_counter())
        say("Wrote 2 pins to out.txt")
        logging.getLogger("satchel.index").debug("not kept")
        assert replaying.lines == ["Resolved 2 packages in \0", "Wrote 2 pins to out.txt"]
        assert replaying.declined is None
        log.warning("something odd")
        assert replaying.declined is not None and "something odd" in replaying.declined
    finally:
        replaying.abandon()
        log.setLevel(level)
    say("after")
    assert replaying.lines[-1] == "Wrote 2 pins to out.txt"


def test_verbose_runs_and_changed_outputs_are_not_stored(tmp_path: Path) -> None:
    assert replayable("compile", settings_for(tmp_path)) and replayable("install", settings_for(tmp_path))
    assert not replayable("sync", settings_for(tmp_path))
    assert not replayable("compile", settings_for(tmp_path, verbose=1))
    assert not replayable("compile", settings_for(tmp_path, no_cache=True))
    for off in ("SATCHEL_NO_FAST_PATH", "SATCHEL_NO_REPLAY"):
        assert not replayable("install", Settings.from_environ({"SATCHEL_CACHE_DIR": str(tmp_path), off: "1"}))
    assert replayable("install", Settings.from_environ({"SATCHEL_CACHE_DIR": str(tmp_path), "SATCHEL_NO_REPLAY": "0"}))
    out = tmp_path / "out.txt"
    out.write_text("alpha==1.0\n")
    same = Replaying(["compile", "r.in", "-o", "out.txt"], settings_for(tmp_path))
    same.abandon()
    same.file(out)
    same.written(out, b"alpha==1.0\n")
    assert same.declined is None
    changed = Replaying(["compile", "r.in", "-o", "out.txt"], settings_for(tmp_path))
    changed.abandon()
    changed.file(out)
    changed.written(out, b"alpha==2.0\n")
    assert changed.declined is not None


def test_a_replay_is_stored_only_when_nothing_declined(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    replaying = Replaying(["install", "-r", "r.txt"], settings)
    replaying.file(tmp_path / "r.txt")
    replaying.finish(0)
    path = Path(replays.path_of(str(tmp_path / "cache"), replaying.text))
    if replaying.declined is not None:
        # Only this: the checkout's own files written moments ago (an edit just before the run).
        assert re.fullmatch(r"\S+\.py changed moments ago", replaying.declined), replaying.declined
        pytest.skip(f"satchel's own files are too new here: {replaying.declined}")
    payload = replays.load(str(path), replaying.text)
    assert isinstance(payload, dict) and payload["exit"] == 0
    declined = Replaying(["install", "-r", "other.txt"], settings)
    declined.decline("because")
    declined.finish(0)
    assert not Path(replays.path_of(str(tmp_path / "cache"), declined.text)).exists()


# -- the journal under it: overlapping journals, misses, checks ------------------------------------


def test_overlapping_journals_each_note_reads_misses_and_checks(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    rec = ReplayRecord(invocation="x", inputs=[], stdout="", stderr=[], stdout_after=0, exit=0, expires_at=None)
    cache.write("a" * 32 + ".rec", rec)
    outer = cache.start_journal()
    assert cache.read(ReplayRecord, "a" * 32 + ".rec") is not None
    inner = cache.start_journal()
    assert cache.read(ReplayRecord, "b" * 32 + ".rec") is None
    noted_inner = inner.close()
    assert noted_inner == [] and inner.missing() == [("replays-v1", "b" * 32 + ".rec")]
    check = cache.unchanged([n for n in [*outer.close()]])
    assert check.unchanged
    assert outer.missing() == [("replays-v1", "b" * 32 + ".rec")]
    third = cache.start_journal()
    assert cache.unchanged([journal.Noted("replays-v1", "a" * 32 + ".rec", "replay",
                                          Path(cache.root / "replays-v1" / ("a" * 32 + ".rec"))
                                          .read_bytes()[record.CHECKSUM].hex())]).unchanged
    assert [n.key for n in third.close()] == ["a" * 32 + ".rec"]


# -- what decided the target, and pip's configuration ------------------------------------------


def make_venv(where: Path) -> Path:
    (where / "bin").mkdir(parents=True)
    exe = where / "bin" / "python"
    exe.write_text("")
    (where / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return exe


def test_target_inputs_name_every_path_that_decided_the_target(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    exe = make_venv(venv)
    inputs = target_inputs(str(venv), system=False, exe=exe, cwd=tmp_path)
    assert inputs == [venv, exe, venv / "pyvenv.cfg"]
    assert target_inputs("env", system=False, exe=exe, cwd=tmp_path) == inputs  # `-p env` here
    assert target_inputs("3.11", system=False, exe=exe, cwd=tmp_path) is None  # a search
    assert target_inputs("python3", system=False, exe=exe, cwd=tmp_path) is None  # PATH
    assert target_inputs(None, system=True, exe=exe, cwd=tmp_path) is None
    assert target_inputs(None, system=False, exe=exe, cwd=tmp_path, environ={"VIRTUAL_ENV": str(venv)}) == [
        exe,
        venv / "pyvenv.cfg",
    ]
    # .venv found two directories up: the two nearer places it was looked for come first
    project = tmp_path / "project"
    dotvenv_exe = make_venv(project / ".venv")
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    found = target_inputs(None, system=False, exe=dotvenv_exe, cwd=deep, environ={})
    assert found == [
        deep / ".venv",
        project / "a" / ".venv",
        project / ".venv",
        dotvenv_exe,
        project / ".venv" / "pyvenv.cfg",
    ]
    python3 = venv / "bin" / "python3"
    python3.write_text("")
    assert target_inputs(str(venv), system=False, exe=python3, cwd=tmp_path) == [
        venv, exe, python3, venv / "pyvenv.cfg"
    ]


def test_config_inputs_are_pips_files_and_its_default(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(tmp_path / "pip.conf")}
    inputs = config_inputs(env)
    if inputs is None:
        pytest.skip("no pip in this environment to read the default index from")
    assert [*pip_config_files(env), Path(env["PIP_CONFIG_FILE"])] == inputs[:-1]
    assert inputs[-1].name == "index.py" and inputs[-1].is_file()
    assert tmp_path / ".pip" / "pip.conf" in inputs  # PIP_CONFIG_FILE names no file yet


# -- the JSON shortcut, against the library ------------------------------------------------------


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**70), 2**70)
    if kind == 2:
        return rng.uniform(-1, 1) * rng.choice([1, 1e6, 1e-300, 1e300])
    if kind in (3, 4):
        alphabet = "ab\"\\/\b\f\n\r\t\0\x01\x1f é€😀\ud800"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind in (5, 6):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {str(_random_value(rng, 3)): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


@pytest.mark.parametrize("seed", range(5))
def test_decode_json_answers_as_json_loads(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        value = _random_value(rng)
        for doc in (
            json.dumps(value),
            json.dumps(value, ensure_ascii=False, separators=(",", ":")),
            "  \n" + json.dumps(value, indent=1) + "\t\r\n",
        ):
            assert replays.decode_json(doc) == json.loads(doc), doc


@pytest.mark.parametrize(
    "doc",
    ["", " ", "{", "[1,]", "{} x", "1 2", '"\x01"', "[1] [2]", "{'a': 1}", "tru", '{"a" 1}', "[01]"],
)
def test_decode_json_refuses_what_json_loads_refuses(doc: str) -> None:
    with pytest.raises(ValueError):
        json.loads(doc)
    with pytest.raises(ValueError):
        replays.decode_json(doc)


@pytest.mark.parametrize("doc", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_decode_json_refuses_the_constants_satchel_never_writes(doc: str) -> None:
    json.loads(doc)  # the library takes them
    with pytest.raises(ValueError):
        replays.decode_json(doc)


def test_the_replay_path_imports_no_json_module(tmp_path: Path) -> None:
    """decode_json works without json, re or hashlib (the point of the shortcut)."""
    import subprocess

    code = (
        "import sys; from satchel.cache import replays; "
        "print(replays.decode_json('{\"a\": [1, \"\\\\u00e9\"]}')); "
        "print(sorted(m for m in ('json', 're', 'hashlib', 'logging', 'dataclasses') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(replays.__file__).parents[2])}, check=True)
    assert out.stdout.splitlines() == ["{'a': [1, 'é']}", "[]"], out


def test_the_running_python_is_noted_with_every_place_a_venv_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replays, "settled", lambda st, now: True)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    replaying = Replaying(["compile", "r.in"], settings_for(tmp_path))
    replaying.abandon()
    replaying.running_python()
    if any(os.path.lexists(p / ".venv") for p in deep.parents):
        pytest.skip("a .venv above the temporary directory")
    absent = {path for kind, path, _ in replaying.inputs if kind == "absent"}
    assert {str(deep / ".venv"), str(tmp_path / "a" / ".venv"), str(tmp_path / ".venv")} <= absent
    assert ["stat", sys.executable, replays.identity(os.stat(sys.executable))] in replaying.inputs
    assert replaying.declined is None
    # a .venv that is not an environment (yet): it may become one without moving its own times
    (tmp_path / "a" / ".venv").mkdir()
    again = Replaying(["compile", "r.in"], settings_for(tmp_path))
    again.abandon()
    again.running_python()
    assert again.declined is not None and ".venv" in again.declined


def test_a_path_that_is_not_text_stores_no_replay_and_breaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replays, "settled", lambda st, now: True)
    odd = tmp_path / os.fsdecode(b"req-\xff.txt")
    odd.write_text("alpha\n")
    replaying = Replaying(["install", "-r", str(odd)], settings_for(tmp_path))
    replaying.file(odd)
    assert replaying.declined is None
    replaying.finish(0)  # no UnicodeEncodeError: the record cannot be written as UTF-8, so none is
    assert not (tmp_path / "cache" / replays.DIRNAME).exists()


def test_a_run_without_a_working_directory_makes_no_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone() -> str:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(os, "getcwd", gone)
    replaying = Replaying(["compile", "r.in"], settings_for(tmp_path))
    replaying.abandon()
    assert replaying.declined is not None and replaying.text == ""
    assert replays.replay(["compile", "r.in"], {"SATCHEL_CACHE_DIR": str(tmp_path)}) is None


def test_an_identity_that_moved_while_the_run_read_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Identities may be noted after a read (a directory listed): checked again at the end. A
    file noted by content was noted before the read: its change is the next run's miss."""
    monkeypatch.setattr(replays, "settled", lambda st, now: True)
    site = tmp_path / "site-packages"
    site.mkdir()
    req = tmp_path / "r.txt"
    req.write_text("alpha\n")
    stored = Replaying(["install", "-r", "r.txt"], settings_for(tmp_path))
    stored.stat(site)
    stored.file(req)
    req.write_text("alpha\nbeta\n")  # after it was noted: stored, and the next check misses
    stored.finish(0)
    assert stored.declined is None
    payload = replays.load(replays.path_of(str(tmp_path / "cache"), stored.text), stored.text)
    assert isinstance(payload, dict) and not replays.holds(payload, time.time())

    moved = Replaying(["install", "-r", "other.txt"], settings_for(tmp_path))
    moved.stat(site)
    (site / "alpha-1.0.dist-info").mkdir()  # the listing the run made is not the one noted
    moved.finish(0)
    assert moved.declined is not None and "changed while the run read it" in moved.declined
    assert not Path(replays.path_of(str(tmp_path / "cache"), moved.text)).exists()


def test_a_file_where_the_replays_directory_belongs_is_a_plain_miss(tmp_path: Path) -> None:
    # was Broken ("Not a directory"): `SATCHEL_CACHE_DIR=<a file> satchel install --cache-dir
    # <dir> ...` warned of a broken entry in a cache the run did not even use
    root = tmp_path / "a-file"
    root.write_text("x")
    assert replays.load(str(root / buckets.REPLAYS.dirname / "k.rec"), "satchel list") is None
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / buckets.REPLAYS.dirname).write_text("x")
    assert replays.load(str(tmp_path / "cache" / buckets.REPLAYS.dirname / "k.rec"), "satchel list") is None
