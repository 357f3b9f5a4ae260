"""Raw values against a key's type: an environment string converted, a TOML value taken
as it is or refused, and the type named in words."""

from __future__ import annotations

from typing import Literal

import pytest

from newsletter.config.values import from_env_string, frozen, is_valid, type_name


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (bool, " Yes ", True),
        (bool, "0", False),
        (int, "8", 8),
        (float, "12.5", 12.5),
        (str, " kept as is ", " kept as is "),
        (tuple[str, ...], '["a", "b, c"]', ["a", "b, c"]),
        (tuple[str, ...], " a, b ,, c ", ["a", "b", "c"]),
        (tuple[str, ...], "", []),
    ],
)
def test_an_environment_string_becomes_the_keys_type(kind: object, text: str, value: object):
    assert from_env_string(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (bool, "maybe"),
        (int, "8.5"),
        (float, "fast"),
        (tuple[str, ...], '["a",'),
        (tuple[str, ...], "[oops"),
    ],
)
def test_an_environment_string_that_is_not_of_the_type_is_a_value_error(kind: object, text: str):
    with pytest.raises(ValueError):
        from_env_string(kind, text)


@pytest.mark.parametrize(
    ("kind", "value", "valid"),
    [
        (int, 3, True),
        (int, True, False),  # TOML's true is not the number 1
        (int, 3.0, False),
        (float, 3, True),
        (float, False, False),
        (str, "x", True),
        (str, 3, False),
        (bool, True, True),
        (Literal["full", "excerpt"], "full", True),
        (Literal["full", "excerpt"], "summary", False),
        (tuple[str, ...], ["a"], True),
        (tuple[str, ...], ["a", 1], False),
        (tuple[str, ...], "a", False),
    ],
)
def test_a_toml_value_is_taken_only_when_it_is_of_the_type(kind: object, value: object, valid):
    assert is_valid(kind, value) is valid


def test_the_type_is_named_in_words_a_person_reads() -> None:
    assert type_name(int) == "an integer"
    assert type_name(float) == "a number"
    assert type_name(bool) == "true or false"
    assert type_name(Literal["full", "excerpt"]) == "one of 'full', 'excerpt'"
    assert type_name(tuple[str, ...]).startswith("a list of strings")


def test_a_valid_value_is_frozen_as_the_section_holds_it() -> None:
    assert frozen(float, 3) == 3.0 and isinstance(frozen(float, 3), float)
    assert frozen(tuple[str, ...], ["a", "b"]) == ("a", "b")
    assert frozen(int, 3) == 3
