"""Version discipline: a record stored in a bucket may not change shape without a version bump.

The committed table tests/data/cache_schema.json holds, per bucket, its version and the fingerprint
(field names and types) of every record type stored in it. To accept an intended change: bump the
bucket's version in src/satchel/cache/buckets.py, then run
`SATCHEL_UPDATE_SCHEMA=1 .venv-test/bin/python -m pytest tests/unit/test_cache_schema.py`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pkgutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

import satchel
from satchel.cache import buckets, schema
from satchel.cache.record import Record

TABLE = Path(__file__).parent.parent / "data" / "cache_schema.json"


def current_table() -> dict[str, dict[str, object]]:
    for mod in pkgutil.walk_packages(satchel.__path__, "satchel."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    table: dict[str, dict[str, object]] = {
        b.name: {"version": b.version, "records": {}} for b in (*buckets.ALL, *buckets.LAYOUTS)
    }
    for rtype, cls in sorted(Record.registry.items()):
        if cls.__module__.startswith("satchel."):
            records = table[cls.bucket.name]["records"]
            assert isinstance(records, dict)
            records[rtype] = schema.fingerprint(cls)
    return table


def compare(committed: dict[str, dict], table: dict[str, dict]) -> list[str]:
    problems = []
    for bucket, now in table.items():
        before = committed.get(bucket)
        if before is None:
            problems.append(f"new bucket {bucket!r}: add it to the table (SATCHEL_UPDATE_SCHEMA=1)")
            continue
        if before["version"] != now["version"]:
            problems.append(
                f"bucket {bucket!r} is now version {now['version']} (table says "
                f"{before['version']}): update the table with SATCHEL_UPDATE_SCHEMA=1"
            )
        elif before["records"] != now["records"]:
            old, new = before["records"], now["records"]
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            problems.append(
                f"records {changed} in bucket {bucket!r} changed shape but its version is still "
                f"{now['version']}: bump {bucket!r} in src/satchel/cache/buckets.py, then update "
                f"the table with SATCHEL_UPDATE_SCHEMA=1"
            )
    return problems


def test_records_match_committed_schema_or_bucket_was_bumped() -> None:
    table = current_table()
    if os.environ.get("SATCHEL_UPDATE_SCHEMA") == "1":
        TABLE.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    problems = compare(json.loads(TABLE.read_text()), table)
    assert not problems, "\n".join(problems)


def test_every_stored_record_is_in_the_table() -> None:
    committed = json.loads(TABLE.read_text())
    for rtype, cls in Record.registry.items():
        if cls.__module__.startswith("satchel."):
            assert rtype in committed[cls.bucket.name]["records"], rtype


def test_an_added_field_without_a_bump_fails_with_what_to_bump() -> None:
    table = current_table()
    committed = json.loads(json.dumps(table))
    rtype, cls = next(
        (t, c) for t, c in sorted(Record.registry.items()) if c.__module__.startswith("satchel.")
    )
    grown = dataclasses.make_dataclass(
        cls.__name__,
        [(f.name, f.type, f) for f in dataclasses.fields(cls)]
        + [("added_field", int, dataclasses.field(default=0))],
        frozen=True,
    )
    grown.__module__ = cls.__module__
    table[cls.bucket.name]["records"][rtype] = schema.fingerprint(grown)
    problems = compare(committed, table)
    assert len(problems) == 1
    assert f"bump {cls.bucket.name!r}" in problems[0] and rtype in problems[0]
    # ...and bumping the version turns it into a request to update the table, not a silent pass.
    table[cls.bucket.name]["version"] = cls.bucket.version + 1
    assert "update the table" in compare(committed, table)[0]


def _reference_encode(obj: object) -> object:
    """``schema.encode`` as first written (fields looked up per object), and row records
    (``__schema_row__``) as arrays of their fields."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if vars(type(obj)).get("__schema_row__", False):
            return [_reference_encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)]
        return {f.name: _reference_encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_reference_encode(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _reference_encode(v) for k, v in obj.items()}
    return obj


@dataclasses.dataclass(frozen=True)
class _Inner:
    a: int
    b: tuple[str, ...] = ()
    c: dict[str, object] | None = None


@dataclasses.dataclass(frozen=True)
class _Outer:
    inner: list[_Inner]
    flag: bool = False
    ratio: float = 0.5


@dataclasses.dataclass(frozen=True)
class _Sub(_Inner):
    extra: str = "x"


@dataclasses.dataclass(frozen=True)
class _Unresolvable:
    """A hint that names nothing: every field is encoded the long way."""

    a: NoSuchType  # type: ignore[name-defined]  # noqa: F821
    b: list[int]


def test_encode_with_cached_fields_is_the_reference_encoding() -> None:
    from satchel.cache.manifest import Manifest, ManifestFile
    from satchel.index.models import IndexFile
    from satchel.index.records import CachedPage

    files = [
        IndexFile("p-1-py3-none-any.whl", "https://i/p-1.whl", {"sha256": "ab" * 32}, ">=3.8", None, {}, 10, "t"),
        IndexFile("p-1.tar.gz", "https://i/p-1.tar.gz", {}, None, "bad", None, None, None),
    ]
    values: list[object] = [
        _Outer([_Inner(1, ("x", "y"), {"k": [1, 2, (3, None)]}), _Sub(2, (), None, "e")], True, 1.5),
        _Inner(0, c={"nested": _Inner(5)}),
        Manifest(files=[ManifestFile("a/b.py", 3, "00" * 32, 10**18, True)], source="w.whl"),
        CachedPage("https://i/p/", 1.0, 2.5, '"e"', None, True, files),
        _Unresolvable(_Inner(3, ("z",)), [1, 2]),
        _Inner,  # a dataclass type is not encoded as an instance
        [None, "s", 1, 2.0, False, ("t",), {}],
    ]
    for value in values:
        # (a field of a plain declared type is handed over as it is: a tuple stays a tuple,
        # which the JSON encoder writes as an array, as the reference writes its list)
        got = json.dumps(schema.encode(value), default=str, separators=(",", ":"), ensure_ascii=False)
        want = json.dumps(_reference_encode(value), default=str, separators=(",", ":"), ensure_ascii=False)
        assert got == want


def test_plain_declared_types() -> None:
    plain = schema._plain  # (the fast path's rule, checked directly)
    for tp in (str, int, float, bool, type(None), str | None, list[str], tuple[str, ...],
               tuple[int, str], dict[str, str], dict[str, list[int]] | None):
        assert plain(tp), tp
    for tp in (object, list, dict[int, str], dict[str, object], list[_Inner], _Inner | None,
               tuple[_Inner, ...], dict[str, _Inner]):
        assert not plain(tp), tp


@dataclasses.dataclass(frozen=True)
class _Flat:
    """Primitive fields only: decoded by the fast path when the object is exactly its fields."""

    name: str
    size: int
    ratio: float
    on: bool
    note: str = "n"


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[Any, list[int]]:
    """Count the calls of ``schema.<name>`` (the step-by-step decoding, which the fast paths
    leave to): the real function, and a one-item list that counts."""
    real = getattr(schema, name)
    calls = [0]

    def counted(*args: object) -> object:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(schema, name, counted)
    return real, calls


def _same_both_ways(
    conv: Any, step_by_step: Any, cls: type, plan: Any, value: object, stepped: list[int]
) -> bool:
    """Decode ``value`` with the converter and step by step, assert the same outcome (record or
    error), and say whether the converter took its fast path (it did not call the counted
    step-by-step function)."""
    before = stepped[0]
    got = _outcome(conv, value)
    want = _outcome(lambda v: step_by_step(cls, plan, v), value)
    assert got == want, value
    return stepped[0] == before


def _outcome(fn: object, value: object) -> object:
    try:
        return ("ok", fn(value))  # type: ignore[operator]
    except schema.SchemaError as exc:
        return ("error", str(exc))


def test_decoding_flat_records_is_the_step_by_step_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path for records of primitive fields (every key, in order, values of exactly
    their types) gives what the step-by-step decoding gives, for varied and wrong objects:
    the same record, or the same error."""
    import random

    step_by_step, stepped = _count_calls(monkeypatch, "_step_by_step")

    from satchel.cache.manifest import ManifestFile

    rng = random.Random(7)
    samples = {"name": ["a", "", "é"], "size": [0, 3, -1, True, 2.0, "3", None],
               "ratio": [0.5, 1, True, "x", None], "on": [True, False, 0, 1, None],
               "note": ["m", 1, None], "extra": [1, "e"]}
    checked = fast = 0
    for cls in (_Flat, ManifestFile):
        conv = schema.converter(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        plan = schema._steps(cls)
        for _ in range(3000):
            keys = [n for n in names if rng.random() < 0.93]
            if rng.random() < 0.2:
                rng.shuffle(keys)
            if rng.random() < 0.1:
                keys.append("extra")
            value: object = {
                k: rng.choice(samples.get(k, ["s", 1, True, 1.5, None]))
                if rng.random() < 0.3 else _typical(k)
                for k in keys
            }
            if rng.random() < 0.02:
                value = rng.choice([[1, 2], "s", None, 3])
            fast += _same_both_ways(conv, step_by_step, cls, plan, value, stepped)
            checked += 1
    assert checked == 6000 and 300 < fast < 5000, fast  # both paths were compared often


def test_a_record_decoded_in_one_step_is_its_own() -> None:
    """A flat record gets a copy of the decoded object, not the object: changing the object
    later changes nothing in the record, which stays frozen."""
    from satchel.cache.manifest import ManifestFile

    value = {"path": "p/q.py", "size": 7, "sha256": "ab" * 32, "mtime_ns": 10**18, "executable": False}
    record = schema.decode(ManifestFile, value)
    assert schema._init_only_stores(ManifestFile, 5)  # (the one-step path is taken)
    value["size"] = 8
    assert record == ManifestFile("p/q.py", 7, "ab" * 32, 10**18, False)
    assert vars(record) == {"path": "p/q.py", "size": 7, "sha256": "ab" * 32, "mtime_ns": 10**18, "executable": False}
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.size = 9  # type: ignore[misc]


def test_records_whose_init_does_more_are_built_by_it() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            if not self.name:
                raise ValueError("empty")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        name: str

    @dataclasses.dataclass(frozen=True)
    class Derived:
        name: str
        length: int = dataclasses.field(init=False, default=0)

    assert not schema._init_only_stores(Checked, 1)
    assert not schema._init_only_stores(Slotted, 1)
    assert not schema._init_only_stores(Derived, 1)
    with pytest.raises(ValueError):
        schema.decode(Checked, {"name": ""})
    assert schema.decode(Slotted, {"name": "a"}) == Slotted("a")


@dataclasses.dataclass(frozen=True)
class _Leaf:
    a: int
    b: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Row:
    """A row record (an array of its fields) of every kind of field a row can hold."""

    __schema_row__: ClassVar[bool] = True

    name: str
    count: int
    ratio: float
    tags: dict[str, str]
    note: str | None = None
    inner: _Leaf | None = None
    items: list[int] | None = None


@dataclasses.dataclass(frozen=True)
class _Rows:
    rows: list[_Row]


def test_row_records_are_arrays_and_read_back() -> None:
    from satchel.index.models import IndexFile

    rows = [_Row("a", 1, 0.5, {"k": "v"}, None, _Leaf(2, ("x",)), [1, 2]), _Row("b", 0, 2.0, {})]
    for value, cls in ((_Rows(rows), _Rows), (IndexFile("p-1.tar.gz", "https://i/p-1.tar.gz", {}, None, "bad"), IndexFile)):
        data = json.loads(json.dumps(schema.encode(value)))
        assert data == _reference_encode(value)
        assert schema.decode(cls, data) == value
    assert json.loads(json.dumps(schema.encode(rows[1]))) == ["b", 0, 2.0, {}, None, None, None]
    assert schema.fingerprint(_Row).startswith("_Row[row]{name:str,")


def test_row_records_are_lenient_as_objects_are() -> None:
    """Extra trailing items are ignored (a newer satchel's new fields); missing trailing ones
    take their defaults; a missing required one is an error."""
    assert schema.decode(_Row, ["a", 1, 0.5, {}, "n", None, None, "future", 1]) == _Row("a", 1, 0.5, {}, "n")
    assert schema.decode(_Row, ["a", 1, 0.5, {}]) == _Row("a", 1, 0.5, {})
    with pytest.raises(schema.SchemaError, match="missing field 'tags'"):
        schema.decode(_Row, ["a", 1, 0.5])
    with pytest.raises(schema.SchemaError, match="expected array for _Row"):
        schema.decode(_Row, {"name": "a"})


def test_decoding_rows_is_the_step_by_step_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path for rows (items of the types their fields take as they are, arrays and
    objects converted) gives what the step-by-step decoding gives, for varied and wrong rows:
    the same record, or the same error."""
    import random

    from satchel.index.models import IndexFile

    step_by_step, stepped = _count_calls(monkeypatch, "_row_step_by_step")
    rng = random.Random(11)
    odd = ["s", "", 1, 0, -2, True, False, 1.5, None, [], [1, "x"], {}, {"k": "v"}, {"k": 1}, {1: "v"},
           {"a": 1, "b": ("z",)}, {"a": 1, "b": ["z"]}]  # fmt: skip
    typical = {
        _Row: ["n", 3, 0.25, {"k": "v"}, "note", {"a": 1, "b": ["z"]}, [1, 2]],
        IndexFile: ["p-1.whl", "https://i/p-1.whl", {"sha256": "ab" * 32}, ">=3.8", None, {}, 10, "t"],
    }
    checked = fast = 0
    for cls, usual in typical.items():
        conv = schema.converter(cls)
        plan = schema._steps(cls)
        for _ in range(4000):
            value: object = [rng.choice(odd) if rng.random() < 0.15 else v for v in usual]
            assert isinstance(value, list)
            if rng.random() < 0.1:
                value = value[: rng.randrange(len(value) + 1)]
            if rng.random() < 0.05:
                value = [*value, rng.choice(odd)]
            if rng.random() < 0.02:
                value = rng.choice([{"name": "n"}, "s", None, 3])
            fast += _same_both_ways(conv, step_by_step, cls, plan, value, stepped)
            checked += 1
    assert checked == 8000 and 1000 < fast < 7000, fast  # both paths were compared often


def _typical(key: str) -> object:
    return {"name": "n", "path": "p/q.py", "size": 7, "sha256": "ab" * 32, "mtime_ns": 10**18,
            "executable": False, "ratio": 0.25, "on": True, "note": "z", "extra": 1}[key]


def test_threads_decoding_a_type_for_the_first_time_all_get_it() -> None:
    """A converter plans itself on first use; threads that decode their first record of a type
    at the same moment all get the record (page records are decoded by a pool of threads)."""
    import sys
    import threading

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # (switch threads as often as possible)
    try:
        for round_ in range(40):
            row_cls = dataclasses.make_dataclass(f"R{round_}", [("a", str), ("b", int)], frozen=True)
            row_cls.__schema_row__ = True  # type: ignore[attr-defined]
            flat_cls = dataclasses.make_dataclass(f"F{round_}", [("a", str), ("b", int)], frozen=True)
            barrier = threading.Barrier(8)
            errors: list[BaseException] = []

            def decode(
                row_cls: type = row_cls,
                flat_cls: type = flat_cls,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    assert schema.decode(row_cls, ["x", 1]) == row_cls("x", 1)
                    assert schema.decode(flat_cls, {"a": "x", "b": 1}) == flat_cls("x", 1)
                except BaseException as exc:  # (reported below)
                    errors.append(exc)

            threads = [threading.Thread(target=decode) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
    finally:
        sys.setswitchinterval(interval)
