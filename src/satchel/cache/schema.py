"""Typed conversion between record dataclasses and JSON-able payloads.

Decoding is strict about types (a wrong type is a corrupt entry) and lenient about unknown fields
(ignored), so a newer satchel's extra fields never break an older one. ``fingerprint`` describes a
record's shape for the version-discipline test.

A dataclass whose class sets ``__schema_row__ = True`` is written as a JSON array of its fields in
declaration order instead of an object (extra trailing items are ignored on reading, and missing
trailing fields that have defaults take them): for records of thousands of small items, such as
an index page's files, which then encode about twice and decode about three times as fast.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

Converter = Callable[[Any], Any]
_converters: dict[Any, Converter] = {}


class SchemaError(ValueError):
    """A payload does not match the record's declared shape."""


_LEAVES = frozenset({str, int, float, bool, type(None)})
# per type: its dataclass fields, each with whether its declared type is plain (see _plain), or
# None when the type is no dataclass
_field_plans: dict[type, tuple[tuple[str, bool], ...] | None] = {}


def encode(obj: Any) -> Any:
    """Turn a record (dataclasses, tuples, dicts, primitives) into JSON-able data.

    A field whose declared type is plain -- primitives, and lists, tuples and str-keyed dicts
    of them -- is handed to the JSON encoder as it is, which writes it as :func:`encode` would
    (tuples as arrays): a page record of thousands of files made ten calls a file before."""
    cls = type(obj)
    if cls in _LEAVES:
        return obj
    try:
        plan = _field_plans[cls]
    except KeyError:  # (looked up once per type: fields() per object was most of the cost)
        plan = _field_plans[cls] = _field_plan(cls)
    if plan is not None:
        if cls in _rows:
            return [getattr(obj, name) if plain else encode(getattr(obj, name)) for name, plain in plan]
        return {name: getattr(obj, name) if plain else encode(getattr(obj, name)) for name, plain in plan}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    return obj


# dataclasses written as arrays (``__schema_row__``), noted by _field_plan
_rows: set[type] = set()


def is_row(cls: Any) -> bool:
    """Whether ``cls`` is written as an array of its fields (``__schema_row__``)."""
    if not vars(cls).get("__schema_row__", False):
        return False
    if any(not f.init for f in dataclasses.fields(cls)):
        raise TypeError(f"{cls.__name__}: a row record's fields must all be init fields")
    return True


def _field_plan(cls: type) -> tuple[tuple[str, bool], ...] | None:
    if not dataclasses.is_dataclass(cls):
        return None
    if is_row(cls):
        _rows.add(cls)
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # (a hint that cannot be resolved: every field is encoded)
        hints = {}
    return tuple((f.name, f.name in hints and _plain(hints[f.name])) for f in dataclasses.fields(cls))


def _plain(tp: Any) -> bool:
    """Whether every value of type ``tp`` is JSON-able as it is: primitives, unions of them,
    and lists, tuples and str-keyed dicts of plain types."""
    if tp in _LEAVES:
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return all(_plain(a) for a in args)
    if origin in (list, tuple):
        return bool(args) and all(a is Ellipsis or _plain(a) for a in args)
    if origin is dict:
        return len(args) == 2 and args[0] is str and _plain(args[1])
    return False


def decode(tp: Any, data: Any) -> Any:
    """Build an instance of ``tp`` from decoded JSON, raising SchemaError on any mismatch."""
    return converter(tp)(data)


def converter(tp: Any) -> Converter:
    conv = _converters.get(tp)
    if conv is None:
        conv = _build(tp)
        _converters[tp] = conv
    return conv


def _primitive(kind: type) -> Converter:
    def conv(value: Any) -> Any:
        if type(value) is kind or (kind is float and type(value) is int):
            return value
        raise SchemaError(f"expected {kind.__name__}, got {type(value).__name__}")

    return conv


def _build(tp: Any) -> Converter:
    if tp is Any:
        return lambda v: v
    if tp in (str, int, float, bool):
        return _primitive(tp)
    if tp is type(None):
        def none(value: Any) -> None:
            if value is not None:
                raise SchemaError("expected null")
        return none
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [converter(a) for a in args if a is not type(None)]
        nullable = type(None) in args

        def union(value: Any) -> Any:
            if value is None and nullable:
                return None
            for opt in options:
                try:
                    return opt(value)
                except SchemaError:
                    continue
            raise SchemaError(f"no alternative of {tp} matches")

        return union
    if origin in (list, tuple):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            items = [converter(a) for a in args]

            def fixed(value: Any) -> Any:
                if not isinstance(value, list) or len(value) != len(items):
                    raise SchemaError(f"expected array of {len(items)}")
                return tuple(c(v) for c, v in zip(items, value, strict=True))

            return fixed
        item = converter(args[0]) if args else converter(Any)
        make: Callable[[Any], Any] = tuple if origin is tuple else list

        def seq(value: Any) -> Any:
            if not isinstance(value, list):
                raise SchemaError("expected array")
            return make([item(v) for v in value])

        return seq
    if origin is dict:
        key = converter(args[0]) if args else converter(Any)
        val = converter(args[1]) if args else converter(Any)

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise SchemaError("expected object")
            return {key(k): val(v) for k, v in value.items()}

        return mapping
    if dataclasses.is_dataclass(tp):
        return _row_converter(tp) if is_row(tp) else _dataclass_converter(tp)
    raise TypeError(f"unsupported type in a cache record: {tp!r}")


#: How a record's field is decoded: its name, its converter, whether it has a default, and its
#: type when that is a primitive one (checked inline), else None.
_Step = tuple[str, Converter, bool, type | None]


def _steps(cls: Any) -> list[_Step]:
    """The field-by-field plan for decoding ``cls`` (its init fields, in order)."""
    hints = typing.get_type_hints(cls)
    steps: list[_Step] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        tp = hints[f.name]
        steps.append((f.name, converter(tp), has_default, tp if tp in (str, int, float, bool) else None))
    return steps


def _dataclass_converter(cls: Any) -> Converter:
    # Planned on first use, so recursive record types work. A field of a primitive type has its
    # type checked inline (a manifest is thousands of records of five such fields): a value of
    # exactly that type is taken as it is, anything else goes to the field's converter.
    plan: list[_Step] = []
    # A record of primitive fields only, as encode() writes it -- every field, in order, each
    # value of exactly its type -- is the fields themselves: one comparison of the keys and one
    # of the value types instead of a step per field (a manifest's files: ~1.5x faster). Anything
    # else (a missing, extra or reordered key, an int for a float) takes the step-by-step path,
    # which gives the same answer or the error; tests/unit/test_cache_schema.py compares them.
    # Where the generated __init__ would only store the fields (no __post_init__, no slots, no
    # field left out of it), the record gets a copy of the object as its attributes directly:
    # ~0.3 us a record instead of ~0.75 (jupyter's trees: 12,000 files on every warm install).
    flat: list[tuple[tuple[str, ...], tuple[type, ...], bool] | None] = []

    def conv(value: Any) -> Any:
        if not flat:  # (what is published last: threads may decode their first record at once)
            steps = _steps(cls)
            exacts = [step[3] for step in steps if step[3] is not None]
            names = tuple(step[0] for step in steps)
            plan[:] = steps
            flat.append((names, tuple(exacts), _init_only_stores(cls, len(steps))) if steps and len(exacts) == len(steps) else None)
        shape = flat[0]
        if (
            shape is not None
            and type(value) is dict
            and tuple(value) == shape[0]
            and tuple(map(type, value.values())) == shape[1]
        ):
            if shape[2]:
                record = _new(cls)
                _set(record, "__dict__", dict(value))
                return record
            return cls(**value)
        return _step_by_step(cls, plan, value)

    return conv


_new = object.__new__
_set = object.__setattr__  # (what a frozen record's __init__ itself stores its fields with)


def _init_only_stores(cls: Any, init_fields: int) -> bool:
    """Whether ``cls(**fields)`` does nothing but store the fields as instance attributes: the
    dataclass's own __init__, every field an init field, no __post_init__, no __slots__."""
    init = getattr(vars(cls).get("__init__"), "__code__", None)
    return (
        init is not None
        and init.co_filename == "<string>"  # (one dataclasses wrote, not the class body)
        and len(dataclasses.fields(cls)) == init_fields
        and not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
    )


def _step_by_step(cls: Any, plan: list[_Step], value: Any) -> Any:
    if not isinstance(value, dict):
        raise SchemaError(f"expected object for {cls.__name__}")
    kwargs = {}
    for name, field_conv, has_default, exact in plan:
        if name in value:
            item = value[name]
            kwargs[name] = item if type(item) is exact else field_conv(item)
        elif not has_default:
            raise SchemaError(f"{cls.__name__}: missing field {name!r}")
    return cls(**kwargs)


_UNSEEN: Any = object()


def _row_converter(cls: Any) -> Converter:
    """Decode an array written for a row record (``__schema_row__``).

    Each field's declared type says which JSON types it takes as they are (its primitives, and
    null where it is optional) and which need their converter (arrays and objects, checked
    item by item). A row's shape -- the types of its items -- is judged once: a row whose items
    all have such types is built at once, converting only its arrays and objects; anything else
    (another length, another type) takes the step-by-step path, which gives the same answer or
    the error. tests/unit/test_cache_schema.py compares the two."""
    plan: list[_Step] = []
    takes: list[tuple[frozenset[type], frozenset[type]]] = []  # per field: (as they are, converted)
    shapes: dict[tuple[type, ...], tuple[int, ...] | None] = {}

    def conv(value: Any) -> Any:
        if not takes:  # (what is published last: threads may decode their first row at once)
            steps = _steps(cls)
            hints = typing.get_type_hints(cls)
            plan[:] = steps
            takes[:] = [_json_types(hints[step[0]]) for step in steps]
        if type(value) is list and len(value) == len(plan):
            shape = tuple(map(type, value))
            deep = shapes.get(shape, _UNSEEN)
            if deep is _UNSEEN:
                deep = shapes[shape] = _judge(shape, takes)
            if deep is not None:
                if deep:
                    value = list(value)
                    for i in deep:
                        value[i] = plan[i][1](value[i])
                return cls(*value)
        return _row_step_by_step(cls, plan, value)

    return conv


def _json_types(tp: Any) -> tuple[frozenset[type], frozenset[type]]:
    """The JSON value types a field of type ``tp`` takes as they are (its primitives, exactly;
    null when optional) and those its converter must check (arrays and objects)."""
    origin = typing.get_origin(tp)
    members = typing.get_args(tp) if origin in (typing.Union, types.UnionType) else (tp,)
    plain: set[type] = set()
    nested: set[type] = set()
    for member in members:
        if member in _LEAVES:
            plain.add(member)
        elif typing.get_origin(member) in (list, tuple):
            nested.add(list)
        elif typing.get_origin(member) is dict:
            nested.add(dict)
        elif dataclasses.is_dataclass(member):
            nested.add(list if is_row(member) else dict)
    return frozenset(plain), frozenset(nested)


def _judge(shape: tuple[type, ...], takes: list[tuple[frozenset[type], frozenset[type]]]) -> tuple[int, ...] | None:
    """For a row of item types ``shape``: the positions whose items need their converter, or
    None when an item's type is not one its field takes (the step-by-step path then decides)."""
    deep: list[int] = []
    for i, (t, (plain, nested)) in enumerate(zip(shape, takes, strict=True)):
        if t in plain:
            continue
        if t in nested:
            deep.append(i)
            continue
        return None
    return tuple(deep)


def _row_step_by_step(cls: Any, plan: list[_Step], value: Any) -> Any:
    if not isinstance(value, list):
        raise SchemaError(f"expected array for {cls.__name__}")
    args = []
    for i, (name, field_conv, has_default, exact) in enumerate(plan):
        if i >= len(value):
            if not has_default:
                raise SchemaError(f"{cls.__name__}: missing field {name!r}")
            break
        item = value[i]
        args.append(item if type(item) is exact else field_conv(item))
    return cls(*args)


def fingerprint(tp: Any) -> str:
    """A stable description of a type's shape: field names and types, recursively."""
    return _fingerprint(tp, set())


def _fingerprint(tp: Any, seen: set[Any]) -> str:
    if tp in (str, int, float, bool):
        return tp.__name__
    if tp is type(None):
        return "None"
    if tp is Any:
        return "Any"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return "|".join(sorted(_fingerprint(a, seen) for a in args))
    if origin is not None:
        inner = ",".join("..." if a is Ellipsis else _fingerprint(a, seen) for a in args)
        return f"{origin.__name__}[{inner}]"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp in seen:
            return tp.__name__
        seen = seen | {tp}
        hints = typing.get_type_hints(tp)
        inner = ",".join(
            f"{f.name}:{_fingerprint(hints[f.name], seen)}" for f in dataclasses.fields(tp) if f.init
        )
        form = "[row]" if is_row(tp) else ""
        return f"{tp.__name__}{form}{{{inner}}}"
    raise TypeError(f"unsupported type in a cache record: {tp!r}")
