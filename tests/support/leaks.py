"""What a test leaves behind: threads, sockets and checked-out database connections.

The suite runs for minutes in a few long-lived processes; a thread, socket or pooled
connection that one test forgets to close costs every test after it, and shows up as a
hang or a "too many open files" far from its cause. ``tests.support.fixtures`` takes a
:class:`Snapshot` before each test and fails the test if :func:`leaked` finds anything
new afterwards.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection

from .system import REPOSITORY

# Threads the test just stopped get this long, together, to finish (by joining them).
THREAD_GRACE_SECONDS = 5.0


class _CheckedOut:
    """Every pooled connection that is checked out now, with where it was checked out.

    Listens on the ``Pool`` class, so it sees the pools of every engine any test makes.
    """

    def __init__(self) -> None:
        self.entries: weakref.WeakKeyDictionary[ConnectionPoolEntry, traceback.StackSummary] = (
            weakref.WeakKeyDictionary()
        )
        event.listen(Pool, "checkout", self._checkout)
        event.listen(Pool, "checkin", self._checkin)

    def _checkout(
        self, _dbapi: object, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        self.entries[entry] = _our_frames()

    def _checkin(self, _dbapi: object, entry: ConnectionPoolEntry | None) -> None:
        if entry is not None:
            self.entries.pop(entry, None)


CHECKED_OUT = _CheckedOut()


_OURS = (str(REPOSITORY / "newsletter"), str(REPOSITORY / "tests"))
_NOT_OURS = str(Path(__file__).parent)  # the toolkit's own frames, this module's among them


def _our_frames() -> traceback.StackSummary:
    """Where the caller is, in the project's own frames (tests and package).

    Cheap enough for every checkout: no source line is read until a leak is reported.
    """
    frames = [
        frame
        for frame in traceback.StackSummary.extract(traceback.walk_stack(None), lookup_lines=False)
        if frame.filename.startswith(_OURS) and not frame.filename.startswith(_NOT_OURS)
    ]
    return traceback.StackSummary.from_list(frames[::-1])


def _sockets() -> set[str]:
    """The socket file descriptors of this process, as ``fd -> socket:[inode]`` strings."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing (the listing's own descriptor, say)
            continue
        if target.startswith("socket:"):
            found.add(f"{fd.name} -> {target}")
    return found


@dataclass(frozen=True)
class Snapshot:
    threads: frozenset[threading.Thread]
    sockets: frozenset[str]
    connections: frozenset[int]

    @classmethod
    def take(cls) -> Snapshot:
        return cls(
            frozenset(threading.enumerate()),
            frozenset(_sockets()),
            frozenset(id(entry) for entry in list(CHECKED_OUT.entries)),
        )


def _new_threads(before: Snapshot) -> list[threading.Thread]:
    """Threads started since ``before`` still running after a shared grace period."""
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    alive = []
    for thread in threading.enumerate():
        if thread in before.threads or thread is threading.current_thread():
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread)
    return alive


def _findings(before: Snapshot) -> list[str]:
    found = [
        f"thread {thread.name!r} ({thread.__class__.__name__})" for thread in _new_threads(before)
    ]
    found += [f"socket {fd}" for fd in sorted(_sockets() - before.sockets)]
    found += [
        "database connection checked out at\n" + "".join(stack.format())
        for entry, stack in list(CHECKED_OUT.entries.items())
        if id(entry) not in before.connections
    ]
    return found


def leaked(before: Snapshot) -> list[str]:
    """What is open now that was not at ``before``: empty when the test cleaned up.

    Objects nobody refers to any more are collected first, and only when something looks
    leaked: a garbage collection per test would cost more than the check itself.
    """
    found = _findings(before)
    if found:
        gc.collect()
        found = _findings(before)
    return found
