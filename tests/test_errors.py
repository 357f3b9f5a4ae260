"""The one error tree: every error under one root, drawn truly in the module's docstring,
with the exit code and the message each door shows."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import newsletter
from newsletter import errors
from newsletter.errors import (
    CheckFailedError,
    ConfigError,
    ContentError,
    DraftPostError,
    ExpiredTokenError,
    InputError,
    InvalidTokenError,
    NewsletterError,
)

CLASSES = {
    name: value
    for name, value in vars(errors).items()
    if inspect.isclass(value)
    and issubclass(value, Exception)
    and value.__module__ == errors.__name__
}


def _drawn_tree() -> dict[str, str]:
    """Each class the docstring draws -> the class drawn as its parent (by column)."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    assert errors.__doc__ is not None
    for line in errors.__doc__.splitlines():
        match = re.search(r"(?:^\s*|├── |└── )(_?[A-Z]\w+)\b", line)
        if not match or (match.group(1) != "NewsletterError" and not re.search("[├└]", line)):
            continue
        column = match.start(1)
        while stack and stack[-1][0] >= column:
            stack.pop()
        if stack:
            parents[match.group(1)] = stack[-1][1]
        stack.append((column, match.group(1)))
    return parents


def test_the_docstring_draws_every_class_under_its_true_parent() -> None:
    drawn = _drawn_tree()
    assert set(CLASSES) - {"NewsletterError"} <= set(drawn)
    for name, parent in drawn.items():
        if name in CLASSES:  # the private ones live in the one module that raises them
            assert CLASSES[name].__bases__ == (CLASSES[parent],), name


def test_every_error_is_caught_by_the_root_and_only_a_config_error_exits_2() -> None:
    for name, kind in CLASSES.items():
        assert issubclass(kind, NewsletterError), name
        assert kind.exit_code == (2 if kind is ConfigError else 1), name
    assert issubclass(ExpiredTokenError, InvalidTokenError)
    assert issubclass(InvalidTokenError, InputError)


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("posts/rust.md", 12, "posts/rust.md:12: no title"),
        ("posts/rust.md", None, "posts/rust.md: no title"),
        (None, 12, "no title"),
        (None, None, "no title"),
    ],
)
def test_a_content_error_names_the_source_and_the_line(
    source: str | None, line: int | None, message: str
) -> None:
    error = DraftPostError("no title", source=source, line=line)
    assert isinstance(error, ContentError)
    assert (str(error), error.source, error.line) == (message, source, line)


def test_a_failed_check_is_one_line_and_keeps_the_report() -> None:
    report = ["FAIL  spam score 7.1", "OK    links"]
    error = CheckFailedError(2, report)
    assert str(error).startswith("the deliverability check failed (2 problem(s)); nothing was sent")
    assert "\n" not in str(error)
    report.append("later")
    assert error.report_lines == ("FAIL  spam score 7.1", "OK    links")


def test_every_exception_class_of_the_package_is_drawn_under_its_true_parent() -> None:
    """A class defined outside errors.py (control flow inside one module) is in the tree too."""
    drawn = _drawn_tree()
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages(newsletter.__path__, "newsletter."):
        for name, value in vars(importlib.import_module(module.name)).items():
            is_error = inspect.isclass(value) and issubclass(value, BaseException)
            if is_error and value.__module__ == module.name:
                found[name] = value
    assert set(found) - {"NewsletterError"} <= set(drawn), set(found) - set(drawn)
    for name, kind in found.items():
        if name != "NewsletterError":
            assert kind.__bases__[0].__name__ == drawn[name], name
