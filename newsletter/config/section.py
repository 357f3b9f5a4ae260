"""What each section of the settings does besides holding values: name its own problems.

A section knows the rules of its keys but not where a value came from (the file, an
environment variable, the defaults), so it names each problem as ``(key, problem)`` and
the loader, which builds it, adds the place and the section: one line reading
``WHERE: section.key problem``. A section built in code is not checked: tests and the demo
bind port 0 and leave out what they do not use, which a person's config may not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

Problems = Iterator[tuple[str, str]]
"""``(key, problem)`` pairs, the worst first; the loader reports the first one."""


class Section(Protocol):
    def problems(self) -> Problems:
        """What is wrong with the values, each rule in the order a person reads the keys."""
        ...
