"""The event loop a send runs on: uvloop's when it is installed, asyncio's own otherwise.

A send at thousands of messages a second spends much of its time in the event loop
itself (a callback, a timer and a socket write or two per message); uvloop does that work
in C on libuv, behind the same asyncio API. It is an optional dependency (the ``fast``
extra: ``pip install 'newsletter[fast]'``), so a machine without it sends the same
messages on asyncio's loop, only slower.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory() -> LoopFactory | None:
    """uvloop's ``new_event_loop`` when it can be imported; None means asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(main)`` on the fastest loop at hand."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
