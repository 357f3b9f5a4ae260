"""Raw values, as TOML or the environment give them, checked against a key's type.

Pure: a TOML value is taken as it is or refused; an environment value is a string, so it
is converted to the key's type first. Each refusal names the type in words a person
reads ("an integer", "one of 'full', 'excerpt'").
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal


def from_env_string(kind: Any, value: str) -> object:
    """The environment string as a value of ``kind``; ValueError when it is not one."""
    if kind is bool:
        lowered = value.strip().lower()
        if lowered not in {"1", "0", "true", "false", "yes", "no"}:
            raise ValueError(value)
        return lowered in {"1", "true", "yes"}
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    if typing.get_origin(kind) is tuple:
        return _env_list(value)
    return value


def _env_list(value: str) -> list[object]:
    """A list from one environment string: a JSON array, or items separated by commas."""
    if value.lstrip().startswith("["):
        parsed = json.loads(value)  # a JSONDecodeError is a ValueError: reported as one line
        if not isinstance(parsed, list):
            raise ValueError(value)
        return parsed
    return [item.strip() for item in value.split(",") if item.strip()]


def type_name(kind: Any) -> str:
    if typing.get_origin(kind) is tuple:
        return "a list of strings (an environment value: a JSON array or a comma list)"
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(repr(choice) for choice in typing.get_args(kind))
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, str(kind)
    )


def is_valid(kind: Any, value: object) -> bool:
    if typing.get_origin(kind) is tuple:
        return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
    if typing.get_origin(kind) is Literal:
        return value in typing.get_args(kind)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(kind, type | types.UnionType):
        return isinstance(value, kind)
    return False


def frozen(kind: Any, value: object) -> object:
    """A valid value as the section holds it: an integer for a float key becomes a float,
    and a list (TOML arrays, environment lists) a tuple, frozen like the rest."""
    if kind is float:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, list):
        return tuple(value)
    return value
