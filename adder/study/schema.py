"""A YAML mapping read into a dataclass by the dataclass's own fields and types: an unknown key
is refused by name (with the nearest known one), a missing one too, and each value is checked
against its field's type (``str``, ``int``, ``float``, ``bool``, ``Any``, lists, mappings,
unions and nested dataclasses). A field's ``metadata["expect"]`` words its type for messages."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union

T = TypeVar("T")


class SchemaError(ValueError):
    """A mapping does not fit its dataclass; the message names the key."""


def read(cls: type[T], raw: Any, where: str = "") -> T:
    """``raw`` as a ``cls``, its values checked; ``where`` names it in messages (a key path)."""
    inside = f" in {where}" if where else ""
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where or 'the file'} must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in raw:
        if key not in fields:
            near = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(fields)}"
            raise SchemaError(f"unknown key {key!r}{inside} ({hint})")
    for name, field in fields.items():
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and name not in raw:
            raise SchemaError(f"missing key {name!r}{inside}")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in raw.items():
        name, expect = f"{where}.{key}" if where else str(key), fields[key].metadata.get("expect")
        try:
            values[key] = _value(value, hints[key], name)
        except SchemaError:
            if expect is None:
                raise
            raise SchemaError(f"{name} must be {expect}, got {value!r}") from None  # in the field's own words
    return cls(**values)


def _value(value: Any, hint: Any, name: str) -> Any:
    converted = _convert(value, hint, name)
    if converted is _MISMATCH:
        raise SchemaError(f"{name} must be {describe(hint)}, got {value!r}")
    return converted


_MISMATCH = object()


def _convert(value: Any, hint: Any, name: str) -> Any:
    """``value`` as ``hint`` (a nested dataclass read), or _MISMATCH; a nested mismatch raises."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if hint is type(None):
        return value if value is None else _MISMATCH
    if dataclasses.is_dataclass(hint):
        return read(hint, value, name) if isinstance(value, Mapping) else _MISMATCH  # type: ignore[arg-type]
    if origin in (Union, types.UnionType):
        for option in args:  # the first that fits, in the order the annotation gives
            converted = _convert(value, option, name)
            if converted is not _MISMATCH:
                return converted
        return _MISMATCH
    if origin is list:
        if not isinstance(value, list):
            return _MISMATCH
        return [_value(item, args[0], f"{name}[{index}]") for index, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            return _MISMATCH
        return {_value(k, args[0], f"{name} key"): _value(v, args[1], f"{name}.{k}") for k, v in value.items()}
    if hint is float:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISMATCH
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISMATCH
    return value if isinstance(value, hint) else _MISMATCH


def describe(hint: Any) -> str:
    """A type in words, for messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(option) for option in args)
    if origin is list:
        return f"a list of ({describe(args[0])})"
    if origin is dict:
        return f"a mapping of ({describe(args[0])}) to ({describe(args[1])})"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {', '.join(f.name for f in dataclasses.fields(hint))}"
    words = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null"}
    return words.get(hint, "anything")
